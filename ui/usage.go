package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
)

// usageScreen is what the local store's images occupy: per image the bytes
// only it reaches (removing it frees them) and those it shares with
// another, and what a gc would free. From there images are removed
// (ctrl+d) and garbage collected.
type usageScreen struct {
	listBase
	u       *registry.Usage
	loading bool
	err     error
}

type usageMsg struct {
	id  int
	u   *registry.Usage
	err error
}

func (m usageMsg) target() int { return m.id }

// usageLines are the summary lines above the table.
const usageLines = 2

func newUsageScreen(sh *shared) *usageScreen {
	s := &usageScreen{listBase: newListBase(sh,
		column{title: "IMAGE ID", width: 14},
		column{title: "CREATED", width: 16, drop: 2},
		column{title: "BLOBS", width: 6, right: true, drop: 1},
		column{title: "UNIQUE", width: 10, right: true},
		column{title: "SHARED", width: 10, right: true},
		column{title: "NOTE"},
	)}
	s.tbl.markable = true
	s.tbl.setSize(sh.width, sh.height-usageLines)
	s.tbl.name = func(i int) string { return s.u.Images[i].ImageID.Hex() }
	im := func(i int) registry.ImageUsage { return s.u.Images[i] }
	s.sorts = []sortOption{
		{name: "unique bytes (largest first)", col: 3, desc: true, less: func(a, b int) bool { return im(a).Unique > im(b).Unique }},
		{name: "shared bytes (largest first)", col: 4, desc: true, less: func(a, b int) bool { return im(a).Shared > im(b).Shared }},
		{name: "created (newest first)", col: 1, desc: true, less: func(a, b int) bool { return im(a).Created.After(im(b).Created) }},
	}
	s.applySort()
	return s
}

func (s *usageScreen) Title() string { return "usage" }
func (s *usageScreen) Busy() bool    { return s.loading }

func (s *usageScreen) Hint() string {
	k := s.sh.keys
	return s.countHint(s.rows(), "image", "") + " · " + k.Delete.Help().Key + " removes images, " + k.GC.Help().Key +
		" collects what no image reaches (each after a dry run)"
}

func (s *usageScreen) rows() int {
	if s.u == nil {
		return 0
	}
	return len(s.u.Images)
}

func (s *usageScreen) Init() tea.Cmd {
	s.loading = true
	sh, id, cfg := s.sh, s.id, s.sh.regCfg
	return func() tea.Msg {
		l, err := localManager(sh, cfg)
		if err != nil {
			return usageMsg{id: id, err: err}
		}
		u, err := l.Usage(sh.ctx)
		return usageMsg{id: id, u: u, err: err}
	}
}

func (s *usageScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if _, ok := msg.(tea.WindowSizeMsg); ok {
		s.tbl.setSize(s.sh.width, s.sh.height-usageLines)
		return s, s.after()
	}
	if cmd, ok := s.listUpdate(msg, s.open); ok {
		return s, cmd
	}
	switch msg := msg.(type) {
	case usageMsg:
		s.loading = false
		s.err = msg.err
		if msg.err == nil {
			s.u = msg.u
			s.tbl.marked = map[int]bool{}
		}
		s.tbl.setRows(s.rows())
	case jobEndedMsg:
		if storeChanged(msg) {
			return s, s.Init()
		}
	}
	return s, nil
}

func (s *usageScreen) Bindings() []binding {
	k := s.sh.keys
	off := s.sh.writeOff("the local store " + tildePath(s.sh.storePath))
	return append(s.navBindings(),
		bind(&k.Open, groupView, true, s.open),
		bind(&k.Refresh, groupView, false, s.Init),
		bind(&k.Delete, groupManage, true, func() tea.Cmd {
			var ids []model.Digest
			for _, i := range s.markedRows() {
				ids = append(ids, s.u.Images[i].ImageID)
			}
			if len(ids) == 0 {
				return nil
			}
			s.tbl.marked = map[int]bool{}
			return removeLocalImages(s.sh, ids)
		}).unless(off),
		bind(&k.GC, groupManage, true, func() tea.Cmd { return collectGarbage(s.sh) }).unless(off),
	)
}

func (s *usageScreen) open() tea.Cmd {
	if i := s.tbl.selected(); i >= 0 {
		return s.sh.push(newLocalDetailScreen(s.sh, s.u.Images[i].ImageID))
	}
	return nil
}

// summary is the store's total and what a gc would free.
func (s *usageScreen) summary() string {
	st := s.sh.st
	if s.u == nil {
		return ""
	}
	u := s.u
	line := st.Label.Render("Store ") + st.Value.Render(fmt.Sprintf("%s in %s", termtext.Bytes(u.Total), count(u.Blobs, "blob"))) +
		st.Label.Render("  ·  reclaimable by gc ") + st.Value.Render(fmt.Sprintf("%s (%s)", termtext.Bytes(u.Reclaimable), count(u.ReclaimableBlobs, "blob")))
	if u.Note != "" {
		line += "  " + st.Warn.Render(safe(u.Note))
	}
	return line
}

func (s *usageScreen) View() string {
	empty := ""
	switch {
	case s.err != nil:
		empty = "✗ " + errLine(s.err)
	case s.loading && s.u == nil:
		empty = "walking every image of the local store…"
	case s.rows() == 0:
		empty = "the local store " + tildePath(s.sh.storePath) + " holds no images"
	}
	head := fitBlock(s.summary(), s.sh.width, 1)
	return head + "\n\n" + s.tbl.render(s.sh, s.cell, empty, 0)
}

func (s *usageScreen) cell(i, col int) (string, lipgloss.Style) {
	st := s.sh.st
	u := s.u.Images[i]
	switch col {
	case 0:
		return u.ImageID.Short(), st.Row
	case 1:
		return shortTime(u.Created), st.Muted
	case 2:
		return itoa(u.Blobs), st.Muted
	case 3:
		return termtext.Bytes(u.Unique), st.Row
	case 4:
		return termtext.Bytes(u.Shared), st.Muted
	case 5:
		switch {
		case u.Error != "":
			return "✗ " + safe(u.Error), st.Error
		case u.Missing > 0:
			return count(u.Missing, "blob") + " missing", st.Warn
		}
	}
	return "", st.Muted
}
