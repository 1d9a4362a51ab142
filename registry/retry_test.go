package registry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// fast is a retry policy for tests: real tries, tiny pauses.
var fast = registry.RetryPolicy{Attempts: 4, Wait: time.Millisecond, MaxWait: 5 * time.Millisecond}

// flakySource serves a store image and breaks blob reads as told: fail
// decides, for each open of a blob (n counts from 1) at offset off, what
// happens.
type flakySource struct {
	registry.Source
	fail   func(d model.Digest, n int, off int64) fault_
	mu     sync.Mutex
	opens  map[model.Digest]int
	ranges []int64 // offsets of OpenBlobAt calls
	read   int64   // stored bytes handed out
}

// fault_ is one scripted failure.
type fault_ struct {
	openErr error // OpenBlob fails with it
	after   int64 // else the stream breaks after this many bytes (-1: never)
	corrupt bool  // flips a byte instead of breaking
	clean   bool  // ends early with io.EOF instead of an error
}

var healthy = fault_{after: -1}

func (s *flakySource) open(ctx context.Context, d model.Digest, off int64) (io.ReadCloser, int64, error) {
	s.mu.Lock()
	s.opens[d]++
	n := s.opens[d]
	s.mu.Unlock()
	f := s.fail(d, n, off)
	if f.openErr != nil {
		return nil, -1, f.openErr
	}
	rc, size, err := s.Source.OpenBlob(ctx, d)
	if err != nil {
		return nil, size, err
	}
	if _, err := io.CopyN(io.Discard, rc, off); err != nil {
		return nil, size, err
	}
	return &brokenReader{rc: rc, f: f, s: s}, size, nil
}

func (s *flakySource) OpenBlob(ctx context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	return s.open(ctx, d, 0)
}

type brokenReader struct {
	rc io.ReadCloser
	f  fault_
	n  int64
	s  *flakySource
}

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.f.after >= 0 && b.n >= b.f.after && !b.f.corrupt {
		if b.f.clean {
			return 0, io.EOF
		}
		return 0, fault.Transient(errors.New("connection reset by peer"), 0)
	}
	if b.f.after >= 0 && !b.f.corrupt {
		p = p[:min(int64(len(p)), b.f.after-b.n)]
	}
	n, err := b.rc.Read(p)
	if b.f.corrupt && b.f.after >= b.n && b.f.after < b.n+int64(n) {
		p[b.f.after-b.n] ^= 0xff
	}
	b.n += int64(n)
	b.s.mu.Lock()
	b.s.read += int64(n)
	b.s.mu.Unlock()
	return n, err
}

func (b *brokenReader) Close() error { return b.rc.Close() }

// rangedSource adds offset reads to a flaky source.
type rangedSource struct{ *flakySource }

func (s rangedSource) OpenBlobAt(ctx context.Context, d model.Digest, off int64) (io.ReadCloser, error) {
	s.mu.Lock()
	s.ranges = append(s.ranges, off)
	s.mu.Unlock()
	rc, _, err := s.open(ctx, d, off)
	return rc, err
}

// retryImage is a small image whose largest blob is a few KiB of KV page.
func retryImage(t *testing.T) (*store.Store, model.Digest, registry.Source, model.Digest) {
	t.Helper()
	st, id := demoImage(t, demo.ImageSpec{Seed: 5, Files: 3, Pages: 1, Messages: 3, Layers: 2, Tokens: 16, Heads: 2, HeadDim: 32})
	src, err := registry.StoreSource(st, id)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, _ := src.FetchManifest(context.Background())
	m, err := model.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	var page model.Digest
	var best int64
	for _, r := range model.Walk(m, func(d model.Digest) ([]byte, error) { return st.ReadBlob(d, model.MaxMetadataSize) }) {
		if size, _ := src.(registry.BlobStater).StatBlob(context.Background(), r.Digest); strings.HasPrefix(r.Role, "page:") && size > best {
			page, best = r.Digest, size
		}
	}
	if best < 2<<10 {
		t.Fatalf("largest page is %d bytes; the test needs a few KiB", best)
	}
	return st, id, src, page
}

// events records progress.
type events struct {
	mu  sync.Mutex
	all []registry.Event
}

func (e *events) add(ev registry.Event) { e.mu.Lock(); e.all = append(e.all, ev); e.mu.Unlock() }

