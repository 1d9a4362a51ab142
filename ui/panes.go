package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/termtext"
	"pf-registry/model"
)

// traceFold is how many lines of a long message show while folded.
const traceFold = 6

// labelWidth is the width of the labels of the information lines and
// the content panes.
const labelWidth = 11

// labelled is one "Label      value" line.
func (s *detailScreen) labelled(label, value string) string {
	return s.sh.st.Label.Render(fit(label, labelWidth, false)) + value
}

// loadLines stand for a pane whose read is under way or failed.
func (s *detailScreen) loadLines(l *paneLoad, what string, w int) []string {
	st := s.sh.st
	if l == nil || l.running {
		return []string{st.Muted.Render("reading the " + what + "…")}
	}
	return strings.Split(st.Error.Render(wrap("✗ "+errLine(l.err), w)), "\n")
}

// textLines makes untrusted multi-line text safe and wraps it to w cells.
func textLines(s string, w int) []string {
	s = strings.ReplaceAll(safeText(s), "\t", "    ")
	return strings.Split(wrap(s, max(w, 10)), "\n")
}

func (s *detailScreen) traceHeader(int) []string {
	t, _ := loaded[*model.Trace](&s.x, loadTrace)
	if t == nil {
		return nil
	}
	roles := map[string]int{}
	var order []string
	for _, m := range t.Messages {
		if roles[m.Role] == 0 {
			order = append(order, m.Role)
		}
		roles[m.Role]++
	}
	var parts []string
	for _, r := range order {
		parts = append(parts, fmt.Sprintf("%s %d", safe(r), roles[r]))
	}
	k := s.sh.keys
	fold := "unfolds"
	if s.x.unfold {
		fold = "folds"
	}
	h := fmt.Sprintf("%s (%s) · %s %s long messages · %s searches", count(len(t.Messages), "message"),
		strings.Join(parts, ", "), k.Fold.Help().Key, fold, k.Filter.Help().Key)
	return []string{s.sh.st.Muted.Render(h)}
}

func (s *detailScreen) traceLines(w int) []string {
	st := s.sh.st
	t, l := loaded[*model.Trace](&s.x, loadTrace)
	if t == nil {
		return s.loadLines(l, "conversation", w)
	}
	if len(t.Messages) == 0 {
		return []string{st.Muted.Render("no messages recorded")}
	}
	// A trace can hold megabytes: it is laid out again only when the
	// width, the folding or the search changes (the search's marks go on
	// a copy).
	key := traceKey{w: w, unfold: s.x.unfold, query: s.x.find.query, trace: t, theme: st.Theme.Name}
	if c := &s.x.traceMemo; c.key == key {
		return append([]string(nil), c.lines...)
	}
	var out []string
	for i, m := range t.Messages {
		head := fmt.Sprintf("── %d · %s", i+1, safe(m.Role))
		if m.Name != "" {
			head += " (" + safe(m.Name) + ")"
		}
		head += " "
		out = append(out, st.Role(m.Role).Render(head)+st.Muted.Render(strings.Repeat("─", max(w-ansi.StringWidth(head), 0))))
		body, more := textLines(m.Content, w-2), 0
		if !s.x.unfold && len(body) > traceFold+1 && !s.x.find.matches(m.Content) {
			body, more = body[:traceFold], len(body)-traceFold
		}
		for _, b := range body {
			style := st.Value
			switch {
			case strings.HasPrefix(b, "→ "):
				style = st.Info // a tool call
			case strings.HasPrefix(b, "← "):
				style = st.Muted // its result
			}
			out = append(out, "  "+style.Render(b))
		}
		if more > 0 {
			out = append(out, "  "+st.Muted.Render(fmt.Sprintf("… %s (%s unfolds)", count(more, "more line"), s.sh.keys.Fold.Help().Key)))
		}
		out = append(out, "")
	}
	s.x.traceMemo = traceMemo{key: key, lines: out}
	return append([]string(nil), out...)
}

// count is "1 thing" or "n things" ("entry", "entries").
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return itoa(n) + " " + plural(what)
}

