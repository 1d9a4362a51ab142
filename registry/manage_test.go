package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

func openFile(t testing.TB, cfg registry.Config, raw string) (registry.Registry, registry.Ref) {
	t.Helper()
	reg, r, err := registry.ForRef(raw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return reg, r
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func push(t testing.TB, reg registry.Registry, st *store.Store, id model.Digest, r registry.Ref) {
	t.Helper()
	if _, err := reg.Push(context.Background(), st, id, r, registry.TransferOptions{}); err != nil {
		t.Fatalf("push to %s: %v", r.Raw, err)
	}
}

func countFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// The read-only policy, the grace period, leftovers of an interrupted
// deletion and a reference with nothing left.
func TestDeletePolicyGraceAndLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := newStore(t)
	ids := registrytest.SharedImages(t, st, 1, registrytest.Rand(t))
	reg, r := openFile(t, registry.Config{}, "file://"+filepath.Join(dir, "a"))
	push(t, reg, st, ids[0], r)
	blobs := countFiles(t, filepath.Join(dir, "a", "blobs"))

	ro, _ := openFile(t, registry.Config{ReadOnly: true}, r.Raw)
	if _, err := ro.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{}); !errors.Is(err, fault.ErrReadOnly) {
		t.Fatalf("read-only delete: %v", err)
	}
	dry, err := ro.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{DryRun: true, Grace: registry.NoGrace})
	if err != nil || len(dry.Blobs) != blobs || !dry.DryRun {
		t.Fatalf("read-only dry run: %d blobs of %d, %v", len(dry.Blobs), blobs, err)
	}

	// Fresh blobs are kept by the default grace period; the image is gone.
	rep, err := reg.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Blobs) != 0 || len(rep.Kept) != blobs || rep.Images[0].ImageID != ids[0] {
		t.Fatalf("delete within the grace period: removed %d, kept %d of %d", len(rep.Blobs), len(rep.Kept), blobs)
	}
	if ok, _ := reg.Exists(ctx, r); ok {
		t.Fatal("the image survived its deletion")
	}
	// Two hours later the leftovers go.
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	rep, err = reg.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Images[0].Leftover || len(rep.Blobs) != blobs || len(rep.Kept) != 0 {
		t.Fatalf("leftovers: %+v", rep.Images)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the emptied image directory stays: %v", err)
	}
	_, err = reg.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{})
	if !errors.Is(err, fault.ErrNotFound) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("deleting nothing: %v", err)
	}
	if rep, err := reg.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{MissingOK: true}); err != nil || len(rep.Images) != 0 {
		t.Fatalf("deleting nothing with MissingOK: %v %+v", err, rep)
	}
}

// verifyLocal re-hashes every blob of a local image.
func verifyLocal(t *testing.T, st *store.Store, id model.Digest) {
	t.Helper()
	src, err := registry.StoreSource(st, id)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := registry.Transfer(context.Background(), registry.OpVerify, src, nil, registry.DiscardSink(), nil, registry.TransferOptions{})
	if err != nil || !rep.Complete {
		t.Fatalf("local image %s no longer verifies: %v", id.Short(), err)
	}
}

// Removing any subset of local images that share blobs keeps every other
// one whole, and the ledgers a kept merge points at; gc then finds nothing
// more, and removes exactly the blobs nothing reaches.
func TestLocalRemoveKeepsTheRest(t *testing.T) {
	ctx := context.Background()
	rng := registrytest.Rand(t)
	for round := range 4 {
		st := newStore(t)
		local := registry.NewLocal(st, registry.Config{})
		ids := registrytest.SharedImages(t, st, 3+rng.IntN(4), rng)
		var gone, stay []model.Digest
		for _, id := range ids {
			if rng.IntN(2) == 0 {
				gone = append(gone, id)
			} else {
				stay = append(stay, id)
			}
		}
		before := countFiles(t, filepath.Join(st.Root(), "blobs"))
		if _, err := local.Remove(ctx, gone, registry.DeleteOptions{DryRun: true, Grace: registry.NoGrace}); err != nil {
			t.Fatal(err)
		}
		if n := countFiles(t, filepath.Join(st.Root(), "blobs")); n != before {
			t.Fatalf("round %d: a dry run removed %d blobs", round, before-n)
		}
		if _, err := local.Remove(ctx, gone, registry.DeleteOptions{Grace: registry.NoGrace}); err != nil {
			t.Fatal(err)
		}
		for _, id := range gone {
			if st.HasImage(id) {
				t.Fatalf("round %d: %s still has its marker", round, id.Short())
			}
		}
		for _, id := range stay {
			verifyLocal(t, st, id)
		}
		if st.HasImage(ids[2]) { // the merge of images 0 and 1 stays
			for _, p := range ids[:2] {
				raw, _ := demoManifest(t, st, p)
				if raw != nil && !st.HasBlob(raw.Effects.Ledger) {
					t.Fatalf("round %d: the ledger of merge parent %s was removed", round, p.Short())
				}
			}
		}
		rep, err := local.GC(ctx, registry.DeleteOptions{Grace: registry.NoGrace})
		if err != nil || len(rep.Blobs) != 0 {
			t.Fatalf("round %d: gc after removal found %d blobs: %v", round, len(rep.Blobs), err)
		}
		orphan, _ := st.PutBytes([]byte(fmt.Sprintf("orphan %d", round)))
		rep, err = local.GC(ctx, registry.DeleteOptions{Grace: registry.NoGrace})
		if err != nil || len(rep.Blobs) != 1 || rep.Blobs[0].Digest != orphan {
			t.Fatalf("round %d: gc of one orphan: %+v %v", round, rep.Blobs, err)
		}
	}
}

