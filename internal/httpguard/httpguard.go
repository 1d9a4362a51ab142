// Package httpguard is the HTTP transport layer every network backend
// shares. It bounds time the same way everywhere: a request whose
// server stops answering, or a body that stops moving, ends with a
// one-line transient error naming the host, however much of it has come,
// and so does a connection that breaks;
// and it hands a 429 or 5xx answer's Retry-After to whoever retries
// (the engine), instead of letting each client library wait as long as a
// server asks.
package httpguard

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultTimeout is the stall window when the configuration sets none.
const DefaultTimeout = 30 * time.Second

// MinProgress is what a transfer must move in each stall window: less is
// a stall, so a server that drips a byte now and then cannot hold a
// transfer open forever while never being idle. (Messages say "1 KiB".)
const MinProgress = 1 << 10

// Transport wraps a base transport. The time it bounds is the time spent
// waiting on the network: connecting, sending the request body, waiting
// for the answer, and reading the response body while the reader waits
// for bytes. Time the program spends producing a request body or doing
// something else between reads of a response does not count, so a slow
// consumer never makes a healthy server look stalled.
type Transport struct {
	base    http.RoundTripper
	timeout time.Duration
	strip   bool
}

// New guards base with a stall window of timeout (≤ 0: DefaultTimeout).
func New(base http.RoundTripper, timeout time.Duration) *Transport {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Transport{base: base, timeout: timeout}
}

// StripRetryAfter removes Retry-After from the answers handed up, after
// reporting it to Observe: for client libraries that would sleep as long
// as any server asks (the engine's retry caps the wait instead).
func (t *Transport) StripRetryAfter() *Transport {
	c := *t
	c.strip = true
	return &c
}

// Timeout is the stall window.
func (t *Transport) Timeout() time.Duration { return t.timeout }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	w := newWatch(t.timeout, req.URL.Host, cancel)
	out := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = &sendBody{rc: req.Body, w: w}
		if req.GetBody != nil { // a body sent again (redirect, retry on a reused connection) is watched too
			out.GetBody = func() (io.ReadCloser, error) {
				rc, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				return &sendBody{rc: rc, w: w}, nil
			}
		}
	} else {
		w.bodyDone = true
	}
	w.update()
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		w.stop()
		cancel()
		if serr := w.err(); serr != nil {
			return nil, serr
		}
		return nil, broken(req.URL.Host, err)
	}
	w.answered()
	if ra := retryAfter(resp); ra > 0 {
		if o, ok := ctx.Value(observeKey{}).(*Observation); ok {
			o.set(ra)
		}
		if t.strip {
			resp.Header.Del("Retry-After")
		}
	}
	resp.Body = &recvBody{rc: resp.Body, w: w, cancel: cancel, host: req.URL.Host}
	return resp, nil
}

// sendBody feeds the watch while the transport reads the request body: the
// time inside Read is the program producing bytes, not the network.
type sendBody struct {
	rc io.ReadCloser
	w  *watch
}

func (b *sendBody) Read(p []byte) (int, error) {
	b.w.enterProducer()
	n, err := b.rc.Read(p)
	b.w.leaveProducer(n, err != nil)
	if err != nil && b.w.fired() {
		return n, b.w.err()
	}
	return n, err
}

func (b *sendBody) Close() error {
	b.w.sent()
	return b.rc.Close()
}

// recvBody feeds the watch while a response body is read.
type recvBody struct {
	rc     io.ReadCloser
	w      *watch
	cancel context.CancelFunc
	host   string
	once   sync.Once
}

func (b *recvBody) Read(p []byte) (int, error) {
	b.w.enterReader()
	n, err := b.rc.Read(p)
	b.w.leaveReader(n)
	if err != nil && err != io.EOF {
		if serr := b.w.err(); serr != nil {
			return n, serr
		}
		return n, broken(b.host, err)
	}
	return n, err
}

func (b *recvBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() {
		b.w.stop()
		b.cancel()
	})
	return err
}

// Observation collects what the transport saw of the requests made under
// one context (see Observe).
type Observation struct {
	mu    sync.Mutex
	after time.Duration
}

type observeKey struct{}

// Observe returns a context under which the transport reports the
// longest Retry-After of the answers it passes, and what it reports.
func Observe(ctx context.Context) (context.Context, *Observation) {
	o := &Observation{}
	return context.WithValue(ctx, observeKey{}, o), o
}

func (o *Observation) set(d time.Duration) {
	o.mu.Lock()
	o.after = max(o.after, d)
	o.mu.Unlock()
}

// RetryAfter is the longest wait a server asked for (0: none).
func (o *Observation) RetryAfter() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.after
}
