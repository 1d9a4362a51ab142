package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// maxStat bounds the per-blob size lookups of one detail screen.
const maxStat = 2000

// blobRow is one line of the blob table.
type blobRow struct {
	registry.WalkedBlob
	present bool // in the local store
}

// detailData is what the background load learned about one image.
type detailData struct {
	in      *registry.Inspection
	blobs   []blobRow
	fsTree  *model.FsTree
	walkErr string
	fsErr   string
}

type detailMsg struct {
	id   int
	data *detailData
	err  error
}

func (m detailMsg) target() int { return m.id }

// pane is one tab of the detail screen's scrollable area. header lines
// stay put above the scrolling body. New panes are added to
// detailScreen.panes.
type pane struct {
	name   string
	header func(w int) []string
	body   func(w int) []string
	// load names the background read the pane shows (inside.go), started
	// the first time the pane is shown.
	load string
	// keys are the pane's own keys, ahead of the screen's (a cursor).
	keys func() []binding
	// cursor, when set, follows the search's current match.
	cursor *rowCursor
}

// detailScreen shows one image: identity, signature, layout, blobs, and
// the panes (blobs, manifest, fs tree) in a scrollable area.
type detailScreen struct {
	screenBase
	img     image
	title   string
	loading bool
	err     error
	data    *detailData
	panes   []pane
	pane    int
	vp      viewport.Model
	local   model.Digest // set for an image of the local store
	x       inside       // the content panes' reads, search and cursors
	ctx     context.Context
	cancel  context.CancelFunc
}

func newDetailScreen(sh *shared, img image, title string) *detailScreen {
	ctx, cancel := context.WithCancel(sh.ctx)
	if img.root == "" {
		img.root = sh.rootOf(img.ref)
	}
	s := &detailScreen{screenBase: newBase(sh), img: img, title: title, ctx: ctx, cancel: cancel}
	s.panes = []pane{
		{name: "Blobs", header: s.blobHeader, body: s.blobLines},
		{name: "Signatures", body: s.signatureLines},
		{name: "Manifest", body: s.manifestLines},
		{name: "Files", header: s.filesHeader, body: s.fileLines, keys: s.fileKeys, cursor: &s.x.files},
		{name: "Trace", header: s.traceHeader, body: s.traceLines, load: loadTrace, keys: s.traceKeys},
		{name: "Effects", body: s.effectsLines, load: loadEffects},
		{name: "Env", body: s.envLines, load: loadEnv},
		{name: "KV cache", body: s.cacheLines, load: loadCache},
		{name: "Model", body: s.modelLines, load: loadModel},
		{name: "Lineage", body: s.lineageLines, load: loadLineage, keys: s.kinKeys, cursor: &s.x.kin},
	}
	s.resetInside()
	s.vp = viewport.New()
	s.vp.MouseWheelEnabled = true
	s.resize()
	return s
}

// newLocalDetailScreen shows an image of the local store.
func newLocalDetailScreen(sh *shared, id model.Digest) *detailScreen {
	s := newDetailScreen(sh, image{ref: "local store image " + string(id), id: id, status: termtext.VerdictLocal}, id.Short())
	s.local = id
	s.resetInside() // its contents come from the store
	return s
}

func (s *detailScreen) Title() string   { return s.title }
func (s *detailScreen) Busy() bool      { return s.loading || s.x.running() }
func (s *detailScreen) close()          { s.cancel() }
func (s *detailScreen) Prefill() string { return s.img.ref }

func (s *detailScreen) Init() tea.Cmd {
	s.loading = true
	sh, id, ref, ctx, local := s.sh, s.id, s.img.ref, s.ctx, s.local
	return func() tea.Msg {
		d, err := loadDetail(ctx, sh, ref, local)
		return detailMsg{id: id, data: d, err: err}
	}
}

