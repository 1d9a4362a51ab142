package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/registry"
)

// pageSize is how many entries one background listing call asks for.
const pageSize = 500

// reposScreen lists the repositories under a root, page by page.
type reposScreen struct {
	id      int
	sh      *shared
	root    string
	repos   []registry.RepoEntry
	next    string
	loading bool
	done    bool
	note    string
	err     error
	tbl     *table
	byName  bool
}

type reposPageMsg struct {
	id      int
	listing *registry.Listing
	err     error
}

func (m reposPageMsg) target() int { return m.id }

func newReposScreen(sh *shared, root string) *reposScreen {
	s := &reposScreen{id: nextScreenID(), sh: sh, root: root, byName: true}
	s.tbl = newTable(column{title: "REPOSITORY"}, column{title: "TAGS", width: 40})
	s.tbl.name = func(i int) string { return s.repos[i].Name }
	s.tbl.setSize(sh.width, sh.height)
	return s
}

func (s *reposScreen) ID() int         { return s.id }
func (s *reposScreen) Title() string   { return s.root }
func (s *reposScreen) Busy() bool      { return s.loading }
func (s *reposScreen) Capturing() bool { return s.tbl.filtering }

func (s *reposScreen) Init() tea.Cmd { return s.loadCmd() }

// loadCmd fetches the next page of repositories.
func (s *reposScreen) loadCmd() tea.Cmd {
	if s.loading || s.done {
		return nil
	}
	s.loading = true
	sh, id, root, after := s.sh, s.id, s.root, s.next
	return func() tea.Msg {
		reg, ref, err := sh.openRoot(root)
		if err != nil {
			return reposPageMsg{id: id, err: err}
		}
		l, err := reg.List(sh.ctx, ref, registry.ListOptions{Limit: pageSize, After: after})
		return reposPageMsg{id: id, listing: l, err: err}
	}
}

func (s *reposScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case reposPageMsg:
		s.loading = false
		if msg.err != nil {
			s.err, s.done = msg.err, true
			return s, statusErr(msg.err)
		}
		l := msg.listing
		if l.Image {
			// The root is one image: show it directly.
			s.done = true
			return s, emit(replaceScreenMsg{newDetailScreen(s.sh, s.root, s.root)})
		}
		s.repos = append(s.repos, l.Repos...)
		s.note = l.Note
		s.next = l.Next
		s.done = l.Next == ""
		s.tbl.setRows(len(s.repos))
		if !s.done && (s.tbl.nearEnd() || s.tbl.filter != "") {
			return s, s.loadCmd()
		}
		return s, nil
	case tea.WindowSizeMsg:
		s.tbl.setSize(s.sh.width, s.sh.height)
		return s, nil
	case tea.MouseClickMsg:
		if s.tbl.click(msg) {
			return s, s.open()
		}
		return s, nil
	case tea.KeyPressMsg:
		k := s.sh.keys
		if !s.tbl.filtering {
			switch {
			case key.Matches(msg, k.Open):
				return s, s.open()
			case key.Matches(msg, k.Sort):
				s.byName = !s.byName
				s.applySort()
				return s, statusf("sorted by %s", map[bool]string{true: "name", false: "tag count"}[s.byName])
			case key.Matches(msg, k.Refresh):
				s.repos, s.next, s.done, s.err = nil, "", false, nil
				s.tbl.setRows(0)
				return s, s.loadCmd()
			case key.Matches(msg, k.Push):
				return s, pushFlow(s.sh, s.root, false)
			}
		}
	}
	if s.tbl.update(msg, s.sh.keys) {
		if !s.done && (s.tbl.nearEnd() || s.tbl.filter != "") {
			return s, s.loadCmd()
		}
	}
	return s, nil
}

func (s *reposScreen) applySort() {
	if s.byName {
		s.tbl.less = nil // listings arrive sorted by name
	} else {
		s.tbl.less = func(a, b int) bool { return len(s.repos[a].Tags) > len(s.repos[b].Tags) }
	}
	s.tbl.setRows(len(s.repos))
}

func (s *reposScreen) open() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	return emit(pushScreenMsg{newTagsScreen(s.sh, s.repos[i].Ref, s.repos[i].Name)})
}

func (s *reposScreen) View() string {
	empty := ""
	switch {
	case s.err != nil:
		empty = "✗ " + errLine(s.err)
	case s.loading && len(s.repos) == 0:
		empty = "loading repositories…"
	case len(s.repos) == 0:
		empty = "no images under this root — push one with u, open a reference with o, or run `pf-registry demo`"
	}
	return s.tbl.render(s.sh, s.cell, empty) // a listing note shows in the status line
}

func (s *reposScreen) cell(i, col int) (string, lipgloss.Style) {
	st := s.sh.st
	r := s.repos[i]
	if col == 0 {
		return r.Name, st.Row
	}
	if len(r.Tags) == 0 {
		return "–", st.Muted
	}
	return itoa(len(r.Tags)) + ": " + strings.Join(r.Tags, ", "), st.Muted
}

func (s *reposScreen) ShortHelp() []keyBinding {
	k := s.sh.keys
	return []keyBinding{k.Open, k.Back, k.Filter, k.Sort, k.Push, k.Transfers, k.Help}
}

func (s *reposScreen) FullHelp() [][]keyBinding {
	k := s.sh.keys
	return [][]keyBinding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Open, k.Back, k.Filter, k.Sort, k.Refresh},
		{k.Push, k.OpenRef, k.Transfers, k.Help, k.Quit},
	}
}
