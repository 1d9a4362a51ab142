package registrytest

import (
	"context"
	"sync"
	"testing"

	"pf-registry/model"
	"pf-registry/registry"
)

// Recorder collects the progress events of one transfer and checks what
// every transfer's events must satisfy.
type Recorder struct {
	mu     sync.Mutex
	events []registry.Event
	// cancel, when set, is called once cancelAt blobs are done.
	cancel   context.CancelFunc
	cancelAt int
	done     int
}

// CancelAfter is a Recorder that cancels the transfer once n blobs are done.
func CancelAfter(n int, cancel context.CancelFunc) *Recorder {
	return &Recorder{cancel: cancel, cancelAt: n}
}

// Add records one event (use it as TransferOptions.Progress).
func (r *Recorder) Add(e registry.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	if e.Kind == registry.KindBlob && e.Phase == registry.PhaseDone {
		r.done++
		if r.cancel != nil && r.done == r.cancelAt {
			r.cancel()
		}
	}
}

// Options are transfer options reporting to the recorder.
func (r *Recorder) Options(concurrency int) registry.TransferOptions {
	return registry.TransferOptions{Concurrency: concurrency, Progress: r.Add}
}

// Events returns the events so far.
func (r *Recorder) Events() []registry.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]registry.Event(nil), r.events...)
}

// Retries counts the blob events that announce a new try (a queued event
// with a message): blobs started over, not resumed.
func (r *Recorder) Retries() int {
	n := 0
	for _, e := range r.Events() {
		if e.Kind == registry.KindBlob && e.Phase == registry.PhaseQueued && e.Message != "" {
			n++
		}
	}
	return n
}

// byBlob groups the blob events by digest, in order.
func (r *Recorder) byBlob() map[model.Digest][]registry.Event {
	out := map[model.Digest][]registry.Event{}
	for _, e := range r.Events() {
		if e.Kind == registry.KindBlob {
			out[e.Digest] = append(out[e.Digest], e)
		}
	}
	return out
}

// Terminal returns the terminal phase of every blob that reached one.
func (r *Recorder) Terminal() map[model.Digest]registry.Phase {
	out := map[model.Digest]registry.Phase{}
	for d, evs := range r.byBlob() {
		for _, e := range evs {
			if e.Phase.Terminal() {
				out[d] = e.Phase
			}
		}
	}
	return out
}

// Check asserts the invariants of a transfer's events against its report
// and error: a blob that started ends exactly once (done, skipped or
// failed) and nothing follows its end; after a success every blob of the
// report ended as the report says; the done events, the report's byte
// count and its blobs' stored sizes add up; the image's first event is
// queued and its last says done or failed.
func (r *Recorder) Check(t testing.TB, rep *registry.Report, err error) {
	t.Helper()
	var done, skipped int
	var doneBytes int64
	for d, evs := range r.byBlob() {
		end := checkBlobEvents(t, d, evs)
		switch {
		case end == nil:
		case end.Phase == registry.PhaseDone:
			done++
			doneBytes += end.Done
			if end.Total >= 0 && end.Done != end.Total {
				t.Errorf("blob %s done after %d of %d bytes", d.Short(), end.Done, end.Total)
			}
		case end.Phase == registry.PhaseSkipped:
			skipped++
		}
	}
	if rep == nil {
		return
	}
	if done != rep.Transferred || skipped != rep.Skipped || doneBytes != rep.Bytes {
		t.Errorf("events: %d done (%d bytes), %d skipped; report: %d transferred (%d bytes), %d skipped",
			done, doneBytes, skipped, rep.Transferred, rep.Bytes, rep.Skipped)
	}
	if err == nil {
		r.checkSuccess(t, rep)
	}
	r.checkImageEvents(t, rep, err)
}

// checkBlobEvents checks one blob's events and returns its terminal event
// (nil when it never ended).
func checkBlobEvents(t testing.TB, d model.Digest, evs []registry.Event) *registry.Event {
	t.Helper()
	var end *registry.Event
	for i := range evs {
		if end != nil {
			t.Errorf("blob %s: %s event after it ended %s", d.Short(), evs[i].Phase, end.Phase)
			return end
		}
		if evs[i].Phase.Terminal() {
			end = &evs[i]
		}
	}
	started := len(evs) > 0 && evs[len(evs)-1].Phase != registry.PhaseQueued
	if started && end == nil {
		t.Errorf("blob %s started but never ended (last phase %s)", d.Short(), evs[len(evs)-1].Phase)
	}
	return end
}

// checkSuccess: every blob of a complete transfer ended as its status says,
// and the bytes moved are the stored sizes of the blobs moved.
func (r *Recorder) checkSuccess(t testing.TB, rep *registry.Report) {
	t.Helper()
	term := r.Terminal()
	var moved int64
	for _, b := range rep.Blobs {
		want := map[registry.BlobState]registry.Phase{registry.BlobOK: registry.PhaseDone, registry.BlobSkipped: registry.PhaseSkipped}[b.Status]
		if want == "" || term[b.Digest] != want {
			t.Errorf("blob %s (%s): status %s, last event %q", b.Digest.Short(), b.Role, b.Status, term[b.Digest])
		}
		if b.Status == registry.BlobOK {
			moved += b.StoredSize
		}
	}
	if len(term) != len(rep.Blobs) {
		t.Errorf("%d blobs ended in events, the report has %d", len(term), len(rep.Blobs))
	}
	if moved != rep.Bytes {
		t.Errorf("report: %d bytes moved, the stored sizes of the blobs moved add up to %d", rep.Bytes, moved)
	}
}

// checkImageEvents: the image starts queued, announces its blobs and their
// total, and ends done (with the bytes moved) or failed (with the error).
func (r *Recorder) checkImageEvents(t testing.TB, rep *registry.Report, err error) {
	t.Helper()
	var img []registry.Event
	for _, e := range r.Events() {
		if e.Kind == registry.KindImage {
			img = append(img, e)
		}
	}
	if len(img) < 2 || img[0].Phase != registry.PhaseQueued {
		t.Errorf("image events %+v: want queued first, then an end", img)
		return
	}
	last := img[len(img)-1]
	switch {
	case err == nil && (last.Phase != registry.PhaseDone || last.Done != rep.Bytes):
		t.Errorf("last image event %s after %d bytes, want done after %d", last.Phase, last.Done, rep.Bytes)
	case err != nil && (last.Phase != registry.PhaseFailed || last.Error != err.Error()):
		t.Errorf("last image event %s %q, want failed %q", last.Phase, last.Error, err)
	}
	for _, e := range img {
		if e.Phase == registry.PhaseTransferring && e.Blobs != len(rep.Blobs) {
			t.Errorf("image announced %d blobs, the report has %d", e.Blobs, len(rep.Blobs))
		}
		if e.Phase == registry.PhaseTransferring && e.Total >= 0 && err == nil && e.Total != storedTotal(rep) {
			t.Errorf("image announced %d stored bytes, its blobs add up to %d", e.Total, storedTotal(rep))
		}
	}
}

func storedTotal(rep *registry.Report) int64 {
	var n int64
	for _, b := range rep.Blobs {
		n += b.StoredSize
	}
	return n
}
