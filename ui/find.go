package ui

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// finder is the search inside a scrollable text (a detail pane, the
// diff): `/` types a query (case does not matter), every match is
// highlighted, n and N go from one matching line to the next.
type finder struct {
	query  string
	typing bool
	hits   []int // the lines that match
	cur    int   // index into hits
	re     *regexp.Regexp
}

// bindings are the search keys; redraw renders the text again (mark
// finds the hits) and jump shows the current hit.
func (f *finder) bindings(sh *shared, redraw func(), vp *viewport.Model) []binding {
	k := sh.keys
	step := func(d int) func() tea.Cmd {
		return func() tea.Cmd {
			if len(f.hits) == 0 {
				if f.query != "" {
					sh.infof("no match for “%s”", f.query)
				}
				return nil
			}
			f.cur = (f.cur + d + len(f.hits)) % len(f.hits)
			redraw()
			f.jump(vp)
			return nil
		}
	}
	search := k.Filter // the same key, named for what it does here
	search.SetHelp(search.Help().Key, "search")
	return []binding{
		bind(&search, groupView, true, func() tea.Cmd {
			f.typing = true
			return nil
		}),
		bind(&k.NextMatch, groupView, false, step(1)),
		bind(&k.PrevMatch, groupView, false, step(-1)),
	}
}

// typeKey edits the query while it is typed: enter keeps it, esc drops
// it. Every change searches again from the top of the view.
func (f *finder) typeKey(sh *shared, msg tea.KeyPressMsg, redraw func(), vp *viewport.Model) {
	k := sh.keys
	switch {
	case key.Matches(msg, k.Submit):
		f.typing = false
		return
	case key.Matches(msg, k.Dismiss):
		f.typing = false
		f.set("")
	case key.Matches(msg, k.ClearInput):
		f.set("")
	case key.Matches(msg, k.DeleteChar):
		if r := []rune(f.query); len(r) > 0 {
			f.set(string(r[:len(r)-1]))
		}
	case msg.Text != "":
		f.set(f.query + msg.Text)
	default:
		return
	}
	from := vp.YOffset()
	redraw()
	f.cur = 0
	for i, h := range f.hits {
		if h >= from {
			f.cur = i
			break
		}
	}
	redraw()
	f.jump(vp)
}

// paste adds pasted text to the query being typed.
func (f *finder) paste(s string) { f.set(f.query + strings.ReplaceAll(s, "\n", " ")) }

func (f *finder) set(q string) {
	f.query, f.hits, f.cur, f.re = q, nil, 0, nil
	if q != "" {
		f.re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(q))
	}
}

// matches reports whether text holds the query (panes unfold what does).
func (f *finder) matches(text string) bool { return f.re != nil && f.re.MatchString(text) }

// mark finds the query in lines and highlights it, the current hit's line
// selected; the lines that match lose their other styles.
func (f *finder) mark(sh *shared, lines []string) []string {
	f.hits = f.hits[:0]
	if f.re == nil {
		return lines
	}
	st := sh.st
	for i, l := range lines {
		p := ansi.Strip(l)
		loc := f.re.FindAllStringIndex(p, -1)
		if len(loc) == 0 {
			continue
		}
		base := st.Value
		if len(f.hits) == f.cur {
			base = st.Selected
		}
		f.hits = append(f.hits, i)
		lines[i] = highlight(p, runePositions(p, loc), base, base.Inherit(st.Match))
	}
	if f.cur >= len(f.hits) {
		f.cur = 0
	}
	return lines
}

// runePositions turns byte ranges into the rune indices they cover.
func runePositions(s string, loc [][]int) []int {
	var out []int
	for _, l := range loc {
		start := utf8.RuneCountInString(s[:l[0]])
		for i := range utf8.RuneCountInString(s[l[0]:l[1]]) {
			out = append(out, start+i)
		}
	}
	return out
}

// jump scrolls the current hit into view, a few lines from the top.
func (f *finder) jump(vp *viewport.Model) {
	if len(f.hits) == 0 {
		return
	}
	h := f.hits[f.cur]
	if h < vp.YOffset() || h >= vp.YOffset()+vp.Height() {
		vp.SetYOffset(max(h-2, 0))
	}
}

// status is the search's part of a status line or tab bar.
func (f *finder) status() string {
	switch {
	case f.typing:
		return "/" + f.query + "█"
	case f.query == "":
		return ""
	case len(f.hits) == 0:
		return "/" + f.query + ": no match"
	}
	return "/" + f.query + " " + itoa(f.cur+1) + "/" + itoa(len(f.hits))
}

// hint is the status line of a search: where it stands and its keys.
func (f *finder) hint(sh *shared) string {
	k := sh.keys
	switch {
	case f.typing:
		return f.status() + "  " + k.Submit.Help().Key + " keeps it, " + k.Dismiss.Help().Key + " drops it"
	case f.query == "":
		return ""
	}
	return f.status() + " · " + k.NextMatch.Help().Key + "/" + k.PrevMatch.Help().Key + " next/previous · " + k.Back.Help().Key + " clears"
}