// demoManifest parses a manifest kept as a blob (removed images keep it
// until a sweep).
func demoManifest(t *testing.T, st *store.Store, id model.Digest) (*model.Manifest, error) {
	t.Helper()
	raw, err := st.ReadBlob(id, 1<<20)
	if err != nil {
		return nil, err
	}
	return model.ParseManifest(raw)
}

// du: an image's unique bytes are exactly what removing it frees.
func TestUsageUniqueIsWhatRemovalFrees(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	ids := registrytest.SharedImages(t, st, 4, registrytest.Rand(t))
	local := registry.NewLocal(st, registry.Config{})
	u, err := local.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Images) != len(ids) || u.Reclaimable != 0 {
		t.Fatalf("usage: %d images, %d reclaimable", len(u.Images), u.Reclaimable)
	}
	var victim registry.ImageUsage
	for _, im := range u.Images {
		if im.Shared == 0 || im.Unique == 0 {
			t.Fatalf("%s: unique %d shared %d; forks of one project share and own blobs", im.ImageID.Short(), im.Unique, im.Shared)
		}
		if im.ImageID == ids[3] {
			victim = im
		}
	}
	if _, err := local.Remove(ctx, []model.Digest{victim.ImageID}, registry.DeleteOptions{Grace: registry.NoGrace}); err != nil {
		t.Fatal(err)
	}
	after, err := local.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Total-after.Total != victim.Unique {
		t.Fatalf("removing %s freed %d bytes, du said %d unique", victim.ImageID.Short(), u.Total-after.Total, victim.Unique)
	}
	orphan, _ := st.PutBytes([]byte("nobody reaches this"))
	after, _ = local.Usage(ctx)
	if after.ReclaimableBlobs != 1 || after.Reclaimable != sizeOf(t, st, orphan) {
		t.Fatalf("reclaimable: %d blobs, %d bytes", after.ReclaimableBlobs, after.Reclaimable)
	}
}

