// Package faulttest puts a fault-injecting proxy (internal/faultproxy)
// between a backend and its real server and checks that transfers ride
// out a bad network: a server that drips bytes or stalls is given up on
// with a one-line error naming it, dropped and truncated downloads are
// resumed or fetched again, 5xx and 429 answers are retried without
// waiting as long as a hostile Retry-After says, corrupted bytes are
// fetched again and never kept, and progress totals stay true through
// all of it. Each network backend's tests call Run on its real server.
package faulttest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/internal/faultproxy"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// Harness plugs a backend and its server into the checks.
type Harness struct {
	// Upstream is the base URL of the running server (http://127.0.0.1:port).
	Upstream string
	// Open returns the backend as the command line builds it, reaching
	// the server at base (the upstream or a proxy in front of it).
	Open func(t testing.TB, base string, cfg registry.Config) registry.Registry
	// Ref names an image location; the same name through another base is
	// the same image.
	Ref func(t testing.TB, base, name string) registry.Ref
	// Download and Upload select blob downloads and blob uploads (only
	// Method and Path are read).
	Download, Upload faultproxy.Rule
	// Resumed reports a request that reads a blob from an offset (a Range
	// header, IPFS's offset argument).
	Resumed func(faultproxy.Request) bool
}

// Config is what every check runs under: short stall windows and pauses,
// so the whole run takes seconds.
var Config = registry.Config{
	Timeout: 500 * time.Millisecond,
	Retry:   registry.RetryPolicy{Attempts: 4, Wait: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond},
}

// Sizes of the test image: its two KV page blobs are the only ones above
// bigBlob stored bytes; faults hit them after cut bytes.
const (
	bigBlob = 8 << 10
	cut     = 4 << 10
)

// guard bounds every transfer: a check that needs it has hung.
const guard = 60 * time.Second

type run struct {
	h     Harness
	st    *store.Store
	id    model.Digest
	image string // name of the image pushed without faults
}

// Run pushes a small image straight to the server, then runs every check
// through a fresh proxy.
func Run(t *testing.T, h Harness) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id, err := demo.Build(st, demo.ImageSpec{Seed: 13, Files: 3, Pages: 1, Messages: 3, Layers: 2, Tokens: 32, Heads: 2, HeadDim: 64})
	if err != nil {
		t.Fatal(err)
	}
	r := &run{h: h, st: st, id: id, image: "faults/image"}
	reg := h.Open(t, h.Upstream, registry.Config{})
	if _, err := reg.Push(context.Background(), st, id, h.Ref(t, h.Upstream, r.image), registry.TransferOptions{}); err != nil {
		t.Fatalf("push without faults: %v", err)
	}
	t.Run("DripIsAStall", r.drip)
	t.Run("StallResumes", r.stall)
	t.Run("DropResumes", r.drop)
	t.Run("StatusRetried", r.status)
	t.Run("TruncateRetried", r.truncate)
	t.Run("CorruptRetried", r.corruptOnce)
	t.Run("CorruptAlwaysRefused", r.corruptAlways)
	t.Run("PushRetried", r.push)
}

// proxy starts a proxy with rules in front of the server.
func (r *run) proxy(t *testing.T, rules ...faultproxy.Rule) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(r.h.Upstream, 1, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// download is a rule on blob downloads.
func (r *run) download(f faultproxy.Rule) faultproxy.Rule {
	f.Method, f.Path = r.h.Download.Method, r.h.Download.Path
	return f
}

// pull pulls the image through p into a fresh store.
func (r *run) pull(t *testing.T, p *faultproxy.Proxy, cfg registry.Config) (*store.Store, *registry.Report, *recorder, error) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	rec := &recorder{}
	reg := r.h.Open(t, p.URL(), cfg)
	rep, err := reg.Pull(ctx, r.h.Ref(t, p.URL(), r.image), st, registry.TransferOptions{Progress: rec.add})
	if ctx.Err() != nil {
		t.Fatalf("the pull hung until the test's deadline: %v", err)
	}
	return st, rep, rec, err
}

// pullOK pulls through p and checks the image arrived whole, with true
// totals, and that every fault of the rules was injected.
func (r *run) pullOK(t *testing.T, p *faultproxy.Proxy, faults int) *recorder {
	t.Helper()
	st, rep, rec, err := r.pull(t, p, Config)
	if err != nil {
		t.Fatalf("pull through %d fault(s) %v: %v", len(p.Events()), p.Events(), err)
	}
	if !st.HasImage(r.id) {
		t.Fatal("the image is not in the store")
	}
	if n := len(p.Events()); n != faults {
		t.Fatalf("%d fault(s) injected (%v), want %d: the check did not test what it says", n, p.Events(), faults)
	}
	rec.check(t, rep)
	return rec
}

func (r *run) resumes(p *faultproxy.Proxy) int {
	n := 0
	for _, q := range p.Log() {
		if r.h.Resumed(q) {
			n++
		}
	}
	return n
}

