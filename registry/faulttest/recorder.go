package faulttest

import (
	"sync"
	"testing"

	"pf-registry/model"
	"pf-registry/registry"
)

// recorder collects progress events and checks their totals.
type recorder struct {
	mu  sync.Mutex
	all []registry.Event
}

func (r *recorder) add(e registry.Event) {
	r.mu.Lock()
	r.all = append(r.all, e)
	r.mu.Unlock()
}

// retries counts the blob events that announce a new try.
func (r *recorder) retries() int {
	n := 0
	for _, e := range r.all {
		if e.Kind == registry.KindBlob && e.Phase == registry.PhaseQueued && e.Message != "" {
			n++
		}
	}
	return n
}

// check: each blob ends once and nothing follows; a done blob's last
// count is its stored size; the done counts, the report's bytes and the
// stored sizes of the blobs moved agree, so no byte counted twice however
// often a blob was tried or resumed.
func (r *recorder) check(t *testing.T, rep *registry.Report) {
	t.Helper()
	ended := map[model.Digest]registry.Event{}
	var done int64
	for _, e := range r.all {
		if e.Kind != registry.KindBlob {
			continue
		}
		if end, ok := ended[e.Digest]; ok {
			t.Errorf("blob %s: %s event after it ended %s", e.Digest.Short(), e.Phase, end.Phase)
			continue
		}
		if !e.Phase.Terminal() {
			continue
		}
		ended[e.Digest] = e
		if e.Phase == registry.PhaseDone {
			if e.Total >= 0 && e.Done != e.Total {
				t.Errorf("blob %s done after %d of %d bytes", e.Digest.Short(), e.Done, e.Total)
			}
			done += e.Done
		}
	}
	var moved int64
	for _, b := range rep.Blobs {
		if b.Status == registry.BlobOK {
			moved += b.StoredSize
		}
	}
	if done != rep.Bytes || (rep.Complete && moved != rep.Bytes) {
		t.Errorf("done events add up to %d bytes, the report says %d, the blobs moved hold %d", done, rep.Bytes, moved)
	}
}
