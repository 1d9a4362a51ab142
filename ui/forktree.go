package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/fault"
	"pf-registry/internal/termtext"
	"pf-registry/lineage"
	"pf-registry/model"
	"pf-registry/registry"
)

// lineageCache keeps the fork tree of each root for the session:
// collecting one inspects every image under the root, so the detail
// screens and the fork-tree screen share it. A write under a root drops
// its tree (forgetUnder).
type lineageCache struct {
	mu sync.Mutex
	m  map[string]*lineageEntry
}

// lineageEntry is one root's images and their graph.
type lineageEntry struct {
	root   string
	ready  chan struct{}
	images []lineage.Image
	graph  *lineage.Graph
	err    error
}

// get returns the tree of root, collecting it once; concurrent callers
// wait for the one collection. Only called from inside tea.Cmds.
func (c *lineageCache) get(ctx context.Context, sh *shared, root string) (*lineageEntry, error) {
	for {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*lineageEntry{}
		}
		e, ok := c.m[root]
		if !ok {
			e = &lineageEntry{root: root, ready: make(chan struct{})}
			c.m[root] = e
			c.mu.Unlock()
			e.images, e.graph, e.err = collectLineage(ctx, sh, root)
			if e.err != nil {
				c.drop(root, e)
			}
			close(e.ready)
			return e, e.err
		}
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// The collection of a screen that was left was cancelled: ours
		// runs again.
		if e.err == nil || !errors.Is(e.err, context.Canceled) || ctx.Err() != nil {
			return e, e.err
		}
	}
}

func (c *lineageCache) drop(root string, e *lineageEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[root] == e {
		delete(c.m, root)
	}
}

// forgetAll drops every tree (the key store changed: they carry verdicts).
func (c *lineageCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// forgetUnder drops the trees of the roots that hold dst (a job wrote
// there), or of root itself.
func (c *lineageCache) forgetUnder(dst string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for r := range c.m {
		if strings.HasPrefix(dst, strings.TrimRight(r, "/")) {
			delete(c.m, r)
		}
	}
}

func collectLineage(ctx context.Context, sh *shared, root string) ([]lineage.Image, *lineage.Graph, error) {
	reg, ref, err := sh.openRoot(root)
	if err != nil {
		return nil, nil, err
	}
	images, err := lineage.Collect(ctx, reg, ref, sh.xferOpt.Concurrency)
	if err != nil {
		return nil, nil, err
	}
	return images, lineage.Build(images), nil
}

// nodeImage is the image a node of the tree opens (its first tag).
func nodeImage(root string, n *lineage.Node) image {
	im := image{root: root, id: n.ID, status: string(n.Signature)}
	if len(n.Refs) > 0 {
		im.ref = n.Refs[0]
	}
	if len(n.Tags) > 0 {
		im.repo, im.tag = splitTag(n.Tags[0])
	}
	return im
}

// splitTag splits "repo:tag" (a tag of the tree) at its last colon.
func splitTag(s string) (repo, tag string) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return safe(s[:i]), safe(s[i+1:])
	}
	return "", safe(s)
}

// nodeName is how a node is named in a line: its tags, else its short ID.
func nodeName(n *lineage.Node) string {
	if n == nil {
		return "?"
	}
	if n.External || len(n.Tags) == 0 {
		return n.ID.Short()
	}
	s := safe(n.Tags[0])
	if len(n.Tags) > 1 {
		s += fmt.Sprintf(" (+%d)", len(n.Tags)-1)
	}
	return s
}

// relatives are the lineage pane's items: parents, then children.
func relatives(e *lineageEntry, id model.Digest) (self *lineage.Node, parents, children []*lineage.Node) {
	self = e.graph.Node(id)
	if self == nil {
		return nil, nil, nil
	}
	for _, c := range self.Children {
		children = append(children, e.graph.Node(c))
	}
	return self, e.graph.Parents(self), children
}

