// Package demo builds realistic synthetic ProcessFork images: an fs tree of
// source files, KV cache pages of a few MB, an effects ledger and a message
// trace. Everything is deterministic (fixed seeds and timestamps), so image
// IDs are stable across runs and machines, which golden tests rely on.
package demo

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file" // the demo registry is a file:// directory
	"pf-registry/signing"
	"pf-registry/store"
)

// ImageSpec describes one synthetic image.
type ImageSpec struct {
	Agent       string // agent kind, e.g. "claude-code"
	Fingerprint string
	Seed        uint64
	Created     time.Time
	Parents     []model.Digest
	Files       int // number of source files in the fs tree
	Pages       int // number of KV pages (each a K and a V blob)
	// SharePagesFrom reuses the first pages of a parent's seed, as a fork
	// does, so that related images share blobs.
	SharePagesFrom uint64
	SharedPages    int
	Messages       int
	// Cache geometry (defaults: 4 layers × 64 tokens × 8 heads × 64 dims, bf16
	// = 256 KiB per page blob).
	Layers, Tokens, Heads, HeadDim int
}

func (s *ImageSpec) defaults() {
	if s.Agent == "" {
		s.Agent = "claude-code"
	}
	if s.Fingerprint == "" {
		s.Fingerprint = "pf-cli"
	}
	if s.Layers == 0 {
		s.Layers, s.Tokens, s.Heads, s.HeadDim = 4, 64, 8, 64
	}
	if s.Created.IsZero() {
		s.Created = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	}
}

// PageBytes is the size of one K or V page blob of the spec.
func (s ImageSpec) PageBytes() int64 {
	s.defaults()
	return int64(s.Layers * s.Tokens * s.Heads * s.HeadDim * 2)
}

// Build writes the image's blobs and marker into st and returns its ID.
func Build(st *store.Store, spec ImageSpec) (model.Digest, error) {
	spec.defaults()
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	put := func(b []byte) (model.Digest, error) { return st.PutBytes(b) }

	m := &model.Manifest{
		SchemaVersion: model.SchemaVersion,
		MediaType:     model.ManifestMediaType,
		Agent:         model.Agent{Kind: spec.Agent, Version: "1.0.15", Fingerprint: spec.Fingerprint},
		CreatedAt:     spec.Created.UTC(),
		Parents:       append([]model.Digest{}, spec.Parents...),
	}
	var err error
	if m.Model.Base, err = put([]byte("base:" + spec.Agent)); err != nil {
		return "", err
	}
	if m.Model.Diff, err = put([]byte(`{"diff":{"adapters":[],"kind":"lora"},"layout":"model.diff.v1"}`)); err != nil {
		return "", err
	}

	// fs tree: a small project.
	tree := &model.FsTree{Kind: model.FsTreeKind}
	dirs := map[string]bool{}
	for i := 0; i < spec.Files; i++ {
		p, content := sourceFile(rng, i)
		if d := filepath.Dir(p); d != "." && !dirs[d] {
			dirs[d] = true
			tree.Entries = append(tree.Entries, model.FsEntry{Path: d, Mode: "0755", Kind: "dir"})
		}
		dg, err := put(content)
		if err != nil {
			return "", err
		}
		tree.Entries = append(tree.Entries, model.FsEntry{Path: p, Mode: "0644", Size: uint64(len(content)), Kind: "file", Blob: string(dg)})
	}
	link, err := put([]byte("README.md"))
	if err != nil {
		return "", err
	}
	tree.Entries = append(tree.Entries, model.FsEntry{Path: "docs/index.md", Mode: "0777", Size: 9, Kind: "symlink", Blob: string(link), LinkTarget: "README.md"})
	sortEntries(tree.Entries)
	if m.World.FS, err = put(tree.Encode()); err != nil {
		return "", err
	}

	env := fmt.Sprintf(`{"cwd":"/workspace/%s","kind":"env.v1","vars":{"HOME":"/home/agent","LANG":"C.UTF-8","OPENAI_API_KEY":"<redacted>","PATH":"/usr/local/bin:/usr/bin:/bin"}}`, spec.Fingerprint)
	if m.World.Env, err = put([]byte(env)); err != nil {
		return "", err
	}
	if m.World.Procs, err = put([]byte(`{"kind":"procs.unsupported.v1"}`)); err != nil {
		return "", err
	}
	if m.Effects.Ledger, err = put(ledger(rng, spec)); err != nil {
		return "", err
	}
	if m.Trace.Messages, err = put(trace(rng, spec)); err != nil {
		return "", err
	}

	// KV cache pages.
	pm := &model.PageManifest{
		Layout: model.CacheLayoutV1, PageSizeTokens: uint32(spec.Tokens), NLayers: uint32(spec.Layers),
		NHeads: uint32(spec.Heads), HeadDim: uint32(spec.HeadDim), Dtype: "bf16",
	}
	seq := model.LogicalSeq{ID: "seq-0"}
	for ix := 0; ix < spec.Pages; ix++ {
		seed := spec.Seed
		if ix < spec.SharedPages {
			seed = spec.SharePagesFrom
		}
		k, _, err := st.Put(pageReader(seed, uint64(ix)*2, spec.PageBytes()))
		if err != nil {
			return "", err
		}
		v, _, err := st.Put(pageReader(seed, uint64(ix)*2+1, spec.PageBytes()))
		if err != nil {
			return "", err
		}
		pm.Pages = append(pm.Pages, model.Page{Ix: uint32(ix), K: string(k), V: string(v)})
		seq.PageIxs = append(seq.PageIxs, uint32(ix))
	}
	seq.FillInLastPage = uint32(spec.Tokens / 2)
	if spec.Pages > 0 {
		pm.LogicalSeqs = []model.LogicalSeq{seq}
	}
	m.Cache.Layout = model.CacheLayoutV1
	if m.Cache.Manifest, err = put(pm.Encode()); err != nil {
		return "", err
	}
	return st.PutImage(m.Encode())
}

