package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/registry"
)

// Where a root comes from.
const (
	originStore  = "store"
	originConfig = "config"
	originArgs   = "args"
)

type rootEntry struct {
	root   string // "" for the local store
	origin string
	scheme string
	state  string // checking, ok, error
	info   string
	image  bool // the root itself is one image
}

// registriesScreen lists the local store and every configured root.
type registriesScreen struct {
	id   int
	sh   *shared
	rows []rootEntry
	tbl  *table
}

type reachMsg struct {
	id    int
	root  string
	info  string
	image bool
	err   error
}

func (m reachMsg) target() int { return m.id }

func newRegistriesScreen(sh *shared) *registriesScreen {
	s := &registriesScreen{id: nextScreenID(), sh: sh}
	s.tbl = newTable(
		column{title: "ROOT"},
		column{title: "BACKEND", width: 10},
		column{title: "AUTH", width: 13},
		column{title: "SIGN KEY", width: 20},
		column{title: "STATUS", width: 28},
	)
	s.tbl.name = func(i int) string { return s.label(i) }
	s.reload()
	return s
}

// reload rebuilds the rows from store, command line and config.
func (s *registriesScreen) reload() {
	old := map[string]rootEntry{}
	for _, r := range s.rows {
		old[r.root] = r
	}
	rows := []rootEntry{{root: "", origin: originStore, scheme: "store", state: "checking"}}
	add := func(root, origin string) {
		for _, r := range rows {
			if r.root == root {
				return
			}
		}
		e := rootEntry{root: root, origin: origin, state: "checking"}
		if ref, err := registry.ParseRoot(root); err == nil {
			e.scheme = ref.Scheme
		} else {
			e.scheme, e.state, e.info = "?", "error", errLine(err)
		}
		if o, ok := old[root]; ok && o.state != "checking" {
			e.state, e.info, e.image = o.state, o.info, o.image
		}
		rows = append(rows, e)
	}
	for _, r := range s.sh.cliRoots {
		add(r, originArgs)
	}
	for _, r := range s.sh.cfg.Roots {
		add(r, originConfig)
	}
	if o, ok := old[""]; ok {
		rows[0] = o
	}
	s.rows = rows
	s.tbl.setRows(len(rows))
}

func (s *registriesScreen) label(i int) string {
	if s.rows[i].origin == originStore {
		return "local store " + tildePath(s.sh.storePath)
	}
	return s.rows[i].root
}

func (s *registriesScreen) ID() int         { return s.id }
func (s *registriesScreen) Title() string   { return "registries" }
func (s *registriesScreen) Capturing() bool { return s.tbl.filtering }
func (s *registriesScreen) Busy() bool {
	return slices.ContainsFunc(s.rows, func(r rootEntry) bool { return r.state == "checking" })
}

func (s *registriesScreen) Init() tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range s.rows {
		if r.state == "checking" {
			cmds = append(cmds, s.checkCmd(r.root))
		}
	}
	return tea.Batch(cmds...)
}

// checkCmd probes one root: a one-entry listing with a short timeout.
func (s *registriesScreen) checkCmd(root string) tea.Cmd {
	sh, id := s.sh, s.id
	return func() tea.Msg {
		if root == "" {
			st, err := sh.openStore()
			if err != nil {
				return reachMsg{id: id, root: root, err: err}
			}
			imgs, err := st.Images()
			return reachMsg{id: id, root: root, info: fmt.Sprintf("%d images", len(imgs)), err: err}
		}
		reg, ref, err := sh.openRoot(root)
		if err != nil {
			return reachMsg{id: id, root: root, err: err}
		}
		ctx, cancel := context.WithTimeout(sh.ctx, 8*time.Second)
		defer cancel()
		l, err := reg.List(ctx, ref, registry.ListOptions{Limit: 1})
		if err != nil {
			return reachMsg{id: id, root: root, err: err}
		}
		info := "reachable"
		if l.Image {
			info = "reachable (one image)"
		} else if l.Note != "" {
			info = "reachable: " + l.Note
		}
		return reachMsg{id: id, root: root, info: info, image: l.Image}
	}
}