// parentsText is the Parents information line once the tree is known.
func (s *detailScreen) parentsText(ps []model.Digest) string {
	e, _ := loaded[*lineageEntry](&s.x, loadLineage)
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Short()
		if e != nil {
			if n := e.graph.Node(p); n != nil && !n.External {
				names[i] = nodeName(n)
			} else {
				names[i] += " (not under this root)"
			}
		}
	}
	return strings.Join(names, ", ")
}

// lineageLines are the image's parents and children, each a row that
// enter opens.
func (s *detailScreen) lineageLines(w int) []string {
	st := s.sh.st
	s.x.kin.lines = nil
	e, l := loaded[*lineageEntry](&s.x, loadLineage)
	if e == nil {
		return s.loadLines(l, "images under "+s.img.root+" (manifests and signatures only)", w)
	}
	self, parents, children := relatives(e, s.data.in.ImageID)
	if self == nil {
		return []string{st.Muted.Render(wrap("this image is not among the images under "+s.img.root+" (its tag may have moved; ctrl+r reloads)", w))}
	}
	var out []string
	row := func(n *lineage.Node) {
		i := len(s.x.kin.lines)
		s.x.kin.lines = append(s.x.kin.lines, len(out))
		out = append(out, s.kinLine(n, s.x.kin.selected(i), w))
	}
	section := func(title string, ns []*lineage.Node, none string) {
		out = append(out, st.Section.Render(title))
		if len(ns) == 0 {
			out = append(out, st.Muted.Render("  "+none))
		}
		for _, n := range ns {
			row(n)
		}
		out = append(out, "")
	}
	section("Parents", parents, "none: a root image")
	section("Children (forks and merges of this image)", children, "none under this root")
	if len(self.Tags) > 1 {
		out = append(out, st.Label.Render("Tagged as  ")+st.Value.Render(safe(strings.Join(self.Tags, ", "))), "")
	}
	return append(out, st.Muted.Render(fmt.Sprintf("%s opens one · %s shows the fork tree of %s",
		s.sh.keys.Open.Help().Key, s.sh.keys.ForkTree.Help().Key, s.img.root)))
}

// kinLine is one relative: name, ID, creation time, verdict.
func (s *detailScreen) kinLine(n *lineage.Node, sel bool, w int) string {
	st := s.sh.st
	if n == nil || n.External {
		id := "?"
		if n != nil {
			id = n.ID.Short()
		}
		line := "  " + id + "  (not under this root)"
		if sel {
			return st.Selected.Render(fit(line, w, false))
		}
		return st.Muted.Render(line)
	}
	name := fit(nodeName(n), max(min(w-46, 40), 12), false)
	rest := "  " + n.ID.Short() + "  " + shortTime(n.Created) + "  "
	if sel {
		return st.Selected.Render(fit("▸ "+name+rest+verdictText(string(n.Signature)), w, false))
	}
	return "  " + st.Row.Bold(true).Render(name) + st.Muted.Render(rest) + st.Verdict(string(n.Signature))
}

// kinKeys open the selected relative.
func (s *detailScreen) kinKeys() []binding {
	return s.cursorKeys(&s.x.kin, func(i int) tea.Cmd {
		e, _ := loaded[*lineageEntry](&s.x, loadLineage)
		if e == nil {
			return nil
		}
		_, parents, children := relatives(e, s.data.in.ImageID)
		all := append(append([]*lineage.Node{}, parents...), children...)
		if i >= len(all) {
			return nil
		}
		return openNode(s.sh, s.img.root, all[i])
	})
}

// openNode opens the detail of a node of a tree.
func openNode(sh *shared, root string, n *lineage.Node) tea.Cmd {
	if n == nil || n.External || len(n.Refs) == 0 {
		sh.infof("that parent is not under %s: no tag there holds it", root)
		return nil
	}
	im := nodeImage(root, n)
	return sh.push(newDetailScreen(sh, im, im.name()))
}

