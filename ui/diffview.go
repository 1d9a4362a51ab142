package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
	"pf-registry/snapdiff"
)

// diffFold is how many lines of each new message the diff shows folded.
const diffFold = 3

// diffKeys mark an image as the A side of a diff and diff the marked
// image with the selected one.
func diffKeys(sh *shared, sel func() []image) []binding {
	k := sh.keys
	one := func(f func(image) tea.Cmd) func() tea.Cmd {
		return func() tea.Cmd {
			if ims := sel(); len(ims) > 0 {
				return f(ims[0])
			}
			return nil
		}
	}
	return []binding{
		bind(&k.DiffMark, groupImage, false, one(func(im image) tea.Cmd {
			sh.diffBase = &im
			sh.infof("%s is A of the next diff: select another image and press %s", im.name(), k.Diff.Help().Key)
			return nil
		})),
		bind(&k.Diff, groupImage, false, func() tea.Cmd {
			ims := sel()
			switch {
			case len(ims) == 2 && sh.diffBase == nil:
				return sh.push(newDiffScreen(sh, ims[0], ims[1])) // two marked rows
			case len(ims) == 0:
				return nil
			case sh.diffBase == nil:
				sh.infof("mark an image with %s first, then press %s on the one to compare it with", k.DiffMark.Help().Key, k.Diff.Help().Key)
				return nil
			case sh.diffBase.ref == ims[0].ref:
				sh.infof("%s is the marked image: select another one to compare it with", ims[0].name())
				return nil
			}
			return sh.push(newDiffScreen(sh, *sh.diffBase, ims[0]))
		}),
	}
}

// diffHint is the status-line note of the marked image.
func diffHint(sh *shared) string {
	if sh.diffBase == nil {
		return ""
	}
	return " · diff A: " + sh.diffBase.name()
}

// diffMsg is a computed diff.
type diffMsg struct {
	id  int
	d   *snapdiff.Diff
	err error
}

func (m diffMsg) target() int { return m.id }

// diffScreen compares two images without pulling them: files, KV pages,
// the conversation, effects, environment, model and bytes.
type diffScreen struct {
	screenBase
	a, b    image
	loading bool
	err     error
	d       *snapdiff.Diff
	vp      viewport.Model
	find    finder
	unfold  bool
	ctx     context.Context
	cancel  context.CancelFunc
}

func newDiffScreen(sh *shared, a, b image) *diffScreen {
	ctx, cancel := context.WithCancel(sh.ctx)
	s := &diffScreen{screenBase: newBase(sh), a: a, b: b, ctx: ctx, cancel: cancel, vp: viewport.New()}
	s.vp.MouseWheelEnabled = true
	return s
}

func (s *diffScreen) Title() string   { return "diff " + s.a.name() + " → " + s.b.name() }
func (s *diffScreen) Busy() bool      { return s.loading }
func (s *diffScreen) close()          { s.cancel() }
func (s *diffScreen) Prefill() string { return s.b.ref }
func (s *diffScreen) Capturing() bool { return s.find.typing }
func (s *diffScreen) ClearFilter() bool {
	had := s.find.query != ""
	s.find.set("")
	s.redraw()
	return had
}

func (s *diffScreen) Hint() string {
	if h := s.find.hint(s.sh); h != "" {
		return h
	}
	if s.loading {
		return "reading the small blobs of both images (no KV page is downloaded)…"
	}
	k := s.sh.keys
	return fmt.Sprintf("%s searches · %s unfolds new messages · A = %s, B = %s", k.Filter.Help().Key, k.Fold.Help().Key, s.a.name(), s.b.name())
}

func (s *diffScreen) Init() tea.Cmd {
	s.loading = true
	sh, id, ctx, a, b := s.sh, s.id, s.ctx, s.a, s.b
	return func() tea.Msg {
		var cs [2]*registry.Content
		for i, im := range []image{a, b} {
			c, err := contentOpener(sh, im.ref, "")(ctx)
			if err != nil {
				return diffMsg{id: id, err: err}
			}
			cs[i] = c
		}
		st, err := sh.openStore()
		if err != nil {
			return diffMsg{id: id, err: err}
		}
		d, err := snapdiff.Compute(ctx, cs[0], cs[1], a.ref, b.ref, st)
		return diffMsg{id: id, d: d, err: err}
	}
}

func (s *diffScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case diffMsg:
		s.loading = false
		s.d, s.err = msg.d, msg.err
		if msg.err != nil {
			s.sh.fail(msg.err)
		}
		s.redraw()
	case tea.WindowSizeMsg:
		s.redraw()
	case jobEndedMsg:
		// "Pulling B now" depends on the local store.
		if storeChanged(msg) && s.d != nil {
			return s, s.Init()
		}
	case tea.KeyPressMsg:
		if s.find.typing {
			s.find.typeKey(s.sh, msg, s.redraw, &s.vp)
		}
	case tea.PasteMsg:
		if s.find.typing {
			s.find.paste(msg.Content)
			s.redraw()
		}
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		s.vp, cmd = s.vp.Update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *diffScreen) redraw() {
	s.vp.SetWidth(max(s.sh.width, 10))
	s.vp.SetHeight(max(s.sh.height, 1))
	if s.d == nil {
		s.vp.SetContent("")
		return
	}
	keep := s.vp.YOffset()
	lines := s.find.mark(s.sh, s.lines(s.sh.width))
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, s.sh.width, "…") // a cut line says so
	}
	s.vp.SetContentLines(lines)
	s.vp.SetYOffset(keep)
}

