package registry_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// gateSink holds the first `limit` PutBlob calls until all of them are in
// flight, and records the most it ever saw at once.
type gateSink struct {
	limit int

	mu       sync.Mutex
	inflight int
	most     int
	arrived  int
	gate     chan struct{}
	stuck    bool
	commits  int
	fail     error // returned by every PutBlob when set
}

func (s *gateSink) Describe() string                                    { return "gate sink" }
func (s *gateSink) HasBlob(context.Context, model.Digest) (bool, error) { return false, nil }
func (s *gateSink) Commit(context.Context, []byte, []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
	return nil
}

func (s *gateSink) PutBlob(_ context.Context, b *registry.Blob) error {
	if s.fail != nil {
		return s.fail
	}
	s.mu.Lock()
	s.inflight++
	s.most = max(s.most, s.inflight)
	s.arrived++
	if s.arrived == s.limit {
		close(s.gate)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	select {
	case <-s.gate:
	case <-time.After(30 * time.Second): // a deadlock guard, not a speed check
		s.mu.Lock()
		s.stuck = true
		s.mu.Unlock()
	}
	return registry.DiscardSink().PutBlob(context.Background(), b)
}

// demoImage builds a synthetic image in a fresh store.
func demoImage(t *testing.T, spec demo.ImageSpec) (*store.Store, model.Digest) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := demo.Build(st, spec)
	if err != nil {
		t.Fatal(err)
	}
	return st, id
}

func storeImage(t *testing.T, files int) registry.Source {
	t.Helper()
	src, err := registry.StoreSource(demoImage(t, demo.ImageSpec{Seed: 21, Files: files, Pages: 2, Messages: 2}))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestTransferRunsExactlyConcurrencyWorkers(t *testing.T) {
	src := storeImage(t, 12)
	const limit = 3
	sink := &gateSink{limit: limit, gate: make(chan struct{})}
	rep, err := registry.Transfer(context.Background(), registry.OpPush, src, nil, sink, nil, registry.TransferOptions{Concurrency: limit})
	if err != nil || !rep.Complete || sink.commits != 1 {
		t.Fatalf("transfer: %v (complete %v, commits %d)", err, rep.Complete, sink.commits)
	}
	if sink.stuck || sink.most != limit {
		t.Fatalf("at most %d blobs were in flight at once (stuck %v), want exactly %d", sink.most, sink.stuck, limit)
	}
	if n := len(rep.Blobs); n < 2*limit || rep.Transferred != n {
		t.Fatalf("transferred %d of %d blobs (the check needs at least %d)", rep.Transferred, n, 2*limit)
	}
	for _, b := range rep.Blobs {
		if b.Status != registry.BlobOK {
			t.Fatalf("%s: status %s", b.Role, b.Status)
		}
	}
}

// A sink failure stops the transfer: blobs not started stay queued and
// nothing is committed.
func TestTransferFailureStopsTheRest(t *testing.T) {
	src := storeImage(t, 4)
	boom := errors.New("disk full")
	sink := &gateSink{fail: boom}
	rep, err := registry.Transfer(context.Background(), registry.OpPush, src, nil, sink, nil, registry.TransferOptions{Concurrency: 1})
	if !errors.Is(err, boom) || rep.Complete || sink.commits != 0 {
		t.Fatalf("transfer: %v (complete %v, commits %d)", err, rep.Complete, sink.commits)
	}
	if len(rep.Blobs) < 2 || rep.Blobs[0].Status != registry.BlobFailed || rep.Blobs[0].Error != "disk full" {
		t.Fatalf("first blob: %+v", rep.Blobs[0])
	}
	for _, b := range rep.Blobs[1:] {
		if b.Status != registry.BlobQueued {
			t.Fatalf("%s: status %s after the first blob failed, want queued", b.Role, b.Status)
		}
	}
}
