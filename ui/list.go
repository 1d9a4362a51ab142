package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// sortOption is one way a list can be ordered.
type sortOption struct {
	name string
	col  int  // column whose header shows the arrow
	desc bool // the arrow points down
	less func(a, b int) bool
	// title heads the column while this sort is on ("" keeps its own).
	title string
}

// listBase is what the list screens (registries, repositories, tags, local
// store) share: the table with its filter, sorting, marks, paging to the
// real end, and the navigation bindings.
type listBase struct {
	screenBase
	tbl   *table
	sorts []sortOption
	sort  int
	// filterCol is the column whose filter matches are highlighted.
	filterCol int
	// more starts loading the next page; nil when the list comes whole.
	more func() tea.Cmd
	// complete reports that every page is loaded.
	complete func() bool
	// moved runs after the cursor or the view changed (to start work for
	// the rows now on screen).
	moved func() tea.Cmd
	// toEnd: G was pressed while pages remain; move to the end once all
	// are loaded.
	toEnd bool
}

func newListBase(sh *shared, cols ...column) listBase {
	l := listBase{screenBase: newBase(sh), tbl: newTable(cols...)}
	l.tbl.setSize(sh.width, sh.height)
	return l
}

func (l *listBase) Capturing() bool { return l.tbl.filtering }

func (l *listBase) ClearFilter() bool {
	if l.tbl.filter == "" && !l.tbl.filtering {
		return false
	}
	l.tbl.filtering = false
	l.tbl.setFilter("")
	return true
}

func (l *listBase) isComplete() bool { return l.complete == nil || l.complete() }

// after is called whenever the cursor or the rows changed: it fetches the
// next page when the cursor nears the end (or a filter or G needs every
// row) and lets the screen start work for the visible rows.
func (l *listBase) after() tea.Cmd {
	var cmds []tea.Cmd
	if l.toEnd && l.isComplete() {
		l.toEnd = false
		l.tbl.toEnd()
	}
	if !l.isComplete() && l.more != nil && (l.toEnd || l.tbl.nearEnd() || l.tbl.filter != "") {
		cmds = append(cmds, l.more())
	}
	if l.moved != nil {
		cmds = append(cmds, l.moved())
	}
	return tea.Batch(cmds...)
}

func (l *listBase) nav(f func()) func() tea.Cmd {
	return func() tea.Cmd {
		f()
		return l.after()
	}
}

// navBindings are the list's own keys.
func (l *listBase) navBindings() []binding {
	k, t := l.sh.keys, l.tbl
	bs := []binding{
		bind(&k.Up, groupMove, false, l.nav(func() { t.move(-1) })),
		bind(&k.Down, groupMove, false, l.nav(func() { t.move(1) })),
		bind(&k.PageUp, groupMove, false, l.nav(func() { t.move(-t.rowsHeight()) })),
		bind(&k.PageDown, groupMove, false, l.nav(func() { t.move(t.rowsHeight()) })),
		bind(&k.Top, groupMove, false, l.nav(func() { t.cursor = 0; t.clamp() })),
		bind(&k.Bottom, groupMove, false, l.bottom),
		bind(&k.Filter, groupView, true, func() tea.Cmd { t.filtering = true; t.clamp(); return nil }),
	}
	if len(l.sorts) > 1 {
		bs = append(bs, bind(&k.Sort, groupView, true, l.nextSort))
	}
	if t.markable {
		bs = append(bs, bind(&k.Mark, groupView, false, l.toggleMark))
	}
	return bs
}

// onSelected runs f on the item of the selected row (nothing on an empty
// list).
func onSelected[T any](l *listBase, items *[]T, f func(T) tea.Cmd) func() tea.Cmd {
	return func() tea.Cmd {
		if i := l.tbl.selected(); i >= 0 {
			return f((*items)[i])
		}
		return nil
	}
}

// bottom goes to the real end: with pages left it loads them all first.
func (l *listBase) bottom() tea.Cmd {
	if !l.isComplete() {
		l.toEnd = true
		l.sh.infof("loading every page to reach the end…")
	} else {
		l.tbl.toEnd()
	}
	return l.after()
}

