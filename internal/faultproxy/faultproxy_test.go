package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// upstream serves a known body of 64 KiB on every path and counts hits.
func upstream(t *testing.T) (string, []byte, *atomic.Int64) {
	t.Helper()
	body := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("X-Host-Seen", r.Host)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, body, &hits
}

func start(t *testing.T, up string, rules ...Rule) *Proxy {
	t.Helper()
	p, err := New(up, 7, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// get fetches path through the proxy and returns what arrived.
func get(t *testing.T, p *Proxy, method, path string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestPassThrough(t *testing.T) {
	up, body, _ := upstream(t)
	p := start(t, up)
	resp, b, err := get(t, p, "GET", "/blob")
	if err != nil || !bytes.Equal(b, body) {
		t.Fatalf("err %v, %d bytes", err, len(b))
	}
	if host := resp.Header.Get("X-Host-Seen"); host != p.Addr() {
		t.Fatalf("upstream saw Host %q, want the proxy's %q (kept for signed requests)", host, p.Addr())
	}
	if len(p.Events()) != 0 || p.Requests() != 1 {
		t.Fatalf("events %v requests %d", p.Events(), p.Requests())
	}
}

func TestStatusWithRetryAfter(t *testing.T) {
	up, _, hits := upstream(t)
	for _, code := range []int{500, 503, 429} {
		p := start(t, up, Rule{Kind: Status, Status: code, RetryAfter: "2"})
		resp, _, err := get(t, p, "GET", "/x")
		if err != nil || resp.StatusCode != code || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("%d: %v %+v", code, err, resp)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("upstream asked %d times for a status fault", hits.Load())
	}
}

func TestDropMidBody(t *testing.T) {
	up, body, _ := upstream(t)
	p := start(t, up, Rule{Kind: Drop, After: 1000})
	_, b, err := get(t, p, "GET", "/blob")
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read error %v, want unexpected EOF", err)
	}
	if len(b) != 1000 || !bytes.Equal(b, body[:1000]) {
		t.Fatalf("got %d bytes before the drop, want the first 1000", len(b))
	}
}

func TestTruncate(t *testing.T) {
	up, body, _ := upstream(t)
	p := start(t, up, Rule{Kind: Truncate, After: 1000})
	resp, b, err := get(t, p, "GET", "/blob")
	if err != nil || resp.ContentLength != 1000 || !bytes.Equal(b, body[:1000]) {
		t.Fatalf("err %v, length %d, %d bytes", err, resp.ContentLength, len(b))
	}
}

func TestCorrupt(t *testing.T) {
	up, body, _ := upstream(t)
	p := start(t, up, Rule{Kind: Corrupt, After: 40000})
	_, b, err := get(t, p, "GET", "/blob")
	if err != nil || len(b) != len(body) {
		t.Fatalf("err %v, %d bytes", err, len(b))
	}
	for i := range b {
		if (b[i] != body[i]) != (i == 40000) {
			t.Fatalf("byte %d: got %x, upstream %x", i, b[i], body[i])
		}
	}
}

// TestStall: a stall for a while delivers the whole body afterwards; a
// stall without end holds the body until the client gives up.
func TestStall(t *testing.T) {
	up, body, _ := upstream(t)
	p := start(t, up, Rule{Kind: Stall, After: 100, Delay: 50 * time.Millisecond})
	if _, b, err := get(t, p, "GET", "/blob"); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("after a stall: err %v, %d bytes", err, len(b))
	}

	p = start(t, up, Rule{Kind: Stall, After: 100})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", p.URL()+"/blob", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 100)
	if _, err := io.ReadFull(resp.Body, first); err != nil || !bytes.Equal(first, body[:100]) {
		t.Fatalf("bytes before the stall: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := resp.Body.Read(make([]byte, 1))
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a byte arrived during an endless stall (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	if err := <-got; err == nil {
		t.Fatal("read went on after the client gave up")
	}
}

func TestDrip(t *testing.T) {
	up, body, _ := upstream(t)
	p := start(t, up, Rule{Kind: Drip, Chunk: 4096, Delay: time.Millisecond})
	if _, b, err := get(t, p, "GET", "/blob"); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("dripped body: err %v, %d bytes", err, len(b))
	}
	if ev := p.Events(); len(ev) != 1 || ev[0].Kind != Drip {
		t.Fatalf("events %v", ev)
	}
}

// TestMatching: method and path select requests, Nth picks one of them,
// Limit caps the faults.
func TestMatching(t *testing.T) {
	up, _, _ := upstream(t)
	p := start(t, up,
		Rule{Method: "HEAD", Kind: Status, Status: 500},
		Rule{Path: "/blobs/", Nth: 2, Kind: Status, Status: 503},
		Rule{Path: "/manifests/", Limit: 1, Kind: Status, Status: 429},
	)
	want := []struct {
		method, path string
		code         int
	}{
		{"GET", "/v2/r/blobs/a", 200},
		{"HEAD", "/v2/r/blobs/a", 500},
		{"GET", "/v2/r/blobs/b", 503}, // the second match of rule 1 (the HEAD went to rule 0)
		{"GET", "/v2/r/blobs/c", 200},
		{"GET", "/v2/r/manifests/v1", 429},
		{"GET", "/v2/r/manifests/v1", 200},
	}
	for _, w := range want {
		resp, _, err := get(t, p, w.method, w.path)
		if err != nil || resp.StatusCode != w.code {
			t.Fatalf("%s %s: %v %v, want %d", w.method, w.path, err, resp, w.code)
		}
	}
	if n := len(p.Events()); n != 3 {
		t.Fatalf("%d faults, want 3", n)
	}
}

// TestProbabilityIsReproducible: the same seed fails the same requests.
func TestProbabilityIsReproducible(t *testing.T) {
	up, _, _ := upstream(t)
	pattern := func() []bool {
		p := start(t, up, Rule{Probability: 0.5, Kind: Status, Status: 503})
		var out []bool
		for i := 0; i < 40; i++ {
			resp, _, err := get(t, p, "GET", "/x")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, resp.StatusCode == 503)
		}
		return out
	}
	a, b := pattern(), pattern()
	failed := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %v then %v with the same seed", i, a[i], b[i])
		}
		if a[i] {
			failed++
		}
	}
	if failed == 0 || failed == len(a) {
		t.Fatalf("%d of %d failed at probability 0.5", failed, len(a))
	}
}

