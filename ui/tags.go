package ui

import (
	"context"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// inspectConcurrency bounds background inspections per tag list.
const inspectConcurrency = 4

// searchBatch is how many repositories one page of a search lists.
const searchBatch = 8

// verdictInfo is what the background inspection learned about one tag.
type verdictInfo struct {
	status  string
	reason  string
	imageID model.Digest
	created time.Time
}

// tagRow is one image of the list.
type tagRow struct {
	registry.TagEntry
	repo  string // repository name under the root
	label string // the TAG column: the tag, or repo:tag in a search
}

// tagCursor is where the next page of a tag list starts.
type tagCursor struct {
	after string // within the repository
	// A search over every repository of the root: repositories still to
	// list, and where the repository listing stands.
	queue     []registry.RepoEntry
	listAfter string
	listed    bool
}

// tagsScreen lists the images of one repository, or of every repository
// of a root (a search), with their signature verdicts, filled in by
// background inspections.
type tagsScreen struct {
	listBase
	root     string
	repoRef  string // "" for a search
	repoName string
	tags     []tagRow
	verdicts map[string]verdictInfo // by tag ref
	asked    map[string]bool
	inFlight int
	cost     pullCosts
	scan     int // background inspection pass: next data row
	next     tagCursor
	loading  bool
	done     bool
	err      error
	ctx      context.Context
	cancel   context.CancelFunc
}

type tagsPageMsg struct {
	id   int
	rows []tagRow
	next tagCursor
	done bool
	err  error
}

type verdictMsg struct {
	id  int
	ref string
	v   verdictInfo
}

func (m tagsPageMsg) target() int { return m.id }
func (m verdictMsg) target() int  { return m.id }

func newTagsScreen(sh *shared, root, repoRef, repoName string) *tagsScreen {
	ctx, cancel := context.WithCancel(sh.ctx)
	s := &tagsScreen{root: root, repoRef: repoRef, repoName: repoName,
		verdicts: map[string]verdictInfo{}, asked: map[string]bool{}, ctx: ctx, cancel: cancel, cost: newPullCosts(),
		listBase: newListBase(sh,
			column{title: "TAG"},
			column{title: "CREATED", width: 16, drop: 2},
			column{title: "SIGNATURE", width: 15},
			column{title: "IMAGE ID", width: 12, drop: 1},
			column{title: "PULL", width: 10, right: true, drop: 3},
		)}
	s.tbl.markable = true
	s.tbl.name = func(i int) string { return s.tags[i].label }
	s.sorts = []sortOption{
		{name: "name", col: 0},
		{name: "signature (strongest first)", col: 2, desc: true, less: s.byVerdict},
		{name: "created (newest first)", col: 1, desc: true, less: func(a, b int) bool { return s.created(a).After(s.created(b)) }},
		{name: "pull cost (cheapest first)", col: costCol, less: s.cheaper},
		// The PULL column shows whole sizes while they order the rows.
		{name: "size (largest first)", col: costCol, desc: true, less: s.larger, title: sizeTitle},
	}
	s.applySort()
	s.more = s.loadCmd
	s.complete = func() bool { return s.done }
	s.moved = s.pump
	return s
}

// newSearchScreen lists the images of every repository of a root, with
// the filter open: search across repositories.
func newSearchScreen(sh *shared, root string) *tagsScreen {
	s := newTagsScreen(sh, root, "", "")
	s.tbl.filtering = true
	return s
}

func (s *tagsScreen) search() bool { return s.repoRef == "" }

func (s *tagsScreen) Title() string {
	switch {
	case s.search():
		return "search"
	case s.repoName != "":
		return s.repoName
	}
	return s.repoRef
}

func (s *tagsScreen) Busy() bool { return s.loading || s.inFlight > 0 || s.cost.inFlight > 0 }
func (s *tagsScreen) close()     { s.cancel() }

func (s *tagsScreen) Prefill() string {
	if t, ok := s.current(); ok {
		return t.Ref
	}
	return s.repoRef
}

func (s *tagsScreen) Hint() string {
	noun, where := "tag", ""
	if s.search() {
		noun, where = "image", " in "+s.root
	}
	return s.countHint(len(s.tags), noun, where) + " · " + itoa(len(s.verdicts)) + " inspected" + diffHint(s.sh)
}

func (s *tagsScreen) Init() tea.Cmd { return s.loadCmd() }

// created is the image's creation time once inspected, else the listing's
// update time.
func (s *tagsScreen) created(i int) time.Time {
	if v, ok := s.verdicts[s.tags[i].Ref]; ok && !v.created.IsZero() {
		return v.created
	}
	return s.tags[i].Updated
}

func (s *tagsScreen) byVerdict(a, b int) bool {
	return verdictRank(s.status(a)) > verdictRank(s.status(b))
}

// verdictRank orders statuses for sorting: signing's rank, then the states
// without a verdict.
func verdictRank(status string) int {
	switch status {
	case termtext.VerdictError:
		return -1
	case termtext.VerdictPending, termtext.VerdictForeign:
		return -2
	}
	return signing.Status(status).Rank()
}

func (s *tagsScreen) status(i int) string {
	t := s.tags[i]
	if t.Foreign {
		return termtext.VerdictForeign
	}
	if v, ok := s.verdicts[t.Ref]; ok {
		return v.status
	}
	return termtext.VerdictPending
}

func (s *tagsScreen) loadCmd() tea.Cmd {
	if s.loading || s.done {
		return nil
	}
	s.loading = true
	sh, id, root, repo, name, cur, ctx := s.sh, s.id, s.root, s.repoRef, s.repoName, s.next, s.ctx
	return func() tea.Msg {
		var m tagsPageMsg
		if repo == "" {
			m = searchPage(ctx, sh, root, cur)
		} else {
			m = repoPage(ctx, sh, repo, name, cur.after)
		}
		m.id = id
		return m
	}
}

// repoPage reads one page of one repository's tags.
func repoPage(ctx context.Context, sh *shared, repoRef, repoName, after string) tagsPageMsg {
	reg, ref, err := sh.openRoot(repoRef)
	if err != nil {
		return tagsPageMsg{err: err}
	}
	l, err := reg.Tags(ctx, ref, registry.ListOptions{Limit: pageSize, After: after})
	if err != nil {
		return tagsPageMsg{err: err}
	}
	rows := make([]tagRow, len(l.Tags))
	for i, t := range l.Tags {
		t.Name = safe(t.Name)
		rows[i] = tagRow{TagEntry: t, repo: repoName, label: t.Name}
	}
	return tagsPageMsg{rows: rows, next: tagCursor{after: l.Next}, done: l.Next == ""}
}

// searchPage lists the next repositories of a root and every tag of each.
func searchPage(ctx context.Context, sh *shared, root string, cur tagCursor) tagsPageMsg {
	reg, ref, err := sh.openRoot(root)
	if err != nil {
		return tagsPageMsg{err: err}
	}
	if len(cur.queue) == 0 && !cur.listed {
		l, err := reg.List(ctx, ref, registry.ListOptions{Limit: pageSize, After: cur.listAfter})
		if err != nil {
			return tagsPageMsg{err: err}
		}
		cur.queue, cur.listAfter, cur.listed = l.Repos, l.Next, l.Next == ""
	}
	var rows []tagRow
	n := min(searchBatch, len(cur.queue))
	for _, r := range cur.queue[:n] {
		after := ""
		for {
			m := repoPage(ctx, sh, r.Ref, safe(r.Name), after)
			if m.err != nil {
				return tagsPageMsg{err: m.err}
			}
			for _, t := range m.rows {
				t.label = t.repo + ":" + t.Name
				rows = append(rows, t)
			}
			if m.done {
				break
			}
			after = m.next.after
		}
	}
	cur.queue = cur.queue[n:]
	return tagsPageMsg{rows: rows, next: cur, done: cur.listed && len(cur.queue) == 0}
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
				best := in.Signature.Strongest()
				v.status, v.reason, v.imageID = string(best.Status), safe(best.Reason), in.ImageID
				if in.ManifestError != "" && in.Signature.OK() {
					v.status, v.reason = termtext.VerdictInvalid, safe(in.ManifestError)
				}
				if in.Manifest != nil {
					v.created = in.Manifest.CreatedAt
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
	return tea.Batch(append(cmds, s.pumpCosts(s.costRows()))...)
}

func (s *tagsScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if cmd, ok := s.listUpdate(msg, s.open); ok {
		return s, cmd
	}
	switch msg := msg.(type) {
	case tagsPageMsg:
		s.loading = false
		if msg.err != nil {
			s.err, s.done = msg.err, true
			s.sh.fail(msg.err)
			return s, nil
		}
		s.tags = append(s.tags, msg.rows...)
		s.next, s.done = msg.next, msg.done
		s.tbl.setRows(len(s.tags))
		return s, s.after()
	case verdictMsg:
		s.inFlight--
		s.verdicts[msg.ref] = msg.v
		if s.sort > 0 {
			s.tbl.setRows(len(s.tags)) // re-sort as verdicts arrive
		}
		return s, s.pump()
	case costMsg:
		s.cost.got(msg)
		if s.sorts[s.sort].col == costCol {
			s.tbl.setRows(len(s.tags))
		}
		return s, s.pump()
	case opDoneMsg:
		return s, s.afterOp(msg)
	case jobEndedMsg:
		if storeChanged(msg) {
			s.cost.reset()
			return s, s.pump()
		}
		if msg.wrote(s.listed()) {
			return s, s.reload()
		}
	}
	return s, nil
}

// afterOp follows a short write: a changed key store judges every image
// again, an image signed in place is inspected again, and a new or moved
// reference under the list reloads it.
func (s *tagsScreen) afterOp(msg opDoneMsg) tea.Cmd {
	if msg.ring != nil {
		s.reinspect(func(string) bool { return true })
		return s.pump()
	}
	if msg.err != nil || !touches(msg.changes, s.listed()) {
		return nil
	}
	rows := map[string]bool{}
	for _, t := range s.tags {
		rows[t.Ref] = true
	}
	for _, c := range msg.changes {
		if !rows[c] && touches([]string{c}, s.listed()) {
			return s.reload()
		}
	}
	s.reinspect(func(ref string) bool { return slices.Contains(msg.changes, ref) })
	return s.pump()
}

// reinspect forgets the verdicts (and pull costs) of the images which
// picks, so that they are inspected again.
func (s *tagsScreen) reinspect(which func(ref string) bool) {
	for _, t := range s.tags {
		if which(t.Ref) {
			delete(s.verdicts, t.Ref)
			delete(s.asked, t.Ref)
			delete(s.cost.by, t.Ref)
			delete(s.cost.asked, t.Ref)
		}
	}
	s.scan = 0
}

// listed is where the list's images are: the repository, or the root of a
// search.
func (s *tagsScreen) listed() string {
	if s.search() {
		return s.root
	}
	return s.repoRef
}

func (s *tagsScreen) reload() tea.Cmd {
	s.tags, s.next, s.done, s.err, s.scan = nil, tagCursor{}, false, nil, 0
	s.verdicts, s.asked = map[string]verdictInfo{}, map[string]bool{}
	s.cost.reset()
	s.tbl.marked = map[int]bool{}
	s.tbl.setRows(0)
	return s.loadCmd()
}

func (s *tagsScreen) Bindings() []binding {
	k := s.sh.keys
	bs := append(s.navBindings(),
		bind(&k.Open, groupView, true, s.open),
		bind(&k.Refresh, groupView, false, s.reload),
		bind(&k.ForkTree, groupView, false, func() tea.Cmd {
			var focus model.Digest
			if i := s.tbl.selected(); i >= 0 {
				focus = s.verdicts[s.tags[i].Ref].imageID
			}
			return s.sh.push(newForkTreeScreen(s.sh, s.scope(), focus))
		}),
	)
	bs = append(bs, diffKeys(s.sh, s.selection)...)
	if !s.search() {
		bs = append(bs, bind(&k.Push, groupImage, false, func() tea.Cmd { return pushFlow(s.sh, s.repoRef, true) }).
			unless(s.sh.writeOff(s.repoRef)))
	}
	del := bind(&k.Delete, groupManage, true, func() tea.Cmd {
		if ims := s.selection(); len(ims) > 0 {
			return deleteImages(s.sh, ims)
		}
		return nil
	}).unless(s.sh.writeOff(s.listed()))
	// Marks are spent by the action that uses them.
	for _, b := range append(imageBindings(s.sh, s.selection), del) {
		if b.key == &k.Pull || b.key == &k.Verify || b.key == &k.Copy || b.key == &k.Delete {
			run := b.run
			b.run = func() tea.Cmd {
				cmd := run()
				s.tbl.marked = map[int]bool{}
				return cmd
			}
		}
		bs = append(bs, b)
	}
	return append(bs, signRetagBindings(s.sh, s.selection, s.listed())...)
}

// selection is the marked images, or the one under the cursor.
func (s *tagsScreen) selection() []image {
	var out []image
	for _, i := range s.markedRows() {
		out = append(out, s.imageAt(i))
	}
	return out
}

func (s *tagsScreen) imageAt(i int) image {
	t := s.tags[i]
	v := s.verdicts[t.Ref]
	return image{ref: t.Ref, root: s.scope(), repo: t.repo, tag: t.Name, status: s.status(i), reason: v.reason, id: v.imageID}
}

// scope is where the list's images live: the root, or the repository of
// a list opened by its reference.
func (s *tagsScreen) scope() string {
	if s.root == "" {
		return s.repoRef
	}
	return s.root
}

func (s *tagsScreen) current() (tagRow, bool) {
	i := s.tbl.selected()
	if i < 0 {
		return tagRow{}, false
	}
	return s.tags[i], true
}

func (s *tagsScreen) open() tea.Cmd {
	i := s.tbl.selected()
	if i < 0 {
		return nil
	}
	return s.sh.push(newDetailScreen(s.sh, s.imageAt(i), s.tags[i].label))
}

func (s *tagsScreen) View() string {
	empty := ""
	switch {
	case s.err != nil:
		empty = "✗ " + errLine(s.err)
	case s.loading && len(s.tags) == 0:
		empty = "loading tags…"
	case len(s.tags) == 0:
		empty = "no images here"
	}
	return s.tbl.render(s.sh, s.cell, empty, 0)
}

func (s *tagsScreen) cell(i, col int) (string, lipgloss.Style) {
	st := s.sh.st
	t := s.tags[i]
	switch col {
	case 0:
		if n := len(t.SignatureTags); n > 0 {
			// OCI: the cosign tags that hold its signatures.
			return t.label + " +" + itoa(n) + " sig", st.Row
		}
		return t.label, st.Row
	case 1:
		// The image's own creation time, known once inspected; a listing's
		// time is when the files were written, not when it was made.
		if v, ok := s.verdicts[t.Ref]; ok && !v.created.IsZero() {
			return shortTime(v.created), st.Muted
		}
		if t.Foreign {
			return shortTime(t.Updated), st.Muted
		}
		return "…", st.Muted
	case 2:
		status := s.status(i)
		return termtext.VerdictSymbol(status) + " " + status, st.VerdictStyle(status)
	case 3:
		if v, ok := s.verdicts[t.Ref]; ok && v.imageID != "" {
			return v.imageID.Short(), st.Muted
		}
		return "", st.Muted
	case costCol:
		return s.costCell(i)
	}
	return "", st.Row
}

func (s *tagsScreen) holdsKeys() bool { return s.loading && len(s.tags) == 0 && s.err == nil }
