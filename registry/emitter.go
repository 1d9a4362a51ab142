package registry

import (
	"fmt"
	"sync"
	"time"

	"pf-registry/model"
)

// emitter serialises progress callbacks and throttles byte updates.
type emitter struct {
	op   Op
	fn   func(Event)
	mu   sync.Mutex
	last map[model.Digest]time.Time
}

func newEmitter(op Op, fn func(Event)) *emitter {
	return &emitter{op: op, fn: fn, last: map[model.Digest]time.Time{}}
}

const progressInterval = 100 * time.Millisecond

func (e *emitter) send(ev Event) {
	if e.fn == nil {
		return
	}
	ev.Op, ev.Time = e.op, time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fn(ev)
}

func (e *emitter) image(ph Phase, ev Event) {
	ev.Kind, ev.Phase = KindImage, ph
	if ev.Total == 0 {
		ev.Total = -1
	}
	e.send(ev)
}

func (e *emitter) blob(r model.BlobRef, ph Phase, done, total int64, err error) {
	ev := Event{Kind: KindBlob, Digest: r.Digest, Role: r.Role, Phase: ph, Done: done, Total: total}
	if err != nil {
		ev.Error = err.Error()
	}
	e.send(ev)
}

// retry tells that blob r starts over after a failed try: queued again,
// its bytes back to 0, so totals never count a byte twice.
func (e *emitter) retry(r model.BlobRef, total int64, try int, wait time.Duration, err error) {
	e.send(Event{Kind: KindBlob, Digest: r.Digest, Role: r.Role, Phase: PhaseQueued, Total: total,
		Message: fmt.Sprintf("try %d failed, retrying in %s: %s", try, wait.Round(time.Millisecond), err)})
}

func (e *emitter) blobThrottled(r model.BlobRef, ph Phase, done, total int64, force bool) {
	if e.fn == nil {
		return
	}
	now := time.Now()
	e.mu.Lock()
	last := e.last[r.Digest]
	if !force && now.Sub(last) < progressInterval {
		e.mu.Unlock()
		return
	}
	e.last[r.Digest] = now
	e.mu.Unlock()
	e.blob(r, ph, done, total, nil)
}
