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
	"pf-registry/lineage"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// What the detail screen shows of an image's insides (spec §4): each pane
// reads the small blob behind it through registry.Content, on demand, in
// its own tea.Cmd bound to the screen's context (leaving the screen
// cancels it). Content verifies and caps every blob; KV pages are never
// fetched.

// The background reads of a detail screen, by key.
const (
	loadTrace   = "trace"
	loadEffects = "effects"
	loadEnv     = "env"
	loadCache   = "cache"
	loadModel   = "model"
	loadLineage = "lineage"
)

// paneLoad is where one background read stands.
type paneLoad struct {
	running bool
	val     any
	err     error
}

// paneMsg is the result of one background read of a detail screen; gen
// drops results of an image the screen no longer shows.
type paneMsg struct {
	id, gen int
	key     string
	val     any
	err     error
}

func (m paneMsg) target() int { return m.id }

// contentHandle opens an image's Content once, on first use, from inside
// tea.Cmds; the reads that need it wait for that one open.
type contentHandle struct {
	mu   sync.Mutex
	c    *registry.Content
	err  error
	open func(ctx context.Context) (*registry.Content, error)
}

func (h *contentHandle) get(ctx context.Context) (*registry.Content, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c == nil && (h.err == nil || errors.Is(h.err, context.Canceled)) {
		h.c, h.err = h.open(ctx)
	}
	return h.c, h.err
}

// inside is the detail screen's state for the content panes.
type inside struct {
	gen     int
	content *contentHandle
	loads   map[string]*paneLoad
	find    finder
	files   rowCursor
	kin     rowCursor // the lineage pane's relatives
	unfold  bool      // long messages shown whole
	// traceMemo is the trace pane's last layout.
	traceMemo traceMemo
}

func (x *inside) running() bool {
	for _, l := range x.loads {
		if l.running {
			return true
		}
	}
	return false
}

// loaded returns a read's value once it arrived.
func loaded[T any](x *inside, key string) (v T, l *paneLoad) {
	l = x.loads[key]
	if l != nil && !l.running && l.err == nil {
		v, _ = l.val.(T)
	}
	return v, l
}

// resetInside forgets what was read (another image, or a reload).
func (s *detailScreen) resetInside() {
	s.x.gen++
	s.x.loads = map[string]*paneLoad{}
	s.x.files, s.x.kin = rowCursor{}, rowCursor{}
	s.x.content = &contentHandle{open: contentOpener(s.sh, s.img.ref, s.local)}
}

// contentOpener opens an image for browsing: one of a registry (its
// signature checked first, as for a pull), or of the local store.
func contentOpener(sh *shared, ref string, local model.Digest) func(context.Context) (*registry.Content, error) {
	return func(ctx context.Context) (*registry.Content, error) {
		if local != "" {
			st, err := sh.openStore()
			if err != nil {
				return nil, err
			}
			src, err := registry.StoreSource(st, local)
			if err != nil {
				return nil, err
			}
			return registry.NewContent(ctx, src, nil, signing.RequireAny)
		}
		reg, r, err := sh.openRef(ref)
		if err != nil {
			return nil, err
		}
		return registry.OpenContent(ctx, reg, r)
	}
}

// startLoad begins a background read unless it ran or runs.
func (s *detailScreen) startLoad(key string) tea.Cmd {
	if s.x.loads[key] != nil {
		return nil
	}
	read := s.reader(key)
	if read == nil {
		return nil
	}
	s.x.loads[key] = &paneLoad{running: true}
	ctx, id, gen := s.ctx, s.id, s.x.gen
	return func() tea.Msg {
		v, err := read(ctx)
		return paneMsg{id: id, gen: gen, key: key, val: v, err: err}
	}
}

// afterLoad starts what the information lines need once the manifest is
// known (the effects summary, the cache summary, the parents' tags), and
// the current pane's read.
func (s *detailScreen) afterLoad() tea.Cmd {
	if s.data == nil || s.data.in.Manifest == nil {
		return nil
	}
	cmds := []tea.Cmd{s.startLoad(loadEffects), s.startLoad(loadCache), s.paneLoad()}
	if len(s.data.in.Manifest.Parents) > 0 {
		cmds = append(cmds, s.startLoad(loadLineage))
	}
	return tea.Batch(cmds...)
}

// paneLoad starts the current pane's read.
func (s *detailScreen) paneLoad() tea.Cmd {
	if p := s.panes[s.pane]; p.load != "" && s.data != nil && s.data.in.Manifest != nil {
		return s.startLoad(p.load)
	}
	return nil
}

