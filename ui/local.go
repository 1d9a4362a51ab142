package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/model"
	"pf-registry/store"
)

// localScreen lists the images of the local pf store.
type localScreen struct {
	id      int
	sh      *shared
	images  []store.Image
	loading bool
	err     error
	tbl     *table
}

type localListMsg struct {
	id     int
	images []store.Image
	err    error
}

func (m localListMsg) target() int { return m.id }

func newLocalScreen(sh *shared) *localScreen {
	s := &localScreen{id: nextScreenID(), sh: sh}
	s.tbl = newTable(
		column{title: "IMAGE ID", width: 14},
		column{title: "AGENT"},
		column{title: "CREATED", width: 16},
		column{title: "PARENTS", width: 8, right: true},
	)
	s.tbl.name = func(i int) string {
		im := s.images[i]
		n := im.ID.Hex()
		if im.Manifest != nil {
			n += " " + im.Manifest.Agent.Kind
		}
		return n
	}
	s.tbl.setSize(sh.width, sh.height)
	return s
}

func (s *localScreen) ID() int         { return s.id }
func (s *localScreen) Title() string   { return "local store" }
func (s *localScreen) Busy() bool      { return s.loading }
func (s *localScreen) Capturing() bool { return s.tbl.filtering }

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
	switch msg := msg.(type) {
	case localListMsg:
		s.loading = false
		s.images, s.err = msg.images, msg.err
		s.tbl.setRows(len(s.images))
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
			case key.Matches(msg, k.Push):
				return s, s.push()
			case key.Matches(msg, k.Open):
				return s, s.open()
			case key.Matches(msg, k.Refresh):
				return s, s.Init()
			case key.Matches(msg, k.YankDigest), key.Matches(msg, k.YankRef):
				if i := s.tbl.selected(); i >= 0 {
					id := string(s.images[i].ID)
					return s, tea.Batch(tea.SetClipboard(id), statusf("copied image ID %s", s.images[i].ID.Short()))
				}
			}
		}
	}
	s.tbl.update(msg, s.sh.keys)
	return s, nil
}

// push asks for a root, then the destination, for the selected image.
// open shows the selected image's detail.
func (s *localScreen) open() tea.Cmd {
	if i := s.tbl.selected(); i >= 0 {
		return emit(pushScreenMsg{newLocalDetailScreen(s.sh, s.images[i].ID)})
	}
	return nil
}

func (s *localScreen) push() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	return pushImageFlow(s.sh, s.images[i])
}

// pushImageFlow: choose a root, then the destination, for one local image.
func pushImageFlow(sh *shared, im store.Image) tea.Cmd {
	if refused := sh.refuseWrite("a registry"); refused != nil {
		return refused
	}
	roots := sh.allRoots()
	if len(roots) == 0 {
		return statusf("no registry root configured: add one on the registries screen (a)")
	}
	return emit(dialogMsg{&pickDialog{title: "Push " + im.ID.Short() + " to which root?", items: roots,
		pick: func(i int) tea.Cmd { return pushDestDialog(sh, roots[i], im) }}})
}

// pushLocalFlow is pushImageFlow for an image known by its ID.
func pushLocalFlow(sh *shared, id model.Digest) tea.Cmd {
	return func() tea.Msg {
		st, err := sh.openStore()
		if err != nil {
			return statusMsg{text: errLine(err), err: true}
		}
		imgs, err := st.Images()
		if err != nil {
			return statusMsg{text: errLine(err), err: true}
		}
		for _, im := range imgs {
			if im.ID == id {
				return pushImageFlow(sh, im)()
			}
		}
		return statusMsg{text: "image " + id.Short() + " is no longer in the local store", err: true}
	}
}

func (s *localScreen) View() string {
	empty := ""
	switch {
	case s.err != nil:
		empty = "✗ " + errLine(s.err)
	case s.loading:
		empty = "reading the local store…"
	case len(s.images) == 0:
		empty = "the local store " + tildePath(s.sh.storePath) + " holds no images — pull one from a registry (p on a tag)"
	}
	return s.tbl.render(s.sh, s.cell, empty)
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
		return a.Kind + " " + a.Version, st.Row
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

func (s *localScreen) ShortHelp() []keyBinding {
	k := s.sh.keys
	return []keyBinding{k.Open, k.Push, k.Back, k.Filter, k.YankDigest, k.Transfers, k.Help}
}

func (s *localScreen) FullHelp() [][]keyBinding {
	k := s.sh.keys
	return [][]keyBinding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Open, k.Push, k.Filter, k.Refresh, k.YankDigest},
		{k.Back, k.Transfers, k.Help, k.Quit},
	}
}
