package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// logEntry is the one-line summary a finished job leaves behind.
type logEntry struct {
	jobID int
	state jobState
	text  string
}

// transfers owns every background job and renders the transfers view.
// It lives as long as the program, whichever screen is shown.
type transfers struct {
	sh     *shared
	jobs   []*job
	cursor int
	nextID int
	log    []logEntry
	// layerOff scrolls the layer list of the selected job.
	layerOff int
	ticking  bool
}

func newTransfers(sh *shared) *transfers { return &transfers{sh: sh} }

func (t *transfers) running() int {
	n := 0
	for _, j := range t.jobs {
		if j.state == jobRunning {
			n++
		}
	}
	return n
}

func (t *transfers) byID(id int) *job {
	for _, j := range t.jobs {
		if j.id == id {
			return j
		}
	}
	return nil
}

func (t *transfers) selected() *job {
	if t.cursor < 0 || t.cursor >= len(t.jobs) {
		return nil
	}
	return t.jobs[t.cursor]
}

// start launches a job.
func (t *transfers) start(spec jobSpec) tea.Cmd {
	t.nextID++
	ctx, cancel := context.WithCancel(t.sh.ctx)
	j := &job{id: t.nextID, spec: spec, state: jobRunning, cancel: cancel,
		sink: newProgressSink(), done: make(chan struct{}), started: t.sh.now()}
	j.observe(j.started)
	t.jobs = append(t.jobs, j)
	t.cursor = len(t.jobs) - 1
	cmds := []tea.Cmd{runJobCmd(ctx, j), waitProgressCmd(j),
		statusf("started %s #%d (t shows transfers)", spec.op, j.id)}
	if !t.ticking {
		t.ticking = true
		cmds = append(cmds, tickCmd())
	}
	return tea.Batch(cmds...)
}

// update handles job messages (whether or not the view is shown).
func (t *transfers) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case startJobMsg:
		return t.start(msg.spec)
	case jobProgressMsg:
		j := t.byID(msg.id)
		if j == nil || j.state != jobRunning {
			return nil
		}
		j.snap = msg.snap
		j.observe(t.sh.now())
		return waitProgressCmd(j)
	case jobDoneMsg:
		j := t.byID(msg.id)
		if j == nil {
			return nil
		}
		j.snap = j.sink.snapshot()
		j.ended = t.sh.now()
		j.report, j.err = msg.report, msg.err
		switch {
		case msg.err == nil:
			j.state = jobDone
		case j.state == jobCancelled:
		default:
			j.state = jobFailed
		}
		j.cancel()
		t.log = append(t.log, logEntry{jobID: j.id, state: j.state, text: t.summary(j)})
		if j.state == jobFailed {
			return emit(statusMsg{text: fmt.Sprintf("%s #%d failed: %s", j.spec.op, j.id, errLine(j.err)), err: true})
		}
		return statusf("%s", t.summary(j))
	case jobTickMsg:
		now := time.Time(msg)
		if t.sh.now != nil {
			now = t.sh.now()
		}
		for _, j := range t.jobs {
			if j.state == jobRunning {
				j.observe(now)
			}
		}
		if t.running() == 0 {
			t.ticking = false
			return nil
		}
		return tickCmd()
	}
	return nil
}

// summary is the log line of a finished job.
func (t *transfers) summary(j *job) string {
	what := fmt.Sprintf("#%d %s %s", j.id, j.spec.op, j.spec.src)
	if j.spec.dst != "" {
		what += " → " + j.spec.dst
	}
	el := humanDuration(j.ended.Sub(j.started))
	switch j.state {
	case jobDone:
		r := j.report
		if r == nil {
			return what + " done in " + el
		}
		if j.spec.op == "verify" {
			return fmt.Sprintf("%s: %d blobs verified, signature %s, in %s", what, len(r.Blobs), sigOf(r), el)
		}
		return fmt.Sprintf("%s: %d moved, %d skipped, %s in %s", what, r.Transferred, r.Skipped, termtext.Bytes(r.Bytes), el)
	case jobCancelled:
		return what + " cancelled after " + el
	}
	return what + " failed: " + errLine(j.err)
}

func sigOf(r *registry.Report) string {
	if r.Inspection == nil {
		return "?"
	}
	return string(r.Inspection.Signature.Status)
}

// handleKey acts on the transfers view's own keys.
func (t *transfers) handleKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := t.sh.keys
	switch {
	case key.Matches(msg, k.Up):
		t.cursor, t.layerOff = max(t.cursor-1, 0), 0
	case key.Matches(msg, k.Down):
		t.cursor, t.layerOff = min(t.cursor+1, len(t.jobs)-1), 0
	case key.Matches(msg, k.PageDown):
		t.layerOff += 10
	case key.Matches(msg, k.PageUp):
		t.layerOff = max(t.layerOff-10, 0)
	case key.Matches(msg, k.Cancel):
		j := t.selected()
		if j == nil || j.state != jobRunning {
			return statusf("no running job selected"), true
		}
		j.state = jobCancelled
		j.cancel()
		return statusf("cancelling %s #%d", j.spec.op, j.id), true
	case key.Matches(msg, k.Retry):
		j := t.selected()
		if j == nil || (j.state != jobFailed && j.state != jobCancelled) {
			return statusf("select a failed or cancelled job to retry"), true
		}
		return t.start(j.spec), true
	default:
		return nil, false
	}
	return nil, true
}

