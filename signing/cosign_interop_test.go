package signing_test

// Interop with the real cosign CLI (built by scripts/provision.d/80-cosign.sh):
// keys and bundles made by each side are used by the other, offline.

import (
	"bytes"
	"strings"
	"testing"

	"pf-registry/internal/cosigntest"
	"pf-registry/signing"
)

const signPredicate = "https://sigstore.dev/cosign/sign/v1"

// cosign wraps the real cosign CLI for these tests.
type cosign struct{ *cosigntest.Cosign }

func newCosign(t *testing.T) *cosign { return &cosign{cosigntest.New(t)} }

func (c *cosign) run(args ...string) (string, error) { return c.Run(args...) }
func (c *cosign) mustRun(args ...string)             { c.MustRun(args...) }
func (c *cosign) write(name string, data []byte) string {
	return c.Write(name, data)
}
func (c *cosign) read(name string) []byte { return c.Read(name) }

// signBlob has cosign sign manifest.json with key file into a bundle.
func (c *cosign) signBlob(key, bundle string) []byte {
	c.mustRun("sign-blob", "--key", key, "--bundle", bundle, "--use-signing-config=false", "--tlog-upload=false", "manifest.json")
	return c.read(bundle)
}

// verifyBlob reports whether cosign accepts bundle for manifest.json.
func (c *cosign) verifyBlob(pub, bundle string) (string, bool) {
	out, err := c.run("verify-blob", "--key", pub, "--bundle", bundle, "--insecure-ignore-tlog", "manifest.json")
	return out, err == nil && strings.Contains(out, "Verified OK")
}

var interopManifest = []byte(`{"schema_version":1,"name":"interop","layers":[]}`)

func ringOf(trusted, known *signing.PublicKey) *signing.Keyring {
	r := signing.NewKeyring()
	if trusted != nil {
		r.Add(trusted, true)
	}
	if known != nil {
		r.Add(known, false)
	}
	return r
}

