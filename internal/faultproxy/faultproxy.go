// Package faultproxy is a test reverse proxy on 127.0.0.1 that puts a bad
// network day in front of a real server: connections dropped mid-body,
// 500/503/429 answers with Retry-After, stalls, slow drips, truncated and
// corrupted bodies. Rules pick the requests (method, path, the nth match or
// a probability drawn from a fixed seed) and the fault; every injected
// fault is logged so a test can check that it really happened.
package faultproxy

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is what a rule does to a matching request.
type Kind int

const (
	// Status answers with Rule.Status (and Retry-After) without asking the
	// upstream server.
	Status Kind = iota + 1
	// Drop cuts the connection after Rule.After bytes of the response body.
	Drop
	// Truncate ends the response after Rule.After bytes, declaring that
	// shorter length: a complete-looking but short body.
	Truncate
	// Corrupt flips the body byte at offset Rule.After.
	Corrupt
	// Stall stops sending after Rule.After bytes for Rule.Delay (0: until
	// the client gives up), then goes on.
	Stall
	// Drip sends the body Rule.Chunk bytes at a time, Rule.Delay apart.
	Drip
)

func (k Kind) String() string {
	switch k {
	case Status:
		return "status"
	case Drop:
		return "drop"
	case Truncate:
		return "truncate"
	case Corrupt:
		return "corrupt"
	case Stall:
		return "stall"
	case Drip:
		return "drip"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Rule selects requests and the fault injected into them. The first rule
// that fires for a request wins.
type Rule struct {
	Method string // "" matches every method
	Path   string // substring of the URL path; "" matches every path
	// Nth fires on the nth matching request only (1-based); 0 fires on
	// every match, subject to Probability and Limit.
	Nth int
	// Probability, when above 0, fires on a match with this probability,
	// drawn from the proxy's seeded generator (reproducible).
	Probability float64
	// Limit caps how often the rule fires (0: no cap).
	Limit int
	// MinSize, for body faults, restricts the rule to answers that declare
	// at least this many body bytes (Content-Length, or Kubo's
	// X-Content-Length): smaller answers pass unharmed and are not counted
	// as matches. It picks blob downloads among small metadata answers.
	// A request whose first matching rule has MinSize is decided when the
	// answer's headers arrive, by that rule alone.
	MinSize int64

	Kind       Kind
	Status     int    // Status: the code, e.g. 503
	RetryAfter string // Status: the Retry-After value, e.g. "1"
	After      int64  // Drop, Truncate, Stall: body bytes sent first; Corrupt: offset
	Delay      time.Duration
	Chunk      int // Drip: bytes per write (default 1)
}

// Request is one request the proxy received.
type Request struct {
	Method, Path, Query string
	Range               string // the Range header, if any
}

// Event is one injected fault.
type Event struct {
	Rule   int // index in the rules
	Kind   Kind
	Method string
	Path   string
}

// quiet drops the proxy's own complaints about the faults it causes.
var quiet = log.New(io.Discard, "", 0)

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	srv      *httptest.Server
	upstream *url.URL

	mu      sync.Mutex
	rules   []Rule
	matches []int // matching requests seen, per rule
	fired   []int
	rng     *rand.Rand
	events  []Event
	log     []Request
}

// New starts a proxy on 127.0.0.1 in front of upstream (a base URL such
// as http://127.0.0.1:5000). The Host header of requests is kept, so
// signed requests (S3) and absolute URLs built by the server (OCI upload
// locations) stay valid through the proxy.
func New(upstream string, seed uint64, rules ...Rule) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: bad upstream %q", upstream)
	}
	p := &Proxy{upstream: u, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	p.SetRules(rules...)
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		FlushInterval: -1, // pass bytes on as they come: stalls and drips stay visible
		ErrorLog:      quiet,
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(rp, w, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.srv.Listener = ln
	p.srv.Config.ErrorLog = quiet
	p.srv.Start()
	return p, nil
}

// URL is the proxy's base URL (http://127.0.0.1:port).
func (p *Proxy) URL() string { return p.srv.URL }

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.srv.Listener.Addr().String() }

// Close stops the proxy and cuts its connections.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// SetRules replaces the rules and their counters.
func (p *Proxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append([]Rule(nil), rules...)
	p.matches = make([]int, len(rules))
	p.fired = make([]int, len(rules))
}

// Events lists the faults injected so far.
func (p *Proxy) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Requests is the number of requests the proxy received.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.log)
}

// Log lists the requests the proxy received, in order.
func (p *Proxy) Log() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.log...)
}

// pick returns the rule that fires for r, if any, and logs it. A rule
// with MinSize is returned undecided (deferred), for decide.
func (p *Proxy) pick(r *http.Request) (rule Rule, idx int, deferred, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Range: r.Header.Get("Range")})
	for i, rule := range p.rules {
		if (rule.Method != "" && rule.Method != r.Method) || !strings.Contains(r.URL.Path, rule.Path) {
			continue
		}
		if rule.MinSize > 0 && rule.Kind != Status {
			return rule, i, true, true
		}
		if p.fires(i, r) {
			return rule, i, false, true
		}
	}
	return Rule{}, 0, false, false
}