// total aggregates running jobs for the header and the terminal's native
// progress bar: done, total bytes and whether any failed.
func (t *transfers) total() (done, total int64, unknown bool) {
	for _, j := range t.jobs {
		if j.state != jobRunning {
			continue
		}
		if j.snap.Total < 0 {
			unknown = true
			continue
		}
		done += j.snap.Done
		total += j.snap.Total
	}
	return
}

// nativeBar is the View.ProgressBar for the terminal (OSC 9;4).
func (t *transfers) nativeBar() *tea.ProgressBar {
	if t.running() == 0 {
		for _, j := range t.jobs {
			if j.state == jobFailed && t.sh.now().Sub(j.ended) < 5*time.Second {
				return tea.NewProgressBar(tea.ProgressBarError, 100)
			}
		}
		return nil
	}
	done, total, unknown := t.total()
	if total <= 0 {
		if unknown {
			return tea.NewProgressBar(tea.ProgressBarIndeterminate, 0)
		}
		return tea.NewProgressBar(tea.ProgressBarDefault, 0)
	}
	return tea.NewProgressBar(tea.ProgressBarDefault, int(done*100/total))
}

// bar draws a fixed-width progress bar; frac < 0 draws an unknown one.
func bar(sh *shared, frac float64, w int) string {
	if w <= 0 {
		return ""
	}
	st := sh.st
	full := lipgloss.NewStyle()
	empty := lipgloss.NewStyle()
	if st.BarFull != nil {
		full = full.Foreground(st.BarFull)
		empty = empty.Foreground(st.BarEmpty)
	}
	if frac < 0 {
		return empty.Render(strings.Repeat("╌", w))
	}
	n := int(frac*float64(w) + 0.5)
	n = min(max(n, 0), w)
	return full.Render(strings.Repeat("█", n)) + empty.Render(strings.Repeat("░", w-n))
}

func phaseWord(p registry.Phase) string {
	if p == registry.PhaseTransferring {
		return "moving"
	}
	if p == "" {
		return "queued"
	}
	return string(p)
}

// view renders the transfers screen in exactly height lines.
func (t *transfers) view() string {
	sh := t.sh
	st := sh.st
	w, h := sh.width, sh.height
	if len(t.jobs) == 0 {
		return clipLines(st.Section.Render("Transfers")+"\n\n"+st.Empty.Render(
			"  No transfers yet. Pull (p), verify (v), copy (c) or push (u) an image;\n"+
				"  jobs run in the background and show up here with one bar per layer."), h)
	}
	var lines []string
	now := sh.now()
	// Jobs list: at most 4 rows around the cursor.
	lines = append(lines, st.Section.Render(fmt.Sprintf("Jobs  %d running · %d total", t.running(), len(t.jobs))))
	first := t.firstJobRow()
	for i := first; i < len(t.jobs) && i < first+4; i++ {
		j := t.jobs[i]
		lines = append(lines, t.jobLine(j, i == t.cursor, w, now))
	}
	j := t.selected()
	lines = append(lines, "")
	counts := phaseCounts(j.snap.Blobs)
	var parts []string
	for _, p := range []registry.Phase{registry.PhaseTransferring, registry.PhaseVerifying, registry.PhaseQueued,
		registry.PhaseDone, registry.PhaseSkipped, registry.PhaseFailed} {
		if counts[p] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[p], phaseWord(p)))
		}
	}
	lines = append(lines, st.Section.Render(fmt.Sprintf("Layers of #%d", j.id))+"  "+
		st.Muted.Render(fmt.Sprintf("%d blobs: %s", len(j.snap.Blobs), strings.Join(parts, " · "))))
	// Reserve: total (2), log header + entries.
	logN := min(len(t.log), 4)
	reserve := 2 + 1
	if logN > 0 {
		reserve += 1 + logN
	}
	room := h - len(lines) - reserve
	if len(j.snap.Blobs) == 0 {
		msg := "waiting for the first event…"
		if j.snap.Message != "" {
			msg = j.snap.Message
		}
		if j.state == jobFailed {
			msg = "✗ " + errLine(j.err)
		}
		lines = append(lines, st.Muted.Render("  "+msg))
		room--
	}
	order := displayOrder(j.snap.Blobs)
	off := min(t.layerOff, max(len(order)-room+1, 0))
	if off > 0 {
		lines = append(lines, st.Muted.Render(fmt.Sprintf("  ↑ %d more (pgup)", off)))
		room--
	}
	order = order[off:]
	for i := 0; i < len(order) && i < room; i++ {
		if i == room-1 && len(order) > room {
			lines = append(lines, st.Muted.Render(fmt.Sprintf("  ↓ %d more (pgdn)", len(order)-i)))
			break
		}
		lines = append(lines, t.layerLine(order[i], w))
	}
	for len(lines) < h-reserve {
		lines = append(lines, "")
	}
	lines = append(lines, "", t.totalLine(j, w, now))
	if logN > 0 {
		lines = append(lines, st.Section.Render("Log"))
		for _, e := range t.log[len(t.log)-logN:] {
			sym, style := "✓", st.OK
			switch e.state {
			case jobFailed:
				sym, style = "✗", st.Error
			case jobCancelled:
				sym, style = "⊘", st.Warn
			}
			lines = append(lines, style.Render(fit(sym+" "+e.text, w, false)))
		}
	}
	return clipLines(strings.Join(lines, "\n"), h)
}

