package ui

import (
	"context"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
)

// inspectConcurrency bounds background inspections per tag list.
const inspectConcurrency = 4

// verdictInfo is what the background inspection learned about one tag.
type verdictInfo struct {
	status  string
	reason  string
	imageID model.Digest
}

// tagsScreen lists the images of one repository with their signature
// verdicts, filled in by background inspections.
type tagsScreen struct {
	id       int
	sh       *shared
	repoRef  string
	repoName string
	tags     []registry.TagEntry
	verdicts map[string]verdictInfo // by tag ref
	asked    map[string]bool
	inFlight int
	scan     int // background inspection pass: next data row
	next     string
	loading  bool
	done     bool
	err      error
	tbl      *table
	byDate   bool
	ctx      context.Context
	cancel   context.CancelFunc
}

type tagsPageMsg struct {
	id   int
	list *registry.TagList
	err  error
}

type verdictMsg struct {
	id  int
	ref string
	v   verdictInfo
}

func (m tagsPageMsg) target() int { return m.id }
func (m verdictMsg) target() int  { return m.id }

func newTagsScreen(sh *shared, repoRef, repoName string) *tagsScreen {
	ctx, cancel := context.WithCancel(sh.ctx)
	s := &tagsScreen{id: nextScreenID(), sh: sh, repoRef: repoRef, repoName: repoName,
		verdicts: map[string]verdictInfo{}, asked: map[string]bool{}, ctx: ctx, cancel: cancel}
	s.tbl = newTable(
		column{title: "TAG"},
		column{title: "UPDATED", width: 16},
		column{title: "SIGNATURE", width: 13},
		column{title: "IMAGE ID", width: 12},
	)
	s.tbl.name = func(i int) string { return s.tags[i].Name }
	s.tbl.setSize(sh.width, sh.height)
	return s
}

func (s *tagsScreen) ID() int { return s.id }
func (s *tagsScreen) Title() string {
	if s.repoName != "" {
		return s.repoName
	}
	return s.repoRef
}
func (s *tagsScreen) Busy() bool      { return s.loading || s.inFlight > 0 }
func (s *tagsScreen) Capturing() bool { return s.tbl.filtering }
func (s *tagsScreen) close()          { s.cancel() }

func (s *tagsScreen) Init() tea.Cmd { return s.loadCmd() }

func (s *tagsScreen) loadCmd() tea.Cmd {
	if s.loading || s.done {
		return nil
	}
	s.loading = true
	sh, id, repo, after, ctx := s.sh, s.id, s.repoRef, s.next, s.ctx
	return func() tea.Msg {
		reg, ref, err := sh.openRoot(repo)
		if err != nil {
			return tagsPageMsg{id: id, err: err}
		}
		l, err := reg.Tags(ctx, ref, registry.ListOptions{Limit: pageSize, After: after})
		return tagsPageMsg{id: id, list: l, err: err}
	}
}

// inspectCmd reads manifest and signature of one tag (no blobs).
func (s *tagsScreen) inspectCmd(tagRef string) tea.Cmd {
	sh, id, ctx := s.sh, s.id, s.ctx
	return func() tea.Msg {
		v := verdictInfo{}
		reg, ref, err := sh.openRef(tagRef)
		if err == nil {
			var in *registry.Inspection
			in, err = reg.Inspect(ctx, ref)
			if err == nil {
				v.status, v.reason, v.imageID = string(in.Signature.Status), in.Signature.Reason, in.ImageID
				if in.ManifestError != "" && in.Signature.OK() {
					v.status, v.reason = termtext.VerdictInvalid, in.ManifestError
				}
			}
		}
		if err != nil {
			v.status, v.reason = termtext.VerdictError, errLine(err)
		}
		return verdictMsg{id: id, ref: tagRef, v: v}
	}
}

// pump starts inspections up to the concurrency bound, rows on screen
// first, then the rest of the list in display order.
func (s *tagsScreen) pump() tea.Cmd {
	var cmds []tea.Cmd
	try := func(i int) bool {
		if s.inFlight >= inspectConcurrency {
			return false
		}
		t := s.tags[i]
		if t.Foreign || s.asked[t.Ref] {
			return true
		}
		s.asked[t.Ref] = true
		s.inFlight++
		cmds = append(cmds, s.inspectCmd(t.Ref))
		return true
	}
	for _, i := range s.tbl.visible() {
		if !try(i) {
			break
		}
	}
	// The rest in list order; scan remembers where the pass stands, so a
	// long list costs O(n) in total, not per verdict.
	for ; s.scan < len(s.tags); s.scan++ {
		if !try(s.scan) {
			break
		}
	}
	return tea.Batch(cmds...)
}

