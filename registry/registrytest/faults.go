package registrytest

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

// Network is an optional Harness capability of network backends: with it,
// Run also puts a fault-injecting proxy (internal/faultproxy) between the
// backend and its server and checks that transfers ride out a bad network.
// A server that drips bytes or stalls is given up on with a one-line error
// naming it; dropped and truncated downloads are resumed or fetched again;
// 5xx and 429 answers are retried without waiting as long as a hostile
// Retry-After says; corrupted bytes are fetched again and never kept; and
// progress totals stay true through all of it.
type Network interface {
	// Upstream is the base URL of the server (http://127.0.0.1:port).
	Upstream() string
	// OpenVia returns the backend reaching the server at base (a proxy in
	// front of it), under cfg.
	OpenVia(t testing.TB, base string, cfg registry.Config) registry.Registry
	// Via is ref as the backend opened by OpenVia(base) names it.
	Via(t testing.TB, ref registry.Ref, base string) registry.Ref
	// Traffic tells the server's requests apart.
	Traffic() Traffic
}

// Traffic selects requests of a backend's protocol.
type Traffic struct {
	// Download and Upload select blob downloads and uploads (only Method
	// and Path are read).
	Download, Upload faultproxy.Rule
	// Resumed reports a request that reads a blob from an offset (a Range
	// header, IPFS's offset argument).
	Resumed func(faultproxy.Request) bool
}

// SameRef is the Via of a backend whose references name no host (the
// proxy is reached through OpenVia alone); a harness embeds it.
type SameRef struct{}

// Via returns ref as it is.
func (SameRef) Via(_ testing.TB, ref registry.Ref, _ string) registry.Ref { return ref }

// HTTPTraffic is the traffic of a backend that downloads blobs by GET,
// resuming with a Range header, and uploads them by PUT below uploadPath.
func HTTPTraffic(uploadPath string) Traffic {
	return Traffic{
		Download: faultproxy.Rule{Method: "GET"},
		Upload:   faultproxy.Rule{Method: "PUT", Path: uploadPath},
		Resumed:  func(q faultproxy.Request) bool { return q.Range != "" },
	}
}

// FaultConfig is what the bad-network checks run under: short stall
// windows and pauses, so that they take seconds.
var FaultConfig = registry.Config{
	Timeout: 500 * time.Millisecond,
	Retry:   registry.RetryPolicy{Attempts: 4, Wait: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond},
}

// The image the checks move has two KV page blobs of about 16 KiB, the
// only blobs above bigBlob stored bytes; faults hit them after cut bytes.
const (
	bigBlob = 8 << 10
	cut     = 4 << 10
)

// guard bounds every transfer of the checks: reaching it means a hang.
const guard = 60 * time.Second

type faults struct {
	h     Harness
	n     Network
	tr    Traffic
	st    *store.Store
	id    model.Digest
	image registry.Ref // pushed without faults
}

// runFaults pushes a small image straight to the server, then runs every
// check through a fresh proxy.
func runFaults(t *testing.T, h Harness, n Network) {
	st := NewStore(t)
	id, err := demo.Build(st, demo.ImageSpec{Seed: 13, Files: 3, Pages: 1, Messages: 3, Layers: 2, Tokens: 32, Heads: 2, HeadDim: 64})
	if err != nil {
		t.Fatal(err)
	}
	f := &faults{h: h, n: n, tr: n.Traffic(), st: st, id: id, image: h.NewRef(t)}
	if _, err := h.Open(t, registry.Config{}).Push(context.Background(), st, id, f.image, registry.TransferOptions{}); err != nil {
		t.Fatalf("push without faults: %v", err)
	}
	t.Run("DripIsAStall", f.drip)
	t.Run("StallResumes", f.stall)
	t.Run("DropResumes", f.drop)
	t.Run("StatusRetried", f.status)
	t.Run("TruncateRetried", f.truncate)
	t.Run("CorruptRetried", f.corruptOnce)
	t.Run("CorruptAlwaysRefused", f.corruptAlways)
	t.Run("PushRetried", f.push)
}