// plural is the plural of an English noun of this UI (tag, repository).
func plural(what string) string {
	if len(what) > 1 && what[len(what)-1] == 'y' && !strings.ContainsRune("aeiou", rune(what[len(what)-2])) {
		return what[:len(what)-1] + "ies"
	}
	return what + "s"
}

func (s *detailScreen) effectsLines(w int) []string {
	v, l := loaded[*effectsView](&s.x, loadEffects)
	if v == nil {
		return s.loadLines(l, "effects ledger", w)
	}
	st, led := s.sh.st, v.ledger
	if led.Merged != nil {
		return s.mergedLines(v)
	}
	h := led.Header
	out := []string{s.labelled("Ledger", st.Value.Render(fmt.Sprintf("%s · %s · verification %s", safe(led.Kind), count(len(led.Entries), "entry"), safe(orDash(h.VerificationMode)))))}
	secret := "no session secret"
	if h.SessionSecret {
		secret = "session secret present (never shown)"
	}
	hmacs := 0
	for _, e := range led.Entries {
		if e.HMAC {
			hmacs++
		}
	}
	if hmacs > 0 {
		secret += fmt.Sprintf(" · %d entries carry a session HMAC (never shown)", hmacs)
	}
	out = append(out, s.labelled("Secrets", st.Muted.Render(secret)), s.labelled("Summary", s.effectStyle(led).Render(led.Summary())))
	for _, warn := range led.Warnings {
		out = append(out, s.labelled("Warning", st.Warn.Render(safe(warn))))
	}
	if len(led.Entries) == 0 {
		return out
	}
	tool := 12
	for _, e := range led.Entries {
		tool = max(tool, min(ansi.StringWidth(safe(e.ToolID))+2, 24))
	}
	out = append(out, "", st.ColHeader.Render(fit("  TIME", 23, false)+fit("TOOL", tool, false)+fit("CLASS", 15, false)+"IDEMPOTENCY KEY"))
	for _, e := range led.Entries {
		mark, style := "  ", st.Value
		if e.Class.Outward() {
			mark, style = "! ", st.Effect(string(e.Class))
		}
		out = append(out, style.Render(mark+fit(safe(e.TS), 21, false))+style.Render(fit(safe(e.ToolID), tool, false))+
			st.Effect(string(e.Class)).Render(fit(safe(string(e.Class)), 15, false))+st.Muted.Render(safe(orDash(e.IdempotencyKey))))
	}
	return out
}

// effectStyle makes a ledger's summary stand out when it records
// irreversible effects.
func (s *detailScreen) effectStyle(l *model.Ledger) lipgloss.Style {
	switch {
	case l.Count(model.EffectIrreversible) > 0:
		return s.sh.st.Effect(string(model.EffectIrreversible))
	case l.Count(model.EffectNetworkOnly) > 0:
		return s.sh.st.Effect(string(model.EffectNetworkOnly))
	}
	return s.sh.st.Value
}

func (s *detailScreen) mergedLines(v *effectsView) []string {
	st := s.sh.st
	out := []string{
		s.labelled("Ledger", st.Value.Render(safe(v.ledger.Kind)+" (a merge)")),
		s.labelled("", st.Muted.Render("its effects are in the ledgers below")),
		"",
	}
	for _, p := range v.parents {
		who := p.holder
		if who == "" {
			who = "ledger " + p.digest.Short()
		}
		style := st.Muted
		if p.irreversible > 0 {
			style = st.Effect(string(model.EffectIrreversible))
		} else if p.irreversible == 0 {
			style = st.Value
		}
		out = append(out, s.labelled(p.label, st.Row.Bold(true).Render(who)),
			s.labelled("", style.Render(safe(p.summary))),
			s.labelled("", st.Muted.Render(string(p.digest))))
	}
	return out
}

