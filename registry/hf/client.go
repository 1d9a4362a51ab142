package hf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/internal/httpguard"
	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// DefaultEndpoint is the public Hub.
const DefaultEndpoint = "https://huggingface.co"

// client talks to one Hub endpoint with one token.
type client struct {
	endpoint string // no trailing slash
	token    string
	ua       string
	http     *http.Client
}

// readToken finds the token the Hugging Face tools use: HF_TOKEN, then the
// token file (HF_TOKEN_PATH, else $HF_HOME/token, else
// ~/.cache/huggingface/token).
func readToken() string {
	if t := strings.TrimSpace(os.Getenv("HF_TOKEN")); t != "" {
		return t
	}
	p := os.Getenv("HF_TOKEN_PATH")
	if p == "" {
		home := os.Getenv("HF_HOME")
		if home == "" {
			base := os.Getenv("XDG_CACHE_HOME")
			if base == "" {
				if h, err := os.UserHomeDir(); err == nil {
					base = filepath.Join(h, ".cache")
				}
			}
			home = filepath.Join(base, "huggingface")
		}
		p = filepath.Join(home, "token")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// newClient checks the endpoint: a token never travels in clear to a host
// that is not this machine unless insecure is set.
func newClient(endpoint, token, ua string, timeout time.Duration, insecure bool) (*client, error) {
	endpoint = strings.TrimRight(endpoint, "/")
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("HF_ENDPOINT %q is not an http(s) URL", endpoint)),
			"set HF_ENDPOINT to e.g. "+DefaultEndpoint)
	}
	if u.Scheme == "http" && token != "" && !insecure && !registry.IsLoopback(u.Hostname()) {
		return nil, fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("HF_ENDPOINT %s is plain http: the token would travel in clear", endpoint)),
			"use https, or pass --insecure")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	if ua == "" {
		ua = "pf-registry"
	}
	return &client{endpoint: endpoint, token: token, ua: ua, http: &http.Client{
		Transport:     httpguard.New(tr, timeout),
		CheckRedirect: registry.KeepCredentialsOnOrigin,
	}}, nil
}

// request describes one call to the Hub API.
type request struct {
	method      string
	url         string // absolute, or a path below the endpoint
	body        []byte
	contentType string
	header      map[string]string
	noAuth      bool // storage URLs handed out by the Hub carry their own authorisation
}

// do sends r once. A broken or stalled connection and a 5xx or 429
// answer come back as transient errors: the engine retries them.
func (c *client) do(ctx context.Context, r request) (*http.Response, error) {
	u := r.url
	if strings.HasPrefix(u, "/") {
		u = c.endpoint + u
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, err
	}
	c.decorate(req, r)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.transportErr(err)
	}
	if httpguard.TransientStatus(resp.StatusCode) {
		err := c.statusErr(resp, r.method+" "+c.redact(u), "")
		drain(resp)
		return nil, fault.Transient(err, httpguard.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
	}
	return resp, nil
}

func (c *client) decorate(req *http.Request, r request) {
	req.Header.Set("User-Agent", c.ua)
	if c.token != "" && !r.noAuth && c.sameHost(req.URL) {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
}

// sameHost: the token only goes to the endpoint itself (Link URLs and
// redirects to other hosts never get it).
func (c *client) sameHost(u *url.URL) bool {
	return strings.HasPrefix(u.String(), c.endpoint+"/")
}

// getJSON decodes a JSON answer, mapping error statuses through what.
func (c *client) json(ctx context.Context, r request, what string, out any) (http.Header, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode/100 != 2 {
		return resp.Header, c.statusErr(resp, what, "")
	}
	if out == nil {
		return resp.Header, nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		if errors.Is(err, fault.ErrTransient) {
			return resp.Header, fmt.Errorf("hf: %s: %w", what, err)
		}
		return resp.Header, fmt.Errorf("hf: %s: the Hub sent an unreadable answer: %v", what, err)
	}
	return resp.Header, nil
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func (c *client) transportErr(err error) error {
	var netErr *httpguard.Error
	if errors.As(err, &netErr) { // a stall or a broken connection
		return fault.Transient(fault.WithHint(fmt.Errorf("hf: %w", netErr), netErr.Hint()), 0)
	}
	msg := c.redact(err.Error())
	return fault.WithHint(fmt.Errorf("hf: cannot reach %s: %s", c.endpoint, msg),
		"check the network, or HF_ENDPOINT")
}

// redact removes the token from text that may echo a request.
func (c *client) redact(s string) string {
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "[token]")
	}
	return s
}

