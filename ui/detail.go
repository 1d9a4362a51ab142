package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// maxStat bounds the per-blob size lookups of one detail screen.
const maxStat = 2000

// blobRow is one line of the blob table.
type blobRow struct {
	role    string
	digest  model.Digest
	size    int64 // stored size, -1 unknown
	present bool  // in the local store
}

// detailData is what the background load learned about one image.
type detailData struct {
	in      *registry.Inspection
	blobs   []blobRow
	fsTree  *model.FsTree
	fsErr   string
	storeOK bool
}

type detailMsg struct {
	id   int
	data *detailData
	err  error
}

func (m detailMsg) target() int { return m.id }

// Panes of the detail screen's scrollable area.
const (
	paneBlobs = iota
	paneManifest
	paneFS
	paneCount
)

var paneNames = [...]string{"Blobs", "Manifest JSON", "FS tree"}

// detailScreen shows one image: identity, signature, layout, blobs, and
// the manifest and fs tree in a scrollable pane.
type detailScreen struct {
	id      int
	sh      *shared
	ref     string
	title   string
	loading bool
	err     error
	data    *detailData
	pane    int
	vp      viewport.Model
	local   model.Digest // set for an image of the local store
	ctx     context.Context
	cancel  context.CancelFunc
}

func newDetailScreen(sh *shared, ref, title string) *detailScreen {
	ctx, cancel := context.WithCancel(sh.ctx)
	s := &detailScreen{id: nextScreenID(), sh: sh, ref: ref, title: title, ctx: ctx, cancel: cancel}
	s.vp = viewport.New()
	s.vp.MouseWheelEnabled = true
	s.resize()
	return s
}

func (s *detailScreen) ID() int         { return s.id }
func (s *detailScreen) Title() string   { return s.title }
func (s *detailScreen) Busy() bool      { return s.loading }
func (s *detailScreen) Capturing() bool { return false }
func (s *detailScreen) close()          { s.cancel() }

// newLocalDetailScreen shows an image of the local store.
func newLocalDetailScreen(sh *shared, id model.Digest) *detailScreen {
	s := newDetailScreen(sh, "local store image "+string(id), id.Short())
	s.local = id
	return s
}

func (s *detailScreen) Init() tea.Cmd {
	s.loading = true
	sh, id, ref, ctx, local := s.sh, s.id, s.ref, s.ctx, s.local
	return func() tea.Msg {
		var d *detailData
		var err error
		if local != "" {
			d, err = loadLocalDetail(ctx, sh, local)
		} else {
			d, err = loadDetail(ctx, sh, ref)
		}
		return detailMsg{id: id, data: d, err: err}
	}
}

// loadDetail inspects the image, then reads the fs tree and page manifest
// (verified against their digests) for the full blob walk, and checks the
// local store for each blob.
func loadDetail(ctx context.Context, sh *shared, ref string) (*detailData, error) {
	reg, r, err := sh.openRef(ref)
	if err != nil {
		return nil, err
	}
	in, err := reg.Inspect(ctx, r)
	if err != nil {
		return nil, err
	}
	src, err := reg.Source(ctx, r)
	if err != nil {
		return nil, err
	}
	return walkDetail(ctx, sh, in, src), nil
}

// loadLocalDetail shows an image of the local store. The store keeps no
// signatures: images were verified when they were pulled.
func loadLocalDetail(ctx context.Context, sh *shared, id model.Digest) (*detailData, error) {
	st, err := sh.openStore()
	if err != nil {
		return nil, err
	}
	src, err := registry.StoreSource(st, id)
	if err != nil {
		return nil, err
	}
	in, err := registry.InspectSource(ctx, src, signing.Default())
	if err != nil {
		return nil, err
	}
	in.Signature = signing.Verdict{Status: termtext.VerdictLocal,
		Reason: "the local store keeps no signatures; images are verified when pulled"}
	return walkDetail(ctx, sh, in, src), nil
}