// gotLoad takes a read's result.
func (s *detailScreen) gotLoad(msg paneMsg) {
	if msg.gen != s.x.gen {
		return
	}
	s.x.loads[msg.key] = &paneLoad{val: msg.val, err: msg.err}
	keep := s.vp.YOffset()
	s.redraw()
	s.vp.SetYOffset(keep)
}

// reader is the background read behind a key.
func (s *detailScreen) reader(key string) func(context.Context) (any, error) {
	h, sh, root := s.x.content, s.sh, s.img.root
	with := func(f func(context.Context, *registry.Content) (any, error)) func(context.Context) (any, error) {
		return func(ctx context.Context) (any, error) {
			c, err := h.get(ctx)
			if err != nil {
				return nil, err
			}
			return f(ctx, c)
		}
	}
	switch key {
	case loadTrace:
		return with(func(ctx context.Context, c *registry.Content) (any, error) { return nonNil(c.Trace(ctx)) })
	case loadEnv:
		return with(func(ctx context.Context, c *registry.Content) (any, error) { return nonNil(c.Env(ctx)) })
	case loadCache:
		return with(func(ctx context.Context, c *registry.Content) (any, error) { return nonNil(c.Cache(ctx)) })
	case loadModel:
		return with(readModel)
	case loadEffects:
		return with(func(ctx context.Context, c *registry.Content) (any, error) { return readEffects(ctx, sh, c, root) })
	case loadLineage:
		if root == "" {
			return func(context.Context) (any, error) { return nil, errNoRoot }
		}
		return func(ctx context.Context) (any, error) { return nonNil(sh.lineages.get(ctx, sh, root)) }
	}
	return nil
}

// errNoRoot is why an image opened by a reference under no known root
// shows no relatives.
var errNoRoot = fault.WithHint(errors.New("the image lies under no root of the registries screen, so where to look for its relatives is not known"),
	"add its root (a on the registries screen), or go to `tree ROOT` with :")

