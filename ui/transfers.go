package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// logEntry is the one-line summary a finished job leaves behind.
type logEntry struct {
	jobID int
	state jobState
	text  string
}

// transfers owns every background job. It lives as long as the program,
// whichever screen is shown; transfersPage shows it.
type transfers struct {
	sh     *shared
	jobs   []*job
	cursor int
	nextID int
	log    []logEntry
	// layerOff scrolls the layer list of the selected job.
	layerOff int
	ticking  bool
	// unseen counts failures since the transfers view was last opened.
	unseen int
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

// start launches a job. Its status line is set here, before the job can
// end, so a failure always comes after it.
func (t *transfers) start(spec jobSpec) tea.Cmd {
	t.nextID++
	ctx, cancel := context.WithCancel(t.sh.ctx)
	j := &job{id: t.nextID, spec: spec, state: jobRunning, cancel: cancel,
		sink: newProgressSink(), done: make(chan struct{}), started: t.sh.now()}
	j.observe(j.started)
	t.jobs = append(t.jobs, j)
	t.cursor = len(t.jobs) - 1
	t.sh.infof("started %s #%d (%s shows transfers)", spec.op, j.id, t.sh.keys.Transfers.Help().Key)
	cmds := []tea.Cmd{runJobCmd(ctx, j), waitProgressCmd(j)}
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
		return t.finish(msg)
	case jobTickMsg:
		now := t.sh.now()
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

// finish records a job's end, reports it and tells the screens.
func (t *transfers) finish(msg jobDoneMsg) tea.Cmd {
	j := t.byID(msg.id)
	if j == nil {
		return nil
	}
	if snap := j.sink.snapshot(); len(snap.Blobs) > 0 || j.snap.Blobs == nil {
		j.snap = snap
	}
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
		t.unseen++
		t.sh.notify(fmt.Sprintf("%s #%d failed: %s", j.spec.op, j.id, errLine(j.err)), true)
	} else {
		t.sh.infof("%s", t.summary(j))
	}
	return emit(jobEndedMsg{op: j.spec.op, src: j.spec.src, dst: j.spec.dst, ok: j.state == jobDone, changes: j.spec.changes})
}

// summary is the log line of a finished job.
func (t *transfers) summary(j *job) string {
	what := fmt.Sprintf("#%d %s %s", j.id, j.spec.op, safe(j.spec.src))
	if j.spec.dst != "" {
		what += " → " + safe(j.spec.dst)
	}
	el := humanDuration(j.ended.Sub(j.started))
	switch j.state {
	case jobDone:
		r := j.report
		if j.spec.outcome != nil {
			return what + ": " + j.spec.outcome() + " in " + el
		}
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
	return string(r.Inspection.Signature.Status())
}

// transfersPage is the transfers view over the screens.
type transfersPage struct {
	overlayBase
	t *transfers
}

func (p *transfersPage) modal() bool   { return false }
func (p *transfersPage) crumb() string { return "transfers" }
func (p *transfersPage) hint() string {
	k := p.t.sh.keys
	return k.Open.Help().Key + " shows a job whole (its full error) · " + k.Cancel.Help().Key + " cancels · " +
		k.Retry.Help().Key + " retries a failed or cancelled job"
}

func (p *transfersPage) render(sh *shared, _ string) string {
	p.t.unseen = 0
	return p.t.view()
}

func (p *transfersPage) update(msg tea.Msg) tea.Cmd {
	t := p.t
	switch m := msg.(type) {
	case tea.MouseWheelMsg:
		if m.Button == tea.MouseWheelUp {
			t.layerOff = max(t.layerOff-3, 0)
		} else {
			t.layerOff += 3
		}
	case tea.MouseClickMsg:
		t.click(m.Y)
	}
	return nil
}

func (p *transfersPage) bindings() []binding {
	t := p.t
	k := t.sh.keys
	return []binding{
		bind(&k.Up, groupMove, true, func() tea.Cmd { t.cursor, t.layerOff = max(t.cursor-1, 0), 0; return nil }),
		bind(&k.Down, groupMove, true, func() tea.Cmd { t.cursor, t.layerOff = min(t.cursor+1, len(t.jobs)-1), 0; return nil }),
		bind(&k.PageDown, groupMove, false, func() tea.Cmd { t.layerOff += 10; return nil }),
		bind(&k.PageUp, groupMove, false, func() tea.Cmd { t.layerOff = max(t.layerOff-10, 0); return nil }),
		bind(&k.Open, groupView, true, p.openJob),
		bind(&k.Cancel, groupImage, true, t.cancelSelected),
		bind(&k.Retry, groupImage, true, t.retrySelected),
		bind(&k.Back, groupView, true, func() tea.Cmd { p.close(); return nil }),
		bind(&k.Transfers, groupView, false, func() tea.Cmd { p.close(); return nil }),
	}
}

func (t *transfers) cancelSelected() tea.Cmd {
	j := t.selected()
	if j == nil || j.state != jobRunning {
		t.sh.infof("no running job selected")
		return nil
	}
	j.state = jobCancelled
	j.cancel()
	t.sh.infof("cancelling %s #%d", j.spec.op, j.id)
	return nil
}

func (t *transfers) retrySelected() tea.Cmd {
	j := t.selected()
	if j == nil || (j.state != jobFailed && j.state != jobCancelled) {
		t.sh.infof("select a failed or cancelled job to retry")
		return nil
	}
	return t.start(j.spec)
}

// openJob shows the selected job whole: what it did and its full error.
func (p *transfersPage) openJob() tea.Cmd {
	j := p.t.selected()
	if j == nil {
		return nil
	}
	sh := p.t.sh
	st, w := sh.st, sh.width-2
	lines := []string{st.Value.Render(wrap(fmt.Sprintf("%s of %s", j.spec.op, safe(j.spec.src)), w))}
	if j.spec.dst != "" {
		lines = append(lines, st.Value.Render(wrap("to "+safe(j.spec.dst), w)))
	}
	lines = append(lines, "", st.Label.Render("state  ")+st.Value.Render(j.state.String()))
	if !j.ended.IsZero() {
		lines = append(lines, st.Label.Render("time   ")+st.Value.Render(humanDuration(j.ended.Sub(j.started))))
	}
	if j.err != nil {
		lines = append(lines, "", st.Error.Render("error"))
		lines = append(lines, strings.Split(st.Error.Render(wrap(errLine(j.err), w)), "\n")...)
	}
	for _, b := range j.snap.Blobs {
		if b.Err != "" && j.state != jobCancelled {
			lines = append(lines, "", st.Warn.Render(b.Role+" "+b.Digest.Short()))
			lines = append(lines, strings.Split(wrap(b.Err, w), "\n")...)
		}
	}
	if j.state != jobRunning {
		lines = append(lines, "", st.Muted.Render(wrap(p.t.summary(j), w)))
	}
	sh.open(newTextPage(sh, fmt.Sprintf("Job #%d", j.id), lines))
	return nil
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
		k := sh.keys
		return clipLines(st.Section.Render("Transfers")+"\n\n"+st.Empty.Render(wrap(
			"  No transfers yet. Pull ("+k.Pull.Help().Key+"), verify ("+k.Verify.Help().Key+"), copy ("+
				k.Copy.Help().Key+") or push ("+k.Push.Help().Key+") an image; jobs run in the background "+
				"and show up here with one bar per layer.", w-2)), h)
	}
	now := sh.now()
	lines := []string{st.Section.Render(fmt.Sprintf("Jobs  %d running · %d total", t.running(), len(t.jobs)))}
	first := t.firstJobRow()
	for i := first; i < len(t.jobs) && i < first+4; i++ {
		lines = append(lines, t.jobLine(t.jobs[i], i == t.cursor, w, now))
	}
	j := t.selected()
	lines = append(lines, "", t.layersHeading(j))
	// Reserve: total (2), log header + entries.
	logN := min(len(t.log), 4)
	reserve := 3
	if logN > 0 {
		reserve += 1 + logN
	}
	lines = append(lines, t.layerLines(j, h-len(lines)-reserve, w)...)
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

func (t *transfers) layersHeading(j *job) string {
	st := t.sh.st
	counts := phaseCounts(j.snap.Blobs)
	var parts []string
	for _, p := range []registry.Phase{registry.PhaseTransferring, registry.PhaseVerifying, registry.PhaseQueued,
		registry.PhaseDone, registry.PhaseSkipped, registry.PhaseFailed} {
		if counts[p] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[p], t.phaseWord(j, p)))
		}
	}
	head := fmt.Sprintf("%d blobs: %s", len(j.snap.Blobs), strings.Join(parts, " · "))
	if n := j.snap.Images; n > 0 {
		head = fmt.Sprintf("images %d of %d finished · ", j.snap.ImagesDone, n) + head
	}
	return st.Section.Render(fmt.Sprintf("Layers of #%d", j.id)) + "  " + st.Muted.Render(head)
}

