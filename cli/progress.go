package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
)

// progress renders the engine's event stream on stderr: NDJSON (json),
// one line per finished blob (plain, for logs and CI), or a live view of
// the moving blobs redrawn in place (auto on a terminal). Never on stdout.
type progress struct {
	mode string // json, plain, live, none
	op   registry.Op
	w    io.Writer
	enc  *json.Encoder

	mu       sync.Mutex
	start    time.Time
	total    int
	size     int64 // stored bytes of the image, -1 unknown
	finished int
	bytes    int64
	active   map[model.Digest]*blobLine
	lines    int // lines drawn by the last live frame
	lastDraw time.Time
	width    int
	// draw renders one event screened for the terminal, under mu.
	draw func(registry.Event)
}

type blobLine struct {
	role        string
	done, total int64
	phase       registry.Phase
	since       time.Time
}

func (e *env) newProgress(op registry.Op) *progress {
	mode := e.g.progress
	if mode == "auto" {
		mode = "plain"
		if e.stderrTTY {
			mode = "live"
		}
	}
	p := &progress{mode: mode, op: op, w: e.stderr, start: time.Now(), active: map[model.Digest]*blobLine{}, width: 80}
	p.draw = p.transferEvent
	if f, ok := e.stderr.(*os.File); ok && mode == "live" {
		p.width = terminalWidth(f)
	}
	if mode == "json" {
		p.enc = json.NewEncoder(e.stderr)
		p.enc.SetEscapeHTML(false)
	}
	return p
}

// quietProgress prints only in json mode (non-deep verify moves nothing).
func (e *env) quietProgress() *progress {
	p := e.newProgress(registry.OpVerify)
	if p.mode != "json" {
		p.mode = "none"
	}
	return p
}

// event is the Progress callback of every command: events arrive from
// many goroutines and are drawn one at a time.
func (p *progress) event(ev registry.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev, ok := p.forScreen(ev); ok {
		p.draw(ev)
	}
}

// transferEvent draws the events of one image's transfer.
func (p *progress) transferEvent(ev registry.Event) {
	if ev.Kind == registry.KindImage {
		p.imageEvent(ev)
		return
	}
	switch ev.Phase {
	case registry.PhaseQueued:
		if ev.Message != "" { // a retry: the blob starts over
			delete(p.active, ev.Digest)
			p.clearLive()
			fmt.Fprintf(p.w, "%s: %s: %s\n", p.op, ev.Role, termtext.Cut(ev.Message, 300))
			p.drawLive(false)
		}
		return
	case registry.PhaseTransferring, registry.PhaseVerifying:
		l := p.active[ev.Digest]
		if l == nil {
			l = &blobLine{role: ev.Role, since: time.Now()}
			p.active[ev.Digest] = l
		}
		l.done, l.total, l.phase = ev.Done, ev.Total, ev.Phase
	case registry.PhaseSkipped, registry.PhaseDone, registry.PhaseFailed:
		delete(p.active, ev.Digest)
		p.finished++
		if ev.Phase == registry.PhaseDone {
			p.bytes += ev.Done
		}
		if p.mode == "plain" || ev.Phase == registry.PhaseFailed {
			p.clearLive()
			line := fmt.Sprintf("%s: [%*d/%d] %-8s %-26s %s", p.op, width(p.total), p.finished, p.total, ev.Phase, ev.Role, ev.Digest.Short())
			if ev.Phase == registry.PhaseDone {
				line += "  " + termtext.Bytes(ev.Done)
			}
			if ev.Error != "" {
				line += "  " + termtext.OneLine(ev.Error, 0)
			}
			fmt.Fprintln(p.w, line)
		}
	}
	p.drawLive(false)
}