func walkDetail(ctx context.Context, sh *shared, in *registry.Inspection, src registry.Source) *detailData {
	d := &detailData{in: in}
	if in.Manifest == nil {
		return d
	}
	meta := map[model.Digest][]byte{}
	for _, md := range in.Manifest.MetadataBlobs() {
		if _, ok := meta[md]; ok {
			continue
		}
		b, err := readSmallBlob(ctx, src, md)
		if err != nil {
			if md == in.Manifest.World.FS {
				d.fsErr = errLine(err)
			}
			continue
		}
		meta[md] = b
	}
	if b, ok := meta[in.Manifest.World.FS]; ok {
		if t, err := model.ParseFsTree(b); err == nil {
			d.fsTree = t
		} else {
			d.fsErr = err.Error()
		}
	}
	refs := model.Walk(in.Manifest, func(dg model.Digest) ([]byte, error) {
		if b, ok := meta[dg]; ok {
			return b, nil
		}
		return nil, fault.ErrNotFound
	})
	st, stErr := sh.openStore()
	d.storeOK = stErr == nil
	stater, _ := src.(registry.BlobStater)
	for i, br := range refs {
		row := blobRow{role: br.Role, digest: br.Digest, size: -1}
		if stater != nil && i < maxStat {
			if n, err := stater.StatBlob(ctx, br.Digest); err == nil {
				row.size = n
			}
		}
		if st != nil && br.Digest.Validate() == nil {
			row.present = st.HasBlob(br.Digest)
		}
		d.blobs = append(d.blobs, row)
	}
	return d
}

func readSmallBlob(ctx context.Context, src registry.Source, d model.Digest) ([]byte, error) {
	rc, _, err := src.OpenBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	stored, err := io.ReadAll(io.LimitReader(rc, model.MaxMetadataSize+1))
	if err != nil {
		return nil, err
	}
	return blob.DecodeVerified(stored, d, model.MaxMetadataSize)
}