// loadDetail inspects the image (from its registry, or the local store),
// asks the registry package for the full blob walk, and checks the local
// store for each blob.
func loadDetail(ctx context.Context, sh *shared, ref string, local model.Digest) (*detailData, error) {
	var src registry.Source
	var in *registry.Inspection
	if local != "" {
		st, err := sh.openStore()
		if err != nil {
			return nil, err
		}
		if src, err = registry.StoreSource(st, local); err != nil {
			return nil, err
		}
		if in, err = registry.InspectSource(ctx, src, registry.Verifier{Key: signing.Default()}); err != nil {
			return nil, err
		}
		// The store keeps no signatures: images were verified when pulled.
		in.Signature = signing.Result{Checks: []signing.Check{{Status: termtext.VerdictLocal,
			Reason: "the local store keeps no signatures; images are verified when pulled"}}}
	} else {
		reg, r, err := sh.openRef(ref)
		if err != nil {
			return nil, err
		}
		if in, err = reg.Inspect(ctx, r); err != nil {
			return nil, err
		}
		if src, err = reg.Source(ctx, r); err != nil {
			return nil, err
		}
	}
	d := &detailData{in: in}
	if in.Manifest == nil {
		return d, nil
	}
	w, err := registry.WalkSource(ctx, src, in.Manifest, maxStat)
	if err != nil {
		d.walkErr = errLine(err)
		return d, nil
	}
	if b, ok := w.Metadata[in.Manifest.World.FS]; ok {
		if t, err := model.ParseFsTree(b); err == nil {
			d.fsTree = t
		} else {
			d.fsErr = safe(err.Error())
		}
	}
	st, _ := sh.openStore()
	for _, b := range w.Blobs {
		row := blobRow{WalkedBlob: b}
		row.Role = safe(row.Role)
		if st != nil && b.Digest.Validate() == nil {
			row.present = st.HasBlob(b.Digest)
		}
		d.blobs = append(d.blobs, row)
	}
	return d, nil
}

// infoLines are the lines above the panes. Long texts (the signature's
// reason, problems) wrap: nothing is cut.
func (s *detailScreen) infoLines() []string {
	st, w := s.sh.st, s.sh.width
	lab := func(l string) string { return st.Label.Render(fmt.Sprintf("%-10s", l)) + " " }
	wrapped := func(label string, text string, style func(...string) string) []string {
		var out []string
		for i, l := range strings.Split(wrap(text, w-11), "\n") {
			if i > 0 {
				label = ""
			}
			out = append(out, lab(label)+style(l))
		}
		return out
	}
	lines := wrapped("Reference", s.img.ref, st.Value.Render)
	if s.data == nil {
		return lines
	}
	in := s.data.in
	lines = append(lines, lab("Image ID")+st.Value.Render(string(in.ImageID)))
	v := in.Signature.Strongest()
	lines = append(lines, lab("Signature")+s.signatureSummary())
	if v.Reason != "" && v.Status != signing.Trusted { // the trusted key is named above
		lines = append(lines, wrapped("", safe(v.Reason), st.VerdictStyle(string(v.Status)).UnsetBold().Render)...)
	}
	if m := in.Manifest; m != nil {
		lines = append(lines, s.manifestInfo(m, lab)...)
	}
	if in.ManifestError != "" {
		lines = append(lines, wrapped("Problem", safe(in.ManifestError), st.Error.Render)...)
	}
	for _, warn := range in.Warnings {
		lines = append(lines, wrapped("Warning", safe(warn), st.Warn.Render)...)
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…")
	}
	return s.compact(lines)
}

func (s *detailScreen) manifestInfo(m *model.Manifest, lab func(string) string) []string {
	st := s.sh.st
	agent := m.Agent.Kind
	if m.Agent.Version != "" {
		agent += " " + m.Agent.Version
	}
	if m.Agent.Fingerprint != "" {
		agent += " (" + m.Agent.Fingerprint + ")"
	}
	parents := "none (root image)"
	if len(m.Parents) > 0 {
		parents = s.parentsText(m.Parents)
		if len(m.Parents) == 2 {
			parents += " (merge)"
		}
	}
	lines := []string{
		lab("Agent") + st.Value.Render(safe(agent)),
		lab("Created") + st.Value.Render(m.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC")),
		lab("Parents") + st.Value.Render(parents),
		lab("Effects") + s.effectsSummary(),
		lab("Cache") + s.cacheSummary(m),
		lab("Blobs") + st.Value.Render(s.blobSummary()),
	}
	if s.local == "" && s.data.walkErr == "" {
		lines = append(lines, lab("Pull")+s.pullLine())
	}
	return lines
}

// blobSummary counts the blobs, their stored size and those the local
// store holds.
func (s *detailScreen) blobSummary() string {
	if s.data.walkErr != "" {
		return "walk failed: " + s.data.walkErr
	}
	var stored int64
	present, known := 0, true
	for _, b := range s.data.blobs {
		if b.StoredSize < 0 {
			known = false
		} else {
			stored += b.StoredSize
		}
		if b.present {
			present++
		}
	}
	size := termtext.Bytes(stored) + " stored"
	if !known {
		size = "size unknown"
	}
	return fmt.Sprintf("%d blobs, %s, %d/%d in the local store", len(s.data.blobs), size, present, len(s.data.blobs))
}

// paneHeader is the fixed header of the current pane.
func (s *detailScreen) paneHeader() []string {
	if p := s.panes[s.pane]; p.header != nil && s.data != nil {
		h := p.header(s.vp.Width())
		for i, l := range h {
			h[i] = ansi.Truncate(l, s.vp.Width(), "…")
		}
		return h
	}
	return nil
}

func (s *detailScreen) resize() {
	info := len(s.infoLines())
	s.vp.SetWidth(max(s.sh.width-2, 10))
	s.vp.SetHeight(max(s.sh.height-info-4-len(s.paneHeader()), 3))
}

func (s *detailScreen) setPaneContent() {
	s.redraw()
	s.vp.GotoTop()
}

// redraw renders the current pane again (with the search's marks).
func (s *detailScreen) redraw() {
	if s.data == nil {
		s.vp.SetContent("")
		return
	}
	s.resize()
	w := s.vp.Width()
	lines := s.x.find.mark(s.sh, s.panes[s.pane].body(w))
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…") // a cut line says so
	}
	s.vp.SetContentLines(lines)
}