// firstJobRow is the first job shown in the four-row jobs list.
func (t *transfers) firstJobRow() int { return max(0, min(t.cursor-1, len(t.jobs)-4)) }

// click selects the job under body line y.
func (t *transfers) click(y int) {
	if i := t.firstJobRow() + y - 1; y >= 1 && y <= 4 && i < len(t.jobs) {
		t.cursor, t.layerOff = i, 0
	}
}

func (t *transfers) jobLine(j *job, sel bool, w int, now time.Time) string {
	st := t.sh.st
	state := j.state.String()
	if d := j.stalledFor(now); d > 0 {
		state = "stalled " + humanDuration(d)
	}
	what := fmt.Sprintf("#%d %-6s %s", j.id, j.spec.op, j.spec.src)
	if j.spec.dst != "" {
		what += " → " + j.spec.dst
	}
	pct := "   "
	if f := j.fraction(); f >= 0 {
		pct = fmt.Sprintf("%3.0f%%", f*100)
	}
	right := fmt.Sprintf(" %s %-14s", pct, state)
	left := fit(what, max(w-len(right)-2, 10), false)
	if sel {
		return st.Selected.Render(fit("▸ "+left+right, w, false))
	}
	style := st.Row
	switch j.state {
	case jobFailed:
		style = st.Error
	case jobDone:
		style = st.OK
	case jobCancelled:
		style = st.Warn
	}
	return "  " + st.Row.Render(left) + style.Render(right)
}

func (t *transfers) layerLine(b blobProgress, w int) string {
	st := t.sh.st
	const digW, phW, sizeW = 12, 9, 19
	barW := min(max(w/6, 8), 30)
	roleW := max(w-digW-barW-phW-sizeW-6, 8)
	frac := -1.0
	switch {
	case b.Phase == registry.PhaseDone || b.Phase == registry.PhaseSkipped:
		frac = 1
	case b.Total > 0:
		frac = min(float64(b.Done)/float64(b.Total), 1)
	case b.Phase == registry.PhaseQueued:
		frac = 0
	}
	size := termtext.Bytes(b.Total)
	if b.Phase == registry.PhaseTransferring || b.Phase == registry.PhaseVerifying {
		size = termtext.Bytes(b.Done) + "/" + termtext.Bytes(b.Total)
	}
	ph := phaseWord(b.Phase)
	line := "  " + st.Row.Render(fit(b.Role, roleW, false)) + " " + st.Muted.Render(fit(b.Digest.Short(), digW, false)) + " " +
		bar(t.sh, frac, barW) + " " + st.Phase(ph).Render(fit(ph, phW, false)) + " " + st.Muted.Render(fit(size, sizeW, true))
	if b.Err != "" {
		line += " " + st.Error.Render(b.Err)
	}
	return line
}

func (t *transfers) totalLine(j *job, w int, now time.Time) string {
	st := t.sh.st
	f := j.fraction()
	stats := termtext.Bytes(j.snap.Done) + " / " + termtext.Bytes(j.snap.Total)
	if j.state == jobRunning {
		stats += "  " + termtext.Bytes(int64(j.speed())) + "/s  ETA " + humanDuration(j.eta())
	} else if !j.ended.IsZero() {
		stats += "  " + j.state.String() + " in " + humanDuration(j.ended.Sub(j.started))
	}
	if d := j.stalledFor(now); d > 0 {
		stats += "  " + st.Warn.Render("⚠ stalled "+humanDuration(d))
	}
	pct := "  ?%"
	if f >= 0 {
		pct = fmt.Sprintf("%3.0f%%", f*100)
	}
	barW := max(min(w-lipgloss.Width(stats)-14, 60), 10)
	return st.Section.Render("Total ") + bar(t.sh, f, barW) + " " + st.Value.Render(pct+"  "+stats)
}

func (t *transfers) shortHelp() []keyBinding {
	k := t.sh.keys
	return []keyBinding{k.Up, k.Down, k.PageDown, k.Cancel, k.Retry, k.Transfers, k.Help, k.Quit}
}

func (t *transfers) fullHelp() [][]keyBinding {
	k := t.sh.keys
	return [][]keyBinding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Cancel, k.Retry}, {k.Transfers, k.Back, k.Help, k.Quit}}
}