// checkTotals: each blob ends once; a done blob's last Done is its stored
// size; the report's bytes are the sum of those, so no byte counts twice.
func (e *events) checkTotals(t *testing.T, rep *registry.Report) {
	t.Helper()
	var sum int64
	ended := map[model.Digest]bool{}
	for _, ev := range e.all {
		if ev.Kind != registry.KindBlob || !ev.Phase.Terminal() {
			continue
		}
		if ended[ev.Digest] {
			t.Errorf("blob %s ended twice", ev.Digest.Short())
		}
		ended[ev.Digest] = true
		if ev.Phase == registry.PhaseDone {
			if ev.Done != ev.Total {
				t.Errorf("blob %s done after %d of %d bytes", ev.Digest.Short(), ev.Done, ev.Total)
			}
			sum += ev.Done
		}
	}
	var stored int64
	for _, b := range rep.Blobs {
		stored += b.StoredSize
	}
	if sum != rep.Bytes || rep.Bytes != stored {
		t.Errorf("done events add up to %d, the report says %d, stored sizes %d", sum, rep.Bytes, stored)
	}
}

func (e *events) retries(d model.Digest) []string {
	var out []string
	for _, ev := range e.all {
		if ev.Kind == registry.KindBlob && ev.Digest == d && ev.Phase == registry.PhaseQueued && ev.Message != "" {
			out = append(out, ev.Message)
		}
	}
	return out
}

func pullWith(t *testing.T, src registry.Source) (*store.Store, *registry.Report, *events, error) {
	t.Helper()
	dst, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	rep, err := registry.Transfer(context.Background(), registry.OpPull, src, nil, registry.StoreSink(dst), nil,
		registry.TransferOptions{Progress: ev.add, Retry: fast})
	return dst, rep, ev, err
}

// TestBrokenDownloadResumes: a stream that breaks half way continues from
// the byte it reached, once per break, and no byte is counted twice.
func TestBrokenDownloadResumes(t *testing.T) {
	_, id, base, page := retryImage(t)
	fs := &flakySource{Source: base, opens: map[model.Digest]int{}}
	size, _ := base.(registry.BlobStater).StatBlob(context.Background(), page)
	half := size / 2
	fs.fail = func(d model.Digest, n int, off int64) fault_ {
		switch {
		case d != page:
			return healthy
		case n == 1:
			return fault_{after: half}
		case n == 2:
			return fault_{after: 100}
		}
		return healthy
	}
	dst, rep, ev, err := pullWith(t, rangedSource{fs})
	if err != nil {
		t.Fatalf("pull over a broken download: %v", err)
	}
	if fmt.Sprint(fs.ranges) != fmt.Sprint([]int64{half, half + 100}) {
		t.Fatalf("resumed at %v, want [%d %d]", fs.ranges, half, half+100)
	}
	if len(ev.retries(page)) != 0 {
		t.Fatalf("a resumed blob was started over: %v", ev.retries(page))
	}
	ev.checkTotals(t, rep)
	if !dst.HasImage(id) {
		t.Fatal("image not in the store")
	}
}

// TestBrokenDownloadStartsOver: without offset reads a broken blob is
// fetched again from the start; the events say so and totals stay true.
func TestBrokenDownloadStartsOver(t *testing.T) {
	_, id, base, page := retryImage(t)
	fs := &flakySource{Source: base, opens: map[model.Digest]int{}}
	fs.fail = func(d model.Digest, n int, off int64) fault_ {
		switch {
		case d != page:
			return healthy
		case n == 1:
			return fault_{openErr: fault.Transient(errors.New("HTTP 503"), 3*time.Millisecond)} // Retry-After: 3ms
		case n == 2:
			return fault_{after: 1000}
		case n == 3:
			return fault_{after: 500, clean: true} // a short answer that looks complete
		}
		return healthy
	}
	dst, rep, ev, err := pullWith(t, fs)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	// The first pause is the server's Retry-After (3ms), not the 1ms
	// backoff; then the backoff doubles (2ms, 4ms).
	if got := ev.retries(page); len(got) != 3 || !strings.Contains(got[0], "in 3ms: HTTP 503") ||
		!strings.Contains(got[1], "in 2ms: connection reset") || !strings.Contains(got[2], "ended after 500") {
		t.Fatalf("retry events %q", got)
	}
	ev.checkTotals(t, rep)
	if !dst.HasImage(id) || fs.opens[page] != 4 {
		t.Fatalf("image stored %v after %d opens, want 4", dst.HasImage(id), fs.opens[page])
	}
}