// layerLines are the blob rows of a job in room lines, scrolled by
// layerOff.
func (t *transfers) layerLines(j *job, room, w int) []string {
	st := t.sh.st
	var lines []string
	if len(j.snap.Blobs) == 0 {
		msg := "waiting for the first event…"
		if j.snap.Message != "" {
			msg = j.snap.Message
		}
		if j.state == jobFailed {
			msg = "✗ " + errLine(j.err) + " (" + t.sh.keys.Open.Help().Key + " shows it whole)"
		}
		lines = append(lines, st.Muted.Render(fit("  "+msg, w, false)))
		room--
	}
	order := displayOrder(j.snap.Blobs)
	off := min(t.layerOff, max(len(order)-room+1, 0))
	if off > 0 {
		lines = append(lines, st.Muted.Render(fmt.Sprintf("  ↑ %d more (%s)", off, t.sh.keys.PageUp.Help().Key)))
		room--
	}
	order = order[off:]
	roleW := 8
	for _, b := range order {
		roleW = max(roleW, ansi.StringWidth(b.Role)+1)
	}
	for i := 0; i < len(order) && i < room; i++ {
		if i == room-1 && len(order) > room {
			lines = append(lines, st.Muted.Render(fmt.Sprintf("  ↓ %d more (%s)", len(order)-i, t.sh.keys.PageDown.Help().Key)))
			break
		}
		lines = append(lines, t.layerLine(j, order[i], w, roleW))
	}
	return lines
}

