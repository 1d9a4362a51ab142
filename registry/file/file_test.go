package file_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"pf-registry/blob"
	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
	"pf-registry/signing"
	"pf-registry/store"
)

func openFile(t *testing.T, ref string) (registry.Registry, registry.Ref) {
	t.Helper()
	reg, r, err := registry.ForRef(ref, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return reg, r
}

func newStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// recorder collects progress events.
type recorder struct {
	mu     sync.Mutex
	events []registry.Event
}

func (r *recorder) add(e registry.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) terminal() map[model.Digest]registry.Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[model.Digest]registry.Phase{}
	for _, e := range r.events {
		if e.Kind == registry.KindBlob && e.Phase.Terminal() {
			if _, dup := out[e.Digest]; dup {
				out[e.Digest] = "duplicate terminal event"
			} else {
				out[e.Digest] = e.Phase
			}
		}
	}
	return out
}

func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestFixtureRoundTrip(t *testing.T) {
	ctx := context.Background()
	fx := vectors.LoadFixture(t)
	src := vectors.CopyFixture(t)
	reg, ref := openFile(t, "file://"+src)
	st := newStore(t)

	rec := &recorder{}
	rep, err := reg.Pull(ctx, ref, st, registry.TransferOptions{Progress: rec.add})
	if err != nil {
		t.Fatal(err)
	}
	if string(rep.Inspection.ImageID) != fx.ImageCID || !rep.Complete || rep.Transferred != 13 || rep.Skipped != 0 {
		t.Fatalf("pull report: id %s complete %v transferred %d skipped %d", rep.Inspection.ImageID, rep.Complete, rep.Transferred, rep.Skipped)
	}
	if rep.Inspection.Signature.Status != signing.DefaultKey {
		t.Fatalf("verdict %+v, want default-key", rep.Inspection.Signature)
	}
	for i, w := range fx.WalkOrder {
		if string(rep.Blobs[i].Digest) != w.Digest || rep.Blobs[i].Role != w.Role || rep.Blobs[i].StoredSize != w.StoredSize {
			t.Errorf("blob %d = %+v, want %s %s %d", i, rep.Blobs[i], w.Digest, w.Role, w.StoredSize)
		}
		if !st.HasBlob(model.Digest(w.Digest)) {
			t.Errorf("blob %s not in the store", w.Role)
		}
	}
	term := rec.terminal()
	if len(term) != 13 {
		t.Fatalf("terminal events for %d blobs, want 13", len(term))
	}
	for d, ph := range term {
		if ph != registry.PhaseDone {
			t.Errorf("blob %s ended %s", d.Short(), ph)
		}
	}
	if st.HasImage(model.Digest(fx.ImageCID)) == false {
		t.Fatal("no image marker after pull")
	}

	// Push to a new directory: same manifest and signature bytes, same blobs.
	out := filepath.Join(t.TempDir(), "pushed")
	_, outRef := openFile(t, "file://"+out)
	prep, err := reg.Push(ctx, st, model.Digest(fx.ImageCID), outRef, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if prep.Transferred != 13 || !prep.Complete {
		t.Fatalf("push report %+v", prep)
	}
	for _, name := range []string{"manifest.json", "manifest.json.sig"} {
		a, _ := os.ReadFile(filepath.Join(vectors.FixtureDir(), name))
		b, _ := os.ReadFile(filepath.Join(out, name))
		if string(a) != string(b) {
			t.Errorf("%s differs after the round trip", name)
		}
	}
	if got, want := blobFiles(t, out), blobFiles(t, vectors.FixtureDir()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pushed blob files\n%v\nwant\n%v", got, want)
	}
	for _, p := range blobFiles(t, out) {
		d, err := model.DigestFromShardPath(p)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := os.ReadFile(filepath.Join(out, p))
		if _, err := blob.DecodeVerified(stored, d, 1<<20); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, ".pf-staging")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("staging directory left behind")
	}
	vrep, err := reg.Verify(ctx, outRef, registry.VerifyOptions{Deep: true})
	if err != nil || !vrep.Complete || len(vrep.Blobs) != 13 {
		t.Fatalf("deep verify of the pushed copy: %v", err)
	}

	// A second push moves nothing.
	rec2 := &recorder{}
	prep2, err := reg.Push(ctx, st, model.Digest(fx.ImageCID), outRef, registry.TransferOptions{Progress: rec2.add})
	if err != nil || prep2.Transferred != 0 || prep2.Skipped != 13 {
		t.Fatalf("second push: %+v, %v", prep2, err)
	}
	for d, ph := range rec2.terminal() {
		if ph != registry.PhaseSkipped {
			t.Errorf("second push: blob %s %s, want skipped", d.Short(), ph)
		}
	}
}

