package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// Where a root comes from.
const (
	originStore  = "store"
	originConfig = "config"
	originArgs   = "args"
)

type rootEntry struct {
	root    string // "" for the local store
	origin  string
	scheme  string
	state   string // checking, ok, error
	info    string
	creds   string // how the backend authenticates (its own words)
	signKey string
	image   bool // the root itself is one image
}

// registriesScreen lists the local store and every configured root.
type registriesScreen struct {
	listBase
	rows []rootEntry
}

type reachMsg struct {
	id   int
	root string
	e    rootEntry
	err  error
}

func (m reachMsg) target() int { return m.id }

// removeRootMsg removes a confirmed root from the config.
type removeRootMsg struct{ root string }

func newRegistriesScreen(sh *shared) *registriesScreen {
	s := &registriesScreen{listBase: newListBase(sh,
		column{title: "ROOT", cutLeft: true},
		column{title: "BACKEND", width: 8, drop: 3},
		column{title: "CREDENTIALS", width: 14, drop: 1},
		column{title: "SIGNING KEY", width: 20, drop: 2},
		column{title: "STATUS", width: 22},
	)}
	s.tbl.name = func(i int) string { return s.label(i) }
	s.reload()
	if len(sh.cliRoots) > 0 {
		s.tbl.cursor = 1 // what the command line asked for, not the store
	}
	return s
}