// treeMsg is a collected fork tree.
type treeMsg struct {
	id  int
	e   *lineageEntry
	err error
}

func (m treeMsg) target() int { return m.id }

// forkTreeScreen draws how the images under a root or repository relate,
// like `git log --graph`; any image opens.
type forkTreeScreen struct {
	screenBase
	root    string
	focus   model.Digest // the image to select once loaded
	loading bool
	err     error
	e       *lineageEntry
	rows    []lineage.Row
	nodes   []int // the rows that are images
	cur     int   // index into nodes
	off     int   // first row on screen
	tagW    int   // the widest TAGS cell
	ctx     context.Context
	cancel  context.CancelFunc
}

func newForkTreeScreen(sh *shared, root string, focus model.Digest) *forkTreeScreen {
	ctx, cancel := context.WithCancel(sh.ctx)
	return &forkTreeScreen{screenBase: newBase(sh), root: root, focus: focus, ctx: ctx, cancel: cancel}
}

func (s *forkTreeScreen) Title() string   { return "fork tree" }
func (s *forkTreeScreen) Busy() bool      { return s.loading }
func (s *forkTreeScreen) close()          { s.cancel() }
func (s *forkTreeScreen) Prefill() string { return "tree " + s.root }

func (s *forkTreeScreen) Init() tea.Cmd {
	s.loading = true
	sh, id, ctx, root := s.sh, s.id, s.ctx, s.root
	return func() tea.Msg {
		e, err := sh.lineages.get(ctx, sh, root)
		return treeMsg{id: id, e: e, err: err}
	}
}

func (s *forkTreeScreen) Hint() string {
	if s.e == nil {
		return "reading every image under " + s.root + " (manifests and signatures only)…"
	}
	roots, merges, forks := 0, 0, 0
	for _, n := range s.e.graph.Nodes {
		switch {
		case n.External:
			continue
		case n.Root():
			roots++
		}
		if n.Merge() {
			merges++
		}
		if n.Fork() {
			forks++
		}
	}
	h := fmt.Sprintf("%s, %s, %s, %s under %s", count(len(s.nodes), "image"), count(roots, "root"), count(forks, "fork"), count(merges, "merge"), s.root)
	if n := len(s.e.graph.Problems); n > 0 {
		h += fmt.Sprintf(" · %d not readable", n)
	}
	return h + diffHint(s.sh)
}

func (s *forkTreeScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case treeMsg:
		s.loading = false
		if msg.err != nil {
			s.err = msg.err
			s.sh.fail(msg.err)
			return s, nil
		}
		s.err = nil
		s.setTree(msg.e)
	case opDoneMsg:
		if msg.ring != nil || touches(msg.changes, s.root) {
			return s, s.Init()
		}
	case jobEndedMsg:
		if msg.wrote(s.root) {
			return s, s.Init()
		}
	case tea.MouseWheelMsg:
		if msg.Button == tea.MouseWheelUp {
			s.move(-3)
		} else {
			s.move(3)
		}
	case tea.MouseClickMsg:
		return s, s.click(msg)
	}
	return s, nil
}

// setTree lays out the rows, keeping the selected image.
func (s *forkTreeScreen) setTree(e *lineageEntry) {
	var keep model.Digest
	if n := s.node(); n != nil {
		keep = n.ID
	} else {
		keep = s.focus
	}
	s.e, s.rows, s.nodes, s.cur, s.tagW = e, lineage.Render(e.graph), nil, 0, len("TAGS")
	for i, r := range s.rows {
		if r.Node != nil {
			s.tagW = max(s.tagW, ansi.StringWidth(rowTags(r.Node))+1)
			if r.Node.ID == keep {
				s.cur = len(s.nodes)
			}
			s.nodes = append(s.nodes, i)
		}
	}
	s.move(0)
}