func (l *listBase) nextSort() tea.Cmd {
	l.sort = (l.sort + 1) % len(l.sorts)
	l.applySort()
	l.sh.infof("sorted by %s", l.sorts[l.sort].name)
	return l.after()
}

func (l *listBase) applySort() {
	if len(l.sorts) == 0 {
		return
	}
	o := l.sorts[l.sort]
	l.tbl.less, l.tbl.sortCol, l.tbl.sortDesc, l.tbl.sortTitle = o.less, o.col, o.desc, o.title
	l.tbl.setRows(l.tbl.n)
}

func (l *listBase) toggleMark() tea.Cmd {
	i := l.tbl.selected()
	if i < 0 {
		return nil
	}
	if l.tbl.marked[i] {
		delete(l.tbl.marked, i)
	} else {
		l.tbl.marked[i] = true
	}
	l.tbl.move(1)
	return l.after()
}

// markedRows are the marked data rows in view order, or the selected row
// when none is marked.
func (l *listBase) markedRows() []int {
	var out []int
	for _, i := range l.tbl.view {
		if l.tbl.marked[i] {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		if i := l.tbl.selected(); i >= 0 {
			out = []int{i}
		}
	}
	return out
}

// filterKey edits the filter while it is typed: enter keeps it, esc drops
// it, arrows move the selection without leaving the filter.
func (l *listBase) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	k, t := l.sh.keys, l.tbl
	switch {
	case key.Matches(msg, k.Submit):
		t.filtering = false
		t.clamp()
		return nil
	case key.Matches(msg, k.Dismiss):
		l.ClearFilter()
		return l.after()
	case key.Matches(msg, k.ClearInput):
		t.setFilter("")
		return l.after()
	case msg.Text == "" && (key.Matches(msg, k.Up) || key.Matches(msg, k.Down) ||
		key.Matches(msg, k.PageUp) || key.Matches(msg, k.PageDown)):
		cmd, _ := dispatch(l.navBindings(), msg, l.sh)
		return cmd
	case key.Matches(msg, k.DeleteChar):
		if r := []rune(t.filter); len(r) > 0 {
			t.setFilter(string(r[:len(r)-1]))
		}
		return l.after()
	case msg.Text != "":
		t.setFilter(t.filter + msg.Text)
		return l.after()
	}
	return nil
}

// listUpdate handles what every list screen gets outside its bindings:
// filter typing, paste, size and mouse. open is called on a click on the
// selected row. handled is false for messages the screen must handle.
func (l *listBase) listUpdate(msg tea.Msg, open func() tea.Cmd) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if l.tbl.filtering {
			return l.filterKey(msg), true
		}
	case tea.PasteMsg:
		if l.tbl.filtering {
			l.tbl.setFilter(l.tbl.filter + strings.ReplaceAll(msg.Content, "\n", ""))
			return l.after(), true
		}
	case tea.WindowSizeMsg:
		l.tbl.setSize(l.sh.width, l.sh.height)
		return l.after(), true
	case tea.MouseClickMsg:
		if l.tbl.click(msg) {
			return open(), true
		}
		return l.after(), true
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			l.tbl.move(-3)
		case tea.MouseWheelDown:
			l.tbl.move(3)
		}
		return l.after(), true
	}
	return nil, false
}

// countHint is the status hint of a list: "12 tags (more load as you
// scroll)", with the active sort and the marks.
func (l *listBase) countHint(n int, noun, where string) string {
	s := count(n, noun) + where
	if !l.isComplete() {
		// "100+ tags": more are still to load.
		s = itoa(n) + "+ " + plural(noun) + where + " (more load as you scroll; G loads all)"
	}
	if len(l.sorts) > 1 {
		s += " · sort: " + l.sorts[l.sort].name
	}
	if m := len(l.tbl.marked); m > 0 {
		s += " · " + itoa(m) + " marked"
	}
	return s
}