func (s *registriesScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case reachMsg:
		for i := range s.rows {
			if s.rows[i].root != msg.root {
				continue
			}
			if msg.err != nil {
				s.rows[i].state, s.rows[i].info = "error", errLine(msg.err)
			} else {
				s.rows[i].state, s.rows[i].info, s.rows[i].image = "ok", msg.info, msg.image
			}
		}
		return s, nil
	case rootsChangedMsg:
		s.reload()
		return s, s.Init()
	case removeRootMsg:
		s.sh.cfg.RemoveRoot(msg.root)
		s.reload()
		return s, tea.Batch(saveConfigCmd(s.sh), statusf("removed %s", msg.root))
	case tea.WindowSizeMsg:
		s.tbl.setSize(s.sh.width, s.sh.height)
		return s, nil
	case tea.MouseClickMsg:
		return s, s.click(msg)
	case tea.KeyPressMsg:
		if s.tbl.update(msg, s.sh.keys) {
			return s, nil
		}
		k := s.sh.keys
		switch {
		case key.Matches(msg, k.Open):
			return s, s.open()
		case key.Matches(msg, k.AddRoot):
			return s, emit(dialogMsg{newInputDialog(s.sh, "Add a registry root",
				"e.g. file:///srv/images  oci://127.0.0.1:5000  s3://bucket/prefix  hf://user", "", s.addRoot)})
		case key.Matches(msg, k.RemoveRoot):
			return s, s.removeRoot()
		case key.Matches(msg, k.Refresh):
			for i := range s.rows {
				s.rows[i].state = "checking"
			}
			return s, s.Init()
		}
	}
	if s.tbl.update(msg, s.sh.keys) {
		return s, nil
	}
	return s, nil
}

func (s *registriesScreen) click(msg tea.MouseClickMsg) tea.Cmd {
	if s.tbl.click(msg) {
		return s.open()
	}
	return nil
}

func (s *registriesScreen) open() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	r := s.rows[i]
	if r.origin == originStore {
		return emit(pushScreenMsg{newLocalScreen(s.sh)})
	}
	if r.image {
		return emit(pushScreenMsg{newDetailScreen(s.sh, r.root, r.root)})
	}
	return emit(pushScreenMsg{newReposScreen(s.sh, r.root)})
}

func (s *registriesScreen) addRoot(root string) tea.Cmd {
	if err := s.sh.cfg.AddRoot(root); err != nil {
		return statusErr(err)
	}
	return tea.Batch(saveConfigCmd(s.sh), emit(rootsChangedMsg{}), statusf("added %s", root))
}

// removeRootMsg removes a confirmed root from the config.
type removeRootMsg struct{ root string }

// saveConfigCmd writes a copy of the config in the background.
func saveConfigCmd(sh *shared) tea.Cmd {
	c := *sh.cfg
	c.Roots = slices.Clone(c.Roots)
	path := sh.cfgPath
	return func() tea.Msg {
		if err := c.Save(path); err != nil {
			return statusMsg{text: errLine(fmt.Errorf("saving %s: %w", path, err)), err: true}
		}
		return nil
	}
}

func (s *registriesScreen) removeRoot() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	r := s.rows[i]
	switch r.origin {
	case originStore:
		return statusf("the local store is always listed")
	case originArgs:
		return statusf("%s was given on the command line; it is not in the config", r.root)
	}
	sh := s.sh
	return emit(dialogMsg{&confirmDialog{
		title: "Remove root",
		body:  "Remove " + r.root + " from " + tildePath(sh.cfgPath) + "? Nothing in the registry is deleted.",
		yes:   emit(removeRootMsg{r.root}),
	}})
}

func (s *registriesScreen) View() string {
	st := s.sh.st
	if len(s.rows) == 1 {
		// Only the store: say how to add a root.
		body := strings.Join(strings.SplitN(s.tbl.render(s.sh, s.cell, ""), "\n", 3)[:2], "\n")
		hint := st.Empty.Render("\n  No registry roots yet.\n\n" +
			"  press a to add one (file:///dir, oci://host:port, s3://bucket, hf://user, ipfs://)\n" +
			"  or run `pf-registry demo` to create and open a demo registry.")
		return clipLines(body+hint, s.sh.height)
	}
	return s.tbl.render(s.sh, s.cell, "")
}

func (s *registriesScreen) cell(i, col int) (string, lipgloss.Style) {
	st := s.sh.st
	r := s.rows[i]
	switch col {
	case 0:
		if r.origin == originStore {
			return "◆ local store " + tildePath(s.sh.storePath), st.Section
		}
		mark := "  "
		if r.origin == originArgs {
			mark = "› "
		}
		return mark + r.root, st.Row
	case 1:
		return r.scheme, st.Muted
	case 2:
		return authState(r.scheme), st.Muted
	case 3:
		return signKeyState(r.scheme), st.Muted
	case 4:
		switch r.state {
		case "checking":
			return "… checking", st.Muted
		case "ok":
			return "✓ " + r.info, st.OK
		}
		return "✗ " + r.info, st.Error
	}
	return "", st.Row
}

func (s *registriesScreen) ShortHelp() []keyBinding {
	k := s.sh.keys
	return []keyBinding{k.Open, k.AddRoot, k.RemoveRoot, k.Filter, k.Transfers, k.Help, k.Quit}
}

func (s *registriesScreen) FullHelp() [][]keyBinding {
	k := s.sh.keys
	return [][]keyBinding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Open, k.Filter, k.Refresh, k.AddRoot, k.RemoveRoot, k.OpenRef},
		{k.Transfers, k.Help, k.Quit},
	}
}
