package registrytest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
	"pf-registry/store"
)

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

// signSuite is the state of the signature checks: its own store with two
// images, and the test keys.
type signSuite struct {
	h        Harness
	keys     *Keys
	st       *store.Store
	id1, id2 model.Digest
	// files is set for the layouts that keep bundles as files, which the
	// harness reads and writes (Bundle objects).
	files bool
}

func (s *suite) signatures(t *testing.T) {
	ss := &signSuite{h: s.h, keys: NewKeys(t)}
	ss.st, ss.id1 = SmallImage(t, 901)
	ss.id2 = AddSmallImage(t, ss.st, 902)
	switch s.h.Open(t, registry.Config{}).Scheme() {
	case "file", "s3", "hf", "ipfs":
		ss.files = true
	}
	t.Run("PushWithKeyThenTrust", ss.pushThenTrust)
	t.Run("SignAddsWithoutMovingBlobs", ss.signAdds)
	t.Run("ReplaceKeepsNoStaleSignature", ss.replace)
	t.Run("RequireTrustedRefusesBeforeAnyBlob", ss.requireTrusted)
	t.Run("CopyToFile", ss.copyToFile)
	t.Run("CopyFromFile", ss.copyFromFile)
	if ss.files {
		t.Run("Tampering", ss.tampering)
	}
}

func (s *signSuite) open(t testing.TB, ring *signing.Keyring, level signing.Level) registry.Registry {
	return s.h.Open(t, registry.Config{Keys: ring, Policy: registry.Policy{Require: level}})
}

// push pushes an image signed by keys to a fresh location.
func (s *signSuite) push(t testing.TB, id model.Digest, keys ...*signing.PrivateKey) registry.Ref {
	t.Helper()
	ref := s.h.NewRef(t)
	if _, err := s.open(t, s.keys.Known, "").Push(context.Background(), s.st, id, ref, registry.TransferOptions{SignWith: keys}); err != nil {
		t.Fatalf("push to %s: %v", ref.Raw, err)
	}
	return ref
}

