// Package demo builds realistic synthetic ProcessFork images: a working
// tree of source files, KV cache pages of a few MiB with activation-like
// bf16 values, a conversation with tool calls, and an HMAC-chained effects
// ledger in which some effects are irreversible. Forks share what they
// inherited (files, pages, messages, effects). Everything is deterministic (fixed seeds and timestamps), so image
// IDs are stable across runs and machines, which golden tests rely on.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file" // the demo registry is a file:// directory
	"pf-registry/signing"
	"pf-registry/store"
)

// ImageSpec describes one synthetic image.
//
// Images of one Project continue the same work: they hold the project's
// files (except those they edit or remove), the project's conversation up
// to the message where they diverge, its effects, and the first
// SharedPages KV pages. Everything else comes from the image's own Seed,
// so forks share exactly what they inherited.
type ImageSpec struct {
	Agent       string // agent kind, e.g. "claude-code"
	Fingerprint string
	Seed        uint64
	Project     uint64 // 0: the image starts its own project (Seed)
	// ProjectAgent is the agent kind that started the project (default
	// Agent): it wrote the shared files and messages.
	ProjectAgent string
	Created      time.Time
	Parents      []model.Digest
	Files        int               // the first Files files of the project
	Edits        map[int]uint64    // file index → seed of this image's version
	Removed      []int             // file indices deleted
	Modes        map[int]string    // file index → mode, e.g. "0755"
	Env          map[string]string // variables added or changed
	Adapters     []string          // LoRA adapters of the model diff
	Pages        int               // KV pages (each a K and a V blob); 0: no cache captured
	SharedPages  int               // pages taken from the project; the rest are the image's own
	Messages     int
	Diverge      int // messages from this index on are the image's own (0: none)
	// SessionSecret is the ledger's session key in hex (default: derived
	// from the project).
	SessionSecret string
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
	if s.Project == 0 {
		s.Project = s.Seed
	}
	if s.ProjectAgent == "" {
		s.ProjectAgent = s.Agent
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
	put := func(b []byte) (model.Digest, error) { return st.PutBytes(b) }
	tl := &timeline{spec: spec}
	m := &model.Manifest{
		SchemaVersion: model.SchemaVersion,
		MediaType:     model.ManifestMediaType,
		Agent:         model.Agent{Kind: spec.Agent, Version: "1.0.15", Fingerprint: spec.Fingerprint},
		CreatedAt:     spec.Created.UTC(),
		Parents:       append([]model.Digest{}, spec.Parents...),
		Cache:         model.CacheRefs{Layout: model.CacheLayoutV1},
	}
	tree, err := fsTree(spec, put)
	if err != nil {
		return "", err
	}
	ledger, err := ledgerDoc(st, tl, spec)
	if err != nil {
		return "", err
	}
	for _, b := range []struct {
		dst *model.Digest
		doc []byte
	}{
		{&m.Model.Base, []byte("base:" + spec.Agent)},
		{&m.Model.Diff, modelDiffDoc(spec)},
		{&m.World.FS, tree.Encode()},
		{&m.World.Env, envDoc(spec)},
		{&m.World.Procs, procsDoc(spec)},
		{&m.Effects.Ledger, ledger},
		{&m.Trace.Messages, tl.trace(spec.Messages)},
	} {
		if *b.dst, err = put(b.doc); err != nil {
			return "", err
		}
	}
	pm, err := pages(st, spec)
	if err != nil {
		return "", err
	}
	if m.Cache.Manifest, err = put(pm); err != nil {
		return "", err
	}
	return st.PutImage(m.Encode())
}

// ledgerDoc is the effects ledger, or for a merge (two parents in the
// store) an effects.merged.v1 document pointing at both parents' ledgers
// and at an empty ancestor ledger.
func ledgerDoc(st *store.Store, tl *timeline, spec ImageSpec) ([]byte, error) {
	if len(spec.Parents) != 2 {
		return tl.ledger(spec.Messages), nil
	}
	var refs [2]model.Digest
	for i, p := range spec.Parents {
		raw, err := st.Manifest(p)
		if err != nil {
			return nil, err
		}
		pm, err := model.ParseManifest(raw)
		if err != nil {
			return nil, err
		}
		refs[i] = pm.Effects.Ledger
	}
	ancestor, err := st.PutBytes(tl.ledger(0))
	if err != nil {
		return nil, err
	}
	return sortedJSON(map[string]any{"kind": model.MergedLedgerKind, "parent_a": refs[0], "parent_b": refs[1], "ancestor": ancestor}), nil
}

// pages stores the KV pages and returns the page manifest. The last page
// of a sequence is only partly filled. Without pages it is the empty
// manifest `pf snapshot` writes.
func pages(st *store.Store, spec ImageSpec) ([]byte, error) {
	if spec.Pages == 0 {
		return sortedJSON(map[string]any{"layout": model.CacheLayoutV1, "page_size_tokens": 0, "n_layers": 0, "n_heads": 0,
			"head_dim": 0, "dtype": "bf16", "pages": []any{}, "logical_seqs": []any{}, "note": "no KV cache captured"}), nil
	}
	pm := &model.PageManifest{
		Layout: model.CacheLayoutV1, PageSizeTokens: uint32(spec.Tokens), NLayers: uint32(spec.Layers),
		NHeads: uint32(spec.Heads), HeadDim: uint32(spec.HeadDim), Dtype: "bf16",
	}
	seq := model.LogicalSeq{ID: "seq-0", FillInLastPage: uint32(1 + (spec.Messages*37)%spec.Tokens)}
	for ix := 0; ix < spec.Pages; ix++ {
		seed := spec.Project
		if ix >= spec.SharedPages {
			seed = spec.Seed ^ ownStream
		}
		var kv [2]model.Digest
		for side := range kv {
			d, _, err := st.Put(pageReader(seed, uint64(ix)*2+uint64(side), spec.PageBytes()))
			if err != nil {
				return nil, err
			}
			kv[side] = d
		}
		pm.Pages = append(pm.Pages, model.Page{Ix: uint32(ix), K: string(kv[0]), V: string(kv[1])})
		seq.PageIxs = append(seq.PageIxs, uint32(ix))
	}
	pm.LogicalSeqs = []model.LogicalSeq{seq}
	return pm.Encode(), nil
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
	// SignWith names the demo key that also signs the image (KeyDemo,
	// trusted, or KeyColleague, known but not trusted).
	SignWith string
}

// The demo's signing keys, by their names in the key store.
const (
	// KeyDemo is trusted: its images verify as trusted.
	KeyDemo = "demo"
	// KeyColleague is known and not trusted: untrusted-key.
	KeyColleague = "demo-colleague"
)

// Layout is the demo registry: several agents, forks sharing files,
// pages, conversation and effects, a merge, one tampered image and one
// without a signature.
func Layout() []Repo {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 15, 0, 0, time.UTC) }
	const alice, bob, ci = 11, 21, 31
	branch := map[string]string{"GIT_BRANCH": "refactor/cache-pages"}
	return []Repo{
		{Name: "alice/refactor-agent", Tags: []Tag{
			{Name: "v1", SignWith: KeyDemo, Spec: ImageSpec{Seed: 11, Project: alice, Files: 12, Pages: 4, SharedPages: 3, Messages: 24, Created: day(20, 9)}},
			{Name: "v2", SignWith: KeyDemo, ParentTags: []string{"alice/refactor-agent/v1"}, Spec: ImageSpec{Seed: 12, Project: alice, Files: 14,
				Edits: map[int]uint64{3: 12}, Env: branch, Adapters: []string{"refactor-style"},
				Pages: 6, SharedPages: 5, Messages: 40, Created: day(21, 14)}},
			{Name: "v3", SignWith: KeyDemo, ParentTags: []string{"alice/refactor-agent/v2"}, Spec: ImageSpec{Seed: 13, Project: alice, Files: 15,
				Edits: map[int]uint64{3: 12, 7: 13}, Removed: []int{9}, Modes: map[int]string{6: "0755"}, Env: branch,
				Adapters: []string{"refactor-style"}, Pages: 8, SharedPages: 7, Messages: 61, Created: day(23, 10)}},
		}},
		{Name: "bob/research-agent", Tags: []Tag{
			{Name: "main", SignWith: KeyColleague, Spec: ImageSpec{Agent: "research-bot", Fingerprint: "bob-lab", Seed: 21, Project: bob, Files: 8, Pages: 5, SharedPages: 4, Messages: 30, Created: day(22, 16)}},
			{Name: "experiment", SignWith: KeyColleague, ParentTags: []string{"bob/research-agent/main"}, Spec: ImageSpec{Agent: "research-bot", Fingerprint: "bob-lab",
				Seed: 22, Project: bob, Files: 9, Edits: map[int]uint64{2: 22}, Env: map[string]string{"EXPERIMENT": "eviction-lru-k"},
				Pages: 6, SharedPages: 4, Messages: 33, Diverge: 26, Created: day(24, 11)}},
			{Name: "unsigned", Unsigned: true, Spec: ImageSpec{Agent: "research-bot", Fingerprint: "bob-lab", Seed: 23, Files: 6, Pages: 2, Messages: 9, Created: day(24, 18)}},
		}},
		{Name: "ci/nightly", Tags: []Tag{
			{Name: "2026-11-25", Spec: ImageSpec{Agent: "ci-runner", Fingerprint: "nightly", Seed: 31, Project: ci, Files: 10, Pages: 3, SharedPages: 2, Messages: 12, Created: day(25, 2)}},
			{Name: "2026-11-26", Tamper: true, SignWith: KeyDemo, Spec: ImageSpec{Agent: "ci-runner", Fingerprint: "nightly", Seed: 32, Project: ci, Files: 10,
				Edits: map[int]uint64{4: 32}, Pages: 3, SharedPages: 2, Messages: 14, Diverge: 10, Created: day(26, 2)}},
			{Name: "2026-11-27", Spec: ImageSpec{Agent: "ci-runner", Fingerprint: "nightly", Seed: 33, Project: ci, Files: 11,
				Edits: map[int]uint64{4: 32, 6: 33}, Messages: 15, Diverge: 10, Created: day(27, 2)}}, // no KV cache captured
		}},
		{Name: "team/merge-bot", Tags: []Tag{
			{Name: "merged", SignWith: KeyDemo, ParentTags: []string{"alice/refactor-agent/v3", "bob/research-agent/experiment"}, Spec: ImageSpec{Agent: "merge-bot",
				Fingerprint: "team", Seed: 41, Project: alice, ProjectAgent: "claude-code", Files: 16, Edits: map[int]uint64{3: 12, 7: 13, 15: 41}, Removed: []int{9},
				Modes: map[int]string{6: "0755"}, Env: branch, Adapters: []string{"refactor-style", "research-eviction"},
				Pages: 8, SharedPages: 7, Messages: 66, Diverge: 61, Created: day(26, 20)}},
		}},
	}
}