func (s *diffScreen) Bindings() []binding {
	k := s.sh.keys
	do := func(f func()) func() tea.Cmd { return func() tea.Cmd { f(); return nil } }
	bs := []binding{
		bind(&k.Up, groupMove, false, do(func() { s.vp.ScrollUp(1) })),
		bind(&k.Down, groupMove, false, do(func() { s.vp.ScrollDown(1) })),
		bind(&k.PageUp, groupMove, false, do(func() { s.vp.PageUp() })),
		bind(&k.PageDown, groupMove, false, do(func() { s.vp.PageDown() })),
		bind(&k.Top, groupMove, false, do(func() { s.vp.GotoTop() })),
		bind(&k.Bottom, groupMove, false, do(func() { s.vp.GotoBottom() })),
		bind(&k.Fold, groupView, true, do(func() { s.unfold = !s.unfold; s.redraw() })),
		bind(&k.Refresh, groupView, false, s.Init),
	}
	return append(bs, s.find.bindings(s.sh, s.redraw, &s.vp)...)
}

func (s *diffScreen) View() string {
	st := s.sh.st
	switch {
	case s.err != nil:
		return clipLines(st.Error.Render(wrap("✗ "+errLine(s.err), s.sh.width))+"\n\n"+
			st.Muted.Render("  "+s.sh.keys.Back.Help().Key+" goes back, "+s.sh.keys.Refresh.Help().Key+" retries"), s.sh.height)
	case s.d == nil:
		return clipLines(st.Muted.Render("  comparing "+s.a.name()+" with "+s.b.name()+"…"), s.sh.height)
	}
	return clipLines(s.vp.View(), s.sh.height)
}

// lines renders the whole diff, section by section.
func (s *diffScreen) lines(w int) []string {
	st, d := s.sh.st, s.d
	var out []string
	nameW := max(ansi.StringWidth(s.a.name()), ansi.StringWidth(s.b.name()))
	for _, x := range []struct {
		name string
		side snapdiff.Side
		im   image
	}{{"A", d.A, s.a}, {"B", d.B, s.b}} {
		out = append(out, st.Section.Render(fit(x.name, labelWidth, false))+st.Row.Bold(true).Render(fit(x.im.name(), nameW, false))+
			st.Muted.Render("  "+x.side.ImageID.Short()+"  "+safe(x.side.Agent)+"  "+shortTime(x.side.Created)))
	}
	out = append(out, "")
	// Bytes first, the conversation (the longest) last.
	out = append(out, s.byteLines(d.Bytes)...)
	out = append(out, s.fileLines(d.Files)...)
	p := d.Pages
	out = append(out, s.head("KV pages", fmt.Sprintf("%d shared, %d changed, %d new, %d removed (%d → %d pages)", p.Shared, p.Changed, p.New, p.Removed, p.APages, p.BPages)))
	out = append(out, s.effectLines(d.Effects)...)
	out = append(out, s.envLines(d.Env)...)
	out = append(out, s.modelLines(d.Model)...)
	for _, n := range d.Notes {
		for i, l := range strings.Split(wrap(safe(n), w-labelWidth), "\n") {
			label := "Note"
			if i > 0 {
				label = ""
			}
			out = append(out, s.head(label, l))
		}
	}
	return append(out, s.traceLines(d.Trace, w)...)
}

// head is a section's first line; item lines follow, indented.
func (s *diffScreen) head(label, text string) string {
	return s.sh.st.Section.Render(fit(label, labelWidth, false)) + s.sh.st.Value.Render(text)
}

func (s *diffScreen) item(sign, text string) string {
	return strings.Repeat(" ", labelWidth) + s.sh.st.Change(sign).Render(sign+" "+text)
}

func (s *diffScreen) fileLines(f snapdiff.Files) []string {
	out := []string{s.head("Files", fmt.Sprintf("+%d −%d ~%d, %d unchanged", len(f.Added), len(f.Removed), len(f.Changed), f.Unchanged))}
	entry := func(x snapdiff.File) string {
		return safe(x.Path) + "  " + safe(x.Mode) + " " + entrySize(x.Kind, x.Size)
	}
	for _, x := range f.Added {
		out = append(out, s.item("+", entry(x)))
	}
	for _, x := range f.Removed {
		out = append(out, s.item("-", entry(x)))
	}
	for _, x := range f.Changed {
		var what []string
		if x.KindA != x.KindB {
			what = append(what, safe(x.KindA)+" → "+safe(x.KindB))
		}
		if x.ModeA != x.ModeB {
			what = append(what, "mode "+safe(x.ModeA)+" → "+safe(x.ModeB))
		}
		if x.SizeA != x.SizeB {
			what = append(what, entrySize(x.KindA, x.SizeA)+" → "+entrySize(x.KindB, x.SizeB))
		} else if x.Content {
			what = append(what, "content")
		}
		out = append(out, s.item("~", safe(x.Path)+"  "+strings.Join(what, ", ")))
	}
	return out
}

