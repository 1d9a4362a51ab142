package ui

import (
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// column of a table. Width 0 makes the column flexible: as wide as its
// content, up to the room left.
type column struct {
	title string
	width int
	right bool
	// drop > 0 lets a narrow terminal hide the column, highest first.
	drop int
	// cutLeft keeps the end of a text that does not fit (paths).
	cutLeft bool
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
	// sortCol is the column whose header shows the sort arrow (-1: none).
	sortCol  int
	sortDesc bool
	// sortTitle, when set, heads the sorted column instead of its title:
	// the column then shows what the rows are sorted by.
	sortTitle string
	// markable lists keep a two-cell gutter for marks.
	markable bool
	marked   map[int]bool
}

func newTable(cols ...column) *table { return &table{cols: cols, sortCol: -1, marked: map[int]bool{}} }

// setRows announces n data rows (after an append or reload) and rebuilds
// the view, keeping the cursor on the same data row when possible.
func (t *table) setRows(n int) {
	keep := t.selected()
	t.n = n
	for i := range t.marked {
		if i >= n {
			delete(t.marked, i)
		}
	}
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

func (t *table) filterShown() bool { return t.filtering || t.filter != "" }

// rowsHeight is the number of data lines on screen.
func (t *table) rowsHeight() int {
	h := t.height - 1 // header
	if t.filterShown() {
		h--
	}
	return max(h, 1)
}

func (t *table) clamp() {
	t.cursor = min(t.cursor, len(t.view)-1)
	t.cursor = max(t.cursor, 0)
	rh := t.rowsHeight()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+rh {
		t.offset = t.cursor - rh + 1
	}
	t.offset = max(min(t.offset, len(t.view)-rh), 0)
}

func (t *table) move(d int) {
	t.cursor += d
	t.clamp()
}

func (t *table) toEnd() {
	t.cursor = len(t.view) - 1
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

// clickRow maps a y coordinate relative to the table's top line to a view
// index, -1 when the click is not on a row.
func (t *table) clickRow(y int) int {
	first := 1
	if t.filterShown() {
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

// gutter is the mark column's width.
func (t *table) gutter() int {
	if t.markable {
		return 2
	}
	return 0
}

// layout picks the columns that fit and their widths: columns that may be
// dropped go first on narrow terminals, the flexible column is as wide as
// its content and the last column takes what is left.
func (t *table) layout(natural func(col int) int) (shown []int, widths []int) {
	avail := t.width - t.gutter()
	for i := range t.cols {
		shown = append(shown, i)
	}
	// Droppable columns give way until the flexible one shows its
	// content, or 32 cells of it.
	need := func() int {
		n := len(shown) - 1
		for _, c := range shown {
			n += max(t.cols[c].width, 0)
			if t.cols[c].width == 0 {
				n += min(natural(c)+1, 32)
			}
		}
		return n
	}
	for need() > avail {
		drop := -1
		for k, c := range shown {
			if t.cols[c].drop > 0 && (drop < 0 || t.cols[c].drop > t.cols[shown[drop]].drop) {
				drop = k
			}
		}
		if drop < 0 {
			break
		}
		shown = slices.Delete(shown, drop, drop+1)
	}
	widths = make([]int, len(shown))
	rest := avail - (len(shown) - 1)
	flex := -1
	for k, c := range shown {
		widths[k] = t.cols[c].width
		rest -= widths[k]
		if t.cols[c].width == 0 {
			flex = k
		}
	}
	if flex >= 0 {
		widths[flex] = max(min(natural(shown[flex])+1, rest), min(rest, 8), 1)
		rest -= widths[flex]
	}
	if last := len(shown) - 1; rest > 0 && last >= 0 && !t.cols[shown[last]].right {
		widths[last] += rest
	}
	return shown, widths
}

// naturalWidth is the widest cell of a column among the visible rows.
func (t *table) naturalWidth(cell cellFunc, col int) int {
	w := ansi.StringWidth(t.title(col))
	for _, i := range t.visible() {
		s, _ := cell(i, col)
		w = max(w, ansi.StringWidth(s))
	}
	return w
}

// title is a column header with the sort arrow on the sorted column.
func (t *table) title(col int) string {
	s := t.cols[col].title
	if col == t.sortCol {
		if t.sortTitle != "" {
			s = t.sortTitle
		}
		if t.sortDesc {
			return s + " ▼"
		}
		return s + " ▲"
	}
	return s
}

// render draws header, optional filter line and the visible rows, exactly
// t.height lines. filterCol is the column whose matches are highlighted.
func (t *table) render(sh *shared, cell cellFunc, empty string, filterCol int) string {
	st := sh.st
	cell = safeCells(cell)
	shown, ws := t.layout(func(c int) int { return t.naturalWidth(cell, c) })
	var b strings.Builder
	hdr := make([]string, len(shown))
	for k, c := range shown {
		hdr[k] = fit(t.title(c), ws[k], t.cols[c].right)
	}
	b.WriteString(st.ColHeader.Render(ansi.Truncate(strings.Repeat(" ", t.gutter())+strings.Join(hdr, " "), t.width, "")))
	lines := 1
	if t.filterShown() {
		b.WriteByte('\n')
		cur := ""
		if t.filtering {
			cur = "█"
		}
		info := st.Muted.Render("  " + itoa(len(t.view)) + "/" + itoa(t.n) + " match")
		b.WriteString(ansi.Truncate(st.Filter.Render("/"+t.filter+cur)+info, t.width, "…"))
		lines++
	}
	vis := t.visible()
	if len(vis) == 0 {
		if t.filter != "" && t.n > 0 {
			empty = "no matches for “" + t.filter + "” — esc clears the filter"
		}
		// Shown whole (wrapped): it may be an error.
		for _, l := range strings.Split(wrap(empty, t.width-2), "\n") {
			if empty == "" || lines >= t.height {
				break
			}
			b.WriteString("\n" + st.Empty.Render("  "+l))
			lines++
		}
	}
	for vi, i := range vis {
		b.WriteByte('\n')
		b.WriteString(t.row(sh, cell, i, t.offset+vi == t.cursor, shown, ws, filterCol))
		lines++
	}
	for ; lines < t.height; lines++ {
		b.WriteByte('\n')
	}
	return b.String()
}

// row renders one data row.
func (t *table) row(sh *shared, cell cellFunc, i int, sel bool, shown, ws []int, filterCol int) string {
	st := sh.st
	parts := make([]string, len(shown))
	for k, c := range shown {
		txt, style := cell(i, c)
		if t.cols[c].cutLeft && ansi.StringWidth(txt) > ws[k] && ws[k] > 4 {
			// Keep the two-cell mark, cut the path from its start.
			txt = ansi.Cut(txt, 0, 2) + fitLeft(ansi.Cut(txt, 2, ansi.StringWidth(txt)), ws[k]-2)
		}
		txt = fit(txt, ws[k], t.cols[c].right)
		if sel {
			style = st.Selected
		}
		if c == filterCol && t.filter != "" {
			parts[k] = highlight(txt, fuzzyPositions(t.filter, txt), style, style.Inherit(st.Match))
		} else {
			parts[k] = style.Render(txt)
		}
	}
	gutter := ""
	if t.markable {
		gutter = "  "
		if t.marked[i] {
			gutter = st.Mark.Render("● ")
		}
	}
	line := gutter + strings.Join(parts, " ")
	if sel {
		sep := st.Selected.Render(" ")
		line = gutter + strings.Join(parts, sep)
		if pad := t.width - ansi.StringWidth(line); pad > 0 {
			line += st.Selected.Render(strings.Repeat(" ", pad))
		}
	}
	return line
}

// safeCells makes every cell's text safe for the terminal: cells show
// names that registries and images chose (repositories, tags, agents).
func safeCells(cell cellFunc) cellFunc {
	return func(i, col int) (string, lipgloss.Style) {
		txt, style := cell(i, col)
		return safe(txt), style
	}
}

// highlight renders s with the runes at pos in hi, the rest in base.
func highlight(s string, pos []int, base, hi lipgloss.Style) string {
	if len(pos) == 0 {
		return base.Render(s)
	}
	var b strings.Builder
	var run []rune
	inHi := false
	flush := func() {
		if len(run) == 0 {
			return
		}
		if inHi {
			b.WriteString(hi.Render(string(run)))
		} else {
			b.WriteString(base.Render(string(run)))
		}
		run = run[:0]
	}
	p := 0
	for i, r := range []rune(s) {
		h := p < len(pos) && pos[p] == i
		if h {
			p++
		}
		if h != inHi {
			flush()
			inHi = h
		}
		run = append(run, r)
	}
	flush()
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

// fitLeft cuts s from the left, keeping its end (paths, references).
func fitLeft(s string, w int) string {
	if sw := ansi.StringWidth(s); sw > w && w > 1 {
		return "…" + ansi.TruncateLeft(s, sw-w+1, "")
	}
	return s
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