// inspect returns the verdict on ref with ring.
func (s *signSuite) inspect(t testing.TB, ring *signing.Keyring, ref registry.Ref) *registry.Inspection {
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

func (s *signSuite) pushThenTrust(t *testing.T) {
	ref := s.h.NewRef(t)
	rep, err := s.open(t, s.keys.Known, "").Push(context.Background(), s.st, s.id1, ref, registry.TransferOptions{SignWith: []*signing.PrivateKey{s.keys.Alice}})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Inspection.Signature.Status(); got != signing.UntrustedKey {
		t.Fatalf("push report: %s, want untrusted-key", got)
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

func (s *signSuite) signAdds(t *testing.T) {
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
	if s.files {
		bad := s.push(t, s.id2)
		s.h.Write(t, bad, SignatureObject, []byte(`{"algorithm":"hmac-sha256","manifest_digest":"00","signature":"00"}`))
		_, err := reg.Sign(context.Background(), bad, []*signing.PrivateKey{s.keys.Alice})
		if !errors.Is(err, fault.ErrIntegrity) || !strings.Contains(err.Error(), "refusing to sign") {
			t.Fatalf("signing an image whose signature fails: %v", err)
		}
	}
}

func (s *signSuite) replace(t *testing.T) {
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
	if !s.files {
		return
	}
	if _, ok := s.h.Read(t, ref, BundleObject(signing.BundleFileName(s.keys.Alice.Public().Fingerprint))); ok {
		t.Fatal("the replaced image's bundle is still beside the new one")
	}
	if _, ok := s.h.Read(t, ref, BundleObject(signing.BundleFileName(s.keys.Bob.Public().Fingerprint))); !ok {
		t.Fatal("the new image's bundle is missing")
	}
}

func (s *signSuite) requireTrusted(t *testing.T) {
	ctx := context.Background()
	plain := s.push(t, s.id2)
	byBob := s.push(t, s.id2, s.keys.Bob)
	reg := s.open(t, s.keys.Trusting, signing.RequireTrusted)
	for _, ref := range []registry.Ref{plain, byBob} {
		st := NewStore(t)
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
	if _, err := s.open(t, s.keys.Known, signing.RequireSigned).Pull(ctx, byBob, NewStore(t), registry.TransferOptions{}); err != nil {
		t.Fatalf("--require signed refuses an image signed by a known key: %v", err)
	}
	trusted := s.push(t, s.id2, s.keys.Alice)
	if rep, err := reg.Pull(ctx, trusted, NewStore(t), registry.TransferOptions{}); err != nil || !rep.Complete {
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
func (s *signSuite) copyToFile(t *testing.T) {
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
	if !s.files {
		want = signing.DefaultKey
	}
	if in.Signature.Status() != want || len(in.Signature.Failed()) != 0 {
		t.Fatalf("copied to a file registry: %s %+v, want %s", in.Signature.Status(), in.Signature.Checks, want)
	}
}

// copyFromFile: the other direction.
func (s *signSuite) copyFromFile(t *testing.T) {
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
	if _, err := registry.Copy(ctx, freg, src, reg, dst, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	in := s.inspect(t, s.keys.Trusting, dst)
	want := signing.Trusted
	if !s.files {
		want = signing.DefaultKey
	}
	if in.Signature.Status() != want || len(in.Signature.Failed()) != 0 {
		t.Fatalf("copied from a file registry: %s %+v, want %s", in.Signature.Status(), in.Signature.Checks, want)
	}
	// A key given to the copy signs at the destination in its own format.
	if _, err := registry.Copy(ctx, freg, src, reg, dst, registry.TransferOptions{SignWith: []*signing.PrivateKey{s.keys.Alice}}); err != nil {
		t.Fatal(err)
	}
	if in := s.inspect(t, s.keys.Trusting, dst); in.Signature.Status() != signing.Trusted || len(bundles(in)) != 1 {
		t.Fatalf("copy --sign-key: %s %+v", in.Signature.Status(), in.Signature.Checks)
	}
}

// tampering changes what a file layout holds, as anyone with write access
// could, and checks each verdict: a bundle that fails never hides the
// others, and only a changed manifest makes the whole image invalid.
func (s *signSuite) tampering(t *testing.T) {
	ref := s.push(t, s.id1, s.keys.Alice)
	name := signing.BundleFileName(s.keys.Alice.Public().Fingerprint)
	good, _ := s.h.Read(t, ref, BundleObject(name))
	manifest, _ := s.h.Read(t, ref, ManifestObject)
	other, err := s.st.Manifest(s.id2)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(subject []byte, k *signing.PrivateKey) []byte {
		b, err := signing.SignBundle(subject, k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name   string
		data   []byte
		want   signing.Status // the bundle's verdict
		class  string
		status signing.Status // the image's
	}{
		{"signature byte", FlipSignature(t, good), signing.Invalid, signing.ReasonSignature, signing.DefaultKey},
		{"signature by an unknown key", sign(manifest, s.keys.Carol), signing.Invalid, signing.ReasonUnknownKey, signing.DefaultKey},
		{"signature by a known untrusted key", sign(manifest, s.keys.Bob), signing.UntrustedKey, "", signing.UntrustedKey},
		{"bundle of another image", sign(other, s.keys.Alice), signing.Invalid, signing.ReasonManifestDigest, signing.DefaultKey},
		{"not a bundle", []byte(`{"mediaType":"text/plain"}`), signing.Invalid, signing.ReasonParse, signing.DefaultKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.h.Write(t, ref, BundleObject(name), tc.data)
			in := s.inspect(t, s.keys.Trusting, ref)
			var b signing.Check
			for _, c := range in.Signature.Checks {
				if c.Kind == signing.KindBundle {
					b = c
				}
			}
			if b.Status != tc.want || b.Class != tc.class || in.Signature.Status() != tc.status {
				t.Fatalf("bundle %s/%s, image %s; want bundle %s/%s, image %s", b.Status, b.Class, in.Signature.Status(), tc.want, tc.class, tc.status)
			}
			_, err := s.open(t, s.keys.Trusting, signing.RequireTrusted).Pull(context.Background(), ref, NewStore(t), registry.TransferOptions{})
			if !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("pull under --require trusted: %v", err)
			}
			s.h.Write(t, ref, BundleObject(name), good)
		})
	}
	t.Run("manifest byte", func(t *testing.T) {
		changed := append([]byte(nil), manifest...)
		for i := range changed {
			if changed[i] == '1' { // a digit of a date or a digest: still a manifest
				changed[i] = '2'
				break
			}
		}
		s.h.Write(t, ref, ManifestObject, changed)
		in := s.inspect(t, s.keys.Trusting, ref)
		if in.Signature.Status() != signing.Invalid || len(in.Signature.Failed()) != 2 {
			t.Fatalf("changed manifest: %s %+v", in.Signature.Status(), in.Signature.Checks)
		}
		if err := in.Problem(signing.RequireAny); !errors.Is(err, fault.ErrIntegrity) {
			t.Fatalf("changed manifest is not an integrity failure: %v", err)
		}
	})
}

// FlipSignature changes one byte of the signature inside a bundle: a
// message signature's, or the first of a DSSE envelope's.
func FlipSignature(t testing.TB, bundle []byte) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	holder, field := map[string]any(nil), "signature"
	if ms, ok := b["messageSignature"].(map[string]any); ok {
		holder = ms
	} else if env, ok := b["dsseEnvelope"].(map[string]any); ok {
		holder, field = env["signatures"].([]any)[0].(map[string]any), "sig"
	} else {
		t.Fatal("the bundle has no signature")
	}
	sig, err := base64.StdEncoding.DecodeString(holder[field].(string))
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0x01
	holder[field] = base64.StdEncoding.EncodeToString(sig)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
