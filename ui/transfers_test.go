package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
)

func dg(s string) model.Digest { return model.FromBytes([]byte(s)) }

// fakeProgressJob starts a job whose run blocks until released, and whose
// progress the test feeds by hand.
func fakeProgressJob(h *harness) (release func(err error), j *job) {
	rel := make(chan error, 1)
	h.send(startJobMsg{jobSpec{op: "pull", src: "file://demo/x/y", dst: "local store",
		run: func(ctx context.Context, _ func(registry.Event)) (*registry.Report, error) {
			select {
			case err := <-rel:
				if err != nil {
					return nil, err
				}
				return &registry.Report{Op: "pull", Transferred: 3, Skipped: 1, Bytes: 3 << 20}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}}})
	j = h.m.xfers.jobs[len(h.m.xfers.jobs)-1]
	return func(err error) { rel <- err }, j
}

func snapWith(done int64) progressSnap {
	return progressSnap{
		Blobs: []blobProgress{
			{Digest: dg("a"), Role: "world.fs", Phase: registry.PhaseDone, Done: 1 << 20, Total: 1 << 20},
			{Digest: dg("b"), Role: "page:0.k", Phase: registry.PhaseTransferring, Done: done, Total: 2 << 20},
			{Digest: dg("c"), Role: "page:0.v", Phase: registry.PhaseQueued, Total: 1 << 20},
			{Digest: dg("d"), Role: "model.base", Phase: registry.PhaseSkipped, Total: 10},
			{Digest: dg("e"), Role: "trace.messages", Phase: registry.PhaseVerifying, Done: 512, Total: 512},
		},
		Done:  1<<20 + done + 512,
		Total: 4<<20 + 512,
	}
}

func TestTransfersProgress(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.settle("roots", idle)
	release, j := fakeProgressJob(h)
	h.press("transfers")
	h.requireContains("#1   pull", "running", "waiting for the first event")

	h.send(jobProgressMsg{id: j.id, snap: snapWith(0)})
	h.now = h.now.Add(2 * time.Second)
	h.send(jobProgressMsg{id: j.id, snap: snapWith(1 << 20)})
	h.requireContains("world.fs", "page:0.k", "moving", "queued", "skipped", "verifying", "done",
		"1.0 MiB/2.0 MiB", "Total", "1.0 MiB/s", "ETA 1s")
	// Interesting blobs first: moving above done.
	p := h.plain()
	if strings.Index(p, "page:0.k") > strings.Index(p, "world.fs") {
		t.Fatalf("moving blob not listed before finished ones:\n%s", p)
	}
	if pb := h.m.View().ProgressBar; pb == nil || pb.State != tea.ProgressBarDefault || pb.Value != 50 {
		t.Fatalf("native progress bar %+v, want default 50%%", pb)
	}
	h.requireContains("⇅ 1 running 50%")

	// Scroll the layer list.
	h.send(tea.WindowSizeMsg{Width: 120, Height: 14})
	h.requireContains("↓ 2 more (pgdn)")
	h.press("page_down")
	h.requireContains("↑ 2 more (pgup)", "model.base")
	h.send(tea.WindowSizeMsg{Width: 120, Height: 30})

	// No bytes for a while: stalled.
	h.now = h.now.Add(7 * time.Second)
	h.send(jobTickMsg(h.now))
	h.requireContains("stalled 7s")

	// Finish: log line, state, no native bar.
	release(nil)
	h.settle("done", func(m *App) bool { return j.state == jobDone })
	h.requireContains("Log", "✓ #1 pull file://demo/x/y → local store: 3 moved, 1 skipped, 3.0 MiB")
	if pb := h.m.View().ProgressBar; pb != nil {
		t.Fatalf("native progress bar after the job: %+v", pb)
	}
}

func TestTransfersCancelAndRetry(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.settle("roots", idle)
	_, j := fakeProgressJob(h)
	h.send(jobProgressMsg{id: j.id, snap: snapWith(1 << 19)})
	h.press("transfers")
	h.press("cancel")
	h.settle("cancelled", func(m *App) bool { return j.state == jobCancelled && !j.ended.IsZero() })
	h.requireContains("⊘ #1 pull", "cancelled")
	// The layer in flight keeps its partial bar and says cancelled, not
	// failed.
	if l := lineWith(h, "page:0.k"); !strings.Contains(l, "cancelled") || !strings.Contains(l, "░") || strings.Contains(l, "failed") {
		t.Fatalf("cancelled layer: %q", l)
	}

	h.press("retry")
	if len(h.m.xfers.jobs) != 2 {
		t.Fatalf("retry started %d jobs", len(h.m.xfers.jobs))
	}
	j2 := h.m.xfers.jobs[1]
	// The retried spec is the same operation.
	if j2.spec.src != j.spec.src || j2.state != jobRunning {
		t.Fatalf("retry: %+v", j2.spec)
	}
	h.press("cancel")
	h.settle("second cancelled", func(m *App) bool { return !j2.ended.IsZero() })

	// A failure shows the error and the native bar turns red.
	release, j3 := fakeProgressJob(h)
	release(fault.WithHint(fault.Integrityf("blob sha256:x does not match"), "re-push it"))
	h.settle("failed", func(m *App) bool { return j3.state == jobFailed })
	h.requireContains("✗ #3 pull", "does not match — re-push it")
	if !lastNote(h.m).err {
		t.Fatal("the failure is not an error message")
	}
	// Open it whole.
	h.press("open")
	h.requireContains("Job #3", "blob sha256:x does not match — re-push it")
	h.press("back")
	if pb := h.m.View().ProgressBar; pb == nil || pb.State != tea.ProgressBarError {
		t.Fatalf("native bar after a failure: %+v", pb)
	}
	// A click on the first job row selects it.
	h.send(tea.MouseClickMsg{X: 5, Y: 2, Button: tea.MouseLeft})
	if h.m.xfers.cursor != 0 {
		t.Fatalf("click on job #1: cursor %d", h.m.xfers.cursor)
	}
	h.press("down")
	// Up selects the cancelled job; x on a finished job does nothing.
	h.press("up")
	h.press("cancel")
	if !strings.Contains(h.statusLine(), "no running job") {
		t.Fatalf("status %q", h.statusLine())
	}
}

func TestProgressSinkCoalesces(t *testing.T) {
	p := newProgressSink()
	for i := range 1000 {
		p.add(registry.Event{Kind: registry.KindBlob, Digest: dg("a"), Role: "page:0.k",
			Phase: registry.PhaseTransferring, Done: int64(i), Total: 1000})
	}
	p.add(registry.Event{Kind: registry.KindImage, Signature: "valid", Blobs: 2})
	p.add(registry.Event{Kind: registry.KindBlob, Digest: dg("b"), Role: "x", Phase: registry.PhaseQueued, Total: -1})
	// One pending notification however many events arrived.
	if n := len(p.dirty); n != 1 {
		t.Fatalf("%d pending notifications", n)
	}
	s := p.snapshot()
	if len(s.Blobs) != 2 || s.Blobs[0].Done != 999 || s.Signature != "valid" {
		t.Fatalf("snapshot %+v", s)
	}
	if s.Total != -1 {
		t.Fatalf("total with an unknown size = %d, want -1", s.Total)
	}
	j := &job{snap: s, state: jobRunning}
	if f := j.fraction(); f != -1 {
		t.Fatalf("fraction with unknown total = %v", f)
	}
}

func TestWaitProgressCmd(t *testing.T) {
	j := &job{id: 7, sink: newProgressSink(), done: make(chan struct{})}
	j.sink.add(registry.Event{Kind: registry.KindBlob, Digest: dg("a"), Phase: registry.PhaseDone, Done: 5, Total: 5})
	msg, ok := waitProgressCmd(j)().(jobProgressMsg)
	if !ok || msg.id != 7 || msg.snap.Done != 5 {
		t.Fatalf("wait: %#v", msg)
	}
	close(j.done)
	if msg := waitProgressCmd(j)(); msg != nil {
		t.Fatalf("wait after the job ended: %#v", msg)
	}
	_ = errors.New
}

// lineWith is the first rendered line containing s.
func lineWith(h *harness, s string) string {
	for _, l := range h.lines() {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
