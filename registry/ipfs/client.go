package ipfs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/internal/httpguard"
	"pf-registry/internal/termtext"
)

// DefaultAPI is the Kubo RPC endpoint used when nothing else is configured.
const DefaultAPI = "http://127.0.0.1:5001"

// DefaultTimeout is the stall window of one RPC call when the
// configuration sets none (see httpguard): a call fails when the daemon
// does not answer within it, or when a streamed body (cat, add) moves
// less than 1 KiB in it; a large blob is never cut off while it flows.
const DefaultTimeout = httpguard.DefaultTimeout

// client talks to the Kubo RPC API (/api/v0). Every call is a POST.
type client struct {
	base      string // e.g. http://127.0.0.1:5001, no trailing slash
	source    string // where base came from, for messages
	http      *http.Client
	timeout   time.Duration
	userAgent string
}

// apiEndpoint finds the RPC endpoint: IPFS_API, else the api file the daemon
// writes into its repo ($IPFS_PATH, default ~/.ipfs), else DefaultAPI.
func apiEndpoint() (base, source string, err error) {
	if v := strings.TrimSpace(os.Getenv("IPFS_API")); v != "" {
		b, err := endpointURL(v)
		if err != nil {
			return "", "", fault.WithHint(fmt.Errorf("IPFS_API=%q: %v", v, err),
				"set IPFS_API to http://host:port or /ip4/<addr>/tcp/<port>")
		}
		return b, "IPFS_API", nil
	}
	repo := os.Getenv("IPFS_PATH")
	if repo == "" {
		if home, err := os.UserHomeDir(); err == nil {
			repo = filepath.Join(home, ".ipfs")
		}
	}
	if repo != "" {
		if raw, err := os.ReadFile(filepath.Join(repo, "api")); err == nil {
			if b, err := endpointURL(strings.TrimSpace(string(raw))); err == nil {
				return b, "the api file of " + repo, nil
			}
		}
	}
	return DefaultAPI, "the default endpoint", nil
}

// endpointURL accepts http(s)://host:port[/] or a multiaddr
// /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>[/http|/https].
func endpointURL(s string) (string, error) {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", errors.New("no host in the URL")
		}
		s = strings.TrimRight(s, "/")
		return strings.TrimSuffix(s, "/api/v0"), nil
	}
	parts := strings.Split(strings.Trim(s, "/"), "/")
	if !strings.HasPrefix(s, "/") || len(parts) < 4 || parts[2] != "tcp" {
		return "", errors.New("not an http(s) URL or /ip4/<addr>/tcp/<port> multiaddr")
	}
	host, port := parts[1], parts[3]
	scheme := "http"
	if len(parts) > 4 && parts[4] == "https" {
		scheme = "https"
	}
	switch parts[0] {
	case "ip4", "dns", "dns4", "dns6":
	case "ip6":
		host = "[" + host + "]"
	default:
		return "", fmt.Errorf("unsupported multiaddr protocol %q", parts[0])
	}
	return scheme + "://" + host + ":" + port, nil
}

func newClient(base, source string, timeout time.Duration, userAgent string) *client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if userAgent == "" {
		userAgent = "pf-registry"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the RPC API is local by nature; never route it through a proxy
	tr.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConnsPerHost = 16
	return &client{base: base, source: source, http: &http.Client{Transport: httpguard.New(tr, timeout)}, timeout: timeout, userAgent: userAgent}
}

// arg is one query parameter; order matters to Kubo (arg=src&arg=dst).
type arg struct{ k, v string }

func args(kv ...string) []arg {
	out := make([]arg, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, arg{kv[i], kv[i+1]})
	}
	return out
}

// encodeQuery percent-encodes like the Rust tool (spec §9.4): A-Z a-z 0-9
// - _ . ~ / stay, everything else becomes %XX with uppercase hex.
func encodeQuery(q []arg) string {
	var b strings.Builder
	for i, a := range q {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escape(a.k))
		b.WriteByte('=')
		b.WriteString(escape(a.v))
	}
	return b.String()
}

func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// upload is the file parts of a multipart request body, sent in order.
type upload []part

// part is one file of an upload.
type part struct {
	name string // file name of the part
	r    io.Reader
}