func sortEntries(es []model.FsEntry) {
	// Component-wise path order, as a sorted recursive walk produces.
	less := func(a, b string) bool {
		return strings.ReplaceAll(a, "/", "\x00") < strings.ReplaceAll(b, "/", "\x00")
	}
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && less(es[j].Path, es[j-1].Path); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

var words = strings.Fields(`agent cache page token layer tensor commit branch merge fork
snapshot restore ledger effect trace message model adapter registry digest manifest
signature verify pull push stream buffer worker queue retry timeout context`)

func sourceFile(rng *rand.Rand, i int) (string, []byte) {
	dirs := []string{"src", "src/agent", "src/cache", "tests", "docs"}
	name := fmt.Sprintf("%s/%s_%d.py", dirs[i%len(dirs)], words[rng.IntN(len(words))], i)
	if i == 0 {
		name = "README.md"
	}
	var b strings.Builder
	if i == 0 {
		b.WriteString("# workspace\n\nSnapshot of the agent's working tree.\n")
		return name, []byte(b.String())
	}
	for l := 0; l < 20+rng.IntN(60); l++ {
		fmt.Fprintf(&b, "def %s_%s(%s):\n    return %s(%d)\n\n",
			words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))],
			words[rng.IntN(len(words))], rng.IntN(1000))
	}
	return name, []byte(b.String())
}