// switchPane moves to another pane and starts its read.
func (s *detailScreen) switchPane(to int) tea.Cmd {
	s.pane = (to + len(s.panes)) % len(s.panes)
	s.setPaneContent()
	return s.paneLoad()
}

// blobCols are the widths of the blob table: role (as wide as the
// longest, so the data stays near the names), digest, stored size, local
// presence.
func (s *detailScreen) blobCols(w int) (role, dig, size, local int) {
	longest := 4
	for _, b := range s.data.blobs {
		longest = max(longest, ansi.StringWidth(b.Role))
	}
	return max(min(w-12-12-11-3, longest+2), 12), 12, 12, 11
}

func (s *detailScreen) blobHeader(w int) []string {
	role, dig, size, local := s.blobCols(w)
	return []string{s.sh.st.ColHeader.Render(fit("ROLE", role, false) + " " + fit("DIGEST", dig, false) + " " +
		fit("STORED SIZE", size, true) + " " + fit("LOCAL", local, false))}
}

func (s *detailScreen) blobLines(w int) []string {
	st := s.sh.st
	if s.data.walkErr != "" {
		return []string{st.Error.Render(wrap("✗ "+s.data.walkErr, w))}
	}
	role, dig, size, local := s.blobCols(w)
	out := make([]string, 0, len(s.data.blobs))
	for _, r := range s.data.blobs {
		loc := st.Muted.Render(fit("· remote", local, false))
		if r.present {
			loc = st.OK.Render(fit("✓ present", local, false))
		}
		out = append(out, st.Row.Render(fit(r.Role, role, false))+" "+st.Muted.Render(fit(r.Digest.Short(), dig, false))+" "+
			st.Row.Render(fit(termtext.Bytes(r.StoredSize), size, true))+" "+loc)
	}
	return out
}

func (s *detailScreen) manifestLines(int) []string {
	var out bytes.Buffer
	if err := json.Indent(&out, s.data.in.Raw, "", "  "); err != nil {
		return strings.Split(safeText(string(s.data.in.Raw)), "\n")
	}
	lines := strings.Split(safeText(out.String()), "\n")
	for i, l := range lines {
		lines[i] = s.sh.st.Value.Render(l)
	}
	return lines
}

func (s *detailScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case detailMsg:
		return s, s.gotDetail(msg)
	case paneMsg:
		s.gotLoad(msg)
	case tea.WindowSizeMsg:
		keep := s.vp.YOffset()
		s.redraw()
		s.vp.SetYOffset(keep)
	case opDoneMsg:
		return s, s.afterOp(msg)
	case jobEndedMsg:
		// A pull changes what is in the local store.
		if storeChanged(msg) && s.data != nil {
			return s, s.Init()
		}
	case tea.KeyPressMsg:
		if s.x.find.typing {
			s.x.find.typeKey(s.sh, msg, s.findRedraw, &s.vp)
		}
	case tea.PasteMsg:
		if s.x.find.typing {
			s.x.find.paste(msg.Content)
			s.redraw()
		}
	case tea.MouseClickMsg:
		// A click on the tab bar switches panes.
		if msg.Button == tea.MouseLeft && msg.Y == len(s.infoLines())+1 {
			_, at := s.tabBar()
			for i, span := range at {
				if msg.X >= span[0] && msg.X < span[1] {
					return s, s.switchPane(i)
				}
			}
		}
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		s.vp, cmd = s.vp.Update(msg)
		return s, cmd
	}
	return s, nil
}

