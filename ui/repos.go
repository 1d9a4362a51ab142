package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/registry"
)

// pageSize is how many entries one background listing call asks for.
const pageSize = 500

// reposScreen lists the repositories under a root, page by page.
type reposScreen struct {
	listBase
	root    string
	repos   []registry.RepoEntry
	next    string
	loading bool
	done    bool
	note    string
	err     error
}

type reposPageMsg struct {
	id      int
	listing *registry.Listing
	err     error
}

func (m reposPageMsg) target() int { return m.id }

func newReposScreen(sh *shared, root string) *reposScreen {
	s := &reposScreen{root: root, listBase: newListBase(sh,
		column{title: "REPOSITORY"}, column{title: "TAGS", width: 20})}
	s.tbl.name = func(i int) string { return s.repos[i].Name }
	s.sorts = []sortOption{
		{name: "name", col: 0},
		{name: "tag count", col: 1, desc: true, less: func(a, b int) bool { return len(s.repos[a].Tags) > len(s.repos[b].Tags) }},
	}
	s.applySort()
	s.more = s.loadCmd
	s.complete = func() bool { return s.done }
	return s
}

func (s *reposScreen) Title() string   { return s.root }
func (s *reposScreen) Busy() bool      { return s.loading }
func (s *reposScreen) Prefill() string { return strings.TrimRight(s.root, "/") + "/" }
func (s *reposScreen) Init() tea.Cmd   { return s.loadCmd() }

func (s *reposScreen) Hint() string {
	h := s.countHint(len(s.repos), "repository", "")
	if s.note != "" {
		h = s.note + " · " + h
	}
	return h
}

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
	if cmd, ok := s.listUpdate(msg, s.open); ok {
		return s, cmd
	}
	if msg, ok := msg.(reposPageMsg); ok {
		return s.page(msg)
	}
	return s, nil
}

func (s *reposScreen) page(msg reposPageMsg) (screen, tea.Cmd) {
	s.loading = false
	if msg.err != nil {
		s.err, s.done = msg.err, true
		s.sh.fail(msg.err)
		return s, nil
	}
	l := msg.listing
	switch {
	case l.Image:
		// The root is one image: show it directly.
		s.done = true
		return s, emit(replaceScreenMsg{newDetailScreen(s.sh, image{ref: s.root, root: s.root}, s.root)})
	case len(s.repos) == 0 && l.Next == "" && len(l.Repos) == 1 && l.Repos[0].Name == ".":
		// The root is itself a repository: list its images.
		s.done = true
		return s, emit(replaceScreenMsg{newTagsScreen(s.sh, s.root, l.Repos[0].Ref, "")})
	}
	for _, r := range l.Repos {
		r.Name = safe(r.Name)
		for i, t := range r.Tags {
			r.Tags[i] = safe(t)
		}
		s.repos = append(s.repos, r)
	}
	s.note = safe(l.Note)
	s.next = l.Next
	s.done = l.Next == ""
	s.tbl.setRows(len(s.repos))
	return s, s.after()
}

func (s *reposScreen) Bindings() []binding {
	k := s.sh.keys
	return append(s.navBindings(),
		bind(&k.Open, groupView, true, s.open),
		bind(&k.Search, groupView, true, func() tea.Cmd {
			return s.sh.push(newSearchScreen(s.sh, s.root))
		}),
		bind(&k.ForkTree, groupView, true, func() tea.Cmd {
			return s.sh.push(newForkTreeScreen(s.sh, s.root, ""))
		}),
		bind(&k.Refresh, groupView, false, func() tea.Cmd {
			s.repos, s.next, s.done, s.err = nil, "", false, nil
			s.tbl.setRows(0)
			return s.loadCmd()
		}),
		bind(&k.Push, groupImage, false, func() tea.Cmd { return pushFlow(s.sh, s.root, false) }).
			unless(s.sh.writeOff(s.root)),
		bind(&k.Sync, groupManage, true, s.sync).unless(s.sh.writeOff("a mirror")),
	)
}

// sync mirrors the selected repository to the same name under another
// root.
func (s *reposScreen) sync() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	r := s.repos[i]
	rel := ""
	if root, err := registry.ParseRoot(s.root); err == nil {
		rel = registry.RelName(root, r)
	}
	return syncFlow(s.sh, r.Ref, s.root, rel)
}

func (s *reposScreen) open() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	return s.sh.push(newTagsScreen(s.sh, s.root, s.repos[i].Ref, s.repos[i].Name))
}

func (s *reposScreen) View() string {
	empty := ""
	switch {
	case s.err != nil:
		empty = "✗ " + errLine(s.err)
	case s.loading && len(s.repos) == 0:
		empty = "loading repositories…"
	case len(s.repos) == 0:
		empty = "no images under this root — push one with " + s.sh.keys.Push.Help().Key +
			", open a reference with " + s.sh.keys.OpenRef.Help().Key + ", or run `pf-registry demo`"
	}
	return s.tbl.render(s.sh, s.cell, empty, 0)
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

func (s *reposScreen) holdsKeys() bool { return s.loading && len(s.repos) == 0 && s.err == nil }