func (s *forkTreeScreen) node() *lineage.Node {
	if s.cur < 0 || s.cur >= len(s.nodes) {
		return nil
	}
	return s.rows[s.nodes[s.cur]].Node
}

// room is the number of rows on screen (under the header line).
func (s *forkTreeScreen) room() int { return max(s.sh.height-1, 1) }

func (s *forkTreeScreen) move(d int) tea.Cmd {
	if len(s.nodes) == 0 {
		return nil
	}
	s.cur = min(max(s.cur+d, 0), len(s.nodes)-1)
	r := s.nodes[s.cur]
	if r < s.off {
		s.off = r
	}
	if r >= s.off+s.room() {
		s.off = r - s.room() + 1
	}
	// Show the connector row under the last image too.
	s.off = max(min(s.off, len(s.rows)+len(s.problems())-s.room()), 0)
	return nil
}

func (s *forkTreeScreen) click(msg tea.MouseClickMsg) tea.Cmd {
	row := s.off + msg.Y - 1
	for i, r := range s.nodes {
		if r == row && msg.Button == tea.MouseLeft {
			if i == s.cur {
				return s.open()
			}
			s.cur = i
			return s.move(0)
		}
	}
	return nil
}

func (s *forkTreeScreen) open() tea.Cmd { return openNode(s.sh, s.root, s.node()) }

func (s *forkTreeScreen) selection() []image {
	if n := s.node(); n != nil && !n.External {
		return []image{nodeImage(s.root, n)}
	}
	return nil
}

func (s *forkTreeScreen) Bindings() []binding {
	k := s.sh.keys
	nav := func(d func() int) func() tea.Cmd { return func() tea.Cmd { return s.move(d()) } }
	bs := []binding{
		bind(&k.Up, groupMove, false, nav(func() int { return -1 })),
		bind(&k.Down, groupMove, false, nav(func() int { return 1 })),
		bind(&k.PageUp, groupMove, false, nav(func() int { return -s.room() / 2 })),
		bind(&k.PageDown, groupMove, false, nav(func() int { return s.room() / 2 })),
		bind(&k.Top, groupMove, false, nav(func() int { return -len(s.nodes) })),
		bind(&k.Bottom, groupMove, false, nav(func() int { return len(s.nodes) })),
		bind(&k.Open, groupView, true, s.open),
		bind(&k.Refresh, groupView, false, func() tea.Cmd {
			s.sh.lineages.forgetUnder(s.root)
			return s.Init()
		}),
	}
	bs = append(bs, diffKeys(s.sh, s.selection)...)
	return append(bs, imageBindings(s.sh, s.selection)...)
}

func (s *forkTreeScreen) problems() []string {
	if s.e == nil {
		return nil
	}
	return s.e.graph.Problems
}

func (s *forkTreeScreen) View() string {
	st := s.sh.st
	switch {
	case s.err != nil:
		return clipLines(st.Error.Render(wrap("✗ "+errLine(s.err), s.sh.width))+"\n\n"+
			st.Muted.Render("  "+s.sh.keys.Refresh.Help().Key+" retries"), s.sh.height)
	case s.e == nil:
		return clipLines(st.Muted.Render("  reading every image under "+s.root+"…"), s.sh.height)
	case len(s.rows) == 0 && len(s.problems()) == 0:
		return clipLines(st.Empty.Render("  no images under "+s.root), s.sh.height)
	}
	gw := 5
	for _, r := range s.rows {
		gw = max(gw, ansi.StringWidth(r.Graph))
	}
	w, sel := s.sh.width, -1
	if len(s.nodes) > 0 {
		sel = s.nodes[s.cur]
	}
	all := make([]string, 0, len(s.rows)+len(s.problems()))
	for i, r := range s.rows {
		all = append(all, s.rowLine(r, gw, i == sel))
	}
	for _, p := range s.problems() {
		all = append(all, st.Error.Render(fit("! "+safe(p), w, false)))
	}
	head := st.ColHeader.Render(fit(fit("GRAPH", gw, false)+"  "+s.columns("IMAGE", "TAGS", "CREATED", "SIGNATURE", w-gw-2), w, false))
	lines := append([]string{head}, all[min(s.off, len(all)):min(s.off+s.room(), len(all))]...)
	return clipLines(strings.Join(lines, "\n"), s.sh.height)
}

