package ui

import (
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/model"
	"pf-registry/store"
)

// localScreen lists the images of the local pf store.
type localScreen struct {
	listBase
	images  []store.Image
	loading bool
	err     error
}

type localListMsg struct {
	id     int
	images []store.Image
	err    error
}

func (m localListMsg) target() int { return m.id }

func newLocalScreen(sh *shared) *localScreen {
	s := &localScreen{listBase: newListBase(sh,
		column{title: "IMAGE ID", width: 14},
		column{title: "AGENT"},
		column{title: "CREATED", width: 16},
		column{title: "PARENTS", width: 8, right: true, drop: 1},
	)}
	s.tbl.name = func(i int) string {
		im := s.images[i]
		n := im.ID.Hex()
		if im.Manifest != nil {
			n += " " + im.Manifest.Agent.Kind
		}
		return n
	}
	s.filterCol = 1
	s.tbl.markable = true
	s.sorts = []sortOption{
		{name: "created (newest first)", col: 2, desc: true, less: func(a, b int) bool { return s.created(a) > s.created(b) }},
		{name: "image ID", col: 0},
	}
	s.applySort()
	return s
}

func (s *localScreen) created(i int) int64 {
	if m := s.images[i].Manifest; m != nil {
		return m.CreatedAt.UnixNano()
	}
	return 0
}

func (s *localScreen) Title() string { return "local store" }
func (s *localScreen) Busy() bool    { return s.loading }
func (s *localScreen) Prefill() string {
	return ""
}
func (s *localScreen) Hint() string {
	return s.countHint(len(s.images), "image", " in "+tildePath(s.sh.storePath))
}

func (s *localScreen) Init() tea.Cmd {
	s.loading = true
	sh, id := s.sh, s.id
	return func() tea.Msg {
		st, err := sh.openStore()
		if err != nil {
			return localListMsg{id: id, err: err}
		}
		imgs, err := st.Images()
		return localListMsg{id: id, images: imgs, err: err}
	}
}

func (s *localScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if cmd, ok := s.listUpdate(msg, s.open); ok {
		return s, cmd
	}
	switch msg := msg.(type) {
	case localListMsg:
		s.loading = false
		s.images, s.err = msg.images, msg.err
		s.tbl.setRows(len(s.images))
	case jobEndedMsg:
		if storeChanged(msg) {
			return s, s.Init()
		}
	}
	return s, nil
}

func (s *localScreen) Bindings() []binding {
	k := s.sh.keys
	sel := func(f func(store.Image) tea.Cmd) func() tea.Cmd { return onSelected(&s.listBase, &s.images, f) }
	return append(s.navBindings(),
		bind(&k.Open, groupView, true, s.open),
		bind(&k.Refresh, groupView, false, s.Init),
		bind(&k.Push, groupImage, true, sel(func(im store.Image) tea.Cmd { return pushImageFlow(s.sh, im) })).
			unless(s.sh.writeOff("a registry")),
		bind(&k.YankDigest, groupCopy, true, sel(func(im store.Image) tea.Cmd {
			s.sh.infof("copied image ID %s", im.ID.Short())
			return tea.SetClipboard(string(im.ID))
		})),
		bind(&k.Usage, groupView, true, func() tea.Cmd { return s.sh.push(newUsageScreen(s.sh)) }),
		bind(&k.Delete, groupManage, true, s.remove).unless(s.sh.writeOff("the local store "+tildePath(s.sh.storePath))),
	)
}

// remove removes the marked images (or the selected one) after a dry run.
func (s *localScreen) remove() tea.Cmd {
	var ids []model.Digest
	for _, i := range s.markedRows() {
		ids = append(ids, s.images[i].ID)
	}
	if len(ids) == 0 {
		return nil
	}
	s.tbl.marked = map[int]bool{}
	return removeLocalImages(s.sh, ids)
}

// open shows the selected image's detail.
func (s *localScreen) open() tea.Cmd {
	if i := s.tbl.selected(); i >= 0 {
		return s.sh.push(newLocalDetailScreen(s.sh, s.images[i].ID))
	}
	return nil
}

// pushLocalFlow is pushImageFlow for an image known by its ID.
func pushLocalFlow(sh *shared, id model.Digest) tea.Cmd {
	return waitFor(sh, "Reading the local store…", readLocalImages(sh), func(msg tea.Msg) tea.Cmd {
		m := msg.(localImagesMsg)
		if m.err != nil {
			sh.fail(m.err)
			return nil
		}
		for _, im := range m.images {
			if im.ID == id {
				return pushImageFlow(sh, im)
			}
		}
		sh.notify("image "+id.Short()+" is no longer in the local store", true)
		return nil
	})
}

func (s *localScreen) View() string {
	empty := ""
	switch {
	case s.err != nil:
		empty = "✗ " + errLine(s.err)
	case s.loading:
		empty = "reading the local store…"
	case len(s.images) == 0:
		empty = "the local store " + tildePath(s.sh.storePath) + " holds no images — pull one from a registry (" +
			s.sh.keys.Pull.Help().Key + " on a tag)"
	}
	return s.tbl.render(s.sh, s.cell, empty, 1)
}

func (s *localScreen) cell(i, col int) (string, lipgloss.Style) {
	st := s.sh.st
	im := s.images[i]
	switch col {
	case 0:
		return im.ID.Short(), st.Row
	case 1:
		if im.Manifest == nil {
			return "✗ " + errLine(im.Err), st.Error
		}
		a := im.Manifest.Agent
		return safe(a.Kind + " " + a.Version), st.Row
	case 2:
		if im.Manifest == nil {
			return "–", st.Muted
		}
		return shortTime(im.Manifest.CreatedAt), st.Muted
	case 3:
		if im.Manifest == nil {
			return "", st.Muted
		}
		return itoa(len(im.Manifest.Parents)), st.Muted
	}
	return "", st.Row
}

func (s *localScreen) holdsKeys() bool { return s.loading && len(s.images) == 0 && s.err == nil }
