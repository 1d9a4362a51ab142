package registry_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry"
)

// spoolSink reads each blob whole, then "uploads" it in small steps, as the
// OCI and HF sinks do; it keeps what it received.
type spoolSink struct {
	mu   sync.Mutex
	got  map[model.Digest][]byte
	done bool
}

func (s *spoolSink) Describe() string                                    { return "spool sink" }
func (s *spoolSink) HasBlob(context.Context, model.Digest) (bool, error) { return false, nil }
func (s *spoolSink) Commit(context.Context, []byte, []byte) error        { s.done = true; return nil }
func (s *spoolSink) PutBlob(_ context.Context, b *registry.Blob) error {
	rc, err := b.OpenToSpool()
	if err != nil {
		return err
	}
	buf, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return err
	}
	up := b.CountUpload(bytes.NewReader(buf))
	chunk := make([]byte, 4096)
	for {
		if _, err := up.Read(chunk); err == io.EOF {
			break
		}
	}
	s.mu.Lock()
	s.got[b.Digest] = buf
	s.mu.Unlock()
	return nil
}

func TestSpoolingSinkProgressFollowsUpload(t *testing.T) {
	src, err := registry.StoreSource(demoImage(t, demo.ImageSpec{Seed: 5, Files: 2, Pages: 1, Messages: 2}))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	byBlob := map[model.Digest][]registry.Event{}
	sink := &spoolSink{got: map[model.Digest][]byte{}}
	rep, err := registry.Transfer(context.Background(), registry.OpPush, src, nil, sink, nil, registry.TransferOptions{
		Concurrency: 1,
		Progress: func(e registry.Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Kind == registry.KindBlob {
				byBlob[e.Digest] = append(byBlob[e.Digest], e)
			}
		},
	})
	if err != nil || !rep.Complete || !sink.done {
		t.Fatalf("transfer: %v", err)
	}
	for _, b := range rep.Blobs {
		evs := byBlob[b.Digest]
		// queued, transferring(0 from the sink's spool), ..., done
		var last int64 = -1
		for _, e := range evs {
			if e.Phase == registry.PhaseVerifying {
				t.Fatalf("%s: a read-phase event leaked through while spooling", b.Role)
			}
			if e.Phase == registry.PhaseTransferring {
				if e.Done < last {
					t.Fatalf("%s: progress went backwards (%d after %d)", b.Role, e.Done, last)
				}
				last = e.Done
			}
		}
		if final := evs[len(evs)-1]; final.Phase != registry.PhaseDone {
			t.Fatalf("%s: last event %s", b.Role, final.Phase)
		}
		if int64(len(sink.got[b.Digest])) != b.StoredSize {
			t.Fatalf("%s: sink got %d bytes, stored size %d", b.Role, len(sink.got[b.Digest]), b.StoredSize)
		}
	}
}
