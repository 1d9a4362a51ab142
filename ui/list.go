package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

type keyBinding = key.Binding

// column of a table. Width 0 means "share the rest".
type column struct {
	title string
	width int
	right bool
}

// cellFunc returns the text and style of one cell of data row i.
type cellFunc func(i, col int) (string, lipgloss.Style)

// table is a virtualised list: it knows only how many rows exist, keeps an
// index view after filtering and sorting, and renders only the rows that
// fit, so it stays fast with tens of thousands of entries.
type table struct {
	cols   []column
	n      int                // data rows
	name   func(i int) string // filter key of row i
	less   func(a, b int) bool
	view   []int // data row indices shown, in order
	cursor int   // index into view
	offset int   // first view row on screen
	width  int
	height int // lines incl. header and filter line

	filter    string
	filtering bool // typing a filter
}

func newTable(cols ...column) *table { return &table{cols: cols} }

// setRows announces n data rows (after an append or reload) and rebuilds
// the view, keeping the cursor on the same data row when possible.
func (t *table) setRows(n int) {
	keep := t.selected()
	t.n = n
	t.rebuild()
	if keep >= 0 {
		if i := slices.Index(t.view, keep); i >= 0 {
			t.cursor = i
		}
	}
	t.clamp()
}

func (t *table) rebuild() {
	t.view = t.view[:0]
	if t.filter == "" || t.name == nil {
		for i := 0; i < t.n; i++ {
			t.view = append(t.view, i)
		}
		if t.less != nil {
			slices.SortStableFunc(t.view, func(a, b int) int {
				switch {
				case t.less(a, b):
					return -1
				case t.less(b, a):
					return 1
				}
				return 0
			})
		}
		return
	}
	type hit struct{ i, score int }
	hits := make([]hit, 0, 64)
	for i := 0; i < t.n; i++ {
		if s, ok := fuzzyScore(t.filter, t.name(i)); ok {
			hits = append(hits, hit{i, s})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return b.score - a.score })
	for _, h := range hits {
		t.view = append(t.view, h.i)
	}
}

// selected is the data row under the cursor, -1 when empty.
func (t *table) selected() int {
	if t.cursor < 0 || t.cursor >= len(t.view) {
		return -1
	}
	return t.view[t.cursor]
}

func (t *table) setSize(w, h int) {
	t.width, t.height = w, h
	t.clamp()
}

// rowsHeight is the number of data lines on screen.
func (t *table) rowsHeight() int {
	h := t.height - 1 // header
	if t.filtering || t.filter != "" {
		h--
	}
	return max(h, 1)
}

func (t *table) clamp() {
	if t.cursor >= len(t.view) {
		t.cursor = len(t.view) - 1
	}
	if t.cursor < 0 {
		t.cursor = 0
	}
	rh := t.rowsHeight()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+rh {
		t.offset = t.cursor - rh + 1
	}
	if maxOff := max(len(t.view)-rh, 0); t.offset > maxOff {
		t.offset = maxOff
	}
	if t.offset < 0 {
		t.offset = 0
	}
}

func (t *table) move(d int) {
	t.cursor += d
	t.clamp()
}

// nearEnd reports that the cursor is within a screen of the last row,
// which is when the next page is fetched.
func (t *table) nearEnd() bool { return t.cursor >= len(t.view)-t.rowsHeight()-1 }

// visible returns the data rows on screen.
func (t *table) visible() []int {
	end := min(t.offset+t.rowsHeight(), len(t.view))
	if t.offset >= end {
		return nil
	}
	return t.view[t.offset:end]
}