// Result describes a generated demo registry.
type Result struct {
	Root   string
	Images map[string]model.Digest // "repo/tag" → image ID (as published)
	// Tampered is the reference of the image whose signature does not verify.
	Tampered string
	// Keys are the fingerprints of the demo keys, by name.
	Keys map[string]string
	// Notes say what could not be set up in the key store, and why.
	Notes []string
}

// Options tune GenerateWith.
type Options struct {
	// KeyDir holds the demo's signing keys, as a key store (keys/NAME.key,
	// 0600, encrypted with an empty passphrase, in a 0700 directory). They
	// are made on first use and reused after, so that trust in them lasts.
	// Empty: a hidden directory inside the registry directory.
	KeyDir string
	// Trust is the key store where the demo key becomes trusted and the
	// colleague's key known; nil changes no key store.
	Trust *signing.Store
}

// Generate writes the demo registry under dir (file:// layout: dir/<repo>/<tag>)
// and returns its root reference. Existing images are rewritten in place.
func Generate(dir string) (*Result, error) { return GenerateWith(dir, Options{}) }

// GenerateWith is Generate with the demo keys where opt says.
func GenerateWith(dir string, opt Options) (*Result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fault.WithHint(fmt.Errorf("cannot create demo directory %s: %w", dir, err), "pass a writable directory: pf-registry demo DIR")
	}
	if opt.KeyDir == "" {
		opt.KeyDir = filepath.Join(dir, ".pf-demo-keys")
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
	res := &Result{Root: "file://" + filepath.ToSlash(dir), Images: map[string]model.Digest{}, Keys: map[string]string{}}
	keys, err := demoKeys(opt, res)
	if err != nil {
		return nil, err
	}
	for _, repo := range Layout() {
		for _, tag := range repo.Tags {
			if err := publishTag(reg, st, dir, repo.Name, tag, keys, res); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// publishTag builds one image, pushes it (signed by its demo key) and
// spoils it as the layout says.
func publishTag(reg registry.Registry, st *store.Store, dir, repo string, tag Tag, keys map[string]*signing.PrivateKey, res *Result) error {
	spec := tag.Spec
	for _, p := range tag.ParentTags {
		spec.Parents = append(spec.Parents, res.Images[p])
	}
	id, err := Build(st, spec)
	if err != nil {
		return err
	}
	key := repo + "/" + tag.Name
	res.Images[key] = id
	imgDir := filepath.Join(dir, filepath.FromSlash(repo), tag.Name)
	ref, err := registry.ParseRef("file://" + filepath.ToSlash(imgDir))
	if err != nil {
		return err
	}
	opt := registry.TransferOptions{}
	if k := keys[tag.SignWith]; k != nil {
		opt.SignWith = []*signing.PrivateKey{k}
	}
	if _, err := reg.Push(context.Background(), st, id, ref, opt); err != nil {
		return err
	}
	switch {
	case tag.Tamper:
		newID, err := tamper(imgDir)
		if err != nil {
			return err
		}
		res.Images[key] = newID
		res.Tampered = ref.Raw
	case tag.Unsigned:
		return os.Remove(filepath.Join(imgDir, "manifest.json.sig"))
	}
	return nil
}

// demoKeys loads (or makes) the demo keys in opt.KeyDir and sets up
// opt.Trust: the demo key trusted, the colleague's known. A name the user
// already gave another key is left alone, with a note.
func demoKeys(opt Options, res *Result) (map[string]*signing.PrivateKey, error) {
	ks := signing.NewStore(opt.KeyDir)
	empty := signing.StaticPassphrase([]byte{})
	keys := map[string]*signing.PrivateKey{}
	for _, name := range []string{KeyDemo, KeyColleague} {
		k, err := ks.Private(name, empty)
		if errors.Is(err, signing.ErrUnknownKey) {
			if _, err = ks.Generate(name, signing.ECDSAP256, empty); err == nil {
				k, err = ks.Private(name, empty)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("demo key %s in %s: %w", name, opt.KeyDir, err)
		}
		keys[name] = k
		res.Keys[name] = k.Public().Fingerprint
		if opt.Trust != nil {
			if note := enrol(opt.Trust, name, k.Public(), name == KeyDemo); note != "" {
				res.Notes = append(res.Notes, note)
			}
		}
	}
	return keys, nil
}

// enrol trusts (or only records) a demo public key in the user's key store
// under its name, unless it is there already; a note says why not.
func enrol(st *signing.Store, name string, pub *signing.PublicKey, trust bool) string {
	entries, err := st.List()
	if err != nil {
		return err.Error()
	}
	for _, e := range entries {
		switch {
		case e.Name == name && e.Fingerprint == pub.Fingerprint && (e.Trusted || !trust):
			return ""
		case e.Name == name && e.Fingerprint != pub.Fingerprint:
			return fmt.Sprintf("the key store already has another key named %q, so the demo's images signed with it do not verify as %s; run `pf-registry keys untrust %s` (or rename that key) and run the demo again",
				name, map[bool]string{true: "trusted", false: "untrusted-key"}[trust], name)
		}
	}
	if trust {
		_, err = st.Trust(pub.PEM(), name, name)
	} else {
		_, err = st.Import(pub.PEM(), name, nil)
	}
	if err != nil {
		return fmt.Sprintf("could not add the demo key %s to the key store: %v", name, err)
	}
	return ""
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
func DefaultDir() string { return filepath.Join(dataDir(), "demo") }

// DefaultKeyDir is where `pf-registry demo` keeps the demo's signing keys,
// whatever directory the registry is in, so that one trusted demo key
// serves every demo registry: $XDG_DATA_HOME/pf-registry/demo-keys.
func DefaultKeyDir() string { return filepath.Join(dataDir(), "demo-keys") }

// dataDir is $XDG_DATA_HOME/pf-registry (or ~/.local/share/pf-registry).
func dataDir() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		if h, err := os.UserHomeDir(); err == nil {
			base = filepath.Join(h, ".local", "share")
		} else {
			base = "."
		}
	}
	return filepath.Join(base, "pf-registry")
}