// entrySize is a tree entry's size ("dir" for a directory).
func entrySize(kind string, n uint64) string {
	if kind == "dir" {
		return "dir"
	}
	return termtext.Bytes(int64(min(n, 1<<62)))
}

func (s *diffScreen) traceLines(t snapdiff.Trace, w int) []string {
	h := fmt.Sprintf("%d messages in common; B adds %d", t.CommonPrefix, len(t.New))
	if t.Dropped > 0 {
		h += fmt.Sprintf(" and does not have A's last %d", t.Dropped)
	}
	out := []string{s.head("Trace", h)}
	st := s.sh.st
	pad := strings.Repeat(" ", labelWidth)
	for _, m := range t.New {
		body := textLines(m.Content, w-labelWidth-4)
		if !s.unfold && len(body) > diffFold+1 && !s.find.matches(m.Content) {
			body = append(body[:diffFold:diffFold], "… "+count(len(body)-diffFold, "more line"))
		}
		out = append(out, pad+st.Change("+").Render("+ ")+st.Role(m.Role).Render("["+safe(m.Role)+"]"))
		for _, l := range body {
			out = append(out, pad+"    "+st.Value.Render(l))
		}
	}
	return out
}

func (s *diffScreen) effectLines(e snapdiff.Effects) []string {
	st := s.sh.st
	out := []string{s.head("Effects", fmt.Sprintf("+%d (%d irreversible, %d network-only), −%d", len(e.Added), e.AddedIrreversible, e.AddedNetworkOnly, e.Removed))}
	for _, x := range e.Added {
		mark := "+ "
		if x.Class.Outward() {
			mark = "! "
		}
		out = append(out, strings.Repeat(" ", labelWidth)+st.Effect(string(x.Class)).Render(mark+safe(x.TS)+"  "+fit(safe(x.ToolID), 12, false)+" "+safe(string(x.Class))))
	}
	return out
}

func (s *diffScreen) envLines(e snapdiff.Env) []string {
	var items []string
	if e.CwdA != e.CwdB {
		items = append(items, s.item("~", "cwd "+safe(e.CwdA)+" → "+safe(e.CwdB)))
	}
	for _, v := range e.Added {
		items = append(items, s.item("+", safe(v.Name)+"="+safe(v.Value)))
	}
	for _, v := range e.Removed {
		items = append(items, s.item("-", safe(v.Name)))
	}
	for _, v := range e.Changed {
		items = append(items, s.item("~", safe(v.Name)+": "+safe(v.A)+" → "+safe(v.B)))
	}
	if len(items) == 0 {
		return []string{s.head("Env", "unchanged")}
	}
	return append([]string{s.head("Env", count(len(items), "change"))}, items...)
}

func (s *diffScreen) modelLines(m snapdiff.Model) []string {
	var items []string
	if m.BaseChanged {
		items = append(items, s.item("~", "base "+safe(m.BaseA)+" → "+safe(m.BaseB)))
	}
	if m.DiffChanged {
		items = append(items, s.item("~", fmt.Sprintf("diff %s [%s] → %s [%s]", safe(orDash(m.KindA)), safe(strings.Join(m.AdaptersA, ", ")),
			safe(orDash(m.KindB)), safe(strings.Join(m.AdaptersB, ", ")))))
	}
	if len(items) == 0 {
		return []string{s.head("Model", "unchanged")}
	}
	return append([]string{s.head("Model", count(len(items), "change"))}, items...)
}

func (s *diffScreen) byteLines(b snapdiff.Bytes) []string {
	st := s.sh.st
	pad := strings.Repeat(" ", labelWidth)
	out := []string{
		s.head("Bytes", fmt.Sprintf("B stores %s; %s of it (%s) shared with A", termtext.Bytes(b.BStored), termtext.Bytes(b.SharedBytes), count(b.SharedBlobs, "blob"))),
		pad + st.Value.Render("pulling B downloads "+termtext.Bytes(b.PullBAfterA)+" when A is in the local store"),
	}
	if b.PullBNow != nil {
		out = append(out, pad+st.Value.Render(termtext.Bytes(*b.PullBNow)+" into the local store as it is now"))
	}
	if b.UnknownSizes > 0 {
		out = append(out, pad+st.Muted.Render(fmt.Sprintf("%d blob sizes unknown to the backend (not counted)", b.UnknownSizes)))
	}
	return out
}