func TestTamperingIsAnIntegrityFailure(t *testing.T) {
	fx := vectors.LoadFixture(t)
	someBlob := fx.WalkOrder[12].Path // page 0 V
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		env    string
		want   string
	}{
		{"changed manifest byte", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "manifest.json")
			b, _ := os.ReadFile(p)
			b = []byte(strings.Replace(string(b), "claude-code", "claude-codf", 1))
			os.WriteFile(p, b, 0o644)
		}, "", "manifest bytes do not match"},
		{"wrong key", func(*testing.T, string) {}, "test-key", "HMAC tag does not validate"},
		{"flipped blob byte", func(t *testing.T, dir string) {
			p := filepath.Join(dir, someBlob)
			b, _ := os.ReadFile(p)
			b[len(b)-1] ^= 0x01 // raw block payload: decodes, but hashes wrong
			os.WriteFile(p, b, 0o644)
		}, "", "does not match its digest"},
		{"deleted blob", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, someBlob))
		}, "", "incomplete"},
		{"blob in the wrong shard", func(t *testing.T, dir string) {
			from := filepath.Join(dir, someBlob)
			to := filepath.Join(dir, "blobs", "sha256", "00", filepath.Base(someBlob))
			os.MkdirAll(filepath.Dir(to), 0o755)
			os.Rename(from, to)
		}, "", "incomplete"},
		{"missing signature", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "manifest.json.sig"))
		}, "", "no signature"},
		{"malformed manifest digest", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "manifest.json")
			b, _ := os.ReadFile(p)
			b = []byte(strings.Replace(string(b), `"sha256:a82aac96d31e5af0f2e481c1f98d16a2a448c2db1fc06ffcccd373e52ec5d4cf"`, `"sha256:a8"`, 1))
			os.WriteFile(p, b, 0o644)
			os.WriteFile(filepath.Join(dir, "manifest.json.sig"), signing.SignBytes(b, signing.Default()), 0o644)
		}, "", "model.base"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("PF_FILE_REG_SIGN_KEY", tc.env)
			}
			dir := vectors.CopyFixture(t)
			tc.tamper(t, dir)
			reg, ref := openFile(t, "file://"+dir)
			st := newStore(t)
			_, err := reg.Pull(context.Background(), ref, st, registry.TransferOptions{Concurrency: 1})
			if !errors.Is(err, fault.ErrIntegrity) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("pull error %v, want integrity error containing %q", err, tc.want)
			}
			if imgs, _ := st.Images(); len(imgs) != 0 {
				t.Fatal("an image marker was written")
			}
			// Whatever entered the store is verified content.
			for _, p := range blobFiles(t, st.Root()) {
				d, _ := model.DigestFromShardPath(p)
				if _, err := st.ReadBlob(d, 1<<20); err != nil {
					t.Errorf("store holds a bad blob %s: %v", p, err)
				}
			}
			if files, _ := st.StagingFiles(); len(files) != 0 {
				t.Fatalf("staging files left: %v", files)
			}
			if _, err := reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true}); !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("deep verify: %v, want integrity error", err)
			}
		})
	}
}

