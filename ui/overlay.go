package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// overlay is whatever sits above the screen stack: a page that replaces
// the body (transfers, help, messages) or a dialog drawn over it. The root
// model keeps a stack of them; the top one gets the keys first.
type overlay interface {
	bindings() []binding
	// input takes a key no binding matched (the text of an input).
	input(msg tea.KeyPressMsg) tea.Cmd
	// update takes a message addressed to this overlay (overlayMsg).
	update(msg tea.Msg) tea.Cmd
	// render draws the overlay given the body beneath it.
	render(sh *shared, body string) string
	// modal overlays take every key; others let the app's keys through.
	modal() bool
	// crumb is the breadcrumb of a page ("" for dialogs).
	crumb() string
	hint() string
	closed() bool
}

// overlayMsg delivers a background result to the overlay that asked.
type overlayMsg struct {
	o   overlay
	msg tea.Msg
}

// overlayBase gives the defaults and the closed flag.
type overlayBase struct{ done bool }

func (o *overlayBase) closed() bool                  { return o.done }
func (o *overlayBase) close()                        { o.done = true }
func (o *overlayBase) input(tea.KeyPressMsg) tea.Cmd { return nil }
func (o *overlayBase) update(tea.Msg) tea.Cmd        { return nil }
func (o *overlayBase) modal() bool                   { return true }
func (o *overlayBase) crumb() string                 { return "" }
func (o *overlayBase) hint() string                  { return "" }

// dialogWidth is the text width of a dialog box on this terminal.
func dialogWidth(sh *shared, most int) int { return max(min(sh.width-6, most), 10) }

// placeDialog centres a dialog box in the body area.
func placeDialog(sh *shared, box string) string {
	return fitBlock(lipgloss.Place(sh.width, sh.height, lipgloss.Center, lipgloss.Center, box), sh.width, sh.height)
}

// wrap breaks plain text to w cells per line. ansi.Wrap can leave a line
// a little too wide (a break character after a space): such a line is
// broken again, hard.
func wrap(s string, w int) string {
	w = max(w, 1)
	lines := strings.Split(ansi.Wrap(s, w, " /"), "\n")
	for i, l := range lines {
		if l = strings.TrimRight(l, " "); ansi.StringWidth(l) > w {
			l = ansi.Hardwrap(l, w, true)
		}
		lines[i] = l
	}
	lines = strings.Split(strings.Join(lines, "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		lines[i-1], lines[i] = keepSlash(lines[i-1], lines[i], w)
	}
	return strings.Join(lines, "\n")
}

// keepSlash moves the last word of prev down when next starts with the
// "/" that ends it, so a path breaks after a slash ("notes/" then
// "todo.md"), never before one, where the word and the slash fit.
func keepSlash(prev, next string, w int) (string, string) {
	if !strings.HasPrefix(next, "/") {
		return prev, next
	}
	j := strings.LastIndexAny(prev, " /")
	tail := prev[j+1:]
	if j < 0 || tail == "" || ansi.StringWidth(tail)+ansi.StringWidth(next) > w {
		return prev, next
	}
	return strings.TrimRight(prev[:j+1], " "), tail + next
}

// textPage shows long text whole (an error, the message history),
// scrollable.
type textPage struct {
	overlayBase
	sh    *shared
	title string
	lines []string // styled, already wrapped
	off   int
}

func newTextPage(sh *shared, title string, lines []string) *textPage {
	return &textPage{sh: sh, title: title, lines: lines}
}

func (p *textPage) modal() bool   { return false }
func (p *textPage) crumb() string { return p.title }
func (p *textPage) hint() string  { return "esc closes" }

func (p *textPage) room() int { return max(p.sh.height-2, 1) }

func (p *textPage) scroll(d int) tea.Cmd {
	p.off = min(max(p.off+d, 0), max(len(p.lines)-p.room(), 0))
	return nil
}

func (p *textPage) bindings() []binding {
	k := p.sh.keys
	return []binding{
		bind(&k.Up, groupMove, false, func() tea.Cmd { return p.scroll(-1) }),
		bind(&k.Down, groupMove, false, func() tea.Cmd { return p.scroll(1) }),
		bind(&k.PageUp, groupMove, true, func() tea.Cmd { return p.scroll(-p.room()) }),
		bind(&k.PageDown, groupMove, true, func() tea.Cmd { return p.scroll(p.room()) }),
		bind(&k.Top, groupMove, false, func() tea.Cmd { p.off = 0; return nil }),
		bind(&k.Bottom, groupMove, false, func() tea.Cmd { return p.scroll(len(p.lines)) }),
		bind(&k.Back, groupView, true, func() tea.Cmd { p.close(); return nil }),
	}
}

func (p *textPage) render(sh *shared, _ string) string {
	out := []string{sh.st.Section.Render(p.title), ""}
	end := min(p.off+p.room(), len(p.lines))
	out = append(out, p.lines[min(p.off, end):end]...)
	return clipLines(strings.Join(out, "\n"), sh.height)
}

// notesPage is the message history, newest last, each message whole.
func notesPage(sh *shared) *textPage {
	w := sh.width - 2
	var lines []string
	for _, n := range sh.notes {
		style := sh.st.Row
		if n.err {
			style = sh.st.Error
		}
		stamp := sh.st.Muted.Render(n.at.Format("15:04:05") + " ")
		for i, l := range strings.Split(wrap(n.text, w-9), "\n") {
			if i > 0 {
				stamp = strings.Repeat(" ", 9)
			}
			lines = append(lines, stamp+style.Render(l))
		}
	}
	if len(lines) == 0 {
		lines = []string{sh.st.Empty.Render("  no messages yet")}
	}
	p := newTextPage(sh, "Messages", lines)
	p.scroll(len(lines)) // newest in view
	return p
}