// hubMessage extracts the Hub's error text from a JSON body, one line.
func hubMessage(resp *http.Response) string {
	msg := resp.Header.Get("X-Error-Message")
	if resp.Body != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var body struct {
			Error   any    `json:"error"`
			Message string `json:"message"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		if json.Unmarshal(b, &body) == nil {
			if s, ok := body.Error.(string); ok && s != "" {
				msg = s
			} else if body.Message != "" {
				msg = body.Message
			}
		}
	}
	return termtext.OneLine(msg, 160)
}

// statusErr turns a failed answer into a one-line classed error. what names
// the object ("dataset alice/x", "revision v1 of dataset alice/x"); target
// names the missing file for EntryNotFound.
func (c *client) statusErr(resp *http.Response, what, target string) error {
	code := resp.Header.Get("X-Error-Code")
	detail := c.redact(hubMessage(resp))
	suffix := fmt.Sprintf(" (HTTP %d)", resp.StatusCode)
	if detail != "" && resp.StatusCode >= 500 {
		suffix = fmt.Sprintf(" (HTTP %d: %s)", resp.StatusCode, detail)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && c.token == "":
		return fault.WithHint(fault.Classed(fault.ErrAuth, fmt.Errorf("hf: %s: not found, or private and no token was given%s", what, suffix)),
			"set HF_TOKEN (or log in so that $HF_HOME/token exists) if the repository is private")
	case resp.StatusCode == http.StatusUnauthorized:
		return fault.WithHint(fault.Classed(fault.ErrAuth, fmt.Errorf("hf: %s: the Hub refused the token%s", what, suffix)),
			"check HF_TOKEN or the token file; create a token at "+c.endpoint+"/settings/tokens")
	case resp.StatusCode == http.StatusForbidden:
		return fault.WithHint(fault.Classed(fault.ErrAuth, fmt.Errorf("hf: %s: the token has no permission for this%s", what, suffix)),
			"use a token with write access to the namespace")
	case resp.StatusCode == http.StatusNotFound && code == "RevisionNotFound":
		return fault.WithHint(fault.NotFoundf("hf: %s: revision not found%s", what, suffix),
			"list the revisions with `pf-registry tags`")
	case resp.StatusCode == http.StatusNotFound && code == "EntryNotFound" && target != "":
		return fault.NotFoundf("hf: %s: %s not found%s", what, target, suffix)
	case resp.StatusCode == http.StatusNotFound:
		return fault.WithHint(fault.NotFoundf("hf: %s: not found%s", what, suffix),
			"check the name; for a private repository set HF_TOKEN")
	case resp.StatusCode == http.StatusTooManyRequests:
		return fault.WithHint(fmt.Errorf("hf: %s: rate limited by the Hub%s", what, suffix), "wait a minute and retry")
	}
	if detail != "" && resp.StatusCode < 500 {
		suffix = fmt.Sprintf(" (HTTP %d: %s)", resp.StatusCode, detail)
	}
	return fmt.Errorf("hf: %s: request failed%s", what, suffix)
}

// errCode is the Hub's X-Error-Code of a 404, "" otherwise.
func errCode(resp *http.Response) string {
	if resp.StatusCode != http.StatusNotFound {
		return ""
	}
	return resp.Header.Get("X-Error-Code")
}

var errForeignLink = errors.New("hf: the Hub sent a next-page link to another host; refusing to follow it")

// nextLink returns the rel="next" URL of a Link header, only when it points
// at the endpoint (so the token never leaves it).
func (c *client) nextLink(h http.Header) (string, error) {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if !strings.Contains(part, `rel="next"`) {
				continue
			}
			i, j := strings.IndexByte(part, '<'), strings.IndexByte(part, '>')
			if i < 0 || j < i {
				continue
			}
			u := part[i+1 : j]
			if !strings.HasPrefix(u, c.endpoint+"/") {
				return "", errForeignLink
			}
			return u, nil
		}
	}
	return "", nil
}