// nonNil turns a typed result into an untyped one, nil on error (a nil
// pointer in an interface is not nil).
func nonNil[T any](v *T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// modelView is the model pane: the model and the process capture.
type modelView struct {
	model    *registry.ModelInfo
	procs    *model.Procs
	procsErr error
}

func readModel(ctx context.Context, c *registry.Content) (any, error) {
	mi, err := c.Model(ctx)
	if err != nil {
		return nil, err
	}
	v := &modelView{model: mi}
	v.procs, v.procsErr = c.Procs(ctx)
	return v, nil
}

// effectsView is the effects pane: the ledger, and for a merged ledger
// its three parents resolved to the images whose ledgers they are.
type effectsView struct {
	ledger  *model.Ledger
	parents []mergedParent
}

// mergedParent is one ledger a merged ledger combines.
type mergedParent struct {
	label   string // Parent A, Parent B, Ancestor
	digest  model.Digest
	holder  string // the tag of the image whose ledger it is ("" unknown)
	summary string // its summary, or why it could not be read
	// irreversible counts its irreversible effects, -1 when not read.
	irreversible int
}

func readEffects(ctx context.Context, sh *shared, c *registry.Content, root string) (any, error) {
	l, err := c.Effects(ctx)
	if err != nil {
		return nil, err
	}
	v := &effectsView{ledger: l}
	if l.Merged == nil {
		return v, nil
	}
	var images []lineage.Image
	if root != "" {
		if e, err := sh.lineages.get(ctx, sh, root); err == nil {
			images = e.images
		}
	}
	for _, p := range []struct {
		label string
		d     model.Digest
	}{{"Parent A", l.Merged.ParentA}, {"Parent B", l.Merged.ParentB}, {"Ancestor", l.Merged.Ancestor}} {
		mp := mergedParent{label: p.label, digest: p.d, irreversible: -1}
		var pl *model.Ledger
		mp.holder, pl, mp.summary = parentLedger(ctx, sh, c, p.d, images)
		if pl != nil {
			mp.summary, mp.irreversible = pl.Summary(), pl.Count(model.EffectIrreversible)
		}
		v.parents = append(v.parents, mp)
	}
	return v, nil
}

// parentLedger reads one ledger of a merge: where the image is stored
// first, else from the image under the root whose ledger it is. why says
// what went wrong when the ledger is nil.
func parentLedger(ctx context.Context, sh *shared, c *registry.Content, d model.Digest, images []lineage.Image) (holder string, l *model.Ledger, why string) {
	l, err := c.Ledger(ctx, d)
	if err == nil {
		return "", l, ""
	}
	if !errors.Is(err, fault.ErrNotFound) {
		return "", nil, "unreadable: " + errLine(err)
	}
	for _, im := range images {
		if im.In == nil || im.In.Manifest == nil || im.In.Manifest.Effects.Ledger != d {
			continue
		}
		reg, r, err := sh.openRef(im.Ref)
		if err == nil {
			var pc *registry.Content
			if pc, err = registry.OpenContent(ctx, reg, r); err == nil {
				l, err = pc.Effects(ctx)
			}
		}
		if err != nil {
			return safe(im.Name), nil, "not read: " + errLine(err)
		}
		return safe(im.Name), l, ""
	}
	return "", nil, "not stored with this image, and no image under this root has it"
}

// insideHelp is the help page's paragraph on seeing inside images.
func insideHelp(sh *shared) string {
	k := sh.keys
	return "Tag lists: PULL is what a pull would still download, given the local store. " +
		"Image detail: " + k.NextPane.Help().Key + "/" + k.PrevPane.Help().Key + " go through the panes (blobs, signatures, manifest, files, " +
		"trace, effects, env, KV cache, model, lineage), read from the registry on demand without pulling (small blobs only, never a KV page; " +
		"an image whose signature would not pull is not opened); “" + k.Filter.Help().Key + "” searches the pane, " +
		k.NextMatch.Help().Key + "/" + k.PrevMatch.Help().Key + " go from match to match, " + k.Fold.Help().Key + " folds long messages, " +
		k.Open.Help().Key + " previews a file or opens a parent or child; ! marks irreversible and network-only effects. " +
		k.DiffMark.Help().Key + " marks an image as A of a diff, " + k.Diff.Help().Key + " compares it with the selected one (or two marked rows); " +
		k.ForkTree.Help().Key + " draws the fork tree (also `tree ROOT` in the go-to bar). "
}

// rootOf is the known root (command line or config) an image reference
// lies under, "" when none: an image opened by its reference finds its
// relatives there.
func (sh *shared) rootOf(ref string) string {
	for _, r := range sh.allRoots() {
		if strings.HasPrefix(ref, strings.TrimRight(r, "/")+"/") {
			return r
		}
	}
	return ""
}

// Capturing: keys go to the search while it is typed.
func (s *detailScreen) Capturing() bool { return s.x.find.typing }

// ClearFilter drops the search first (esc then stays on the screen).
func (s *detailScreen) ClearFilter() bool {
	if s.x.find.query == "" {
		return false
	}
	s.x.find.set("")
	s.redraw()
	return true
}

func (s *detailScreen) Hint() string { return s.x.find.hint(s.sh) + diffHint(s.sh) }

// forkTree opens the fork tree of the root the image was listed under,
// on this image.
func (s *detailScreen) forkTree() tea.Cmd {
	if s.img.root == "" {
		s.sh.fail(errNoRoot)
		return nil
	}
	return s.sh.push(newForkTreeScreen(s.sh, s.img.root, s.current().id))
}

// tabBar is the line of pane names, the current one selected, and where
// each name is (for clicks). A bar wider than the screen scrolls to keep
// the current pane in view. The search, or the scroll position, ends it.
func (s *detailScreen) tabBar() (string, [][2]int) {
	st, w := s.sh.st, s.sh.width
	tail := s.x.find.status()
	if tail == "" {
		tail = fmt.Sprintf("%3.0f%%", s.vp.ScrollPercent()*100)
	}
	room := w - ansi.StringWidth(tail) - 2
	first := 0
	for first < s.pane && tabsWidth(s.panes[first:s.pane+1]) > room {
		first++
	}
	var b strings.Builder
	at := make([][2]int, len(s.panes))
	x := 0
	if first > 0 {
		b.WriteString(st.Muted.Render("‹"))
		x++
	}
	for i := first; i < len(s.panes); i++ {
		name := " " + s.panes[i].name + " "
		if x+ansi.StringWidth(name) > room {
			b.WriteString(st.Muted.Render("›"))
			x++
			break
		}
		at[i] = [2]int{x, x + ansi.StringWidth(name)}
		if i == s.pane {
			b.WriteString(st.Selected.Render(name))
		} else {
			b.WriteString(st.Muted.Render(name))
		}
		x += ansi.StringWidth(name)
	}
	gap := max(w-x-ansi.StringWidth(tail), 1)
	return b.String() + strings.Repeat(" ", gap) + st.Muted.Render(tail), at
}

func tabsWidth(ps []pane) int {
	n := 0
	for _, p := range ps {
		n += ansi.StringWidth(p.name) + 2
	}
	return n
}

// findRedraw renders the pane for the search and puts the pane's cursor,
// if it has one, on the current match: enter then acts on what was found.
func (s *detailScreen) findRedraw() {
	s.redraw()
	f, c := &s.x.find, s.panes[s.pane].cursor
	if c == nil || len(f.hits) == 0 {
		return
	}
	for i, l := range c.lines {
		if l == f.hits[f.cur] && c.sel != i {
			c.sel = i
			s.redraw()
			return
		}
	}
}