// call performs one RPC and returns the open response body (httpguard
// ends it when the daemon stalls). The caller must close it.
func (c *client) call(ctx context.Context, cmd string, q []arg, up upload) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	u := c.base + "/api/v0/" + cmd
	if len(q) > 0 {
		u += "?" + encodeQuery(q)
	}
	var body io.Reader
	contentType := ""
	// finish ends the upload goroutine (if any) and waits for it, so the
	// caller may close the upload's reader safely afterwards.
	finish := func() {}
	if len(up) > 0 {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		contentType = mw.FormDataContentType()
		done := make(chan struct{})
		go func() {
			defer close(done)
			pw.CloseWithError(writeParts(mw, up))
		}()
		body = pr
		finish = func() { pr.Close(); <-done }
	}
	release := func() { finish(); cancel() }
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		release()
		return nil, fmt.Errorf("ipfs %s: %v", cmd, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		err = c.transportError(cmd, ctx, err)
		release()
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		err := c.statusError(cmd, q, resp)
		resp.Body.Close()
		release()
		return nil, err
	}
	return &rpcBody{rc: resp.Body, resp: resp, release: release, cmd: cmd, c: c, ctx: ctx}, nil
}

// writeParts writes every part of up as a file named by the part, then
// the closing boundary.
func writeParts(mw *multipart.Writer, up upload) error {
	for _, p := range up {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, p.name))
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(w, p.r)
		}
		if err != nil {
			return err
		}
	}
	return mw.Close()
}

// callJSON performs an RPC and decodes one JSON value from its answer.
func (c *client) callJSON(ctx context.Context, cmd string, q []arg, up upload, out any) error {
	if mfsEdits[cmd] {
		mu := mfsLock(c.base)
		mu.Lock()
		defer mu.Unlock()
	}
	rc, err := c.call(ctx, cmd, q, up)
	if err != nil {
		return err
	}
	defer rc.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
		return err
	}
	if err := json.NewDecoder(rc).Decode(out); err != nil {
		if werr := streamErr(err); werr != nil {
			return werr
		}
		return fmt.Errorf("ipfs %s: bad answer from the daemon: %v", cmd, err)
	}
	// Read to the end: Kubo reports late failures in a trailer.
	_, err = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
	return err
}

// mfsEdits are the MFS commands that change a directory. Kubo applies
// concurrent edits of one MFS tree unsafely: under load an entry a move
// removed came back, and a file a copy replaced went missing. This
// process therefore sends them to one daemon one at a time (reads and
// block adds still run in parallel; they are most of a push).
var mfsEdits = map[string]bool{
	"files/cp": true, "files/mv": true, "files/rm": true,
	"files/mkdir": true, "files/write": true, "files/flush": true,
}

var mfsLocks sync.Map // daemon base URL → *sync.Mutex

func mfsLock(base string) *sync.Mutex {
	mu, _ := mfsLocks.LoadOrStore(base, &sync.Mutex{})
	return mu.(*sync.Mutex)
}

// callLines decodes a stream of JSON values (add, pin/ls?stream) one by one.
func (c *client) callLines(ctx context.Context, cmd string, q []arg, up upload, each func(dec *json.Decoder) error) error {
	rc, err := c.call(ctx, cmd, q, up)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(bufio.NewReader(rc))
	for dec.More() {
		if err := each(dec); err != nil {
			if werr := streamErr(err); werr != nil {
				return werr
			}
			return fmt.Errorf("ipfs %s: bad answer from the daemon: %v", cmd, err)
		}
	}
	// Drain so a trailing stream error (X-Stream-Error) is seen.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return err
	}
	return nil
}

