package httpguard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"pf-registry/internal/fault"
)

const window = 100 * time.Millisecond

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func client(strip bool) *http.Client {
	tr := New(http.DefaultTransport.(*http.Transport).Clone(), window)
	if strip {
		tr = tr.StripRetryAfter()
	}
	return &http.Client{Transport: tr}
}

// wantStall checks a transient stall error naming the host and what stalled.
func wantStall(t *testing.T, err error, host, what string) {
	t.Helper()
	var se *Error
	if !errors.Is(err, fault.ErrTransient) || !errors.As(err, &se) || !se.Stalled() || !strings.Contains(err.Error(), host) || !strings.Contains(err.Error(), what) {
		t.Fatalf("got %v, want a transient stall naming %s and %q", err, host, what)
	}
	if strings.Contains(err.Error(), "\n") || se.Hint() == "" {
		t.Fatalf("stall error %q: want one line with a hint", err)
	}
}

// TestDripIsAStall: a server that sends its headers and then one byte now
// and then is never idle for a whole window, yet moves too little.
func TestDripIsAStall(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		for range 100000 {
			if _, err := w.Write([]byte{'x'}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(window / 10):
			}
		}
	})
	resp, err := client(false).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	wantStall(t, err, strings.TrimPrefix(srv.URL, "http://"), "stalled while receiving")
	if n == 0 || n >= 100000 {
		t.Fatalf("%d bytes before the stall", n)
	}
}

func TestNoAnswer(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	_, err := client(false).Get(srv.URL)
	wantStall(t, err, strings.TrimPrefix(srv.URL, "http://"), "did not answer within")
}

// TestUploadStall: a server that stops reading the request body.
func TestUploadStall(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		io.CopyN(io.Discard, r.Body, 1<<10)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	body := io.LimitReader(zeros{}, 256<<20)
	_, err := client(false).Post(srv.URL, "application/octet-stream", body)
	wantStall(t, err, strings.TrimPrefix(srv.URL, "http://"), "stalled while sending")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestSlowProgramIsNotAStall: time the program spends producing a request
// body or between reads of a response does not count against the server.
func TestSlowProgramIsNotAStall(t *testing.T) {
	payload := bytes.Repeat([]byte("pf"), 4<<10)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		w.Write(got)
	})
	body := &slowReader{r: bytes.NewReader(payload), pause: 3 * window}
	resp, err := client(false).Post(srv.URL, "application/octet-stream", body)
	if err != nil {
		t.Fatalf("slow request body: %v", err)
	}
	defer resp.Body.Close()
	first := make([]byte, 10)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * window) // the consumer is busy elsewhere
	rest, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(append(first, rest...), payload) {
		t.Fatalf("after a pause between reads: %v, %d bytes", err, 10+len(rest))
	}
}

// slowReader pauses before its first byte and half way.
type slowReader struct {
	r     *bytes.Reader
	pause time.Duration
	n     int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.n == 0 || s.n == 2 {
		time.Sleep(s.pause)
	}
	s.n++
	return s.r.Read(p[:min(len(p), 4<<10)])
}

func TestRetryAfterObserved(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	for _, strip := range []bool{false, true} {
		ctx, o := Observe(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		resp, err := client(strip).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if o.RetryAfter() != 7*time.Second {
			t.Fatalf("observed %s, want 7s", o.RetryAfter())
		}
		if got := resp.Header.Get("Retry-After"); (got == "") != strip {
			t.Fatalf("strip %v: header %q handed up", strip, got)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"3":                             3 * time.Second,
		" 0 ":                           0,
		"-5":                            0,
		"soon":                          0,
		"":                              0,
		"99999999999":                   365 * 24 * time.Hour,
		"Sat, 28 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Sat, 28 Nov 2026 11:00:00 GMT": 0,
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

// TestBrokenConnectionIsTransient: a body cut short is a passing failure
// that names the host; a refused connection is not.
func TestBrokenConnectionIsTransient(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 100))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	srv.Config.ErrorLog = nil
	resp, err := client(false).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, fault.ErrTransient) || !strings.Contains(err.Error(), strings.TrimPrefix(srv.URL, "http://")) {
		t.Fatalf("cut body: %v, want a transient error naming the host", err)
	}
	srv.Close()
	if _, err := client(false).Get(srv.URL); err == nil || errors.Is(err, fault.ErrTransient) {
		t.Fatalf("refused connection: %v, want a plain error", err)
	}
}
