package registrytest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
	"pf-registry/store"
)

// suite holds the fixture image every test moves: 13 blobs whose stored
// bytes are raw-block frames, so that a flipped payload byte still decodes.
type suite struct {
	h       Harness
	fx      vectors.Fixture
	st      *store.Store
	id      model.Digest
	raw     []byte                  // manifest bytes
	stored  map[model.Digest][]byte // stored bytes of each blob
	logical map[model.Digest][]byte
}

func newSuite(t *testing.T, h Harness) *suite {
	s := &suite{h: h, fx: vectors.LoadFixture(t), stored: map[model.Digest][]byte{}, logical: map[model.Digest][]byte{}}
	s.st, s.id = FixtureStore(t)
	var err error
	if s.raw, err = s.st.Manifest(s.id); err != nil {
		t.Fatal(err)
	}
	for _, w := range s.fx.WalkOrder {
		d := model.Digest(w.Digest)
		if s.stored[d], err = os.ReadFile(s.st.BlobPath(d)); err != nil {
			t.Fatal(err)
		}
		if s.logical[d], err = s.st.ReadBlob(d, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *suite) open(t testing.TB) registry.Registry { return s.h.Open(t, registry.Config{}) }

// blob is the digest of the fixture blob with a walk role.
func (s *suite) blob(t testing.TB, role string) model.Digest {
	t.Helper()
	for _, w := range s.fx.WalkOrder {
		if w.Role == role {
			return model.Digest(w.Digest)
		}
	}
	t.Fatalf("the fixture has no blob %s", role)
	return ""
}

// push pushes the fixture to a fresh location, checking its progress.
func (s *suite) push(t testing.TB, reg registry.Registry) registry.Ref {
	t.Helper()
	ref := s.h.NewRef(t)
	rec := &Recorder{}
	rep, err := reg.Push(context.Background(), s.st, s.id, ref, rec.Options(0))
	if err != nil {
		t.Fatalf("push to %s: %v", ref.Raw, err)
	}
	rec.Check(t, rep, err)
	if !rep.Complete || rep.Transferred != len(s.fx.WalkOrder) || rep.Skipped != 0 || rep.Inspection.ImageID != s.id {
		t.Fatalf("push to %s: complete %v, %d transferred, %d skipped, image %s",
			ref.Raw, rep.Complete, rep.Transferred, rep.Skipped, rep.Inspection.ImageID)
	}
	return ref
}

func (s *suite) roundTrip(t *testing.T) {
	ctx := context.Background()
	reg := s.open(t)
	ref := s.h.NewRef(t)
	if ok, err := reg.Exists(ctx, ref); ok || err != nil {
		t.Fatalf("a fresh location: exists %v, %v", ok, err)
	}
	if _, err := reg.Inspect(ctx, ref); !errors.Is(err, fault.ErrNotFound) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("inspect of a fresh location: %v, want one line of class not found", err)
	}
	ref = s.push(t, reg)
	s.checkStored(t, reg, ref, s.stored)
	s.checkReadable(t, reg, ref)
	st, _ := s.pull(t, reg, ref)
	for _, w := range s.fx.WalkOrder {
		if got, _ := os.ReadFile(st.BlobPath(model.Digest(w.Digest))); !bytes.Equal(got, s.stored[model.Digest(w.Digest)]) {
			t.Errorf("%s: the pulled stored bytes differ from the pushed ones", w.Role)
		}
	}
}

// checkStored reads what the server holds: the manifest bytes, a signature
// under the backend's key, and stored blobs that the zstd CLI decodes.
func (s *suite) checkStored(t *testing.T, reg registry.Registry, ref registry.Ref, want map[model.Digest][]byte) {
	t.Helper()
	if m, ok := s.h.Read(t, ref, ManifestObject); !ok || !bytes.Equal(m, s.raw) {
		t.Errorf("the stored manifest differs from the pushed bytes (found %v)", ok)
	}
	if sig, ok := s.h.Read(t, ref, SignatureObject); !ok || !bytes.Equal(sig, signing.SignBytes(s.raw, reg.SignKey())) {
		t.Errorf("the stored signature is not the manifest's signature under %s (found %v): %s", reg.SignKey(), ok, sig)
	}
	blobs := map[model.Digest][]byte{}
	for _, w := range s.fx.WalkOrder {
		d := model.Digest(w.Digest)
		b, ok := s.h.Read(t, ref, BlobObject(d))
		if !ok || !bytes.Equal(b, want[d]) {
			t.Errorf("%s: stored bytes changed on the way (found %v)", w.Role, ok)
		}
		blobs[d] = b
	}
	CheckCLIDecodes(t, blobs)
}

// checkReadable: the image exists, inspects with the right verdict, and
// verifies shallow and deep.
func (s *suite) checkReadable(t *testing.T, reg registry.Registry, ref registry.Ref) {
	t.Helper()
	ctx := context.Background()
	if ok, err := reg.Exists(ctx, ref); !ok || err != nil {
		t.Fatalf("exists after push: %v, %v", ok, err)
	}
	in, err := reg.Inspect(ctx, ref)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	want := signing.Verify(s.raw, signing.SignBytes(s.raw, reg.SignKey()), reg.SignKey()).Status
	if in.ImageID != s.id || in.Signature.Status() != want || in.ManifestError != "" || len(in.Blobs) != 8 {
		t.Errorf("inspect: image %s, signature %s (want %s), manifest error %q, %d top-level blobs",
			in.ImageID, in.Signature.Status(), want, in.ManifestError, len(in.Blobs))
	}
	for _, deep := range []bool{false, true} {
		vr, err := reg.Verify(ctx, ref, registry.VerifyOptions{Deep: deep})
		if err != nil || !vr.Complete || len(vr.Blobs) != len(s.fx.WalkOrder) {
			t.Errorf("verify deep=%v: %v", deep, err)
		}
	}
}

// pull pulls into a fresh store and checks the report against the vectors:
// walk order, roles and stored sizes, the image ID and manifest bytes.
func (s *suite) pull(t testing.TB, reg registry.Registry, ref registry.Ref) (*store.Store, *registry.Report) {
	t.Helper()
	st := NewStore(t)
	rec := &Recorder{}
	rep, err := reg.Pull(context.Background(), ref, st, rec.Options(0))
	if err != nil {
		t.Fatalf("pull %s: %v", ref.Raw, err)
	}
	rec.Check(t, rep, err)
	if !rep.Complete || rep.Inspection.ImageID != s.id || !st.HasImage(s.id) || len(rep.Blobs) != len(s.fx.WalkOrder) {
		t.Fatalf("pull: complete %v, image %s, in the store %v, %d blobs", rep.Complete, rep.Inspection.ImageID, st.HasImage(s.id), len(rep.Blobs))
	}
	for i, w := range s.fx.WalkOrder {
		b := rep.Blobs[i]
		if string(b.Digest) != w.Digest || b.Role != w.Role || !st.HasBlob(b.Digest) {
			t.Errorf("blob %d: %s %s (in the store %v), want %s %s", i, b.Digest.Short(), b.Role, st.HasBlob(b.Digest), w.Digest, w.Role)
		}
	}
	if m, _ := st.Manifest(s.id); !bytes.Equal(m, s.raw) {
		t.Error("the pulled manifest differs from the pushed bytes")
	}
	return st, rep
}

// copyKeepsID copies backend → file:// → backend: the image ID and manifest
// bytes survive, each destination signs with its own key, and a copy under
// a private key verifies only with that key.
func (s *suite) copyKeepsID(t *testing.T) {
	ctx := context.Background()
	reg := s.open(t)
	src := s.push(t, reg)
	fileReg, fileRef := Open(t, FileRef(t), registry.Config{})
	s.copy(t, reg, src, fileReg, fileRef)
	for name, want := range map[string][]byte{"manifest.json": s.raw, "manifest.json.sig": signing.SignBytes(s.raw, fileReg.SignKey())} {
		if got, err := os.ReadFile(filepath.Join(fileRef.Path, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("file copy: %s differs (%v)", name, err)
		}
	}
	back := s.h.NewRef(t)
	s.copy(t, fileReg, fileRef, reg, back)
	s.checkStored(t, reg, back, s.stored)
	s.copy(t, reg, back, reg, s.h.NewRef(t)) // within the backend

	keyed, keyedRef := registry.New(withKey{reg, signing.NewKey([]byte("team-key"), "team key")}, registry.Config{}), s.h.NewRef(t)
	s.copy(t, fileReg, fileRef, keyed, keyedRef)
	if in, err := keyed.Inspect(ctx, keyedRef); err != nil || in.Signature.Status() != signing.Valid {
		t.Errorf("copy under a private key, inspected with it: %v, %+v", err, in)
	}
	if in, err := reg.Inspect(ctx, keyedRef); err != nil || in.Signature.Status() != signing.Invalid {
		t.Errorf("copy under a private key, inspected with the default key: %v, %+v", err, in)
	}
}

// withKey is a backend that signs and verifies with another key (what
// PF_<BACKEND>_REG_SIGN_KEY does), without changing the environment of
// tests that run in parallel.
type withKey struct {
	registry.Backend
	key signing.Key
}

func (w withKey) SignKey() signing.Key { return w.key }

func (s *suite) copy(t testing.TB, from registry.Registry, src registry.Ref, to registry.Registry, dst registry.Ref) {
	t.Helper()
	rec := &Recorder{}
	rep, err := registry.Copy(context.Background(), from, src, to, dst, rec.Options(0))
	if err != nil {
		t.Fatalf("copy %s → %s: %v", src.Raw, dst.Raw, err)
	}
	rec.Check(t, rep, err)
	if !rep.Complete || rep.Inspection.ImageID != s.id {
		t.Fatalf("copy %s → %s: complete %v, image %s", src.Raw, dst.Raw, rep.Complete, rep.Inspection.ImageID)
	}
	if vr, err := to.Verify(context.Background(), dst, registry.VerifyOptions{Deep: true}); err != nil || vr.Inspection.ImageID != s.id {
		t.Fatalf("deep verify of the copy at %s: %v", dst.Raw, err)
	}
}

// rePush pushes the same image to the same place again: nothing moves,
// and a destination that can tell it holds the image (registry.Holder)
// reads no blob of the source at all.
func (s *suite) rePush(t *testing.T) {
	reg := s.open(t)
	ref := s.push(t, reg)
	rec := &Recorder{}
	rep, err := reg.Push(context.Background(), s.st, s.id, ref, rec.Options(0))
	if err != nil {
		t.Fatal(err)
	}
	rec.Check(t, rep, err)
	if rep.Transferred != 0 || rep.Skipped != len(s.fx.WalkOrder) || rep.Bytes != 0 {
		t.Errorf("second push: %d transferred, %d skipped of %d, %d bytes", rep.Transferred, rep.Skipped, len(rep.Blobs), rep.Bytes)
	}
	for _, e := range rec.Events() {
		if e.Kind == registry.KindBlob && e.Phase != registry.PhaseQueued && e.Phase != registry.PhaseSkipped {
			t.Errorf("second push: blob %s (%s) went %s", e.Digest.Short(), e.Role, e.Phase)
		}
	}
	s.checkStored(t, reg, ref, s.stored)

	dst, err := reg.Sink(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dst.(registry.Holder); !ok {
		return
	}
	src, err := registry.StoreSource(s.st, s.id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ParseManifest(s.raw)
	if err != nil {
		t.Fatal(err)
	}
	counted := &openCounter{Source: src, walk: m.MetadataBlobs()}
	rep, err = registry.Transfer(context.Background(), registry.OpPush, counted, nil, dst, &registry.Signer{Key: reg.SignKey()}, registry.TransferOptions{})
	if err != nil || !rep.Complete || rep.Skipped != len(s.fx.WalkOrder) {
		t.Fatalf("third push: %v", err)
	}
	if n := counted.opens.Load(); n != 0 {
		t.Errorf("an unchanged push to a destination that holds the image read %d blobs beyond those of the walk", n)
	}
}

// openCounter counts the blobs a transfer opens at its source, but for
// the metadata blobs every walk reads (walk).
type openCounter struct {
	registry.Source
	walk  []model.Digest
	opens atomic.Int64
}

func (c *openCounter) OpenBlob(ctx context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	if !slices.Contains(c.walk, d) {
		c.opens.Add(1)
	}
	return c.Source.OpenBlob(ctx, d)
}

// rePushRestores removes one blob at the destination: pushing the same
// image again must notice it (an unchanged manifest does not vouch for a
// lost blob) and send that blob only.
func (s *suite) rePushRestores(t *testing.T) {
	reg := s.open(t)
	ref := s.push(t, reg)
	lost := s.blob(t, s.fx.WalkOrder[len(s.fx.WalkOrder)-1].Role)
	s.h.Remove(t, ref, BlobObject(lost))
	rep, err := reg.Push(context.Background(), s.st, s.id, ref, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Transferred != 1 || rep.Skipped != len(s.fx.WalkOrder)-1 {
		t.Errorf("push after a lost blob: %d transferred, %d skipped of %d", rep.Transferred, rep.Skipped, len(rep.Blobs))
	}
	if _, err := reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true}); err != nil {
		t.Fatalf("after the push that restored the blob: %v", err)
	}
}

// checkRefused asserts a transfer error of a class whose text names what
// went wrong, on one line.
func checkRefused(t testing.TB, what string, err, class error, want string) {
	t.Helper()
	switch {
	case !errors.Is(err, class):
		t.Errorf("%s: %v, want an error of class %v", what, err, class)
	case !strings.Contains(err.Error(), want) || strings.ContainsAny(err.Error(), "\r\n"):
		t.Errorf("%s: %q, want one line containing %q", what, err, want)
	}
}

// checkNothingAt asserts that no image (and no part of one that does not
// verify) is at ref.
func (s *suite) checkNothingAt(t testing.TB, reg registry.Registry, ref registry.Ref) {
	t.Helper()
	if ok, err := reg.Exists(context.Background(), ref); ok || err != nil {
		t.Errorf("%s: exists %v (%v); want no image", ref.Raw, ok, err)
	}
	for _, o := range []Object{ManifestObject, SignatureObject} {
		if _, ok := s.h.Read(t, ref, o); ok {
			t.Errorf("%s: a %s was written", ref.Raw, o)
		}
	}
	for _, w := range s.fx.WalkOrder {
		d := model.Digest(w.Digest)
		if b, ok := s.h.Read(t, ref, BlobObject(d)); ok {
			if _, err := blob.DecodeVerified(b, d, 1<<20); err != nil {
				t.Errorf("%s: a partial %s was left: %v", ref.Raw, w.Role, err)
			}
		}
	}
	if l, ok := s.h.(Leftovers); ok {
		if left := l.Leftovers(t, ref); len(left) != 0 {
			t.Errorf("%s: work files left: %v", ref.Raw, left)
		}
	}
}