// streamErr returns err when it is one of ours (transport, stream error)
// rather than a JSON syntax problem.
func streamErr(err error) error {
	var se *rpcError
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// rpcError is an error the daemon reported or a transport failure.
type rpcError struct {
	msg   string
	class error // fault.ErrNotFound or nil
	hint  string
}

func (e *rpcError) Error() string { return e.msg }
func (e *rpcError) Unwrap() error { return e.class }

// wrap turns an rpcError into a classed, hinted model error.
func wrap(e *rpcError) error {
	var err error = e
	if e.hint != "" {
		err = fault.WithHint(err, e.hint)
	}
	return err
}

func (c *client) statusError(cmd string, q []arg, resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var m struct{ Message string }
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &m) == nil && m.Message != "" {
		msg = m.Message
	}
	msg = termtext.OneLine(msg, maxErrorText)
	// Kubo repeats the CID after the reason; once is enough.
	if i := strings.Index(msg, ": ipld: could not find "); i > 0 {
		msg = msg[:i]
	}
	subject := ""
	for _, a := range q {
		if a.k == "arg" {
			subject = " " + a.v
			break
		}
	}
	e := &rpcError{msg: fmt.Sprintf("ipfs %s%s: %s", cmd, subject, msg)}
	kubo := json.Unmarshal(raw, &m) == nil && m.Message != ""
	if resp.StatusCode != http.StatusInternalServerError || !kubo { // Kubo's usual error status says nothing
		e.msg += fmt.Sprintf(" (HTTP %d)", resp.StatusCode)
	}
	if httpguard.TransientStatus(resp.StatusCode) && !kubo {
		// Not the daemon's own refusal: a proxy or a daemon in trouble.
		e.hint = "retry later; check the daemon's health"
		return fault.Transient(wrap(e), httpguard.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && msg == "404 page not found":
		e.msg = fmt.Sprintf("ipfs %s: the endpoint %s does not serve the Kubo RPC API (HTTP 404)", cmd, c.display())
		e.hint = "point IPFS_API at the daemon's API address (Addresses.API), not its gateway"
	case resp.StatusCode == http.StatusMethodNotAllowed:
		e.hint = "the endpoint is not a Kubo RPC API; check IPFS_API"
	case resp.StatusCode == http.StatusForbidden:
		e.hint = "the daemon refuses this client; check API.HTTPHeaders / API.Authorizations in its config"
	case isNotFound(msg):
		e.class = fault.ErrNotFound
		e.hint = "check the CID; an offline daemon only serves content it holds locally"
	case strings.Contains(msg, "invalid path") || strings.Contains(msg, "invalid cid") || strings.Contains(msg, "selected encoding not supported"):
		e.class = fault.ErrBadRef
		e.hint = "use ipfs://<CID> with a valid CID, or ipfs://<repo>[:<tag>] for a name in the MFS index /processfork"
	}
	return wrap(e)
}

func isNotFound(msg string) bool {
	for _, s := range []string{"not found", "does not exist", "no link named", "no such file"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func (c *client) transportError(cmd string, ctx context.Context, err error) error {
	var netErr *httpguard.Error
	if errors.As(err, &netErr) {
		e := &rpcError{msg: fmt.Sprintf("ipfs %s: %s", cmd, netErr), hint: netErr.Hint()}
		if netErr.Unanswered() {
			e.msg = fmt.Sprintf("ipfs %s: no answer from the daemon at %s within %s", cmd, c.display(), c.timeout)
			e.hint = "the content may not be available (an online daemon keeps searching the network); check the CID, or raise --timeout"
		}
		return fault.Transient(wrap(e), 0)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("ipfs %s: %w", cmd, ctxErr)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return wrap(&rpcError{
			msg:  fmt.Sprintf("cannot reach the IPFS daemon at %s (from %s): %v", c.display(), c.source, op.Err),
			hint: "start it with `ipfs daemon`, or set IPFS_API to its RPC address",
		})
	}
	return wrap(&rpcError{
		msg:  fmt.Sprintf("ipfs %s: talking to %s: %s", cmd, c.display(), termtext.OneLine(err.Error(), maxErrorText)),
		hint: "check that the daemon is running and IPFS_API points at its RPC address",
	})
}

// maxErrorText bounds the daemon's text quoted in an error, in runes.
const maxErrorText = 300

// rpcBody is a response body that reports Kubo's X-Stream-Error trailer
// (an error after a 200 header) and releases the call.
type rpcBody struct {
	rc      io.ReadCloser
	resp    *http.Response
	release func()
	cmd     string
	c       *client
	ctx     context.Context
	once    sync.Once
}

func (b *rpcBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		if msg := b.resp.Trailer.Get("X-Stream-Error"); msg != "" {
			e := &rpcError{msg: fmt.Sprintf("ipfs %s: %s", b.cmd, termtext.OneLine(msg, maxErrorText))}
			if isNotFound(msg) {
				e.class = fault.ErrNotFound
			}
			return n, wrap(e)
		}
		return n, io.EOF
	}
	if err != nil {
		return n, b.c.transportError(b.cmd, b.ctx, err)
	}
	return n, nil
}

func (b *rpcBody) Close() error {
	err := b.rc.Close()
	b.once.Do(b.release)
	return err
}