// proxy starts a proxy with rules in front of the server.
func (f *faults) proxy(t *testing.T, rules ...faultproxy.Rule) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(f.n.Upstream(), 1, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// download and upload make a rule apply to blob downloads or uploads.
func (f *faults) download(r faultproxy.Rule) faultproxy.Rule {
	r.Method, r.Path = f.tr.Download.Method, f.tr.Download.Path
	return r
}

func (f *faults) upload(r faultproxy.Rule) faultproxy.Rule {
	r.Method, r.Path = f.tr.Upload.Method, f.tr.Upload.Path
	return r
}

// pull pulls the image through p into a fresh store.
func (f *faults) pull(t *testing.T, p *faultproxy.Proxy, cfg registry.Config) (*store.Store, *registry.Report, *Recorder, error) {
	t.Helper()
	st := NewStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	rec := &Recorder{}
	rep, err := f.n.OpenVia(t, p.URL(), cfg).Pull(ctx, f.n.Via(t, f.image, p.URL()), st, rec.Options(0))
	if ctx.Err() != nil {
		t.Fatalf("the pull hung until the test's deadline: %v", err)
	}
	rec.Check(t, rep, err)
	return st, rep, rec, err
}

// pullOK pulls through p and checks that the image arrived whole and that
// the rules injected `faults` faults.
func (f *faults) pullOK(t *testing.T, p *faultproxy.Proxy, faults int) *Recorder {
	t.Helper()
	st, _, rec, err := f.pull(t, p, FaultConfig)
	if err != nil {
		t.Fatalf("pull through faults %v: %v", p.Events(), err)
	}
	if !st.HasImage(f.id) {
		t.Fatal("the image is not in the store")
	}
	if n := len(p.Events()); n != faults {
		t.Fatalf("%d fault(s) injected (%v), want %d: the check did not test what it says", n, p.Events(), faults)
	}
	return rec
}

func (f *faults) resumes(p *faultproxy.Proxy) int {
	n := 0
	for _, q := range p.Log() {
		if f.tr.Resumed(q) {
			n++
		}
	}
	return n
}

// drip: a server that sends its headers and then a byte every 50ms is
// never idle, yet the pull ends (after its retries) with a stall naming
// the server instead of hanging.
func (f *faults) drip(t *testing.T) {
	p := f.proxy(t, f.download(faultproxy.Rule{Kind: faultproxy.Drip, Chunk: 1, Delay: 50 * time.Millisecond}))
	cfg := FaultConfig
	cfg.Retry.Attempts = 2
	st, _, _, err := f.pull(t, p, cfg)
	host := strings.TrimPrefix(p.URL(), "http://")
	t.Logf("pull from a dripping server: %v", err)
	if !errors.Is(err, fault.ErrTransient) || !strings.Contains(err.Error(), "stalled") || !strings.Contains(err.Error(), host) {
		t.Fatalf("pull from a dripping server: %v; want a stall naming %s", err, host)
	}
	if strings.ContainsAny(err.Error(), "\r\n") || fault.Hint(err) == "" {
		t.Fatalf("stall error %q: want one line and a hint", err)
	}
	CheckStoreClean(t, st)
}

// stall: a download that stops for good after a few KiB is given up on
// after the stall window and continues from where it stopped.
func (f *faults) stall(t *testing.T) {
	p := f.proxy(t, f.download(faultproxy.Rule{Kind: faultproxy.Stall, After: cut, MinSize: bigBlob, Limit: 1}))
	rec := f.pullOK(t, p, 1)
	if f.resumes(p) == 0 || rec.Retries() != 0 {
		t.Fatalf("%d downloads resumed from an offset, %d blobs started over; want a resume only: %+v", f.resumes(p), rec.Retries(), p.Log())
	}
}

// drop: connections cut mid-blob are resumed from the byte they reached.
func (f *faults) drop(t *testing.T) {
	p := f.proxy(t, f.download(faultproxy.Rule{Kind: faultproxy.Drop, After: cut, MinSize: bigBlob, Limit: 2}))
	rec := f.pullOK(t, p, 2)
	if f.resumes(p) < 2 || rec.Retries() != 0 {
		t.Fatalf("%d downloads resumed from an offset, %d blobs started over; want 2 resumes only: %+v", f.resumes(p), rec.Retries(), p.Log())
	}
}

// status: 503, 429 and 500 answers are retried; a Retry-After of an hour
// is capped (the pull would otherwise hang until the guard).
func (f *faults) status(t *testing.T) {
	p := f.proxy(t,
		f.download(faultproxy.Rule{Kind: faultproxy.Status, Status: 503, RetryAfter: "3600", Limit: 1}),
		f.download(faultproxy.Rule{Kind: faultproxy.Status, Status: 429, RetryAfter: "1", Limit: 1}),
		f.download(faultproxy.Rule{Kind: faultproxy.Status, Status: 500, Limit: 1}))
	f.pullOK(t, p, 3)
}

// truncate: an answer that ends early but looks complete is fetched again.
func (f *faults) truncate(t *testing.T) {
	p := f.proxy(t, f.download(faultproxy.Rule{Kind: faultproxy.Truncate, After: cut, MinSize: bigBlob, Limit: 1}))
	if rec := f.pullOK(t, p, 1); rec.Retries() == 0 {
		t.Fatal("no blob was fetched again after a truncated answer")
	}
}

// corruptOnce: a byte flipped on the way fails verification; the blob is
// fetched again and the pull completes.
func (f *faults) corruptOnce(t *testing.T) {
	p := f.proxy(t, f.download(faultproxy.Rule{Kind: faultproxy.Corrupt, After: cut + 100, MinSize: bigBlob, Limit: 1}))
	if rec := f.pullOK(t, p, 1); rec.Retries() == 0 {
		t.Fatal("no blob was fetched again after a corrupted answer")
	}
}

// corruptAlways: a blob corrupted every time is an integrity failure, and
// nothing of the image is kept.
func (f *faults) corruptAlways(t *testing.T) {
	p := f.proxy(t, f.download(faultproxy.Rule{Kind: faultproxy.Corrupt, After: cut + 100, MinSize: bigBlob}))
	st, rep, _, err := f.pull(t, p, FaultConfig)
	if !errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("pull of a blob corrupted every time: %v, want an integrity failure", err)
	}
	CheckStoreClean(t, st)
	for _, b := range rep.Blobs {
		if b.Status == registry.BlobCorrupt && st.HasBlob(b.Digest) {
			t.Fatalf("corrupt blob %s was kept", b.Role)
		}
	}
}

// push: uploads answered with 503 and 500 are sent again; the image then
// reads back whole without the proxy.
func (f *faults) push(t *testing.T) {
	p := f.proxy(t,
		f.upload(faultproxy.Rule{Kind: faultproxy.Status, Status: 503, RetryAfter: "3600", Limit: 1}),
		f.upload(faultproxy.Rule{Kind: faultproxy.Status, Status: 500, Nth: 3}))
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	rec := &Recorder{}
	ref := f.h.NewRef(t)
	rep, err := f.n.OpenVia(t, p.URL(), FaultConfig).Push(ctx, f.st, f.id, f.n.Via(t, ref, p.URL()), rec.Options(0))
	rec.Check(t, rep, err)
	if err != nil {
		t.Fatalf("push through faults %v: %v", p.Events(), err)
	}
	if n := len(p.Events()); n != 2 {
		t.Fatalf("%d fault(s) injected (%v), want 2", n, p.Events())
	}
	back, err := f.h.Open(t, registry.Config{}).Pull(ctx, ref, NewStore(t), registry.TransferOptions{})
	if err != nil || back.Inspection.ImageID != f.id {
		t.Fatalf("pull of the pushed image: %v", err)
	}
}
