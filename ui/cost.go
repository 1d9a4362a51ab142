package ui

import (
	"context"
	"fmt"
	"sync"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
)

// Pull cost: what pulling an image would still download, given what the
// local store holds. The walk of an image (its blobs and their stored
// sizes) never changes, so it is kept per image ID for the session; the
// cost is recounted against the store whenever the store changes.

// costConcurrency bounds the background walks of one tag list.
const costConcurrency = 2

// maxWalks bounds the walks kept for the session.
const maxWalks = 2000

// walkCache keeps the sized walk of each image ID.
type walkCache struct {
	mu sync.Mutex
	m  map[model.Digest][]registry.SizedBlob
}

// get returns the walk of the image at ref, reading it once. Only called
// from inside tea.Cmds.
func (c *walkCache) get(ctx context.Context, sh *shared, ref string, id model.Digest) ([]registry.SizedBlob, error) {
	c.mu.Lock()
	w, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return w, nil
	}
	cont, err := contentOpener(sh, ref, "")(ctx)
	if err != nil {
		return nil, err
	}
	w, err = cont.Blobs(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxWalks {
		c.m = map[model.Digest][]registry.SizedBlob{}
	}
	// The tag may have moved since it was inspected: key by what was read.
	c.m[cont.Inspection().ImageID] = w
	c.mu.Unlock()
	return w, nil
}

// storeChanged reports a job that changed the local store: a pull, or a
// removal from it (which may have removed part before failing).
func storeChanged(msg jobEndedMsg) bool {
	return msg.ok && msg.op == "pull" || msg.op == opImagesRm || msg.op == opGC
}

// costInfo is one row's pull cost, or why there is none.
type costInfo struct {
	cost *registry.PullCost
	err  string
}

type costMsg struct {
	id  int
	ref string
	c   costInfo
}

func (m costMsg) target() int { return m.id }

// pullCosts is the PULL column of a tag list, filled in the background
// for the rows on screen.
type pullCosts struct {
	by       map[string]costInfo // by tag ref
	asked    map[string]bool
	inFlight int
}

func newPullCosts() pullCosts {
	return pullCosts{by: map[string]costInfo{}, asked: map[string]bool{}}
}

// reset drops the counts (the store changed); walks stay cached.
func (p *pullCosts) reset() { p.by, p.asked = map[string]costInfo{}, map[string]bool{} }

func (p *pullCosts) got(msg costMsg) {
	p.inFlight--
	if p.asked[msg.ref] {
		p.by[msg.ref] = msg.c
	}
}

// costCmd counts the pull cost of one image.
func costCmd(ctx context.Context, sh *shared, id int, ref string, imageID model.Digest) tea.Cmd {
	return func() tea.Msg {
		w, err := sh.walks.get(ctx, sh, ref, imageID)
		if err != nil {
			return costMsg{id: id, ref: ref, c: costInfo{err: errLine(err)}}
		}
		st, err := sh.openStore()
		if err != nil {
			return costMsg{id: id, ref: ref, c: costInfo{err: errLine(err)}}
		}
		return costMsg{id: id, ref: ref, c: costInfo{cost: registry.CostOf(w, st.HasBlob)}}
	}
}

// pumpCosts starts cost counts for the rows given (on screen first), up
// to the concurrency bound, for images whose pull could succeed.
func (s *tagsScreen) pumpCosts(rows []int) tea.Cmd {
	var cmds []tea.Cmd
	for _, i := range rows {
		if s.cost.inFlight >= costConcurrency {
			break
		}
		t := s.tags[i]
		v, ok := s.verdicts[t.Ref]
		if !ok || s.cost.asked[t.Ref] || v.imageID == "" {
			continue
		}
		if g, _ := transferGate(v.status, v.reason, s.sh.requireFor(t.Ref)); g == gateRefuse || v.status == termtext.VerdictError {
			continue
		}
		s.cost.asked[t.Ref] = true
		s.cost.inFlight++
		cmds = append(cmds, costCmd(s.ctx, s.sh, s.id, t.Ref, v.imageID))
	}
	return tea.Batch(cmds...)
}