// forScreen handles the modes that draw nothing themselves (json writes
// the event as is, none drops it) and reports whether the caller draws the
// event, which it returns with each free-text field made one safe line:
// roles carry fs-tree paths, references, messages and errors quote
// registries.
func (p *progress) forScreen(ev registry.Event) (registry.Event, bool) {
	switch p.mode {
	case "json":
		_ = p.enc.Encode(ev)
		return ev, false
	case "none":
		return ev, false
	}
	ev.Role, ev.Ref = termtext.Line(ev.Role), termtext.Line(ev.Ref)
	ev.Message, ev.Error = termtext.Line(ev.Message), termtext.Line(ev.Error)
	return ev, true
}

func width(n int) int { return len(fmt.Sprint(n)) }

func (p *progress) imageEvent(ev registry.Event) {
	switch ev.Phase {
	case registry.PhaseVerifying:
		if p.mode == "plain" {
			fmt.Fprintf(p.w, "%s: %s\n", p.op, ev.Message)
		}
	case registry.PhaseTransferring:
		p.total, p.size = ev.Blobs, ev.Total
		if p.mode == "plain" {
			fmt.Fprintf(p.w, "%s: %d blobs\n", p.op, ev.Blobs)
		}
	case registry.PhaseDone:
		p.clearLive()
		el := time.Since(p.start)
		fmt.Fprintf(p.w, "%s: done: %s, %s in %.1fs (%s/s)\n", p.op, ev.Message, termtext.Bytes(p.bytes), el.Seconds(), termtext.Bytes(int64(float64(p.bytes)/max(el.Seconds(), 0.001))))
	case registry.PhaseFailed:
		p.clearLive()
	}
}

// clearLive erases the last live frame.
func (p *progress) clearLive() {
	if p.mode != "live" || p.lines == 0 {
		return
	}
	fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.lines)
	p.lines = 0
}

func (p *progress) drawLive(force bool) {
	if p.mode != "live" {
		return
	}
	if !force && time.Since(p.lastDraw) < 100*time.Millisecond {
		return
	}
	p.lastDraw = time.Now()
	p.clearLive()
	var moving int64
	keys := make([]model.Digest, 0, len(p.active))
	for d, l := range p.active {
		keys = append(keys, d)
		moving += l.done
	}
	sort.Slice(keys, func(i, j int) bool { return p.active[keys[i]].since.Before(p.active[keys[j]].since) })
	el := time.Since(p.start).Seconds()
	rate := float64(p.bytes+moving) / max(el, 0.001)
	var b strings.Builder
	moved := termtext.Bytes(p.bytes + moving)
	eta := ""
	if p.size > 0 {
		moved += " / " + termtext.Bytes(p.size)
		if rate > 0 && p.size > p.bytes+moving {
			eta = fmt.Sprintf("  ETA %s", time.Duration(float64(p.size-p.bytes-moving)/rate*float64(time.Second)).Round(time.Second))
		}
	}
	fmt.Fprintf(&b, "%s %d/%d blobs  %s  %s/s%s\n", p.op, p.finished, p.total, moved, termtext.Bytes(int64(rate)), eta)
	lines := 1
	for i, d := range keys {
		if i == 6 {
			fmt.Fprintf(&b, "  … %d more\n", len(keys)-6)
			lines++
			break
		}
		l := p.active[d]
		fmt.Fprintln(&b, barLine(l, p.width))
		lines++
	}
	fmt.Fprint(p.w, b.String())
	p.lines = lines
}

func barLine(l *blobLine, termWidth int) string {
	label := fmt.Sprintf("  %-22.22s ", l.role)
	right := " " + termtext.Bytes(l.done)
	if l.total > 0 {
		right += "/" + termtext.Bytes(l.total)
	}
	if l.phase == registry.PhaseVerifying {
		right += " verifying"
	}
	w := termWidth - len(label) - len(right) - 3
	if w < 10 {
		w = 10
	}
	fill := 0
	if l.total > 0 {
		fill = int(float64(w) * float64(l.done) / float64(l.total))
		fill = min(fill, w)
	}
	return label + "[" + strings.Repeat("=", fill) + strings.Repeat(" ", w-fill) + "]" + right
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLive()
}
