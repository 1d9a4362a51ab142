package oci

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regclient/regclient"
	"github.com/regclient/regclient/config"
	"github.com/regclient/regclient/scheme/ocidir"
	"github.com/regclient/regclient/scheme/reg"
	"github.com/regclient/regclient/types/errs"

	"pf-registry/internal/fault"
	"pf-registry/internal/httpguard"
	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// Environment variables with registry credentials (spec §9.5), sent only
// to the registry OCI_REGISTRY names (see credentials.go). Docker's
// config.json and credential helpers are read as well.
const (
	EnvUser   = "OCI_USERNAME"
	EnvPass   = "OCI_PASSWORD"
	EnvBearer = "OCI_BEARER"
	// EnvRegistry names the registry (host[:port]) the three above belong to.
	EnvRegistry = "OCI_REGISTRY"
)

// transport says how one registry host is reached.
type transport struct {
	plainHTTP   bool // http:// instead of https://
	skipVerify  bool // https without certificate checks (--insecure)
	credentials bool // send credentials at all
}

// transportFor applies the TLS rule: TLS by default; plain HTTP only for
// loopback hosts, or with Insecure for an explicit port other than 443 (the
// Rust rule, opt-in here). Credentials never travel over plain HTTP to a
// host that is not loopback.
func transportFor(r registry.Ref, insecure bool) transport {
	switch {
	case r.IsLoopbackHost():
		return transport{plainHTTP: true, credentials: true}
	case insecure && r.HasPort && r.Port != 443:
		return transport{plainHTTP: true}
	case insecure:
		return transport{skipVerify: true, credentials: true}
	}
	return transport{credentials: true}
}

// clients builds regclient clients. Each operation (source, sink,
// listing) gets its own: regclient keeps a per-host backoff that grows when
// requests fail or are cancelled, and one failed pull must not slow down
// the next operation of a long-running UI.
type clients struct {
	cfg    registry.Config
	mu     sync.Mutex
	layout *regclient.RegClient
	// transport is the HTTP transport every client starts from (tests
	// route host names to loopback servers through it).
	transport func() *http.Transport
}

func newClients(cfg registry.Config) *clients {
	return &clients{cfg: cfg, transport: http.DefaultTransport.(*http.Transport).Clone}
}

// forHost returns the client for an oci:// reference's host.
func (c *clients) forHost(r registry.Ref) (*regclient.RegClient, error) {
	if r.Host == "" {
		return nil, fault.WithHint(fault.Classed(fault.ErrBadRef,
			fmt.Errorf("%s: empty registry host", r.Raw)), "write oci://<host>[:<port>]/<repo>[:<tag>]")
	}
	host := r.OCIHostPort()
	tr := transportFor(r, c.cfg.Insecure)
	// The engine bounds blob concurrency; regclient's own per-host limit
	// (3) would otherwise cap it below the engine's default of 4.
	h := config.Host{Name: host, TLS: config.TLSEnabled, ReqConcurrent: 8}
	switch {
	case tr.plainHTTP:
		h.TLS = config.TLSDisabled
	case tr.skipVerify:
		h.TLS = config.TLSInsecure
	}
	bearer := ""
	var opts []regclient.Opt
	if tr.credentials {
		opts = append(opts, regclient.WithDockerCreds())
		if envCredentialsFor(host) {
			if u, p := os.Getenv(EnvUser), os.Getenv(EnvPass); u != "" || p != "" {
				h.User, h.Pass = u, p
			}
			bearer = os.Getenv(EnvBearer)
		}
	}
	base := c.transport()
	if tr.skipVerify {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //#nosec G402 -- only with --insecure
	}
	base.MaxIdleConnsPerHost = 16 // keep one connection per concurrent transfer
	// Stalls end requests (never a whole-request deadline: big layers take
	// long); regclient would sleep as long as a Retry-After says, so the
	// engine, which caps it, is the only one to see it.
	var rt http.RoundTripper = httpguard.New(base, c.cfg.Timeout).StripRetryAfter()
	rt = &rangeTransport{base: rt}
	rt = &credGuard{base: rt, registry: host}
	if bearer != "" {
		rt = &bearerTransport{base: rt, host: host, token: bearer}
	}
	ua := c.cfg.UserAgent
	if ua == "" {
		ua = "pf-registry"
	}
	opts = append(opts,
		regclient.WithConfigHost(h),
		regclient.WithUserAgent(ua),
		regclient.WithRegOpts(
			// One try (plus the one an auth challenge needs) and no pause
			// of its own worth the name: the engine retries what failed
			// for a passing reason and decides how long to wait.
			reg.WithRetryLimit(1),
			reg.WithDelay(time.Millisecond, 10*time.Millisecond),
			reg.WithHTTPClient(&http.Client{Transport: rt})),
	)
	return regclient.New(opts...), nil
}

// forLayout returns the client for on-disk layouts. Garbage collection is
// off: it would delete blobs uploaded before their manifest.
func (c *clients) forLayout() *regclient.RegClient {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.layout == nil {
		c.layout = regclient.New(regclient.WithOCIDirOpts(ocidir.WithGC(false)))
	}
	return c.layout
}