// fires counts a match of rule i and reports whether it fires; call with
// p.mu held.
func (p *Proxy) fires(i int, r *http.Request) bool {
	rule := p.rules[i]
	p.matches[i]++
	fire := rule.Nth == 0 || p.matches[i] == rule.Nth
	if fire && rule.Probability > 0 {
		fire = p.rng.Float64() < rule.Probability
	}
	if fire && rule.Limit > 0 && p.fired[i] >= rule.Limit {
		fire = false
	}
	if fire {
		p.fired[i]++
		p.events = append(p.events, Event{Rule: i, Kind: rule.Kind, Method: r.Method, Path: r.URL.Path})
	}
	return fire
}

// decide settles a deferred rule once the answer's size is known.
func (p *Proxy) decide(i int, r *http.Request, size int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return size >= p.rules[i].MinSize && p.fires(i, r)
}

func (p *Proxy) serve(rp *httputil.ReverseProxy, w http.ResponseWriter, r *http.Request) {
	rule, idx, deferred, ok := p.pick(r)
	if !ok {
		rp.ServeHTTP(w, r)
		return
	}
	if deferred {
		rp.ServeHTTP(&faultyWriter{ResponseWriter: w, rule: rule, ctx: r.Context(),
			decide: func(size int64) bool { return p.decide(idx, r, size) }}, r)
		return
	}
	if rule.Kind == Status {
		if rule.RetryAfter != "" {
			w.Header().Set("Retry-After", rule.RetryAfter)
		}
		code := rule.Status
		if code == 0 {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, http.StatusText(code), code)
		return
	}
	rp.ServeHTTP(&faultyWriter{ResponseWriter: w, rule: rule, ctx: r.Context()}, r)
}

// faultyWriter applies a body fault to what the reverse proxy writes.
type faultyWriter struct {
	http.ResponseWriter
	rule    Rule
	ctx     context.Context
	written int64
	stalled bool
	// decide, when set, says at the headers whether the rule applies.
	decide func(size int64) bool
}

func (f *faultyWriter) WriteHeader(code int) {
	if f.decide != nil {
		size, err := strconv.ParseInt(f.Header().Get("Content-Length"), 10, 64)
		if err != nil {
			size, _ = strconv.ParseInt(f.Header().Get("X-Content-Length"), 10, 64)
		}
		if !f.decide(size) {
			f.rule = Rule{} // no fault: pass through
		}
		f.decide = nil
	}
	if f.rule.Kind == Truncate {
		if n, err := strconv.ParseInt(f.Header().Get("Content-Length"), 10, 64); err == nil && n > f.rule.After {
			f.Header().Set("Content-Length", strconv.FormatInt(f.rule.After, 10))
		}
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *faultyWriter) Write(b []byte) (int, error) {
	if f.decide != nil {
		f.WriteHeader(http.StatusOK)
	}
	switch f.rule.Kind {
	case Drop, Truncate, Stall:
		if left := f.rule.After - f.written; left < int64(len(b)) {
			return f.cross(b, max(left, 0))
		}
	case Corrupt:
		if off := f.rule.After - f.written; off >= 0 && off < int64(len(b)) {
			c := append([]byte(nil), b...)
			c[off] ^= 0xff
			return f.pass(c)
		}
	case Drip:
		return f.drip(b)
	}
	return f.pass(b)
}

// cross handles a write that reaches the fault offset after n bytes.
func (f *faultyWriter) cross(b []byte, n int64) (int, error) {
	if _, err := f.pass(b[:n]); err != nil {
		return 0, err
	}
	switch f.rule.Kind {
	case Drop:
		f.Flush()
		panic(http.ErrAbortHandler) // the server cuts the connection
	case Truncate:
		return len(b), nil // the rest is swallowed
	}
	if !f.stalled {
		f.stalled = true
		f.Flush()
		if err := f.sleep(f.rule.Delay); err != nil {
			return int(n), err
		}
	}
	m, err := f.pass(b[n:])
	return int(n) + m, err
}

func (f *faultyWriter) drip(b []byte) (int, error) {
	chunk := max(f.rule.Chunk, 1)
	done := 0
	for done < len(b) {
		end := min(done+chunk, len(b))
		if _, err := f.pass(b[done:end]); err != nil {
			return done, err
		}
		f.Flush()
		done = end
		if err := f.sleep(f.rule.Delay); err != nil {
			return done, err
		}
	}
	return done, nil
}

// sleep waits d (forever when 0) unless the client goes away.
func (f *faultyWriter) sleep(d time.Duration) error {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return nil
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
}

func (f *faultyWriter) pass(b []byte) (int, error) {
	n, err := f.ResponseWriter.Write(b)
	f.written += int64(n)
	return n, err
}

// Flush passes on buffered bytes.
func (f *faultyWriter) Flush() {
	if fl, ok := f.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}
