package registrytest

// The deletion property every backend must keep: over random sets of
// images that share blobs (forks of one project, and the same image under
// two names), deleting any subset never breaks an image that stays.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
	"pf-registry/store"
)

// SharedImages builds n small images in st that share blobs the way forks
// do: files, KV pages and messages of one project, each with its own
// edits and pages, and one merge of the first two. Pages are 64 bytes, so
// a set moves fast.
func SharedImages(t testing.TB, st *store.Store, n int, rng *rand.Rand) []model.Digest {
	t.Helper()
	project := rng.Uint64()
	var ids []model.Digest
	for i := range n {
		pages := 1 + rng.IntN(3)
		spec := demo.ImageSpec{
			Seed: project + uint64(i) + 1, Project: project, Files: 2 + rng.IntN(4),
			Edits: map[int]uint64{rng.IntN(2): rng.Uint64()}, Pages: pages, SharedPages: rng.IntN(pages + 1),
			Messages: 3 + rng.IntN(4), Diverge: 2 + rng.IntN(2),
			Created: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
			Layers:  1, Tokens: 4, Heads: 1, HeadDim: 8,
		}
		if i == 2 {
			spec.Parents = ids[:2] // a merge: its ledger points at both parents'
		}
		id, err := demo.Build(st, spec)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// Rand returns the generator of a property run and logs its seed;
// PF_PROPERTY_SEED replays one.
func Rand(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PF_PROPERTY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PF_PROPERTY_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("property seed %d (replay with PF_PROPERTY_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// LinkTree hard-links the files under from into to: a prepared registry or
// store is reused without being rebuilt (deletions only unlink, and every
// writer renames new files into place, so the original stays as it was).
func LinkTree(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		return os.Link(p, filepath.Join(to, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deleteKeepsTheRest runs rounds of: push a random set of images sharing
// blobs (one of them also retagged under a second name), check that a dry
// run removes nothing, delete a random subset (with exactly one of the two
// names of the retagged image), then check that the deleted ones are gone,
// their blobs swept where the backend sweeps, and every other image
// verifies --deep. Each round uses a repository of its own.
func (s *suite) deleteKeepsTheRest(t *testing.T) {
	reg := s.open(t)
	ns := s.h.Namespace(t)
	rng := Rand(t)
	for round := range 2 {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			repo := fmt.Sprintf("del%d", round)
			deleteRound(t, reg, func(i int) registry.Ref { return ns.Image(repo, fmt.Sprintf("t%d", i)) }, rng)
		})
	}
}

func deleteRound(t *testing.T, reg registry.Registry, loc func(int) registry.Ref, rng *rand.Rand) {
	ctx := context.Background()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ids := SharedImages(t, st, 3+rng.IntN(3), rng)
	images := map[string]model.Digest{}
	var refs []registry.Ref
	for i, id := range ids {
		r := loc(i)
		if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
			t.Fatalf("push %s: %v", r.Raw, err)
		}
		refs = append(refs, r)
		images[r.Raw] = id
	}
	alias := loc(len(ids))
	src := refs[rng.IntN(len(refs))]
	if _, err := reg.Retag(ctx, src, alias); err != nil {
		t.Fatalf("retag %s %s: %v", src.Raw, alias.Raw, err)
	}
	refs = append(refs, alias)
	images[alias.Raw] = images[src.Raw]

	// Exactly one of the two names of the retagged image goes, so that a
	// backend storing them once must keep the image for the other.
	pair := []registry.Ref{src, alias}
	rng.Shuffle(2, func(i, j int) { pair[i], pair[j] = pair[j], pair[i] })
	gone, stay := []registry.Ref{pair[0]}, []registry.Ref{pair[1]}
	for _, r := range refs {
		switch {
		case r.Raw == src.Raw || r.Raw == alias.Raw:
		case rng.IntN(2) == 0:
			gone = append(gone, r)
		default:
			stay = append(stay, r)
		}
	}
	t.Logf("deleting %d of %d images", len(gone), len(refs))

	dry, err := reg.Delete(ctx, gone, registry.DeleteOptions{DryRun: true, Grace: registry.NoGrace})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	for _, r := range refs {
		checkImage(t, reg, r, images[r.Raw])
	}
	rep, err := reg.Delete(ctx, gone, registry.DeleteOptions{Grace: registry.NoGrace})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if len(rep.Images) != len(gone) || len(dry.Images) != len(gone) || dry.Bytes != rep.Bytes || len(dry.Blobs) != len(rep.Blobs) {
		t.Errorf("dry run said %d images, %d blobs, %d bytes; the deletion removed %d images, %d blobs, %d bytes",
			len(dry.Images), len(dry.Blobs), dry.Bytes, len(rep.Images), len(rep.Blobs), rep.Bytes)
	}
	for _, r := range gone {
		if ok, err := reg.Exists(ctx, r); ok || err != nil {
			t.Errorf("%s still exists after its deletion (%v)", r.Raw, err)
		}
		checkSwept(t, reg, r, stay)
	}
	for _, r := range stay {
		checkImage(t, reg, r, images[r.Raw])
	}
}

// checkImage verifies the image at r deeply and checks its ID.
func checkImage(t *testing.T, reg registry.Registry, r registry.Ref, id model.Digest) {
	t.Helper()
	rep, err := reg.Verify(context.Background(), r, registry.VerifyOptions{Deep: true})
	if err != nil {
		t.Fatalf("%s no longer verifies: %v", r.Raw, err)
	}
	if rep.Inspection.ImageID != id || !rep.Complete {
		t.Fatalf("%s: image %s complete %v, want %s", r.Raw, rep.Inspection.ImageID, rep.Complete, id)
	}
}

// checkSwept: where the backend sweeps, a deleted image's store keeps no
// blob unless an image that stays shares the store.
func checkSwept(t *testing.T, reg registry.Registry, r registry.Ref, stay []registry.Ref) {
	t.Helper()
	sw, ok := registry.BackendOf(reg).(registry.BlobSweeper)
	if !ok {
		return
	}
	ctx := context.Background()
	bs, err := sw.BlobStore(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stay {
		other, err := sw.BlobStore(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if other.Describe() == bs.Describe() {
			return
		}
	}
	blobs, err := bs.Blobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 0 {
		t.Errorf("%s: %d blob(s) left behind after its deletion", r.Raw, len(blobs))
	}
	if _, err := reg.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("deleting %s again: %v, want not found", r.Raw, err)
	}
}

// retagAndDeleteSignatures: an image retagged keeps its Sigstore
// signatures under the new name, and deleting an image takes its own away
// (and, where signatures are files beside the manifest, leaves none).
func (s *suite) retagAndDeleteSignatures(t *testing.T) {
	ctx := context.Background()
	keys := NewKeys(t)
	reg := s.h.Open(t, registry.Config{Keys: keys.Known})
	ns := s.h.Namespace(t)
	src, dst := ns.Image("signed", "a"), ns.Image("signed", "b")
	st, id := SmallImage(t, 903)
	if _, err := reg.Push(ctx, st, id, src, registry.TransferOptions{SignWith: []*signing.PrivateKey{keys.Alice}}); err != nil {
		t.Fatalf("push to %s: %v", src.Raw, err)
	}
	if _, err := reg.Retag(ctx, src, dst); err != nil {
		t.Fatalf("retag %s %s: %v", src.Raw, dst.Raw, err)
	}
	alice := keys.Alice.Public().Fingerprint
	carried := func(ref registry.Ref) {
		t.Helper()
		in, err := reg.Inspect(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := bundles(in)[alice]; !ok || c.Status != signing.UntrustedKey {
			t.Fatalf("%s: Alice's signature is %+v (found %v), want untrusted-key", ref.Raw, c, ok)
		}
	}
	carried(dst)
	if _, err := reg.Delete(ctx, []registry.Ref{src}, registry.DeleteOptions{Grace: registry.NoGrace}); err != nil {
		t.Fatal(err)
	}
	switch reg.Scheme() {
	case "file", "s3", "hf", "ipfs":
		if _, ok := s.h.Read(t, src, BundleObject(signing.BundleFileName(alice))); ok {
			t.Errorf("%s: the deleted image's signature bundle is left", src.Raw)
		}
	}
	carried(dst)
	if _, err := reg.Delete(ctx, []registry.Ref{dst}, registry.DeleteOptions{Grace: registry.NoGrace}); err != nil {
		t.Fatal(err)
	}
}