// drip: a server that sends its headers and then a byte every 50ms is
// never idle, yet the pull ends (after its retries) with a stall naming
// the server instead of hanging.
func (r *run) drip(t *testing.T) {
	p := r.proxy(t, r.download(faultproxy.Rule{Kind: faultproxy.Drip, Chunk: 1, Delay: 50 * time.Millisecond}))
	cfg := Config
	cfg.Retry.Attempts = 2
	st, _, _, err := r.pull(t, p, cfg)
	host := strings.TrimPrefix(p.URL(), "http://")
	t.Logf("pull from a dripping server: %v", err)
	if !errors.Is(err, fault.ErrTransient) || !strings.Contains(err.Error(), "stalled") || !strings.Contains(err.Error(), host) {
		t.Fatalf("pull from a dripping server: %v; want a stall naming %s", err, host)
	}
	if strings.ContainsAny(err.Error(), "\r\n") || fault.Hint(err) == "" {
		t.Fatalf("stall error %q: want one line and a hint", err)
	}
	if imgs, _ := st.Images(); len(imgs) != 0 {
		t.Fatalf("images in the store after a failed pull: %v", imgs)
	}
}

// stall: a download that stops for good after a few KiB is given up on
// after the stall window and continues from where it stopped.
func (r *run) stall(t *testing.T) {
	p := r.proxy(t, r.download(faultproxy.Rule{Kind: faultproxy.Stall, After: cut, MinSize: bigBlob, Limit: 1}))
	rec := r.pullOK(t, p, 1)
	if r.resumes(p) == 0 || rec.retries() != 0 {
		t.Fatalf("%d downloads resumed from an offset, %d blobs started over; want a resume only: %+v", r.resumes(p), rec.retries(), p.Log())
	}
}

// drop: connections cut mid-blob are resumed from the byte they reached.
func (r *run) drop(t *testing.T) {
	p := r.proxy(t, r.download(faultproxy.Rule{Kind: faultproxy.Drop, After: cut, MinSize: bigBlob, Limit: 2}))
	rec := r.pullOK(t, p, 2)
	if r.resumes(p) < 2 || rec.retries() != 0 {
		t.Fatalf("%d downloads resumed from an offset, %d blobs started over; want 2 resumes only: %+v", r.resumes(p), rec.retries(), p.Log())
	}
}

// status: 503, 429 and 500 answers are retried; a Retry-After of an hour
// is capped (the pull would otherwise hang until the guard).
func (r *run) status(t *testing.T) {
	p := r.proxy(t,
		r.download(faultproxy.Rule{Kind: faultproxy.Status, Status: 503, RetryAfter: "3600", Limit: 1}),
		r.download(faultproxy.Rule{Kind: faultproxy.Status, Status: 429, RetryAfter: "1", Limit: 1}),
		r.download(faultproxy.Rule{Kind: faultproxy.Status, Status: 500, Limit: 1}))
	r.pullOK(t, p, 3)
}

// truncate: an answer that ends early but looks complete is fetched again.
func (r *run) truncate(t *testing.T) {
	p := r.proxy(t, r.download(faultproxy.Rule{Kind: faultproxy.Truncate, After: cut, MinSize: bigBlob, Limit: 1}))
	rec := r.pullOK(t, p, 1)
	if rec.retries() == 0 {
		t.Fatal("no blob was fetched again after a truncated answer")
	}
}

// corruptOnce: a byte flipped on the way fails verification; the blob is
// fetched again and the pull completes.
func (r *run) corruptOnce(t *testing.T) {
	p := r.proxy(t, r.download(faultproxy.Rule{Kind: faultproxy.Corrupt, After: cut + 100, MinSize: bigBlob, Limit: 1}))
	rec := r.pullOK(t, p, 1)
	if rec.retries() == 0 {
		t.Fatal("no blob was fetched again after a corrupted answer")
	}
}

// corruptAlways: a blob corrupted every time is an integrity failure, and
// nothing of the image is kept.
func (r *run) corruptAlways(t *testing.T) {
	p := r.proxy(t, r.download(faultproxy.Rule{Kind: faultproxy.Corrupt, After: cut + 100, MinSize: bigBlob}))
	st, rep, rec, err := r.pull(t, p, Config)
	if !errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("pull of a blob corrupted every time: %v, want an integrity failure", err)
	}
	if imgs, _ := st.Images(); len(imgs) != 0 {
		t.Fatalf("images in the store: %v", imgs)
	}
	for _, b := range rep.Blobs {
		if b.Status == registry.BlobCorrupt && st.HasBlob(b.Digest) {
			t.Fatalf("corrupt blob %s was kept", b.Role)
		}
	}
	rec.check(t, rep)
}

// push: uploads answered with 503 and 500 are sent again; the image then
// reads back whole without the proxy.
func (r *run) push(t *testing.T) {
	up := func(f faultproxy.Rule) faultproxy.Rule {
		f.Method, f.Path = r.h.Upload.Method, r.h.Upload.Path
		return f
	}
	p := r.proxy(t,
		up(faultproxy.Rule{Kind: faultproxy.Status, Status: 503, RetryAfter: "3600", Limit: 1}),
		up(faultproxy.Rule{Kind: faultproxy.Status, Status: 500, Nth: 3}))
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	rec := &recorder{}
	name := "faults/pushed"
	rep, err := r.h.Open(t, p.URL(), Config).Push(ctx, r.st, r.id, r.h.Ref(t, p.URL(), name), registry.TransferOptions{Progress: rec.add})
	if err != nil {
		t.Fatalf("push through faults %v: %v", p.Events(), err)
	}
	if n := len(p.Events()); n != 2 {
		t.Fatalf("%d fault(s) injected (%v), want 2", n, p.Events())
	}
	rec.check(t, rep)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	back, err := r.h.Open(t, r.h.Upstream, registry.Config{}).Pull(ctx, r.h.Ref(t, r.h.Upstream, name), st, registry.TransferOptions{})
	if err != nil || back.Inspection.ImageID != r.id {
		t.Fatalf("pull of the pushed image: %v", err)
	}
}