// infoHeight is the number of lines above the pane.
func (s *detailScreen) infoLines() []string {
	st := s.sh.st
	lab := func(l string) string { return st.Label.Render(fmt.Sprintf("%-10s", l)) }
	lines := []string{lab("Reference") + " " + st.Value.Render(s.ref)}
	if s.data == nil {
		return lines
	}
	in := s.data.in
	lines = append(lines, lab("Image ID")+" "+st.Value.Render(string(in.ImageID)))
	v := in.Signature
	sig := st.Verdict(string(v.Status))
	if v.KeySource != "" {
		sig += st.Muted.Render("  key: " + v.KeySource)
	}
	lines = append(lines, lab("Signature")+" "+sig)
	if v.Reason != "" {
		lines = append(lines, lab("")+" "+st.VerdictStyle(string(v.Status)).UnsetBold().Render(v.Reason))
	}
	if m := in.Manifest; m != nil {
		agent := m.Agent.Kind
		if m.Agent.Version != "" {
			agent += " " + m.Agent.Version
		}
		if m.Agent.Fingerprint != "" {
			agent += " (" + m.Agent.Fingerprint + ")"
		}
		lines = append(lines,
			lab("Agent")+" "+st.Value.Render(agent),
			lab("Created")+" "+st.Value.Render(m.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC")))
		parents := "none (root image)"
		if len(m.Parents) > 0 {
			ps := make([]string, len(m.Parents))
			for i, p := range m.Parents {
				ps[i] = p.Short()
			}
			parents = strings.Join(ps, ", ")
			if len(m.Parents) == 2 {
				parents += " (merge)"
			}
		}
		lines = append(lines, lab("Parents")+" "+st.Value.Render(parents),
			lab("Cache")+" "+st.Value.Render(m.Cache.Layout)+st.Muted.Render(" page manifest "+m.Cache.Manifest.Short()))
		var stored int64
		present, known := 0, true
		for _, b := range s.data.blobs {
			if b.size < 0 {
				known = false
			} else {
				stored += b.size
			}
			if b.present {
				present++
			}
		}
		size := termtext.Bytes(stored) + " stored"
		if !known {
			size = "size unknown"
		}
		lines = append(lines, lab("Blobs")+" "+st.Value.Render(fmt.Sprintf("%d blobs, %s, %d/%d in the local store",
			len(s.data.blobs), size, present, len(s.data.blobs))))
	}
	if in.ManifestError != "" {
		lines = append(lines, lab("Problem")+" "+st.Error.Render(in.ManifestError))
	}
	for _, w := range in.Warnings {
		lines = append(lines, lab("Warning")+" "+st.Warn.Render(w))
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, s.sh.width, "…")
	}
	return lines
}

func (s *detailScreen) resize() {
	info := len(s.infoLines())
	s.vp.SetWidth(max(s.sh.width-2, 10))
	s.vp.SetHeight(max(s.sh.height-info-4, 3))
}

func (s *detailScreen) setPaneContent() {
	if s.data == nil {
		s.vp.SetContent("")
		return
	}
	st := s.sh.st
	switch s.pane {
	case paneBlobs:
		var b strings.Builder
		w := s.vp.Width()
		roleW := max(w-12-14-12-4, 12)
		b.WriteString(st.ColHeader.Render(fit("ROLE", roleW, false)+" "+fit("DIGEST", 12, false)+" "+
			fit("SIZE", 12, true)+" "+fit("LOCAL", 12, false)) + "\n")
		for _, r := range s.data.blobs {
			size := "?"
			if r.size >= 0 {
				size = termtext.Bytes(r.size)
			}
			local := st.Muted.Render(fit("· remote", 12, false))
			if r.present {
				local = st.OK.Render(fit("✓ present", 12, false))
			}
			b.WriteString(st.Row.Render(fit(r.role, roleW, false)) + " " + st.Muted.Render(fit(r.digest.Short(), 12, false)) + " " +
				st.Row.Render(fit(size, 12, true)) + " " + local + "\n")
		}
		s.vp.SetContent(strings.TrimSuffix(b.String(), "\n"))
	case paneManifest:
		var out bytes.Buffer
		if err := json.Indent(&out, s.data.in.Raw, "", "  "); err != nil {
			s.vp.SetContent(string(s.data.in.Raw))
		} else {
			lines := strings.Split(out.String(), "\n")
			for i, l := range lines {
				lines[i] = st.Value.Render(l)
			}
			s.vp.SetContentLines(lines)
		}
	case paneFS:
		if s.data.fsTree == nil {
			msg := "fs tree not available"
			if s.data.fsErr != "" {
				msg += ": " + s.data.fsErr
			}
			s.vp.SetContent(st.Muted.Render(msg))
			return
		}
		var b strings.Builder
		for _, e := range s.data.fsTree.Entries {
			depth := strings.Count(e.Path, "/")
			name := e.Path[strings.LastIndex(e.Path, "/")+1:]
			ind := strings.Repeat("  ", depth)
			switch e.Kind {
			case "dir":
				b.WriteString(st.Muted.Render(fit(e.Mode, 6, false)) + ind + st.Info.Render(name+"/") + "\n")
			case "symlink":
				b.WriteString(st.Muted.Render(fit(e.Mode, 6, false)) + ind + st.Row.Render(name) + st.Muted.Render(" → "+e.LinkTarget) + "\n")
			default:
				b.WriteString(st.Muted.Render(fit(e.Mode, 6, false)) + ind + st.Row.Render(name) +
					st.Muted.Render("  "+termtext.Bytes(int64(e.Size))) + "\n")
			}
		}
		if len(s.data.fsTree.Entries) == 0 {
			b.WriteString(st.Muted.Render("(empty tree)"))
		}
		s.vp.SetContent(strings.TrimSuffix(b.String(), "\n"))
	}
	s.vp.GotoTop()
}

func (s *detailScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case detailMsg:
		s.loading = false
		if msg.err != nil {
			s.err = msg.err
			return s, statusErr(msg.err)
		}
		s.data = msg.data
		s.resize()
		s.setPaneContent()
		return s, nil
	case tea.WindowSizeMsg:
		s.resize()
		s.setPaneContent()
		return s, nil
	case tea.KeyPressMsg:
		k := s.sh.keys
		switch {
		case key.Matches(msg, k.NextPane):
			s.pane = (s.pane + 1) % paneCount
			s.setPaneContent()
			return s, nil
		case key.Matches(msg, k.Up):
			s.vp.ScrollUp(1)
			return s, nil
		case key.Matches(msg, k.Down):
			s.vp.ScrollDown(1)
			return s, nil
		case key.Matches(msg, k.PageUp):
			s.vp.PageUp()
			return s, nil
		case key.Matches(msg, k.PageDown):
			s.vp.PageDown()
			return s, nil
		case key.Matches(msg, k.Top):
			s.vp.GotoTop()
			return s, nil
		case key.Matches(msg, k.Bottom):
			s.vp.GotoBottom()
			return s, nil
		case key.Matches(msg, k.Refresh):
			return s, s.Init()
		}
		if s.local != "" {
			switch {
			case key.Matches(msg, k.Push):
				return s, pushLocalFlow(s.sh, s.local)
			case key.Matches(msg, k.YankDigest), key.Matches(msg, k.YankRef):
				return s, tea.Batch(tea.SetClipboard(string(s.local)), statusf("copied image ID %s", s.local.Short()))
			}
			return s, nil
		}
		status, id := termtext.VerdictPending, model.Digest("")
		if s.data != nil {
			status, id = string(s.data.in.Signature.Status), s.data.in.ImageID
		}
		if cmd, ok := imageAction(s.sh, msg, s.ref, status, id); ok {
			return s, cmd
		}
	case tea.MouseClickMsg:
		// A click on the tab bar switches panes.
		if msg.Button == tea.MouseLeft && msg.Y == len(s.infoLines())+1 {
			x := 0
			for i, n := range paneNames {
				w := len(n) + 4
				if msg.X >= x && msg.X < x+w {
					s.pane = i
					s.setPaneContent()
				}
				x += w
			}
		}
		return s, nil
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		s.vp, cmd = s.vp.Update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *detailScreen) View() string {
	st := s.sh.st
	if s.err != nil {
		return clipLines(st.Error.Render("✗ "+errLine(s.err))+"\n\n"+st.Muted.Render("  press esc to go back, ctrl+r to retry"), s.sh.height)
	}
	if s.data == nil {
		return clipLines(strings.Join(s.infoLines(), "\n")+"\n\n"+st.Muted.Render("  inspecting manifest and signature…"), s.sh.height)
	}
	var b strings.Builder
	b.WriteString(strings.Join(s.infoLines(), "\n"))
	b.WriteString("\n\n")
	for i, n := range paneNames {
		if i == s.pane {
			b.WriteString(st.Selected.Render(" " + n + " "))
		} else {
			b.WriteString(st.Muted.Render(" " + n + " "))
		}
		b.WriteString("  ")
	}
	pct := fmt.Sprintf(" %3.0f%%", s.vp.ScrollPercent()*100)
	b.WriteString(st.Muted.Render(pct))
	b.WriteString("\n")
	b.WriteString(st.Pane.Render(s.vp.View()))
	return clipLines(b.String(), s.sh.height)
}

func (s *detailScreen) ShortHelp() []keyBinding {
	k := s.sh.keys
	if s.local != "" {
		return []keyBinding{k.Back, k.NextPane, k.Push, k.YankDigest, k.Help}
	}
	return []keyBinding{k.Back, k.NextPane, k.Pull, k.Verify, k.Copy, k.YankRef, k.Help}
}

func (s *detailScreen) FullHelp() [][]keyBinding {
	k := s.sh.keys
	return [][]keyBinding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.NextPane},
		{k.Pull, k.Verify, k.Copy, k.Refresh},
		{k.YankRef, k.YankDigest, k.YankCmd},
		{k.Back, k.Transfers, k.Help, k.Quit},
	}
}
