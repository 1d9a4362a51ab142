package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
)

// runProgress renders the events of a run over several images (sync,
// deletions) on stderr: NDJSON in json mode, one line per finished image
// (and removed blob) in plain mode, a status line with the images moving
// in live mode. Blob progress inside each image is left to json mode.
type runProgress struct {
	*progress
	images   int // in the run
	finished int
	removed  int // blobs removed
	dryRun   bool
	moving   map[string]map[model.Digest]int64 // image → blob → bytes
}

func (e *env) newRunProgress(op registry.Op) *runProgress {
	p := &runProgress{progress: e.newProgress(op), moving: map[string]map[model.Digest]int64{}}
	p.draw = p.runEvent
	return p
}

// runEvent draws the events of a run over several images.
func (p *runProgress) runEvent(ev registry.Event) {
	switch {
	case ev.Kind == registry.KindRun && ev.Phase == registry.PhaseQueued:
		p.images = ev.Images
		p.plain("%s: %d image(s)", p.op, ev.Images)
	case ev.Kind == registry.KindRun && ev.Phase == registry.PhaseDone:
		p.clearLive()
		fmt.Fprintf(p.w, "%s: done: %s, %s in %.1fs\n", p.op, ev.Message, termtext.Bytes(p.bytes), time.Since(p.start).Seconds())
		return
	case ev.Kind == registry.KindImage && ev.Phase.Terminal():
		p.imageDone(ev)
	case ev.Kind == registry.KindBlob && ev.Phase == registry.PhaseDone:
		p.bytes += ev.Done
		delete(p.moving[ev.Ref], ev.Digest)
		if p.op == registry.OpDelete {
			p.removed++
			p.plain("%s: %s blob %s  %s", p.op, map[bool]string{false: "removed", true: "would remove"}[p.dryRun], ev.Digest.Short(), termtext.Bytes(ev.Done))
		}
	case ev.Kind == registry.KindBlob && ev.Phase == registry.PhaseTransferring:
		if p.moving[ev.Ref] == nil {
			p.moving[ev.Ref] = map[model.Digest]int64{}
		}
		p.moving[ev.Ref][ev.Digest] = ev.Done
	}
	p.drawStatus()
}

func (p *runProgress) imageDone(ev registry.Event) {
	p.finished++
	delete(p.moving, ev.Ref)
	what := map[registry.Phase]string{registry.PhaseDone: "done", registry.PhaseSkipped: "present", registry.PhaseFailed: "failed"}[ev.Phase]
	if p.op == registry.OpDelete {
		what = map[bool]string{false: "deleted", true: "would delete"}[p.dryRun]
	}
	line := fmt.Sprintf("%s: [%*d/%d] %-7s %s", p.op, width(p.images), p.finished, p.images, what, ev.Ref)
	if ev.Message != "" && ev.Phase == registry.PhaseDone {
		line += "  " + termtext.OneLine(ev.Message, 0)
	}
	if ev.Error != "" {
		line += "  " + termtext.OneLine(ev.Error, 0)
	}
	if p.mode == "plain" || ev.Phase == registry.PhaseFailed {
		p.clearLive()
		fmt.Fprintln(p.w, line)
	}
}

// plain prints a line in plain mode only.
func (p *runProgress) plain(format string, a ...any) {
	if p.mode == "plain" {
		fmt.Fprintf(p.w, format+"\n", a...)
	}
}

// drawStatus redraws the live status line.
func (p *runProgress) drawStatus() {
	if p.mode != "live" || time.Since(p.lastDraw) < 100*time.Millisecond {
		return
	}
	p.lastDraw = time.Now()
	p.clearLive()
	var moving int64
	names := make([]string, 0, len(p.moving))
	for ref, blobs := range p.moving {
		names = append(names, ref)
		for _, n := range blobs {
			moving += n
		}
	}
	sort.Strings(names)
	el := max(time.Since(p.start).Seconds(), 0.001)
	line := fmt.Sprintf("%s %d/%d images  %s  %s/s", p.op, p.finished, p.images, termtext.Bytes(p.bytes+moving), termtext.Bytes(int64(float64(p.bytes+moving)/el)))
	if p.op == registry.OpDelete {
		line = fmt.Sprintf("%s %d/%d images  %d blobs  %s", p.op, p.finished, p.images, p.removed, termtext.Bytes(p.bytes))
	}
	var b strings.Builder
	fmt.Fprintln(&b, line)
	for i, n := range names {
		if i == 4 {
			fmt.Fprintf(&b, "  … %d more\n", len(names)-4)
			break
		}
		fmt.Fprintln(&b, "  "+termtext.OneLine(termtext.Line(n), p.width-2))
	}
	fmt.Fprint(p.w, b.String())
	p.lines = strings.Count(b.String(), "\n")
}