// TestCosignKeysWorkHere: a key pair from cosign generate-key-pair loads,
// imports into the store, and its sign-blob bundles verify here; ours made
// with that key verify in cosign.
func TestCosignKeysWorkHere(t *testing.T) {
	c := newCosign(t)
	c.mustRun("generate-key-pair")
	c.write("manifest.json", interopManifest)
	priv, err := signing.DecryptPrivateKeyPEM(c.read("cosign.key"), pass)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signing.ParsePublicKeyPEM(c.read("cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) || pub.Algorithm != signing.ECDSAP256 {
		t.Fatalf("cosign.key and cosign.pub disagree: %v vs %v", priv, pub)
	}

	store := signing.NewStore(t.TempDir())
	e, err := store.ImportFile(c.Path("cosign.key"), "", pass)
	if err != nil || e.Name != "cosign" || !e.Private || e.Fingerprint != pub.Fingerprint {
		t.Fatalf("import cosign.key: %+v, %v", e, err)
	}

	theirs := c.signBlob("cosign.key", "theirs.json")
	if got := signing.VerifyBundle(theirs, interopManifest, ringOf(pub, nil)); got.Status != signing.Trusted || got.Fingerprint != pub.Fingerprint {
		t.Fatalf("cosign's bundle: %+v", got)
	}

	ours, err := signing.SignBundle(interopManifest, priv)
	if err != nil {
		t.Fatal(err)
	}
	c.write("ours.json", ours)
	if out, ok := c.verifyBlob("cosign.pub", "ours.json"); !ok {
		t.Fatalf("cosign rejects our bundle made with its key:\n%s", out)
	}
}

// TestOurKeysWorkInCosign: both our algorithms, both directions.
func TestOurKeysWorkInCosign(t *testing.T) {
	for _, alg := range []signing.KeyAlgorithm{signing.ECDSAP256, signing.Ed25519} {
		t.Run(string(alg), func(t *testing.T) {
			f := encryptedKey(t, alg)
			c := newCosign(t)
			c.write("manifest.json", interopManifest)
			c.write("our.key", f.pem)
			c.write("our.pub", f.key.Public().PEM())

			ours, err := signing.SignBundle(interopManifest, f.key)
			if err != nil {
				t.Fatal(err)
			}
			c.write(signing.BundleFileName(f.key.Public().Fingerprint), ours)
			if out, ok := c.verifyBlob("our.pub", signing.BundleFileName(f.key.Public().Fingerprint)); !ok {
				t.Fatalf("cosign verify-blob rejects our bundle:\n%s", out)
			}

			// For Ed25519, cosign v3.1.3 writes an empty message digest here
			// (and its own verify-blob then refuses the bundle); the
			// signature over the whole manifest still verifies it here.
			theirs := c.signBlob("our.key", "theirs.json")
			if got := signing.VerifyBundle(theirs, interopManifest, ringOf(f.key.Public(), nil)); got.Status != signing.Trusted {
				t.Fatalf("cosign sign-blob with our key: %+v", got)
			}
		})
	}
}

// TestCosignTampering: each tampered bundle is refused by cosign and judged
// here with the precise verdict.
func TestCosignTampering(t *testing.T) {
	f := encryptedKey(t, signing.ECDSAP256)
	other, err := signing.GenerateKey(signing.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	c := newCosign(t)
	c.write("our.key", f.pem)
	c.write("our.pub", f.key.Public().PEM())
	good := sign(t, interopManifest, f.key)
	tamperedManifest := bytes.Replace(interopManifest, []byte("interop"), []byte("interoq"), 1)

	cases := []struct {
		name      string
		manifest  []byte
		bundle    []byte
		ring      *signing.Keyring
		want      signing.Status
		wantClass string
	}{
		{"untouched", interopManifest, good, ringOf(f.key.Public(), nil), signing.Trusted, ""},
		{"manifest byte", tamperedManifest, good, ringOf(f.key.Public(), nil), signing.Invalid, signing.ReasonManifestDigest},
		{"signature byte", interopManifest, flipSignatureByte(t, good), ringOf(f.key.Public(), nil), signing.Invalid, signing.ReasonSignature},
		{"other key, unknown here", interopManifest, sign(t, interopManifest, other), ringOf(f.key.Public(), nil), signing.Invalid, signing.ReasonUnknownKey},
		{"other key, known here", interopManifest, sign(t, interopManifest, other), ringOf(f.key.Public(), other.Public()), signing.UntrustedKey, ""},
		{"bundle of another manifest", interopManifest, sign(t, tamperedManifest, f.key), ringOf(f.key.Public(), nil), signing.Invalid, signing.ReasonManifestDigest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := signing.VerifyBundle(tc.bundle, tc.manifest, tc.ring)
			if got.Status != tc.want || got.Class != tc.wantClass {
				t.Fatalf("verdict %s/%s (%s), want %s/%s", got.Status, got.Class, got.Reason, tc.want, tc.wantClass)
			}
			c.write("manifest.json", tc.manifest)
			c.write("b.json", tc.bundle)
			out, ok := c.verifyBlob("our.pub", "b.json")
			if wantOK := tc.want == signing.Trusted; ok != wantOK {
				t.Fatalf("cosign verify-blob with our.pub: ok=%v, want %v\n%s", ok, wantOK, out)
			}
		})
	}
}

// TestCosignDSSE: the DSSE in-toto shape (what cosign sign writes for an
// image) in both directions, on a blob so that no registry is needed.
func TestCosignDSSE(t *testing.T) {
	f := encryptedKey(t, signing.ECDSAP256)
	c := newCosign(t)
	c.write("manifest.json", interopManifest)
	c.write("our.key", f.pem)
	c.write("our.pub", f.key.Public().PEM())
	c.write("predicate.json", []byte("{}"))

	c.mustRun("attest-blob", "--key", "our.key", "--predicate", "predicate.json", "--type", signPredicate,
		"--bundle", "theirs.json", "--use-signing-config=false", "--tlog-upload=false", "--yes", "manifest.json")
	theirs := c.read("theirs.json")
	if got := signing.VerifyBundle(theirs, interopManifest, ringOf(f.key.Public(), nil)); got.Status != signing.Trusted {
		t.Fatalf("cosign attest-blob bundle: %+v", got)
	}
	if got := signing.VerifyBundle(theirs, []byte("other bytes"), ringOf(f.key.Public(), nil)); got.Class != signing.ReasonManifestDigest {
		t.Fatalf("cosign attest-blob bundle on other bytes: %+v", got)
	}

	ours, err := signing.SignDigestBundle(sha256Digest(interopManifest), f.key)
	if err != nil {
		t.Fatal(err)
	}
	c.write("ours.json", ours)
	out, err := c.run("verify-blob-attestation", "--key", "our.pub", "--bundle", "ours.json", "--type", signPredicate,
		"--insecure-ignore-tlog", "manifest.json")
	if err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob-attestation rejects our DSSE bundle: %v\n%s", err, out)
	}
}

// TestCosignSimpleSigning: cosign's older image signature is a plain
// signature over the simple-signing payload bytes, which sign-blob makes
// offline with the same code path.
func TestCosignSimpleSigning(t *testing.T) {
	f := encryptedKey(t, signing.ECDSAP256)
	c := newCosign(t)
	c.write("our.key", f.pem)
	digest := sha256Digest([]byte("an OCI manifest"))
	payload := simpleSigningPayload(digest)
	c.write("payload.json", payload)
	c.mustRun("sign-blob", "--key", "our.key", "--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false",
		"--output-signature", "payload.sig", "payload.json")
	sig := string(c.read("payload.sig"))
	if got := signing.VerifySimpleSigning(payload, sig, digest, ringOf(f.key.Public(), nil)); got.Status != signing.Trusted {
		t.Fatalf("cosign's simple-signing signature: %+v", got)
	}
	if got := signing.VerifySimpleSigning(payload, sig, sha256Digest([]byte("another")), ringOf(f.key.Public(), nil)); got.Class != signing.ReasonManifestDigest {
		t.Fatalf("for another image: %+v", got)
	}
}

// simpleSigningPayload is the payload cosign sign writes for an image
// (shape copied from a cosign v3.1.3 .sig layer).
func simpleSigningPayload(digest string) []byte {
	return []byte(`{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/demo/img"},"image":{"docker-manifest-digest":"` +
		digest + `"},"type":"cosign container image signature"},"optional":null}`)
}