// costRows are the rows whose cost to count: those on screen, or every
// row when the list is sorted by it.
func (s *tagsScreen) costRows() []int {
	if s.sorts[s.sort].col == costCol {
		return s.tbl.view
	}
	return s.tbl.visible()
}

// costCol is the PULL column of the tag list; sizeTitle heads it while
// the list is sorted by size.
const (
	costCol   = 4
	sizeTitle = "SIZE"
)

// costCell is the PULL cell: bytes still to download, or the image's
// whole stored size while the list is sorted by size.
func (s *tagsScreen) costCell(i int) (string, lipgloss.Style) {
	st := s.sh.st
	t := s.tags[i]
	c, ok := s.cost.by[t.Ref]
	switch {
	case ok && c.err != "":
		return "?", st.Error
	case ok && s.tbl.sortTitle == sizeTitle:
		return termtext.Bytes(c.cost.Bytes), st.Row
	case ok && c.cost.FetchBlobs == 0:
		return "✓ local", st.OK
	case ok:
		return termtext.Bytes(c.cost.FetchBytes), st.Row
	case s.cost.asked[t.Ref]:
		return "…", st.Muted
	}
	return "–", st.Muted
}

// cheaper orders rows by pull cost, unknown last.
func (s *tagsScreen) cheaper(a, b int) bool {
	return s.byCost(a, b, func(x, y *registry.PullCost) bool { return x.FetchBytes < y.FetchBytes })
}

// larger orders by the image's whole stored size, largest first.
func (s *tagsScreen) larger(a, b int) bool {
	return s.byCost(a, b, func(x, y *registry.PullCost) bool { return x.Bytes > y.Bytes })
}

// byCost puts rows whose cost is known first, ordered among themselves by
// before.
func (s *tagsScreen) byCost(a, b int, before func(x, y *registry.PullCost) bool) bool {
	ca, oka := s.cost.by[s.tags[a].Ref]
	cb, okb := s.cost.by[s.tags[b].Ref]
	oka, okb = oka && ca.cost != nil, okb && cb.cost != nil
	if oka != okb {
		return oka
	}
	return oka && before(ca.cost, cb.cost)
}

// pullLine is the detail's Pull line: what a pull would download given
// the local store, from the walk the detail made.
func (s *detailScreen) pullLine() string {
	st := s.sh.st
	if s.refused() {
		_, why := transferGate(s.current().status, "", s.sh.requireFor(s.current().ref)) // the reason is on the Signature line
		return st.Error.Render("refused: " + why)
	}
	present := map[model.Digest]bool{}
	sized := make([]registry.SizedBlob, len(s.data.blobs))
	for i, b := range s.data.blobs {
		sized[i] = registry.SizedBlob{BlobRef: model.BlobRef{Digest: b.Digest, Role: b.Role}, StoredSize: b.StoredSize}
		present[b.Digest] = b.present
	}
	c := registry.CostOf(sized, func(d model.Digest) bool { return present[d] })
	var text string
	switch {
	case c.FetchBlobs == 0:
		return st.OK.Render("nothing to download: every blob is in the local store")
	case c.LocalBlobs == 0:
		text = fmt.Sprintf("%s to download (all %d blobs)", termtext.Bytes(c.FetchBytes), c.Blobs)
	default:
		text = fmt.Sprintf("%s to download (%d of %d blobs; %s already local)", termtext.Bytes(c.FetchBytes), c.FetchBlobs, c.Blobs, termtext.Bytes(c.LocalBytes))
	}
	if c.UnknownSizes > 0 {
		text += fmt.Sprintf(", %d sizes unknown", c.UnknownSizes)
	}
	return st.Value.Render(text)
}