func (s *detailScreen) envLines(w int) []string {
	v, l := loaded[*model.Env](&s.x, loadEnv)
	if v == nil {
		return s.loadLines(l, "environment", w)
	}
	st := s.sh.st
	out := []string{s.labelled("Cwd", st.Value.Render(safe(v.Cwd))), ""}
	if len(v.Vars) == 0 {
		return append(out, st.Muted.Render("no variables recorded"))
	}
	name := 8
	for _, e := range v.Vars {
		name = max(name, min(ansi.StringWidth(safe(e.Name))+2, 32))
	}
	out = append(out, st.ColHeader.Render(fit("NAME", name, false)+"VALUE"))
	for _, e := range v.Vars {
		val := st.Value.Render(safe(e.Value))
		switch {
		case e.Masked:
			val = st.Warn.Render(model.RedactedValue) + st.Muted.Render("  masked here: the name looks secret")
		case e.Value == model.RedactedValue:
			val = st.Muted.Render(model.RedactedValue + "  redacted by the writer")
		}
		out = append(out, st.Row.Render(fit(safe(e.Name), name, false))+val)
	}
	return out
}

func (s *detailScreen) cacheLines(w int) []string {
	v, l := loaded[*model.CacheSummary](&s.x, loadCache)
	if v == nil {
		return s.loadLines(l, "KV cache page manifest", w)
	}
	st := s.sh.st
	val := func(f string, a ...any) string { return st.Value.Render(fmt.Sprintf(f, a...)) }
	out := []string{s.labelled("Layout", val("%s", safe(v.Layout)))}
	if v.Empty {
		out = append(out, s.labelled("Cache", st.Warn.Render("no KV cache captured")))
		if v.Note != "" {
			out = append(out, s.labelled("Note", st.Muted.Render(safe(v.Note))))
		}
		return out
	}
	out = append(out,
		s.labelled("Geometry", val("%d layers × %d heads × %d head dim, %s", v.Layers, v.Heads, v.HeadDim, safe(v.Dtype))),
		s.labelled("Page size", val("%d tokens, %s per K or V page", v.PageSizeTokens, termtext.Bytes(v.PageBytes))),
		s.labelled("Pages", val("%d (%s of K and V)", v.Pages, termtext.Bytes(v.Bytes))),
		s.labelled("Tokens", val("%d held", v.TokensHeld)),
	)
	for i, q := range v.Sequences {
		label := ""
		if i == 0 {
			label = "Sequences"
		}
		out = append(out, s.labelled(label, val("%s: %s, %d tokens", safe(q.ID), count(q.Pages, "page"), q.Tokens)))
	}
	return append(out, "", st.Muted.Render("KV pages are never downloaded to browse an image; this is the page manifest."))
}

func (s *detailScreen) modelLines(w int) []string {
	v, l := loaded[*modelView](&s.x, loadModel)
	if v == nil {
		return s.loadLines(l, "model", w)
	}
	st, mi := s.sh.st, v.model
	out := []string{s.labelled("Base", st.Value.Render(safe(mi.BaseText))+st.Muted.Render("  "+mi.Base.Short()))}
	if mi.Diff == nil {
		out = append(out, s.labelled("Diff", st.Muted.Render(safe(mi.DiffError))))
	} else {
		out = append(out, s.labelled("Diff", st.Value.Render(fmt.Sprintf("%s (%s), %s", safe(orDash(mi.Diff.Kind)), safe(mi.Diff.Layout), count(len(mi.Diff.Adapters), "adapter")))))
		for _, a := range mi.Diff.Adapters {
			out = append(out, s.labelled("Adapter", st.Row.Bold(true).Render(safe(a.Name))+st.Muted.Render("  "+safe(a.Detail))))
		}
	}
	out = append(out, "")
	if v.procsErr != nil {
		return append(out, s.labelled("Processes", st.Error.Render("✗ "+errLine(v.procsErr))))
	}
	p := v.procs
	out = append(out, s.labelled("Processes", st.Value.Render(safe(orDash(p.Kind)))), s.labelled("Capture", st.Value.Render(safe(p.Description))))
	if p.Note != "" {
		out = append(out, s.labelled("Note", st.Muted.Render(safe(p.Note))))
	}
	for _, c := range p.Commands {
		out = append(out, s.labelled("Command", st.Row.Render(safe(c))))
	}
	return out
}