// columns lays out the text of a node row in w cells: the tags as wide
// as the widest (s.tagW) or what the ID, date and verdict leave; the date
// goes first on narrow screens. The verdict comes last, unpadded, so that
// it can be styled on its own.
func (s *forkTreeScreen) columns(id, tags, created, verdict string, w int) string {
	const idW, dateW, sigW = 12, 16, 13
	tagW := w - idW - sigW - 4
	if tagW-dateW-2 >= min(s.tagW, 40) {
		tagW = min(tagW-dateW-2, s.tagW)
		return fit(id, idW, false) + "  " + fit(tags, tagW, false) + "  " + fit(created, dateW, false) + "  " + verdict
	}
	return fit(id, idW, false) + "  " + fit(tags, max(min(tagW, s.tagW), 8), false) + "  " + verdict
}

// rowTags is the TAGS cell of a node: its tags and what kind of node it
// is.
func rowTags(n *lineage.Node) string {
	tags := nodeName(n)
	if len(n.Tags) > 1 {
		tags = safe(strings.Join(n.Tags, ", "))
	}
	if kind := nodeKind(n); kind != "" {
		tags += "  (" + kind + ")"
	}
	return tags
}

// rowLine draws one row: the graph, then the image's columns.
func (s *forkTreeScreen) rowLine(r lineage.Row, gw int, sel bool) string {
	st, w := s.sh.st, s.sh.width
	graph := fit(r.Graph, gw, false) + "  "
	if r.Node == nil {
		return st.Info.Render(graph)
	}
	n := r.Node
	tags := rowTags(n)
	status := string(n.Signature)
	if sel {
		return st.Selected.Render(fit(graph+s.columns(n.ID.Short(), tags, shortTime(n.Created), verdictText(status), w-gw-2), w, false))
	}
	text := s.columns(n.ID.Short(), tags, shortTime(n.Created), "", w-gw-2)
	if n.External {
		return st.Info.Render(graph) + st.Muted.Render(text)
	}
	if status == "" {
		return st.Info.Render(graph) + st.Row.Render(text)
	}
	return st.Info.Render(graph) + st.Row.Render(text) + st.Verdict(status)
}

// nodeKind says what a node is in the tree: a root, a merge, a fork.
func nodeKind(n *lineage.Node) string {
	var kind []string
	switch {
	case n.External:
		return "parent not under this root"
	case n.Root():
		kind = append(kind, "root")
	}
	if n.Merge() {
		kind = append(kind, fmt.Sprintf("merge of %d", len(n.Parents)))
	}
	if n.Fork() {
		kind = append(kind, fmt.Sprintf("forked %d ways", len(n.Children)))
	}
	return strings.Join(kind, ", ")
}

// verdictText is a verdict as a plain cell: symbol and word.
func verdictText(status string) string {
	if status == "" {
		return ""
	}
	return termtext.VerdictSymbol(status) + " " + status
}

// errTreeRoot is the go-to bar's answer to `tree` without a root.
var errTreeRoot = fault.WithHint(errors.New("tree needs a root or repository, e.g. tree file://demo"),
	"T opens the fork tree of the list or image you are on")

// treeOf opens the fork tree of a root typed in the go-to bar.
func treeOf(sh *shared, root string) (tea.Cmd, error) {
	if _, err := registry.ParseRoot(root); err != nil {
		return nil, err
	}
	return sh.push(newForkTreeScreen(sh, root, "")), nil
}