// TestCorruptionRetriedOnce: bytes corrupted on the way are fetched again;
// a blob that is bad every time fails as an integrity error, after two
// tries, and nothing of it is kept.
func TestCorruptionRetriedOnce(t *testing.T) {
	for _, always := range []bool{false, true} {
		t.Run(fmt.Sprint("always=", always), func(t *testing.T) {
			_, id, base, page := retryImage(t)
			fs := &flakySource{Source: base, opens: map[model.Digest]int{}}
			fs.fail = func(d model.Digest, n int, off int64) fault_ {
				if d == page && (n == 1 || always) {
					return fault_{after: 700, corrupt: true}
				}
				return healthy
			}
			dst, rep, ev, err := pullWith(t, fs)
			if !always {
				if err != nil || !dst.HasImage(id) {
					t.Fatalf("a corruption on the way: %v", err)
				}
				ev.checkTotals(t, rep)
				return
			}
			if !errors.Is(err, fault.ErrIntegrity) || fs.opens[page] != 2 {
				t.Fatalf("persistent corruption: %v after %d tries, want an integrity error after 2", err, fs.opens[page])
			}
			if dst.HasBlob(page) || dst.HasImage(id) {
				t.Fatal("a corrupt blob or its image was kept")
			}
		})
	}
}

// TestRetriesAreBounded: a source that always fails transiently is tried
// Attempts times, then the error is reported as is.
func TestRetriesAreBounded(t *testing.T) {
	_, _, base, page := retryImage(t)
	fs := &flakySource{Source: base, opens: map[model.Digest]int{}}
	fs.fail = func(d model.Digest, n int, off int64) fault_ {
		if d == page {
			return fault_{openErr: fault.Transient(errors.New("127.0.0.1:1 stalled"), 0)}
		}
		return healthy
	}
	_, _, _, err := pullWith(t, rangedSource{fs})
	if !errors.Is(err, fault.ErrTransient) || !strings.Contains(err.Error(), "stalled") || fs.opens[page] != fast.Attempts {
		t.Fatalf("%v after %d tries, want the stall after %d", err, fs.opens[page], fast.Attempts)
	}
}

// TestRetryWaitHonoursCancel: cancelling during a pause ends the transfer
// at once, whatever the server asked to wait.
func TestRetryWaitHonoursCancel(t *testing.T) {
	_, _, base, page := retryImage(t)
	fs := &flakySource{Source: base, opens: map[model.Digest]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs.fail = func(d model.Digest, n int, off int64) fault_ {
		if d == page {
			cancel()
			return fault_{openErr: fault.Transient(errors.New("HTTP 429"), time.Hour)}
		}
		return healthy
	}
	dst, _ := store.Open(t.TempDir())
	_, err := registry.Transfer(ctx, registry.OpPull, fs, nil, registry.StoreSink(dst), nil,
		registry.TransferOptions{Retry: registry.RetryPolicy{MaxWait: time.Hour}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}

func TestRetryDelay(t *testing.T) {
	p := registry.RetryPolicy{Attempts: 5, Wait: 100 * time.Millisecond, MaxWait: time.Second}
	for _, c := range []struct {
		n     int
		asked time.Duration
		want  time.Duration
	}{
		{1, 0, 100 * time.Millisecond},
		{2, 0, 200 * time.Millisecond},
		{4, 0, 800 * time.Millisecond},
		{5, 0, time.Second},
		{60, 0, time.Second},
		{1, 300 * time.Millisecond, 300 * time.Millisecond}, // Retry-After honoured
		{1, time.Hour, time.Second},                         // and capped
	} {
		if got := p.Delay(c.n, c.asked); got != c.want {
			t.Errorf("Delay(%d, %s) = %s, want %s", c.n, c.asked, got, c.want)
		}
	}
	if d := (registry.RetryPolicy{}).Delay(1, 0); d != registry.DefaultWait {
		t.Errorf("default first wait %s", d)
	}
}