// bearerTransport sends OCI_BEARER to the registry host only (not to the
// storage a blob GET redirects to), unless regclient already chose a header.
type bearerTransport struct {
	base  http.RoundTripper
	host  string
	token string
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == t.host && req.Header.Get("Authorization") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.base.RoundTrip(req)
}

var httpStatusRE = regexp.MustCompile(`\[http (\d{3})\]`)

// classify turns a regclient error into a one-line error of the right class.
// regclient messages carry response bodies and URLs; only the status code
// and the kind of failure are kept.
func classify(err error, where, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fault.ErrIntegrity) || errors.Is(err, fault.ErrBadRef) || isClassed(err) {
		return err
	}
	var netErr *httpguard.Error
	if errors.As(err, &netErr) { // a stall or a broken connection
		return fault.Transient(fault.WithHint(&causeErr{msg: fmt.Sprintf("%s: %s: %s", where, what, netErr), cause: err}, netErr.Hint()), 0)
	}
	if r := refusal(err, where); r != nil {
		return r
	}
	// Messages are this package's own; the cause stays reachable for
	// errors.Is / errors.As (never printed: it may carry response bodies).
	wrap := func(format string, a ...any) error { return &causeErr{msg: fmt.Sprintf(format, a...), cause: err} }
	code := httpStatus(err)
	status := ""
	if code != 0 {
		status = fmt.Sprintf(" (HTTP %d %s)", code, http.StatusText(code))
	}
	switch {
	case errors.Is(err, errs.ErrDigestMismatch), errors.Is(err, errs.ErrShortRead), errors.Is(err, errs.ErrMismatch):
		return fault.Integrityf("%s: %s does not match its digest", where, what)
	case errors.Is(err, errs.ErrHTTPUnauthorized) || code == 401 || code == 403 ||
		errors.Is(err, errs.ErrEmptyChallenge) || errors.Is(err, errs.ErrNoNewChallenge) ||
		errors.Is(err, errs.ErrInvalidChallenge) || errors.Is(err, errs.ErrNoLogin):
		return fault.WithHint(fault.Classed(fault.ErrAuth,
			wrap("%s: access to %s refused%s", where, what, status)), authHint())
	case errors.Is(err, errs.ErrNotFound) || errors.Is(err, os.ErrNotExist) || code == 404:
		return fault.WithHint(fault.Classed(fault.ErrNotFound,
			wrap("%s: %s not found", where, what)), "check the repository and tag (pf-registry tags <repo>)")
	case errors.Is(err, errs.ErrHTTPRateLimit) || code == http.StatusTooManyRequests:
		return fault.Transient(fault.WithHint(wrap("%s: rate limited while reading %s%s", where, what, status), "wait and retry"), 0)
	case httpguard.TransientStatus(code):
		return fault.Transient(fault.WithHint(wrap("%s: registry failed on %s%s", where, what, status), "retry later or check the registry's health"), 0)
	case code != 0:
		return fault.WithHint(wrap("%s: registry failed on %s%s", where, what, status), "retry later or check the registry's health")
	case errors.Is(err, errs.ErrHTTPRedirectRefused):
		return fault.WithHint(wrap("%s: registry redirected %s to a plain-HTTP or local address", where, what), "use a registry that redirects to https")
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fault.WithHint(wrap("%s: the registry speaks plain HTTP, not TLS", where),
			"pass --insecure to allow plain HTTP to this host (credentials are then not sent)")
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return fault.WithHint(wrap("%s: cannot reach the registry for the %s: %v", where, what, opErr.Err),
			"check the host and port, and that the registry is running")
	}
	hint := "check that the registry is reachable (plain HTTP needs a loopback host or --insecure)"
	if strings.HasPrefix(where, registry.LayoutScheme+":") {
		hint = "check that the directory is an OCI image layout (oci-layout, index.json, blobs/) you can read"
	}
	return fault.WithHint(wrap("%s: %s: %s", where, what, firstLine(err.Error())), hint)
}

// causeErr is a one-line message over a cause kept for inspection.
type causeErr struct {
	msg   string
	cause error
}

func (e *causeErr) Error() string { return e.msg }
func (e *causeErr) Unwrap() error { return e.cause }

// httpStatus digs the status code out of a regclient error (0 if none).
func httpStatus(err error) int {
	if m := httpStatusRE.FindStringSubmatch(err.Error()); m != nil {
		code, _ := strconv.Atoi(m[1])
		return code
	}
	return 0
}

// isClassed reports whether err already carries one of this project's
// classes (then it is passed through unchanged).
func isClassed(err error) bool {
	for _, c := range []error{fault.ErrNotFound, fault.ErrAuth, fault.ErrUsage, fault.ErrReadOnly, fault.ErrUnsupportedScheme} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}

// firstLine keeps the first line of error text (regclient appends response
// bodies on the next ones), cut short.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return termtext.OneLine(s, 200)
}