// afterOp follows a short write: the image signed (at its new reference,
// when signing moved it), or a key store that judges it anew, is read
// again.
func (s *detailScreen) afterOp(msg opDoneMsg) tea.Cmd {
	if msg.err != nil {
		return nil
	}
	to, moved := msg.moved[s.img.ref]
	if moved {
		s.img.ref = to
	}
	if moved || msg.ring != nil || slices.Contains(msg.changes, s.img.ref) {
		s.resetInside()
		return s.Init()
	}
	return nil
}

// gotDetail takes the inspection: a new image (a tag that moved) drops
// what the panes read of the old one.
func (s *detailScreen) gotDetail(msg detailMsg) tea.Cmd {
	s.loading = false
	if msg.err != nil {
		s.err = msg.err
		s.sh.fail(msg.err)
		return nil
	}
	s.err = nil
	if s.data != nil && s.data.in.ImageID != msg.data.in.ImageID {
		s.resetInside()
	}
	keep := s.vp.YOffset()
	s.data = msg.data
	s.setPaneContent()
	s.vp.SetYOffset(keep)
	return s.afterLoad()
}

func (s *detailScreen) scroll(f func()) func() tea.Cmd { return func() tea.Cmd { f(); return nil } }

func (s *detailScreen) Bindings() []binding {
	k := s.sh.keys
	var bs []binding
	if p := s.panes[s.pane]; p.keys != nil && s.data != nil {
		bs = p.keys() // ahead of the scrolling keys: a pane's cursor
	}
	bs = append(bs,
		bind(&k.Up, groupMove, false, s.scroll(func() { s.vp.ScrollUp(1) })),
		bind(&k.Down, groupMove, false, s.scroll(func() { s.vp.ScrollDown(1) })),
		bind(&k.PageUp, groupMove, false, s.scroll(func() { s.vp.PageUp() })),
		bind(&k.PageDown, groupMove, false, s.scroll(func() { s.vp.PageDown() })),
		bind(&k.Top, groupMove, false, s.scroll(func() { s.vp.GotoTop() })),
		bind(&k.Bottom, groupMove, false, s.scroll(func() { s.vp.GotoBottom() })),
		bind(&k.NextPane, groupView, true, func() tea.Cmd { return s.switchPane(s.pane + 1) }),
		bind(&k.PrevPane, groupView, false, func() tea.Cmd { return s.switchPane(s.pane - 1) }),
		bind(&k.Refresh, groupView, false, func() tea.Cmd {
			s.resetInside()
			return s.Init()
		}),
	)
	bs = append(bs, s.x.find.bindings(s.sh, s.findRedraw, &s.vp)...)
	if s.local != "" {
		id := s.local
		return append(bs,
			bind(&k.Push, groupImage, true, func() tea.Cmd { return pushLocalFlow(s.sh, id) }).unless(s.sh.writeOff("a registry")),
			bind(&k.YankDigest, groupCopy, true, func() tea.Cmd {
				s.sh.infof("copied image ID %s", id.Short())
				return tea.SetClipboard(string(id))
			}))
	}
	sel := func() []image { return []image{s.current()} }
	bs = append(bs, bind(&k.ForkTree, groupView, false, s.forkTree))
	bs = append(bs, diffKeys(s.sh, sel)...)
	bs = append(bs, imageBindings(s.sh, sel)...)
	return append(bs, signRetagBindings(s.sh, sel, s.img.ref)...)
}

// current is the image with what the load learned.
func (s *detailScreen) current() image {
	im := s.img
	if s.data != nil {
		best := s.data.in.Signature.Strongest()
		im.status, im.reason, im.id = string(best.Status), safe(best.Reason), s.data.in.ImageID
	} else if im.status == "" {
		im.status = termtext.VerdictPending
	}
	return im
}

func (s *detailScreen) View() string {
	st := s.sh.st
	if s.err != nil {
		return clipLines(st.Error.Render(wrap("✗ "+errLine(s.err), s.sh.width))+"\n\n"+
			st.Muted.Render("  "+s.sh.keys.Back.Help().Key+" goes back, "+s.sh.keys.Refresh.Help().Key+" retries"), s.sh.height)
	}
	if s.data == nil {
		return clipLines(strings.Join(s.infoLines(), "\n")+"\n\n"+st.Muted.Render("  inspecting manifest and signature…"), s.sh.height)
	}
	var b strings.Builder
	b.WriteString(strings.Join(s.infoLines(), "\n"))
	b.WriteString("\n\n")
	bar, _ := s.tabBar()
	b.WriteString(bar + "\n")
	inner := s.vp.View()
	if h := s.paneHeader(); len(h) > 0 {
		inner = strings.Join(h, "\n") + "\n" + inner
	}
	b.WriteString(st.Pane.Render(inner))
	return clipLines(b.String(), s.sh.height)
}