func ledger(rng *rand.Rand, spec ImageSpec) []byte {
	n := 3 + rng.IntN(5)
	var b strings.Builder
	fmt.Fprintf(&b, `{"entries":%d,"kind":"effects.ledger.v1"}`+"\n", n)
	classes := []string{"pure", "idempotent", "irreversible", "network-only"}
	for i := 0; i < n; i++ {
		ts := spec.Created.Add(-time.Duration(n-i) * time.Minute)
		h := func() string {
			return fmt.Sprintf("%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())
		}
		fmt.Fprintf(&b, `{"args_hash":"%s","idempotency_key":"k-%d","result_hash":"%s","session_hmac":"%s","side_effect_class":"%s","tool_id":"%s","ts":"%s"}`+"\n",
			h(), i, h(), h(), classes[rng.IntN(len(classes))], []string{"bash", "edit", "http.get", "git"}[rng.IntN(4)], model.FormatTime(ts))
	}
	return []byte(b.String())
}

func trace(rng *rand.Rand, spec ImageSpec) []byte {
	var b strings.Builder
	for i := 0; i < spec.Messages; i++ {
		role := []string{"user", "assistant", "tool"}[i%3]
		var c strings.Builder
		for w := 0; w < 8+rng.IntN(30); w++ {
			c.WriteString(words[rng.IntN(len(words))] + " ")
		}
		fmt.Fprintf(&b, `{"content":"%s","role":"%s"}`+"\n", strings.TrimSpace(c.String()), role)
	}
	return []byte(b.String())
}

// pageReader streams one synthetic KV page: bf16 values whose high byte
// (sign, exponent) is structured and low byte noisy, like real activations,
// so zstd gains only a few percent. It never holds the page in memory.
func pageReader(seed, stream uint64, size int64) io.Reader {
	return &kvReader{rng: rand.New(rand.NewPCG(seed, stream+1)), left: size}
}

type kvReader struct {
	rng  *rand.Rand
	left int64
	pos  uint64
}

func (r *kvReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := len(p) &^ 1
	if int64(n) > r.left {
		n = int(r.left)
	}
	if n == 0 {
		return 0, io.ErrShortBuffer
	}
	for i := 0; i+1 < n; i += 2 {
		x := math.Sin(float64(r.pos)/97) + r.rng.NormFloat64()*0.1
		bits := math.Float32bits(float32(x))
		binary.LittleEndian.PutUint16(p[i:], uint16(bits>>16))
		r.pos++
	}
	r.left -= int64(n)
	return n, nil
}

// BigImage builds an image of about logicalBytes in st, mostly 4 MiB KV
// pages (for benchmarks), and returns its ID.
func BigImage(st *store.Store, logicalBytes int64, seed uint64) (model.Digest, error) {
	spec := ImageSpec{Seed: seed, Files: 40, Messages: 50, Layers: 16, Tokens: 1024, Heads: 16, HeadDim: 8,
		Created: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	spec.Pages = int(logicalBytes/(2*spec.PageBytes())) + 1
	return Build(st, spec)
}

// Repo is one repository of the demo registry.
type Repo struct {
	Name string
	Tags []Tag
}

// Tag is one image of a repository.
type Tag struct {
	Name string
	Spec ImageSpec
	// ParentTag names a tag (repo/tag) whose image becomes the parent.
	ParentTags []string
	Tamper     bool // rewrite the manifest after signing: invalid signature
	Unsigned   bool // remove the signature: missing
}

// Layout is the demo registry: several agents, forks sharing pages, a
// merge, one tampered image and one without a signature.
func Layout() []Repo {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 15, 0, 0, time.UTC) }
	return []Repo{
		{Name: "alice/refactor-agent", Tags: []Tag{
			{Name: "v1", Spec: ImageSpec{Seed: 11, Files: 12, Pages: 4, Messages: 24, Created: day(20, 9)}},
			{Name: "v2", ParentTags: []string{"alice/refactor-agent/v1"}, Spec: ImageSpec{Seed: 12, Files: 14, Pages: 6, Messages: 40, SharePagesFrom: 11, SharedPages: 4, Created: day(21, 14)}},
			{Name: "v3", ParentTags: []string{"alice/refactor-agent/v2"}, Spec: ImageSpec{Seed: 13, Files: 15, Pages: 8, Messages: 61, SharePagesFrom: 11, SharedPages: 4, Created: day(23, 10)}},
		}},
		{Name: "bob/research-agent", Tags: []Tag{
			{Name: "main", Spec: ImageSpec{Agent: "research-bot", Fingerprint: "bob-lab", Seed: 21, Files: 8, Pages: 5, Messages: 30, Created: day(22, 16)}},
			{Name: "experiment", ParentTags: []string{"bob/research-agent/main"}, Spec: ImageSpec{Agent: "research-bot", Fingerprint: "bob-lab", Seed: 22, Files: 9, Pages: 6, Messages: 33, SharePagesFrom: 21, SharedPages: 5, Created: day(24, 11)}},
			{Name: "unsigned", Unsigned: true, Spec: ImageSpec{Agent: "research-bot", Fingerprint: "bob-lab", Seed: 23, Files: 6, Pages: 2, Messages: 9, Created: day(24, 18)}},
		}},
		{Name: "ci/nightly", Tags: []Tag{
			{Name: "2026-11-25", Spec: ImageSpec{Agent: "ci-runner", Fingerprint: "nightly", Seed: 31, Files: 10, Pages: 3, Messages: 12, Created: day(25, 2)}},
			{Name: "2026-11-26", Tamper: true, Spec: ImageSpec{Agent: "ci-runner", Fingerprint: "nightly", Seed: 32, Files: 10, Pages: 3, Messages: 14, Created: day(26, 2)}},
			{Name: "2026-11-27", Spec: ImageSpec{Agent: "ci-runner", Fingerprint: "nightly", Seed: 33, Files: 11, Pages: 3, Messages: 15, Created: day(27, 2)}},
		}},
		{Name: "team/merge-bot", Tags: []Tag{
			{Name: "merged", ParentTags: []string{"alice/refactor-agent/v3", "bob/research-agent/experiment"}, Spec: ImageSpec{Agent: "merge-bot", Fingerprint: "team", Seed: 41, Files: 16, Pages: 6, Messages: 20, SharePagesFrom: 11, SharedPages: 4, Created: day(26, 20)}},
		}},
	}
}