// firstJobRow is the first job shown in the four-row jobs list.
func (t *transfers) firstJobRow() int { return max(0, min(t.cursor-1, len(t.jobs)-4)) }

// click selects the job under body line y.
func (t *transfers) click(y int) {
	if i := t.firstJobRow() + y - 1; y >= 1 && y <= 4 && i < len(t.jobs) {
		t.cursor, t.layerOff = i, 0
	}
}

// jobLine is one row of the jobs list. Ids take a fixed width, and when
// the line is too long the source is cut, keeping the destination whole.
func (t *transfers) jobLine(j *job, sel bool, w int, now time.Time) string {
	st := t.sh.st
	state := j.state.String()
	if d := j.stalledFor(now); d > 0 {
		state = "stalled " + humanDuration(d)
	}
	pct := "    "
	if f := j.fraction(); f >= 0 {
		pct = fmt.Sprintf("%3.0f%%", f*100)
	}
	right := fmt.Sprintf(" %s %-14s", pct, state)
	head := fmt.Sprintf("#%-3d %-6s ", j.id, j.spec.op)
	room := max(w-len(right)-2-len(head), 10)
	src, dst := safe(j.spec.src), ""
	if j.spec.dst != "" {
		dst = " → " + safe(j.spec.dst)
	}
	if ansi.StringWidth(src)+ansi.StringWidth(dst) > room {
		src = fitLeft(src, max(room-ansi.StringWidth(dst), 8))
	}
	left := fit(head+src+dst, w-len(right)-2, false)
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

// phaseWord names a blob's phase; blobs a cancelled job left unfinished
// say cancelled, not failed.
func (t *transfers) phaseWord(j *job, p registry.Phase) string {
	if j.state == jobCancelled && !p.Terminal() || j.state == jobCancelled && p == registry.PhaseFailed {
		return "cancelled"
	}
	return phaseWord(p)
}

// layerLine is one blob of a job; the role column is at most roleW wide
// so that the bars stay near the names on wide terminals.
func (t *transfers) layerLine(j *job, b blobProgress, w, roleW int) string {
	st := t.sh.st
	const digW, phW, sizeW = 12, 9, 19
	barW := min(max(w/6, 8), 30)
	roleW = max(min(w-digW-barW-phW-sizeW-6, roleW), 8)
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
	if b.Phase == registry.PhaseTransferring || b.Phase == registry.PhaseVerifying || frac > 0 && frac < 1 {
		size = termtext.Bytes(b.Done) + "/" + termtext.Bytes(b.Total)
	}
	ph := t.phaseWord(j, b.Phase)
	line := "  " + st.Row.Render(fit(b.Role, roleW, false)) + " " + st.Muted.Render(fit(b.Digest.Short(), digW, false)) + " " +
		bar(t.sh, frac, barW) + " " + st.Phase(ph).Render(fit(ph, phW, false)) + " " + st.Muted.Render(fit(size, sizeW, true))
	room := w - ansi.StringWidth(line) - 1
	switch {
	case b.Err != "" && j.state != jobCancelled:
		line += " " + st.Error.Render(fit(b.Err, room, false))
	case b.Note != "" && j.state == jobRunning && !b.Phase.Terminal():
		line += " " + st.Warn.Render(fit(b.Note, room, false))
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