// TestMinSize: a body fault with MinSize spares small answers (they do
// not count) and hits the first large one; the log keeps Range headers.
func TestMinSize(t *testing.T) {
	up, body, _ := upstream(t) // 64 KiB answers
	p := start(t, up, Rule{Kind: Drop, After: 10, MinSize: 100 << 10, Limit: 1})
	if _, b, err := get(t, p, "GET", "/small"); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("an answer under MinSize was hurt: %v", err)
	}
	p.SetRules(Rule{Kind: Drop, After: 10, MinSize: 1 << 10, Limit: 1})
	if _, _, err := get(t, p, "GET", "/big"); err == nil {
		t.Fatal("the large answer was not dropped")
	}
	if _, _, err := get(t, p, "GET", "/big"); err != nil {
		t.Fatalf("Limit 1 fired twice: %v", err)
	}
	if ev := p.Events(); len(ev) != 1 || ev[0].Path != "/big" {
		t.Fatalf("events %v", ev)
	}
	req, _ := http.NewRequest("GET", p.URL()+"/r?x=1", nil)
	req.Header.Set("Range", "bytes=5-")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	if l := p.Log(); len(l) != 4 || l[3].Range != "bytes=5-" || l[3].Query != "x=1" || p.Requests() != 4 {
		t.Fatalf("log %+v", l)
	}
}