// reload rebuilds the rows from store, command line and config.
func (s *registriesScreen) reload() {
	old := map[string]rootEntry{}
	for _, r := range s.rows {
		old[r.root] = r
	}
	rows := []rootEntry{{root: "", origin: originStore, scheme: "store", state: "checking", creds: "local files", signKey: "–"}}
	add := func(root, origin string) {
		if slices.ContainsFunc(rows, func(r rootEntry) bool { return r.root == root }) {
			return
		}
		e := rootEntry{root: root, origin: origin, state: "checking"}
		if ref, err := registry.ParseRoot(root); err == nil {
			e.scheme = ref.Scheme
		} else {
			e.scheme, e.state, e.info = "?", "error", errLine(err)
		}
		if o, ok := old[root]; ok && o.state != "checking" {
			o.origin = origin
			e = o
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

func (s *registriesScreen) Title() string { return "registries" }
func (s *registriesScreen) Busy() bool {
	return slices.ContainsFunc(s.rows, func(r rootEntry) bool { return r.state == "checking" })
}

func (s *registriesScreen) Prefill() string {
	if i := s.tbl.selected(); i > 0 {
		return s.rows[i].root
	}
	return ""
}

func (s *registriesScreen) Hint() string {
	if i := s.tbl.selected(); i >= 0 && s.rows[i].state == "error" {
		return "✗ " + s.rows[i].info
	}
	n := len(s.rows) - 1
	roots := "1 registry root"
	if n != 1 {
		roots = itoa(n) + " registry roots"
	}
	legend := "◆ local store"
	if len(s.sh.cliRoots) > 0 {
		legend += " · › from the command line"
	}
	return roots + " and the local store · " + legend + " · config " + tildePath(s.sh.cfgPath)
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

// recheck probes the rows that match again.
func (s *registriesScreen) recheck(match func(rootEntry) bool) tea.Cmd {
	var cmds []tea.Cmd
	for i, r := range s.rows {
		if match(r) {
			s.rows[i].state = "checking"
			cmds = append(cmds, s.checkCmd(r.root))
		}
	}
	return tea.Batch(cmds...)
}

// checkCmd probes one root: a one-entry listing with a short timeout, and
// asks the backend how it authenticates and signs.
func (s *registriesScreen) checkCmd(root string) tea.Cmd {
	sh, id := s.sh, s.id
	return func() tea.Msg {
		if root == "" {
			return reachMsg{id: id, root: root, e: storeEntry(sh), err: storeErr(sh)}
		}
		reg, ref, err := sh.openRoot(root)
		if err != nil {
			return reachMsg{id: id, root: root, err: err}
		}
		e := rootEntry{creds: registry.Credentials(reg), signKey: "default key (public)"}
		if k := reg.SignKey(); !k.Default {
			e.signKey = k.Source
		}
		ctx, cancel := context.WithTimeout(sh.ctx, 8*time.Second)
		defer cancel()
		l, err := reg.List(ctx, ref, registry.ListOptions{Limit: 1})
		if err != nil {
			return reachMsg{id: id, root: root, e: e, err: err}
		}
		e.info = "reachable"
		if l.Image {
			e.info, e.image = "one image", true
		} else if l.Note != "" {
			e.info = "reachable: " + safe(l.Note)
		}
		return reachMsg{id: id, root: root, e: e}
	}
}

// storeEntry describes the local store: its images and their size.
func storeEntry(sh *shared) rootEntry {
	e := rootEntry{creds: "local files", signKey: "–"}
	st, err := sh.openStore()
	if err != nil {
		return e
	}
	imgs, _ := st.Images()
	e.info = fmt.Sprintf("%d images", len(imgs))
	if len(imgs) == 1 {
		e.info = "1 image"
	}
	if n, err := st.Size(); err == nil && n > 0 {
		e.info += ", " + termtext.Bytes(n)
	}
	return e
}

func storeErr(sh *shared) error {
	st, err := sh.openStore()
	if err != nil {
		return err
	}
	_, err = st.Images()
	return err
}

func (s *registriesScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if cmd, ok := s.listUpdate(msg, s.open); ok {
		return s, cmd
	}
	switch msg := msg.(type) {
	case reachMsg:
		for i := range s.rows {
			if s.rows[i].root != msg.root {
				continue
			}
			r := &s.rows[i]
			r.creds, r.signKey, r.image = msg.e.creds, msg.e.signKey, msg.e.image
			if msg.err != nil {
				r.state, r.info = "error", errLine(msg.err)
			} else {
				r.state, r.info = "ok", msg.e.info
			}
		}
	case rootsChangedMsg:
		s.reload()
		return s, s.Init()
	case removeRootMsg:
		s.sh.cfg.RemoveRoot(msg.root)
		s.reload()
		s.sh.infof("removed %s", msg.root)
		return s, saveConfigCmd(s.sh)
	case jobEndedMsg:
		return s, s.recheck(func(r rootEntry) bool {
			return (r.root == "" && storeChanged(msg)) || (r.root != "" && msg.wrote(r.root))
		})
	}
	return s, nil
}

func (s *registriesScreen) Bindings() []binding {
	k := s.sh.keys
	return append(s.navBindings(),
		bind(&k.Open, groupView, true, s.open),
		bind(&k.AddRoot, groupView, true, s.addRoot),
		bind(&k.RemoveRoot, groupView, true, s.removeRoot),
		bind(&k.Refresh, groupView, false, func() tea.Cmd { return s.recheck(func(rootEntry) bool { return true }) }),
		bind(&k.Sync, groupManage, false, s.sync).unless(s.sh.writeOff("a mirror")),
		bind(&k.Keys, groupManage, true, func() tea.Cmd { return s.sh.push(newKeysScreen(s.sh)) }),
	)
}

// sync mirrors the selected root, every repository of it, to another.
func (s *registriesScreen) sync() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	r := s.rows[i]
	if r.origin == originStore {
		s.sh.infof("the local store is not mirrored: push (%s) its images to a root", s.sh.keys.Push.Help().Key)
		return nil
	}
	return syncFlow(s.sh, r.root, r.root, "")
}

func (s *registriesScreen) open() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	r := s.rows[i]
	switch {
	case r.origin == originStore:
		return s.sh.push(newLocalScreen(s.sh))
	case r.image:
		return s.sh.push(newDetailScreen(s.sh, image{ref: r.root, root: r.root}, r.root))
	}
	return s.sh.push(newReposScreen(s.sh, r.root))
}

func (s *registriesScreen) addRoot() tea.Cmd {
	ask(s.sh, "Add a registry root",
		"e.g. file:///srv/images  oci://127.0.0.1:5000  s3://bucket/prefix  hf://user  ipfs://", "",
		func(root string) (tea.Cmd, error) {
			if err := s.sh.cfg.AddRoot(root); err != nil {
				return nil, err
			}
			s.sh.infof("added %s", root)
			return tea.Batch(saveConfigCmd(s.sh), emit(rootsChangedMsg{})), nil
		})
	return nil
}

// saveConfigCmd writes a copy of the config in the background.
func saveConfigCmd(sh *shared) tea.Cmd {
	c := *sh.cfg
	c.Roots = slices.Clone(c.Roots)
	path := sh.cfgPath
	return func() tea.Msg {
		if err := c.Save(path); err != nil {
			return errMsg(fmt.Errorf("saving %s: %w", path, err))
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
		s.sh.infof("the local store is always listed")
		return nil
	case originArgs:
		// `pf-registry demo` both names its root and remembers it.
		if !slices.Contains(s.sh.cfg.Roots, r.root) {
			s.sh.infof("%s was given on the command line; it is not in the config", r.root)
			return nil
		}
	}
	return confirm(s.sh, "Remove root",
		"Remove "+r.root+" from "+tildePath(s.sh.cfgPath)+"? Nothing in the registry is deleted.", "Remove",
		func() tea.Cmd { return emit(removeRootMsg{r.root}) })
}

func (s *registriesScreen) View() string {
	st := s.sh.st
	if len(s.rows) == 1 {
		// Only the store: say how to add a root.
		body := strings.Join(strings.SplitN(s.tbl.render(s.sh, s.cell, "", 0), "\n", 3)[:2], "\n")
		text := "No registry roots yet.\n\n" +
			"Press " + s.sh.keys.AddRoot.Help().Key + " to add one (file:///dir, oci://host:port, s3://bucket, hf://user, ipfs://), " +
			"or run `pf-registry demo` to create and open a demo registry."
		// Line by line, wrapped to the screen: one block would be padded
		// to its widest line and cut at the edge.
		hint := ""
		for _, l := range strings.Split(wrap(text, max(s.sh.width-4, 20)), "\n") {
			hint += "\n  " + st.Empty.Render(l)
		}
		return clipLines(body+"\n"+hint, s.sh.height)
	}
	return s.tbl.render(s.sh, s.cell, "", 0)
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
		return orDash(r.creds), st.Muted
	case 3:
		return orDash(r.signKey), st.Muted
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

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
