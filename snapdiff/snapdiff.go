// Package snapdiff compares two images without pulling them: files added,
// removed and changed, KV pages shared and new, the conversation's common
// prefix and new messages, effects added, environment and model changes,
// and how many stored bytes B shares with A.
package snapdiff

import (
	"context"
	"strings"
	"sync"
	"time"

	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// Diff is what changed from image A to image B. Its JSON form is what
// `pf-registry diff --json` prints (documented in the README).
type Diff struct {
	A       Side     `json:"a"`
	B       Side     `json:"b"`
	Files   Files    `json:"files"`
	Pages   Pages    `json:"pages"`
	Trace   Trace    `json:"trace"`
	Effects Effects  `json:"effects"`
	Env     Env      `json:"env"`
	Model   Model    `json:"model"`
	Bytes   Bytes    `json:"bytes"`
	Notes   []string `json:"notes"`
}

// Side names one of the two images.
type Side struct {
	Ref     string         `json:"ref"`
	ImageID model.Digest   `json:"image_id"`
	Agent   string         `json:"agent"`
	Created time.Time      `json:"created_at"`
	Parents []model.Digest `json:"parents"`
}

// Snapshot is everything of one image a diff reads: small blobs only.
type Snapshot struct {
	Ref    string
	In     *registry.Inspection
	Tree   *model.FsTree
	Pages  *model.PageManifest
	Trace  *model.Trace
	Ledger *model.Ledger
	Env    *model.Env
	Model  *registry.ModelInfo
	Blobs  []registry.SizedBlob
}

// Load reads what a diff needs from an opened image (no KV page).
func Load(ctx context.Context, c *registry.Content, ref string) (*Snapshot, error) {
	s := &Snapshot{Ref: ref, In: c.Inspection()}
	var err error
	steps := []func() error{
		func() error { s.Tree, err = c.FsTree(ctx); return err },
		func() error { s.Pages, err = c.PageManifest(ctx); return err },
		func() error { s.Trace, err = c.Trace(ctx); return err },
		func() error { s.Ledger, err = c.Effects(ctx); return err },
		func() error { s.Env, err = c.Env(ctx); return err },
		func() error { s.Model, err = c.Model(ctx); return err },
		func() error { s.Blobs, err = c.Blobs(ctx); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Compute loads both images (concurrently) and compares them. st, when
// not nil, is the local store whose content "pulling B now" accounts for.
func Compute(ctx context.Context, a, b *registry.Content, refA, refB string, st *store.Store) (*Diff, error) {
	var sa, sb *Snapshot
	var errA, errB error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sa, errA = Load(ctx, a, refA) }()
	go func() { defer wg.Done(); sb, errB = Load(ctx, b, refB) }()
	wg.Wait()
	if errA != nil {
		return nil, errA
	}
	if errB != nil {
		return nil, errB
	}
	var have func(model.Digest) bool
	if st != nil {
		have = st.HasBlob
	}
	return Compare(sa, sb, have), nil
}

// Compare diffs two loaded images. have, when not nil, tells the blobs the
// local store holds now.
func Compare(a, b *Snapshot, have func(model.Digest) bool) *Diff {
	d := &Diff{A: side(a), B: side(b), Notes: []string{}}
	d.Files = compareFiles(a.Tree, b.Tree)
	d.Pages = comparePages(a.Pages, b.Pages)
	d.Trace = compareTrace(a.Trace, b.Trace)
	d.Effects = compareEffects(a.Ledger, b.Ledger, d)
	d.Env = compareEnv(a.Env, b.Env)
	d.Model = compareModel(a.Model, b.Model)
	d.Bytes = compareBytes(a.Blobs, b.Blobs, have)
	return d
}

func side(s *Snapshot) Side {
	m := s.In.Manifest
	return Side{Ref: s.Ref, ImageID: s.In.ImageID, Agent: m.Agent.Kind, Created: m.CreatedAt, Parents: m.Parents}
}

// Files is the working tree difference, by path.
type Files struct {
	Added     []File       `json:"added"`
	Removed   []File       `json:"removed"`
	Changed   []FileChange `json:"changed"`
	Unchanged int          `json:"unchanged"`
}

// File is one entry of the tree.
type File struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	Mode string `json:"mode"`
	Size uint64 `json:"size"`
}

// FileChange is a path in both trees that differs in kind, mode, size,
// content or link target.
type FileChange struct {
	Path    string `json:"path"`
	KindA   string `json:"kind_a"`
	KindB   string `json:"kind_b"`
	ModeA   string `json:"mode_a"`
	ModeB   string `json:"mode_b"`
	SizeA   uint64 `json:"size_a"`
	SizeB   uint64 `json:"size_b"`
	Content bool   `json:"content_changed"`
}

func compareFiles(a, b *model.FsTree) Files {
	f := Files{Added: []File{}, Removed: []File{}, Changed: []FileChange{}}
	gone := match(a.Entries, b.Entries, func(e model.FsEntry) string { return e.Path }, func(old *model.FsEntry, e model.FsEntry) {
		switch {
		case old == nil:
			f.Added = append(f.Added, file(e))
		case *old == e:
			f.Unchanged++
		default:
			f.Changed = append(f.Changed, FileChange{Path: e.Path, KindA: old.Kind, KindB: e.Kind, ModeA: old.Mode, ModeB: e.Mode,
				SizeA: old.Size, SizeB: e.Size, Content: old.Blob != e.Blob || old.LinkTarget != e.LinkTarget})
		}
	})
	for _, e := range gone {
		f.Removed = append(f.Removed, file(e))
	}
	return f
}

// match pairs the items of b with those of a that have the same key: each
// item of b is passed with its counterpart (nil when a lacks it), in b's
// order; the items of a that b lacks are returned, in a's order.
func match[K comparable, V any](a, b []V, key func(V) K, each func(old *V, cur V)) []V {
	inA := make(map[K]V, len(a))
	for _, x := range a {
		inA[key(x)] = x
	}
	inB := make(map[K]bool, len(b))
	for _, x := range b {
		inB[key(x)] = true
		if old, ok := inA[key(x)]; ok {
			each(&old, x)
		} else {
			each(nil, x)
		}
	}
	var gone []V
	for _, x := range a {
		if !inB[key(x)] {
			gone = append(gone, x)
		}
	}
	return gone
}

func file(e model.FsEntry) File { return File{Path: e.Path, Kind: e.Kind, Mode: e.Mode, Size: e.Size} }

// Pages is the KV cache difference, by page index: a page is shared when
// both its K and V blobs are the same.
type Pages struct {
	APages  int `json:"a_pages"`
	BPages  int `json:"b_pages"`
	Shared  int `json:"shared"`
	Changed int `json:"changed"`
	New     int `json:"new"`
	Removed int `json:"removed"`
}

func comparePages(a, b *model.PageManifest) Pages {
	p := Pages{APages: len(a.Pages), BPages: len(b.Pages)}
	gone := match(a.Pages, b.Pages, func(pg model.Page) uint32 { return pg.Ix }, func(old *model.Page, pg model.Page) {
		switch {
		case old == nil:
			p.New++
		case *old == pg:
			p.Shared++
		default:
			p.Changed++
		}
	})
	p.Removed = len(gone)
	return p
}

// Trace is the conversation difference: the messages both start with,
// B's messages after them, and how many of A's B does not have.
type Trace struct {
	AMessages    int             `json:"a_messages"`
	BMessages    int             `json:"b_messages"`
	CommonPrefix int             `json:"common_prefix"`
	New          []model.Message `json:"new"`
	Dropped      int             `json:"dropped"`
}

func compareTrace(a, b *model.Trace) Trace {
	n := 0
	for n < len(a.Messages) && n < len(b.Messages) && a.Messages[n].Equal(b.Messages[n]) {
		n++
	}
	return Trace{AMessages: len(a.Messages), BMessages: len(b.Messages), CommonPrefix: n,
		New: append([]model.Message{}, b.Messages[n:]...), Dropped: len(a.Messages) - n}
}

// Effects is the ledger difference: B's entries A does not have.
type Effects struct {
	AEntries          int            `json:"a_entries"`
	BEntries          int            `json:"b_entries"`
	Added             []model.Effect `json:"added"`
	Removed           int            `json:"removed"`
	AddedIrreversible int            `json:"added_irreversible"`
	AddedNetworkOnly  int            `json:"added_network_only"`
}

func effectKey(e model.Effect) string {
	return strings.Join([]string{e.TS, e.ToolID, string(e.Class), e.IdempotencyKey, e.ArgsHash, e.ResultHash}, "\x00")
}

func compareEffects(a, b *model.Ledger, d *Diff) Effects {
	for _, s := range []struct {
		name string
		l    *model.Ledger
	}{{"A", a}, {"B", b}} {
		if s.l.Merged != nil {
			d.Notes = append(d.Notes, s.name+"'s ledger is a merged ledger (effects.merged.v1): its entries are in its parents' ledgers")
		}
	}
	e := Effects{AEntries: len(a.Entries), BEntries: len(b.Entries), Added: []model.Effect{}}
	inA := map[string]int{}
	for _, x := range a.Entries {
		inA[effectKey(x)]++
	}
	for _, x := range b.Entries {
		k := effectKey(x)
		if inA[k] > 0 {
			inA[k]--
			continue
		}
		e.Added = append(e.Added, x)
		switch x.Class {
		case model.EffectIrreversible:
			e.AddedIrreversible++
		case model.EffectNetworkOnly:
			e.AddedNetworkOnly++
		}
	}
	for _, n := range inA {
		e.Removed += n
	}
	return e
}

// Env is the environment difference. Redacted values compare equal, so a
// change of a secret does not show.
type Env struct {
	CwdA    string         `json:"cwd_a"`
	CwdB    string         `json:"cwd_b"`
	Added   []model.EnvVar `json:"added"`
	Removed []model.EnvVar `json:"removed"`
	Changed []EnvChange    `json:"changed"`
}

// EnvChange is a variable whose value differs.
type EnvChange struct {
	Name string `json:"name"`
	A    string `json:"a"`
	B    string `json:"b"`
}

func compareEnv(a, b *model.Env) Env {
	e := Env{CwdA: a.Cwd, CwdB: b.Cwd, Added: []model.EnvVar{}, Removed: []model.EnvVar{}, Changed: []EnvChange{}}
	gone := match(a.Vars, b.Vars, func(v model.EnvVar) string { return v.Name }, func(old *model.EnvVar, v model.EnvVar) {
		switch {
		case old == nil:
			e.Added = append(e.Added, v)
		case old.Value != v.Value:
			e.Changed = append(e.Changed, EnvChange{Name: v.Name, A: old.Value, B: v.Value})
		}
	})
	e.Removed = append(e.Removed, gone...)
	return e
}

// Model is the model difference: base and diff envelope.
type Model struct {
	BaseChanged bool     `json:"base_changed"`
	BaseA       string   `json:"base_a"`
	BaseB       string   `json:"base_b"`
	DiffChanged bool     `json:"diff_changed"`
	KindA       string   `json:"kind_a"`
	KindB       string   `json:"kind_b"`
	AdaptersA   []string `json:"adapters_a"`
	AdaptersB   []string `json:"adapters_b"`
}

func compareModel(a, b *registry.ModelInfo) Model {
	m := Model{BaseChanged: a.Base != b.Base, BaseA: a.BaseText, BaseB: b.BaseText, DiffChanged: a.DiffDigest != b.DiffDigest,
		AdaptersA: adapters(a), AdaptersB: adapters(b)}
	if a.Diff != nil {
		m.KindA = a.Diff.Kind
	}
	if b.Diff != nil {
		m.KindB = b.Diff.Kind
	}
	return m
}

func adapters(mi *registry.ModelInfo) []string {
	out := []string{}
	if mi.Diff != nil {
		for _, a := range mi.Diff.Adapters {
			out = append(out, a.Name)
		}
	}
	return out
}

// Bytes accounts stored bytes (sizes at each image's location): what B
// shares with A, and what pulling B costs when A is already local.
type Bytes struct {
	AStored     int64 `json:"a_stored"`
	BStored     int64 `json:"b_stored"`
	SharedBlobs int   `json:"shared_blobs"`
	SharedBytes int64 `json:"shared_bytes"`
	// PullBAfterA is what pulling B downloads into a store that holds A.
	PullBAfterA int64 `json:"pull_b_after_a"`
	// PullBNow is what pulling B downloads into the local store as it is;
	// absent without a store.
	PullBNow *int64 `json:"pull_b_now,omitempty"`
	// UnknownSizes counts blobs whose backend does not report a size.
	UnknownSizes int `json:"unknown_sizes,omitempty"`
}

func compareBytes(a, b []registry.SizedBlob, have func(model.Digest) bool) Bytes {
	inA := map[model.Digest]bool{}
	for _, x := range a {
		inA[x.Digest] = true
	}
	ca := registry.CostOf(a, func(model.Digest) bool { return false })
	cb := registry.CostOf(b, func(d model.Digest) bool { return inA[d] })
	out := Bytes{AStored: ca.Bytes, BStored: cb.Bytes, SharedBlobs: cb.LocalBlobs, SharedBytes: cb.LocalBytes,
		PullBAfterA: cb.FetchBytes, UnknownSizes: ca.UnknownSizes + cb.UnknownSizes}
	if have != nil {
		now := registry.CostOf(b, have).FetchBytes
		out.PullBNow = &now
	}
	return out
}
