// Package signtest checks, against any backend, what signatures by keys
// must do: a push with a key verifies as untrusted-key and as trusted once
// the key is trusted, sign adds a signature without moving a blob, a
// replaced image keeps no signature of the old one, --require trusted
// refuses before any blob lands, and tampering is judged as it should be.
// Each backend's tests run Run on its real server.
package signtest

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file" // copies go to a file registry
	"pf-registry/signing"
	"pf-registry/store"
)

// Harness plugs a backend into the checks.
type Harness struct {
	// Open returns the backend under cfg (its keyring and policy).
	Open func(t testing.TB, cfg registry.Config) registry.Registry
	// NewRef returns an image location nothing was written to.
	NewRef func(t testing.TB) registry.Ref
	// Files reads and replaces the files beside manifest.json of a file,
	// S3, HF or IPFS layout; nil for OCI, whose tests tamper themselves.
	Files Files
}

// Files is direct access to an image's files, around the backend.
type Files interface {
	// Names lists the files of the image's directory (not blobs/).
	Names(t testing.TB, ref registry.Ref) []string
	// Read returns a file's bytes.
	Read(t testing.TB, ref registry.Ref, name string) []byte
	// Write replaces (or adds) a file and returns the image's reference
	// afterwards (IPFS: a new directory CID).
	Write(t testing.TB, ref registry.Ref, name string, data []byte) registry.Ref
}

// Keys are the test keys: Alice's is trusted, Bob's known and not
// trusted, Carol's unknown to the keyring.
type Keys struct {
	Alice, Bob, Carol *signing.PrivateKey
	// Known lists Alice and Bob, neither trusted; Trusting trusts Alice.
	Known, Trusting *signing.Keyring
}