// Result describes a generated demo registry.
type Result struct {
	Root   string
	Images map[string]model.Digest // "repo/tag" → image ID (as published)
	// Tampered is the reference of the image whose signature does not verify.
	Tampered string
}

// Generate writes the demo registry under dir (file:// layout: dir/<repo>/<tag>)
// and returns its root reference. Existing images are rewritten in place.
func Generate(dir string) (*Result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fault.WithHint(fmt.Errorf("cannot create demo directory %s: %w", dir, err), "pass a writable directory: pf-registry demo DIR")
	}
	tmp, err := os.MkdirTemp("", "pf-demo-store-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	st, err := store.Open(tmp)
	if err != nil {
		return nil, err
	}
	reg, err := registry.Open("file", registry.Config{})
	if err != nil {
		return nil, err
	}
	res := &Result{Root: "file://" + filepath.ToSlash(dir), Images: map[string]model.Digest{}}
	ctx := context.Background()
	for _, repo := range Layout() {
		for _, tag := range repo.Tags {
			spec := tag.Spec
			for _, p := range tag.ParentTags {
				spec.Parents = append(spec.Parents, res.Images[p])
			}
			id, err := Build(st, spec)
			if err != nil {
				return nil, err
			}
			key := repo.Name + "/" + tag.Name
			res.Images[key] = id
			imgDir := filepath.Join(dir, filepath.FromSlash(repo.Name), tag.Name)
			ref, err := registry.ParseRef("file://" + filepath.ToSlash(imgDir))
			if err != nil {
				return nil, err
			}
			if _, err := reg.Push(ctx, st, id, ref, registry.TransferOptions{}); err != nil {
				return nil, err
			}
			switch {
			case tag.Tamper:
				newID, err := tamper(imgDir)
				if err != nil {
					return nil, err
				}
				res.Images[key] = newID
				res.Tampered = ref.Raw
			case tag.Unsigned:
				if err := os.Remove(filepath.Join(imgDir, "manifest.json.sig")); err != nil {
					return nil, err
				}
			}
		}
	}
	return res, nil
}

// tamper edits the manifest after signing (the agent fingerprint), keeping
// the old signature, as an attacker rewriting an image would.
func tamper(dir string) (model.Digest, error) {
	p := filepath.Join(dir, "manifest.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	m, err := model.ParseManifest(raw)
	if err != nil {
		return "", err
	}
	m.Agent.Fingerprint += "-patched"
	// Sanity: the old signature must not cover the new bytes.
	sig, _ := os.ReadFile(filepath.Join(dir, "manifest.json.sig"))
	out := m.Encode()
	if signing.Verify(out, sig, signing.ForBackend("file")).OK() {
		return "", fmt.Errorf("demo: tampering did not change the manifest")
	}
	return model.FromBytes(out), os.WriteFile(p, out, 0o644)
}

// DefaultDir is where `pf-registry demo` puts the demo registry without an
// argument: $XDG_DATA_HOME/pf-registry/demo (or ~/.local/share/...).
func DefaultDir() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		if h, err := os.UserHomeDir(); err == nil {
			base = filepath.Join(h, ".local", "share")
		} else {
			base = "."
		}
	}
	return filepath.Join(base, "pf-registry", "demo")
}