// effectsSummary is the Effects information line: what the ledger
// records, irreversible effects first.
func (s *detailScreen) effectsSummary() string {
	st := s.sh.st
	v, l := loaded[*effectsView](&s.x, loadEffects)
	switch {
	case v == nil && (l == nil || l.running):
		return st.Muted.Render("reading the ledger…")
	case v == nil && s.refused():
		return st.Muted.Render("not read: an image that would not pull is not opened")
	case v == nil:
		return st.Muted.Render("not read: " + errLine(l.err))
	case v.ledger.Merged == nil:
		return s.effectStyle(v.ledger).Render(v.ledger.Summary())
	}
	parts, irr := []string{}, 0
	for _, p := range v.parents[:2] {
		n := "?"
		if p.irreversible >= 0 {
			n, irr = itoa(p.irreversible), irr+p.irreversible
		}
		parts = append(parts, n)
	}
	style := st.Value
	if irr > 0 {
		style = st.Effect(string(model.EffectIrreversible))
	}
	return style.Render("merged ledger: its parents record " + strings.Join(parts, " + ") + " irreversible effects")
}

// cacheSummary is the Cache information line: the layout until the page
// manifest is read, then what the cache holds.
func (s *detailScreen) cacheSummary(m *model.Manifest) string {
	st := s.sh.st
	v, _ := loaded[*model.CacheSummary](&s.x, loadCache)
	switch {
	case v == nil:
		return st.Value.Render(safe(m.Cache.Layout)) + st.Muted.Render(" page manifest "+m.Cache.Manifest.Short())
	case v.Empty:
		return st.Warn.Render("no KV cache captured") + st.Muted.Render(" ("+safe(v.Layout)+")")
	}
	return st.Value.Render(fmt.Sprintf("%s, %s, %d tokens held", count(v.Pages, "page"), termtext.Bytes(v.Bytes), v.TokensHeld)) +
		st.Muted.Render(" ("+safe(v.Layout)+")")
}

// traceKeys fold and unfold long messages.
func (s *detailScreen) traceKeys() []binding {
	return []binding{bind(&s.sh.keys.Fold, groupView, true, func() tea.Cmd {
		s.x.unfold = !s.x.unfold
		s.redraw()
		return nil
	})}
}

// fileKeys move through the tree and preview the selected entry.
func (s *detailScreen) fileKeys() []binding {
	if s.data.fsTree == nil {
		return nil
	}
	return s.cursorKeys(&s.x.files, s.previewFile)
}

// minPane is the body height a pane keeps on a short terminal.
const minPane = 7

// infoDrops are the information lines that give way on a short terminal,
// first to last, so that the pane keeps minPane lines: what the panes
// show again (cache, dates, blob counts), then the rest of wrapped texts
// ("": their continuation lines).
var infoDrops = []string{"Cache", "Created", "Blobs", ""}

// compact drops information lines until the pane has room.
func (s *detailScreen) compact(lines []string) []string {
	room := s.sh.height - 4 - minPane
	if p := s.panes[s.pane]; p.header != nil && s.data != nil {
		room -= len(p.header(max(s.sh.width-2, 10)))
	}
	for _, label := range infoDrops {
		if len(lines) <= room {
			break
		}
		keep := lines[:0:0]
		for _, l := range lines {
			if infoLabel(l) != label {
				keep = append(keep, l)
			} else if label == "" && len(keep) > 0 && !strings.HasSuffix(ansi.Strip(keep[len(keep)-1]), "…") {
				// The text goes on: say so.
				keep[len(keep)-1] = ansi.Truncate(keep[len(keep)-1], s.sh.width-2, "") + s.sh.st.Muted.Render(" …")
			}
		}
		lines = keep
	}
	return lines
}

// infoLabel is the label of an information line ("" for the continuation
// of a wrapped text).
func infoLabel(l string) string {
	p := ansi.Strip(l)
	if len(p) < labelWidth {
		return strings.TrimSpace(p)
	}
	return strings.TrimSpace(p[:labelWidth])
}

// refused reports an image whose pull would be refused (its signature).
func (s *detailScreen) refused() bool {
	im := s.current()
	g, _ := transferGate(im.status, im.reason, s.sh.requireFor(im.ref))
	return g == gateRefuse
}

// traceKey is what the trace's layout depends on.
type traceKey struct {
	w      int
	unfold bool
	query  string
	trace  *model.Trace
	theme  string
}

// traceMemo is the trace's last layout.
type traceMemo struct {
	key   traceKey
	lines []string
}