// NewKeys makes the test keys (Bob's is Ed25519, the others ECDSA P-256).
func NewKeys(t testing.TB) *Keys {
	t.Helper()
	gen := func(alg signing.KeyAlgorithm) *signing.PrivateKey {
		k, err := signing.GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k := &Keys{Alice: gen(signing.ECDSAP256), Bob: gen(signing.Ed25519), Carol: gen(signing.ECDSAP256)}
	named := func(p *signing.PrivateKey, name string) *signing.PublicKey {
		c := *p.Public()
		c.Name = name
		return &c
	}
	k.Known, k.Trusting = signing.NewKeyring(), signing.NewKeyring()
	k.Known.Add(named(k.Alice, "alice"), false)
	k.Known.Add(named(k.Bob, "bob"), false)
	k.Trusting.Add(named(k.Alice, "alice"), true)
	k.Trusting.Add(named(k.Bob, "bob"), false)
	return k
}

type suite struct {
	h        Harness
	keys     *Keys
	st       *store.Store
	id1, id2 model.Digest
}

// Run runs the checks against a backend.
func Run(t *testing.T, h Harness) {
	s := &suite{h: h, keys: NewKeys(t), st: newStore(t)}
	var err error
	if s.id1, err = demo.Build(s.st, demo.ImageSpec{Seed: 901, Files: 3, Pages: 1, Messages: 4}); err != nil {
		t.Fatal(err)
	}
	if s.id2, err = demo.Build(s.st, demo.ImageSpec{Seed: 902, Files: 2, Pages: 1, Messages: 3}); err != nil {
		t.Fatal(err)
	}
	t.Run("PushWithKeyThenTrust", s.pushThenTrust)
	t.Run("SignAddsWithoutMovingBlobs", s.signAdds)
	t.Run("ReplaceKeepsNoStaleSignature", s.replace)
	t.Run("RequireTrustedRefusesBeforeAnyBlob", s.requireTrusted)
	t.Run("CopyToFile", s.copyToFile)
	t.Run("CopyFromFile", s.copyFromFile)
	if h.Files != nil {
		t.Run("Tampering", s.tampering)
	}
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (s *suite) open(t testing.TB, ring *signing.Keyring, level signing.Level) registry.Registry {
	return s.h.Open(t, registry.Config{Keys: ring, Policy: registry.Policy{Require: level}})
}

// push pushes an image signed by keys to a fresh location.
func (s *suite) push(t testing.TB, id model.Digest, keys ...*signing.PrivateKey) registry.Ref {
	t.Helper()
	ref := s.h.NewRef(t)
	rep, err := s.open(t, s.keys.Known, "").Push(context.Background(), s.st, id, ref, registry.TransferOptions{SignWith: keys})
	if err != nil {
		t.Fatalf("push to %s: %v", ref.Raw, err)
	}
	if rr, err := registry.ParseRef(rep.Destination); err == nil && rep.Destination != ref.Raw {
		ref = rr // IPFS: the pushed directory's CID
	}
	return ref
}

// inspect returns the verdict on ref with ring.
func (s *suite) inspect(t testing.TB, ring *signing.Keyring, ref registry.Ref) *registry.Inspection {
	t.Helper()
	in, err := s.open(t, ring, "").Inspect(context.Background(), ref)
	if err != nil {
		t.Fatalf("inspect %s: %v", ref.Raw, err)
	}
	return in
}

// bundles returns the bundle checks of an inspection by fingerprint.
func bundles(in *registry.Inspection) map[string]signing.Check {
	out := map[string]signing.Check{}
	for _, c := range in.Signature.Checks {
		if c.Kind == signing.KindBundle {
			out[c.Fingerprint] = c
		}
	}
	return out
}

func (s *suite) pushThenTrust(t *testing.T) {
	ref := s.h.NewRef(t)
	rep, err := s.open(t, s.keys.Known, "").Push(context.Background(), s.st, s.id1, ref, registry.TransferOptions{SignWith: []*signing.PrivateKey{s.keys.Alice}})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Inspection.Signature.Status(); got != signing.UntrustedKey {
		t.Fatalf("push report: %s, want untrusted-key", got)
	}
	if rr, err := registry.ParseRef(rep.Destination); err == nil {
		ref = rr
	}
	in := s.inspect(t, s.keys.Known, ref)
	fp := s.keys.Alice.Public().Fingerprint
	if in.Signature.Status() != signing.UntrustedKey || bundles(in)[fp].Status != signing.UntrustedKey || in.ImageID != s.id1 {
		t.Fatalf("inspect with alice known: %s %+v", in.Signature.Status(), in.Signature.Checks)
	}
	if hm := in.Signature.Checks[0]; hm.Kind != signing.KindHMAC || hm.Status != signing.DefaultKey {
		t.Fatalf("the HMAC signature is no longer written: %+v", hm)
	}
	in = s.inspect(t, s.keys.Trusting, ref)
	best := in.Signature.Strongest()
	if best.Status != signing.Trusted || best.KeyName != "alice" || !strings.Contains(best.Key, fp) {
		t.Fatalf("inspect with alice trusted: %+v", best)
	}
	if in = s.inspect(t, nil, ref); in.Signature.Status() != signing.DefaultKey || bundles(in)[""].Class != signing.ReasonUnknownKey {
		t.Fatalf("inspect knowing no key: %s %+v", in.Signature.Status(), in.Signature.Checks)
	}
}

func (s *suite) signAdds(t *testing.T) {
	ref := s.push(t, s.id1)
	reg := s.open(t, s.keys.Trusting, "")
	if in := s.inspect(t, s.keys.Trusting, ref); in.Signature.Status() != signing.DefaultKey {
		t.Fatalf("before signing: %s", in.Signature.Status())
	}
	in, err := reg.Sign(context.Background(), ref, []*signing.PrivateKey{s.keys.Bob})
	if err != nil {
		t.Fatal(err)
	}
	if in.Signature.Status() != signing.UntrustedKey {
		t.Fatalf("signed by bob: %s", in.Signature.Status())
	}
	if r, err := registry.ParseRef(in.Ref); err == nil && strings.HasPrefix(in.Ref, "ipfs://") {
		ref = r
	}
	in, err = reg.Sign(context.Background(), ref, []*signing.PrivateKey{s.keys.Alice})
	if err != nil {
		t.Fatal(err)
	}
	b := bundles(in)
	if in.Signature.Status() != signing.Trusted || len(b) != 2 || b[s.keys.Bob.Public().Fingerprint].Status != signing.UntrustedKey {
		t.Fatalf("signed by bob then alice: %s %+v", in.Signature.Status(), in.Signature.Checks)
	}
	if in.ImageID != s.id1 {
		t.Fatalf("signing changed the image: %s", in.ImageID)
	}
	// Signing verifies first: an image whose signature fails is refused.
	if s.h.Files != nil {
		bad := s.h.Files.Write(t, s.push(t, s.id2), signing.HMACSignatureFile, []byte(`{"algorithm":"hmac-sha256","manifest_digest":"00","signature":"00"}`))
		_, err := reg.Sign(context.Background(), bad, []*signing.PrivateKey{s.keys.Alice})
		if !errors.Is(err, fault.ErrIntegrity) || !strings.Contains(err.Error(), "refusing to sign") {
			t.Fatalf("signing an image whose signature fails: %v", err)
		}
	}
}

func (s *suite) replace(t *testing.T) {
	ref := s.h.NewRef(t)
	reg := s.open(t, s.keys.Known, "")
	for _, p := range []struct {
		id   model.Digest
		keys []*signing.PrivateKey
	}{{s.id1, []*signing.PrivateKey{s.keys.Alice, s.keys.Bob}}, {s.id2, []*signing.PrivateKey{s.keys.Bob}}} {
		if _, err := reg.Push(context.Background(), s.st, p.id, ref, registry.TransferOptions{SignWith: p.keys}); err != nil {
			t.Fatal(err)
		}
	}
	in := s.inspect(t, s.keys.Trusting, ref)
	b := bundles(in)
	if in.ImageID != s.id2 || len(b) != 1 || b[s.keys.Bob.Public().Fingerprint].Status != signing.UntrustedKey || len(in.Signature.Failed()) != 0 {
		t.Fatalf("after replacing: image %s, checks %+v", in.ImageID.Short(), in.Signature.Checks)
	}
	if s.h.Files == nil {
		return
	}
	var found []string
	for _, n := range s.h.Files.Names(t, ref) {
		if registry.IsBundleFile(n) {
			found = append(found, n)
		}
	}
	if len(found) != 1 || found[0] != signing.BundleFileName(s.keys.Bob.Public().Fingerprint) {
		t.Fatalf("bundles beside the new image: %v", found)
	}
}

func (s *suite) requireTrusted(t *testing.T) {
	ctx := context.Background()
	plain := s.push(t, s.id2)
	byBob := s.push(t, s.id2, s.keys.Bob)
	reg := s.open(t, s.keys.Trusting, signing.RequireTrusted)
	for _, ref := range []registry.Ref{plain, byBob} {
		st := newStore(t)
		rep, err := reg.Pull(ctx, ref, st, registry.TransferOptions{})
		if !errors.Is(err, fault.ErrIntegrity) || !strings.Contains(fault.Hint(err), "keys trust") {
			t.Fatalf("pull %s under --require trusted: %v (hint %q)", ref.Raw, err, fault.Hint(err))
		}
		if rep != nil && (rep.Transferred != 0 || rep.Bytes != 0) {
			t.Fatalf("blobs moved before the refusal: %+v", rep)
		}
		if n := countFiles(t, st.Root()); n != 0 {
			t.Fatalf("the store holds %d files after a refused pull", n)
		}
		dreg, dst, err := registry.ForRef("file://"+filepath.Join(t.TempDir(), "copy"), registry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := registry.Copy(ctx, reg, ref, dreg, dst, registry.TransferOptions{}); !errors.Is(err, fault.ErrIntegrity) {
			t.Fatalf("copy %s under --require trusted: %v", ref.Raw, err)
		}
		if ok, _ := dreg.Exists(ctx, dst); ok || countFiles(t, dst.Path) != 0 {
			t.Fatalf("the copy destination was written to")
		}
	}
	if _, err := s.open(t, s.keys.Known, signing.RequireSigned).Pull(ctx, byBob, newStore(t), registry.TransferOptions{}); err != nil {
		t.Fatalf("--require signed refuses an image signed by a known key: %v", err)
	}
	trusted := s.push(t, s.id2, s.keys.Alice)
	if rep, err := reg.Pull(ctx, trusted, newStore(t), registry.TransferOptions{}); err != nil || !rep.Complete {
		t.Fatalf("pull of a trusted image under --require trusted: %v", err)
	}
}

// countFiles counts the regular files under dir (0 when it is missing).
func countFiles(t testing.TB, dir string) int {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// copyToFile: a bundle over the manifest bytes follows the image to a file
// registry; cosign's signatures on an OCI manifest cannot.
func (s *suite) copyToFile(t *testing.T) {
	ref := s.push(t, s.id1, s.keys.Alice)
	dreg, dst, err := registry.ForRef("file://"+filepath.Join(t.TempDir(), "copy"), registry.Config{Keys: s.keys.Trusting})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.Copy(context.Background(), s.open(t, s.keys.Trusting, ""), ref, dreg, dst, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	in, err := dreg.Inspect(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	want := signing.Trusted
	if s.h.Files == nil {
		want = signing.DefaultKey
	}
	if in.Signature.Status() != want || len(in.Signature.Failed()) != 0 {
		t.Fatalf("copied to a file registry: %s %+v, want %s", in.Signature.Status(), in.Signature.Checks, want)
	}
}

// copyFromFile: the other direction.
func (s *suite) copyFromFile(t *testing.T) {
	ctx := context.Background()
	freg, src, err := registry.ForRef("file://"+filepath.Join(t.TempDir(), "src"), registry.Config{Keys: s.keys.Trusting})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := freg.Push(ctx, s.st, s.id1, src, registry.TransferOptions{SignWith: []*signing.PrivateKey{s.keys.Alice}}); err != nil {
		t.Fatal(err)
	}
	dst := s.h.NewRef(t)
	reg := s.open(t, s.keys.Trusting, "")
	rep, err := registry.Copy(ctx, freg, src, reg, dst, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := registry.ParseRef(rep.Destination); err == nil {
		dst = r
	}
	in := s.inspect(t, s.keys.Trusting, dst)
	want := signing.Trusted
	if s.h.Files == nil {
		want = signing.DefaultKey
	}
	if in.Signature.Status() != want || len(in.Signature.Failed()) != 0 {
		t.Fatalf("copied from a file registry: %s %+v, want %s", in.Signature.Status(), in.Signature.Checks, want)
	}
	// A key given to the copy signs at the destination in its own format.
	rep, err = registry.Copy(ctx, freg, src, reg, dst, registry.TransferOptions{SignWith: []*signing.PrivateKey{s.keys.Alice}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := registry.ParseRef(rep.Destination); err == nil {
		dst = r
	}
	if in := s.inspect(t, s.keys.Trusting, dst); in.Signature.Status() != signing.Trusted || len(bundles(in)) != 1 {
		t.Fatalf("copy --sign-key: %s %+v", in.Signature.Status(), in.Signature.Checks)
	}
}