func TestInterruptedPullResumes(t *testing.T) {
	root := t.TempDir()
	res, err := demo.Generate(filepath.Join(root, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	reg, ref := openFile(t, res.Root+"/alice/refactor-agent/v3")
	st := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := 0
	var mu sync.Mutex
	_, err = reg.Pull(ctx, ref, st, registry.TransferOptions{Concurrency: 1, Progress: func(e registry.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == registry.KindBlob && e.Phase == registry.PhaseDone {
			if done++; done == 5 {
				cancel()
			}
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted pull: %v", err)
	}
	if imgs, _ := st.Images(); len(imgs) != 0 {
		t.Fatal("marker written by an interrupted pull")
	}
	rep, err := reg.Pull(context.Background(), ref, st, registry.TransferOptions{})
	if err != nil || !rep.Complete {
		t.Fatal(err)
	}
	if rep.Skipped < 5 || rep.Skipped+rep.Transferred != len(rep.Blobs) {
		t.Fatalf("resumed pull skipped %d, transferred %d of %d", rep.Skipped, rep.Transferred, len(rep.Blobs))
	}
	if rep.Inspection.ImageID != res.Images["alice/refactor-agent/v3"] {
		t.Fatal("pulled a different image")
	}
}

func TestPartialBlobAtDestinationIsReplaced(t *testing.T) {
	fx := vectors.LoadFixture(t)
	reg, ref := openFile(t, "file://"+vectors.CopyFixture(t))
	st := newStore(t)
	if _, err := reg.Pull(context.Background(), ref, st, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	victim := filepath.Join(out, fx.WalkOrder[3].Path)
	os.MkdirAll(filepath.Dir(victim), 0o755)
	os.WriteFile(victim, []byte("half a bl"), 0o644) // what a non-atomic writer leaves
	_, outRef := openFile(t, "file://"+out)
	rep, err := reg.Push(context.Background(), st, model.Digest(fx.ImageCID), outRef, registry.TransferOptions{})
	if err != nil || rep.Transferred != 13 {
		t.Fatalf("push over a partial blob: %+v, %v", rep, err)
	}
	if _, err := reg.Verify(context.Background(), outRef, registry.VerifyOptions{Deep: true}); err != nil {
		t.Fatal(err)
	}
}

func TestListAndTagsOnDemo(t *testing.T) {
	ctx := context.Background()
	res, err := demo.Generate(filepath.Join(t.TempDir(), "reg"))
	if err != nil {
		t.Fatal(err)
	}
	reg, root, err := registry.ForRoot(res.Root, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := reg.List(ctx, root, registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range l.Repos {
		names = append(names, r.Name+"="+strings.Join(r.Tags, ","))
	}
	want := "alice/refactor-agent=v1,v2,v3 bob/research-agent=experiment,main,unsigned ci/nightly=2026-11-25,2026-11-26,2026-11-27 team/merge-bot=merged"
	if strings.Join(names, " ") != want {
		t.Fatalf("List = %v\nwant %s", names, want)
	}
	// Paging.
	p1, _ := reg.List(ctx, root, registry.ListOptions{Limit: 3})
	p2, _ := reg.List(ctx, root, registry.ListOptions{Limit: 3, After: p1.Next})
	if len(p1.Repos) != 3 || p1.Next == "" || len(p2.Repos) != 1 || p2.Next != "" || p2.Repos[0].Name != "team/merge-bot" {
		t.Fatalf("paging: %+v / %+v", p1, p2)
	}
	repoRef, _ := registry.ParseRoot(l.Repos[2].Ref)
	tags, err := reg.Tags(ctx, repoRef, registry.ListOptions{})
	if err != nil || len(tags.Tags) != 3 || tags.Tags[1].Name != "2026-11-26" || tags.Tags[1].Ref != res.Tampered {
		t.Fatalf("Tags = %+v, %v", tags, err)
	}
	// Verdicts across the demo: one invalid, one missing, the rest default-key.
	got := map[signing.Status]int{}
	for _, r := range l.Repos {
		for _, tag := range r.Tags {
			ref, _ := registry.ParseRef(r.Ref + "/" + tag)
			in, err := reg.Inspect(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			got[in.Signature.Status]++
		}
	}
	if got[signing.Invalid] != 1 || got[signing.Missing] != 1 || got[signing.DefaultKey] != 8 {
		t.Fatalf("demo verdicts %v", got)
	}
	// An image root lists as an image.
	imgRoot, _ := registry.ParseRoot(res.Root + "/team/merge-bot/merged")
	if l, err := reg.List(ctx, imgRoot, registry.ListOptions{}); err != nil || !l.Image {
		t.Fatalf("image root: %+v, %v", l, err)
	}
	missing, _ := registry.ParseRoot("file://" + filepath.Join(t.TempDir(), "nope"))
	if _, err := reg.List(ctx, missing, registry.ListOptions{}); !errors.Is(err, fault.ErrNotFound) || fault.Hint(err) == "" {
		t.Fatalf("missing root: %v", err)
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	reg, ref, err := registry.ForRef("file://"+t.TempDir(), registry.Config{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Sink(context.Background(), ref); !errors.Is(err, fault.ErrReadOnly) {
		t.Fatalf("Sink in read-only mode: %v", err)
	}
}

func TestCopyResignsWithDestinationKey(t *testing.T) {
	ctx := context.Background()
	src := vectors.CopyFixture(t)
	srcReg, srcRef := openFile(t, "file://"+src)
	out := t.TempDir()
	dstReg, dstRef := openFile(t, "file://"+out)
	rep, err := registry.Copy(ctx, srcReg, srcRef, dstReg, dstRef, registry.TransferOptions{})
	if err != nil || rep.Transferred != 13 {
		t.Fatalf("copy: %v", err)
	}
	a, _ := os.ReadFile(filepath.Join(src, "manifest.json.sig"))
	b, _ := os.ReadFile(filepath.Join(out, "manifest.json.sig"))
	if string(a) != string(b) {
		t.Fatal("copy with the same key changed the signature")
	}
	// With a custom key at the destination, the copy verifies under it.
	t.Setenv("PF_FILE_REG_SIGN_KEY", "team-key")
	keyed, keyedRef := openFile(t, "file://"+filepath.Join(t.TempDir(), "keyed"))
	outReg, outRef := openFile(t, "file://"+out)
	if _, err := registry.Copy(ctx, srcReg, srcRef, keyed, keyedRef, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	in, err := keyed.Inspect(ctx, keyedRef)
	if err != nil || in.Signature.Status != signing.Valid {
		t.Fatalf("copy under a custom key: %+v, %v", in.Signature, err)
	}
	if in, _ := outReg.Inspect(ctx, outRef); in.Signature.Status != signing.Invalid {
		t.Fatalf("default-key copy checked with team-key: %s", in.Signature.Status)
	}
}