func (s *tagsScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tagsPageMsg:
		s.loading = false
		if msg.err != nil {
			s.err, s.done = msg.err, true
			return s, statusErr(msg.err)
		}
		s.tags = append(s.tags, msg.list.Tags...)
		s.next = msg.list.Next
		s.done = s.next == ""
		s.tbl.setRows(len(s.tags))
		cmds := []tea.Cmd{s.pump()}
		if !s.done && (s.tbl.nearEnd() || s.tbl.filter != "") {
			cmds = append(cmds, s.loadCmd())
		}
		return s, tea.Batch(cmds...)
	case verdictMsg:
		s.inFlight--
		s.verdicts[msg.ref] = msg.v
		return s, s.pump()
	case tea.WindowSizeMsg:
		s.tbl.setSize(s.sh.width, s.sh.height)
		return s, s.pump()
	case tea.MouseClickMsg:
		if s.tbl.click(msg) {
			return s, s.open()
		}
		return s, nil
	case tea.KeyPressMsg:
		k := s.sh.keys
		if !s.tbl.filtering {
			t, ok := s.current()
			switch {
			case key.Matches(msg, k.Open):
				return s, s.open()
			case key.Matches(msg, k.Sort):
				s.byDate = !s.byDate
				s.applySort()
				return s, tea.Batch(s.pump(), statusf("sorted by %s", map[bool]string{true: "date (newest first)", false: "name"}[s.byDate]))
			case key.Matches(msg, k.Refresh):
				s.tags, s.next, s.done, s.err, s.scan = nil, "", false, nil, 0
				s.verdicts, s.asked = map[string]verdictInfo{}, map[string]bool{}
				s.tbl.setRows(0)
				return s, s.loadCmd()
			case key.Matches(msg, k.Push):
				return s, pushFlow(s.sh, s.repoRef, true)
			}
			if ok {
				v := s.verdicts[t.Ref]
				if cmd, handled := imageAction(s.sh, msg, t.Ref, v.status, v.imageID); handled {
					return s, cmd
				}
			}
		}
	}
	if s.tbl.update(msg, s.sh.keys) {
		cmds := []tea.Cmd{s.pump()}
		if !s.done && (s.tbl.nearEnd() || s.tbl.filter != "") {
			cmds = append(cmds, s.loadCmd())
		}
		return s, tea.Batch(cmds...)
	}
	return s, nil
}

func (s *tagsScreen) current() (registry.TagEntry, bool) {
	i := s.tbl.selected()
	if i < 0 {
		return registry.TagEntry{}, false
	}
	return s.tags[i], true
}

func (s *tagsScreen) applySort() {
	if s.byDate {
		s.tbl.less = func(a, b int) bool { return s.tags[a].Updated.After(s.tags[b].Updated) }
	} else {
		s.tbl.less = nil
	}
	s.tbl.setRows(len(s.tags))
}

func (s *tagsScreen) open() tea.Cmd {
	t, ok := s.current()
	if !ok {
		return nil
	}
	return emit(pushScreenMsg{newDetailScreen(s.sh, t.Ref, t.Name)})
}

func (s *tagsScreen) View() string {
	empty := ""
	switch {
	case s.err != nil:
		empty = "✗ " + errLine(s.err)
	case s.loading && len(s.tags) == 0:
		empty = "loading tags…"
	case len(s.tags) == 0:
		empty = "no images in this repository"
	}
	return s.tbl.render(s.sh, s.cell, empty)
}

func (s *tagsScreen) cell(i, col int) (string, lipgloss.Style) {
	st := s.sh.st
	t := s.tags[i]
	switch col {
	case 0:
		return t.Name, st.Row
	case 1:
		return shortTime(t.Updated), st.Muted
	case 2:
		status := termtext.VerdictPending
		if t.Foreign {
			status = termtext.VerdictForeign
		} else if v, ok := s.verdicts[t.Ref]; ok {
			status = v.status
		}
		return termtext.VerdictSymbol(status) + " " + status, st.VerdictStyle(status)
	case 3:
		if v, ok := s.verdicts[t.Ref]; ok && v.imageID != "" {
			return v.imageID.Short(), st.Muted
		}
		return "", st.Muted
	}
	return "", st.Row
}

func (s *tagsScreen) ShortHelp() []keyBinding {
	k := s.sh.keys
	return []keyBinding{k.Open, k.Back, k.Filter, k.Sort, k.Pull, k.Verify, k.YankRef, k.Help}
}

func (s *tagsScreen) FullHelp() [][]keyBinding {
	k := s.sh.keys
	return [][]keyBinding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Open, k.Back, k.Filter, k.Sort, k.Refresh},
		{k.Pull, k.Verify, k.Copy, k.Push, k.OpenRef},
		{k.YankRef, k.YankDigest, k.YankCmd},
		{k.Transfers, k.Help, k.Quit},
	}
}