func sizeOf(t *testing.T, st *store.Store, d model.Digest) int64 {
	fi, err := os.Stat(st.BlobPath(d))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// Prune keeps the newest and, with OlderThan, the recent; a dry run
// deletes nothing.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := newStore(t)
	reg, repo := openFile(t, registry.Config{}, "file://"+dir)
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var refs []registry.Ref
	for i := range 5 {
		id, err := demo.Build(st, demo.ImageSpec{Seed: uint64(40 + i), Files: 2, Messages: 2, Created: day.Add(time.Duration(i) * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		_, r := openFile(t, registry.Config{}, fmt.Sprintf("file://%s/d%d", dir, i))
		push(t, reg, st, id, r)
		refs = append(refs, r)
	}
	now := func() time.Time { return day.Add(4*24*time.Hour + time.Hour) } // an hour after the newest
	dopt := registry.DeleteOptions{DryRun: true, Grace: registry.NoGrace, Now: now}
	rep, err := registry.Prune(ctx, reg, repo, registry.PruneOptions{DeleteOptions: dopt, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Kept) != 2 || rep.Kept[0].Ref != refs[4].Raw || len(rep.Pruned) != 3 || rep.Pruned[2].Ref != refs[0].Raw {
		t.Fatalf("keep 2: kept %v, pruned %v", rep.Kept, rep.Pruned)
	}
	for _, r := range refs {
		if ok, _ := reg.Exists(ctx, r); !ok {
			t.Fatalf("a dry run deleted %s", r.Raw)
		}
	}
	// Older than 48h: days 0, 1 and 2 (49h and more) go, not day 3 (25h).
	dopt.DryRun = false
	rep, err = registry.Prune(ctx, reg, repo, registry.PruneOptions{DeleteOptions: dopt, Keep: 1, OlderThan: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Pruned) != 3 || len(rep.Kept) != 2 || rep.Kept[1].Reason != "recent" {
		t.Fatalf("keep 1, older than 48h: kept %v, pruned %v", rep.Kept, rep.Pruned)
	}
	for i, r := range refs {
		ok, _ := reg.Exists(ctx, r)
		if ok != (i >= 3) {
			t.Errorf("%s exists %v after the prune", r.Raw, ok)
		}
	}
}

// A root of 50 images whose destination already holds 45, two of the five
// others half copied (an interrupted sync): a sync copies the five and
// moves exactly their missing blobs, counted from its progress events.
func TestSyncMovesOnlyMissingBlobs(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	st := newStore(t)
	reg, src := openFile(t, registry.Config{}, "file://"+filepath.Join(base, "src"))
	_, dst := openFile(t, registry.Config{}, "file://"+filepath.Join(base, "dst"))
	rng := registrytest.Rand(t)
	var ids []model.Digest
	for len(ids) < 50 {
		ids = append(ids, registrytest.SharedImages(t, st, 5, rng)...)
	}
	for i, id := range ids {
		_, r := openFile(t, registry.Config{}, fmt.Sprintf("%s/repo%d/t%02d", src.Raw, i%3, i))
		push(t, reg, st, id, r)
	}
	missing := map[int]bool{3: true, 17: true, 28: true, 33: true, 49: true}
	expected, present := 0, 0
	for i, id := range ids {
		_, r := openFile(t, registry.Config{}, fmt.Sprintf("%s/repo%d/t%02d", dst.Raw, i%3, i))
		blobs := len(walkOf(t, st, id))
		switch {
		case !missing[i]:
			registrytest.LinkTree(t, filepath.Join(src.Path, r.Path[len(dst.Path):]), r.Path)
		case i == 17 || i == 33:
			// Half copied: blobs there, no manifest.
			registrytest.LinkTree(t, filepath.Join(src.Path, r.Path[len(dst.Path):]), r.Path)
			del := registry.BackendOf(reg).(registry.Deleter)
			if err := del.DeleteImage(ctx, r); err != nil {
				t.Fatal(err)
			}
			bs, _ := registry.BackendOf(reg).(registry.BlobSweeper).BlobStore(ctx, r)
			stored, _ := bs.Blobs(ctx)
			drop := []model.Digest{stored[0].Digest, stored[1].Digest, stored[2].Digest}
			if err := bs.RemoveBlobs(ctx, drop); err != nil {
				t.Fatal(err)
			}
			expected += len(drop)
			present += blobs - len(drop)
		default:
			expected += blobs
		}
	}
	moved, skipped := 0, 0
	opt := registry.SyncOptions{Images: 3, TransferOptions: registry.TransferOptions{Progress: func(ev registry.Event) {
		if ev.Kind == registry.KindBlob && ev.Phase == registry.PhaseDone {
			moved++
		}
		if ev.Kind == registry.KindBlob && ev.Phase == registry.PhaseSkipped {
			skipped++
		}
	}}}
	rep, err := registry.Sync(ctx, reg, src, reg, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 5 || rep.Present != 45 || len(rep.Images) != 50 {
		t.Fatalf("sync: %d copied, %d present of %d", rep.Copied, rep.Present, len(rep.Images))
	}
	if moved != expected || rep.Transferred != expected || skipped != present || rep.Skipped != present {
		t.Fatalf("sync moved %d blobs (report %d) and skipped %d (report %d); the missing blobs were %d, present %d",
			moved, rep.Transferred, skipped, rep.Skipped, expected, present)
	}
	for i := range missing {
		_, r := openFile(t, registry.Config{}, fmt.Sprintf("%s/repo%d/t%02d", dst.Raw, i%3, i))
		if v, err := reg.Verify(ctx, r, registry.VerifyOptions{Deep: true}); err != nil || v.Inspection.ImageID != ids[i] {
			t.Fatalf("%s after sync: %v", r.Raw, err)
		}
	}
	again, err := registry.Sync(ctx, reg, src, reg, dst, registry.SyncOptions{})
	if err != nil || again.Copied != 0 || again.Present != 50 || again.Transferred != 0 {
		t.Fatalf("a second sync: %d copied, %d present, %d blobs: %v", again.Copied, again.Present, again.Transferred, err)
	}
}

// walkOf lists the blobs of a local image.
func walkOf(t *testing.T, st *store.Store, id model.Digest) []registry.BlobStatus {
	t.Helper()
	src, err := registry.StoreSource(st, id)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := registry.Transfer(context.Background(), registry.OpVerify, src, nil, registry.DiscardSink(), nil, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Blobs
}

// Where sync puts repositories and images, on every scheme.
func TestSyncNames(t *testing.T) {
	cases := []struct {
		root, name, tag, want string
	}{
		{"file://mirror", "alice/agent", "v1", "file://mirror/alice/agent/v1"},
		{"file://mirror", "", "v1", "file://mirror/v1"},
		{"s3://bkt/pre/", "alice/agent", "v1", "s3://bkt/pre/alice/agent/v1"},
		{"s3://bkt", "alice/agent", "v1", "s3://bkt/alice/agent/v1"},
		{"oci://localhost:5000", "alice/agent", "v1", "oci://localhost:5000/alice/agent:v1"},
		{"oci://localhost:5000/mirror", "alice/agent", "v1", "oci://localhost:5000/mirror/alice/agent:v1"},
		{"oci-layout:/l", "alice/agent", "v1", "oci-layout:/l/alice/agent#v1"},
		{"hf://bob", "alice/agent", "v1", "hf://bob/alice-agent:v1"},
		{"ipfs://", "alice/agent", "v1", "ipfs://alice-agent:v1"},
	}
	for _, c := range cases {
		root, err := registry.ParseRoot(c.root)
		if err != nil {
			t.Fatal(err)
		}
		repo, err := registry.RepoUnder(root, c.name)
		if err != nil {
			t.Fatalf("%s + %q: %v", c.root, c.name, err)
		}
		img, err := registry.ImageIn(repo, c.tag)
		if err != nil || img.Raw != c.want {
			t.Errorf("%s + %q + %q = %q (%v), want %q", c.root, c.name, c.tag, img.Raw, err, c.want)
		}
	}
	hfRoot, _ := registry.ParseRoot("hf://alice")
	if n := registry.RelName(hfRoot, registry.RepoEntry{Name: "alice/agent"}); n != "agent" {
		t.Errorf("hf relative name %q", n)
	}
	ociRoot, _ := registry.ParseRoot("oci://h:5000/team")
	if n := registry.RelName(ociRoot, registry.RepoEntry{Name: "team/a/b"}); n != "a/b" {
		t.Errorf("oci relative name %q", n)
	}
	one, _ := registry.ParseRoot("hf://alice/one")
	if _, err := registry.RepoUnder(one, "x/y"); !errors.Is(err, fault.ErrUsage) {
		t.Errorf("several repositories into one dataset: %v", err)
	}
}

// du: a merge image pulled alone is complete. The parents' ledgers its
// merged ledger names are kept by gc where present, but a pull does not
// carry them, so they are not reported missing; a blob of its walk is.
func TestUsageMergeImagePulledAlone(t *testing.T) {
	ctx := context.Background()
	built := newStore(t)
	base := demo.ImageSpec{Seed: 7, Files: 4, Pages: 2, SharedPages: 1, Messages: 8, Diverge: 4}
	var parents []model.Digest
	for seed := uint64(8); seed < 10; seed++ {
		spec := base
		spec.Seed = seed
		id, err := demo.Build(built, spec)
		if err != nil {
			t.Fatal(err)
		}
		parents = append(parents, id)
	}
	merge := base
	merge.Parents = parents
	id, err := demo.Build(built, merge)
	if err != nil {
		t.Fatal(err)
	}
	reg, ref := registrytest.Open(t, registrytest.FileRef(t), registry.Config{})
	if _, err := reg.Push(ctx, built, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	st := newStore(t)
	if _, err := reg.Pull(ctx, ref, st, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	local := registry.NewLocal(st, registry.Config{})
	u, err := local.Usage(ctx)
	if err != nil || len(u.Images) != 1 {
		t.Fatalf("usage: %+v %v", u, err)
	}
	if im := u.Images[0]; im.Missing != 0 || im.Blobs != u.Blobs {
		t.Fatalf("merge image pulled alone: %d missing, %d of %d blobs", im.Missing, im.Blobs, u.Blobs)
	}
	m := registrytest.ReadManifest(t, st, id)
	if err := os.Remove(st.BlobPath(m.Effects.Ledger)); err != nil {
		t.Fatal(err)
	}
	if u, err = local.Usage(ctx); err != nil || u.Images[0].Missing != 1 {
		t.Fatalf("after removing the image's own ledger: %+v %v", u, err)
	}
}