// update handles navigation, the filter line and the mouse. It reports
// whether the message was consumed.
func (t *table) update(msg tea.Msg, k *KeyMap) bool {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if t.filtering {
			switch msg.String() {
			case "enter", "down", "up":
				t.filtering = false
				if msg.String() != "enter" {
					return t.update(msg, k)
				}
			case "esc":
				t.filtering = false
				t.setFilter("")
			case "backspace":
				if r := []rune(t.filter); len(r) > 0 {
					t.setFilter(string(r[:len(r)-1]))
				}
			case "ctrl+u":
				t.setFilter("")
			default:
				if msg.Text != "" {
					t.setFilter(t.filter + msg.Text)
				}
			}
			return true
		}
		switch {
		case key.Matches(msg, k.Filter):
			t.filtering = true
			t.clamp()
		case key.Matches(msg, k.Up):
			t.move(-1)
		case key.Matches(msg, k.Down):
			t.move(1)
		case key.Matches(msg, k.PageUp):
			t.move(-t.rowsHeight())
		case key.Matches(msg, k.PageDown):
			t.move(t.rowsHeight())
		case key.Matches(msg, k.Top):
			t.cursor = 0
			t.clamp()
		case key.Matches(msg, k.Bottom):
			t.cursor = len(t.view) - 1
			t.clamp()
		case msg.String() == "esc" && t.filter != "":
			t.setFilter("")
		default:
			return false
		}
		return true
	case tea.PasteMsg:
		if !t.filtering {
			return false
		}
		t.setFilter(t.filter + strings.ReplaceAll(msg.Content, "\n", ""))
		return true
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			t.move(-3)
		case tea.MouseWheelDown:
			t.move(3)
		default:
			return false
		}
		return true
	}
	return false
}

// clickRow maps a y coordinate relative to the table's top line to a view
// index, -1 when the click is not on a row.
func (t *table) clickRow(y int) int {
	first := 1
	if t.filtering || t.filter != "" {
		first = 2
	}
	i := t.offset + y - first
	if y < first || i >= len(t.view) || i >= t.offset+t.rowsHeight() {
		return -1
	}
	return i
}

// click handles a left click on the table: it selects the row under the
// pointer and reports whether that row was already selected, which screens
// treat as "open" (click to select, click again to open).
func (t *table) click(msg tea.MouseClickMsg) (open bool) {
	if msg.Button != tea.MouseLeft {
		return false
	}
	i := t.clickRow(msg.Y)
	if i < 0 {
		return false
	}
	if i == t.cursor {
		return true
	}
	t.cursor = i
	t.clamp()
	return false
}

func (t *table) setFilter(f string) {
	t.filter = f
	t.rebuild()
	t.cursor = 0
	t.offset = 0
	t.clamp()
}

// widths resolves flexible columns for the current width.
func (t *table) widths() []int {
	w := make([]int, len(t.cols))
	fixed, flex := 0, 0
	for i, c := range t.cols {
		w[i] = c.width
		if c.width == 0 {
			flex++
		}
		fixed += c.width + 1
	}
	rest := t.width - fixed
	if flex > 0 {
		each := max(rest/flex, 8)
		for i, c := range t.cols {
			if c.width == 0 {
				w[i] = each
			}
		}
	}
	return w
}

// render draws header, optional filter line and the visible rows, exactly
// t.height lines.
func (t *table) render(sh *shared, cell cellFunc, empty string) string {
	st := sh.st
	ws := t.widths()
	var b strings.Builder
	b.Grow(t.width * (t.height + 1))
	hdr := make([]string, len(t.cols))
	for i, c := range t.cols {
		hdr[i] = fit(c.title, ws[i], c.right)
	}
	b.WriteString(st.ColHeader.Render(ansi.Truncate(strings.Join(hdr, " "), t.width, "")))
	lines := 1
	if t.filtering || t.filter != "" {
		b.WriteByte('\n')
		cur := ""
		if t.filtering {
			cur = "█"
		}
		info := st.Muted.Render("  " + itoa(len(t.view)) + "/" + itoa(t.n))
		b.WriteString(ansi.Truncate(st.Filter.Render("/"+t.filter+cur)+info, t.width, "…"))
		lines++
	}
	vis := t.visible()
	if len(vis) == 0 && empty != "" {
		b.WriteByte('\n')
		b.WriteString(st.Empty.Render(ansi.Truncate("  "+empty, t.width, "…")))
		lines++
	}
	parts := make([]string, len(t.cols))
	for vi, i := range vis {
		b.WriteByte('\n')
		sel := t.offset+vi == t.cursor
		for c := range t.cols {
			txt, style := cell(i, c)
			txt = fit(txt, ws[c], t.cols[c].right)
			if sel {
				parts[c] = txt
			} else {
				parts[c] = style.Render(txt)
			}
		}
		line := strings.Join(parts, " ")
		if sel {
			line = st.Selected.Render(fit(line, t.width, false))
		}
		b.WriteString(line)
		lines++
	}
	for ; lines < t.height; lines++ {
		b.WriteByte('\n')
	}
	return b.String()
}

// fit truncates or pads plain text to exactly w cells.
func fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	pad := strings.Repeat(" ", w-sw)
	if right {
		return pad + s
	}
	return s + pad
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
