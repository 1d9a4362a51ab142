package signing_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"pf-registry/signing"
)

func sign(t *testing.T, manifest []byte, k *signing.PrivateKey) []byte {
	t.Helper()
	b, err := signing.SignBundle(manifest, k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// editBundle decodes a bundle into generic JSON, lets edit change it and
// encodes it again.
func editBundle(t *testing.T, b []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flipSignatureByte changes the last byte of the signature of a message
// or DSSE bundle.
func flipSignatureByte(t *testing.T, b []byte) []byte {
	t.Helper()
	flip := func(s string) string {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)-1] ^= 0x01
		return base64.StdEncoding.EncodeToString(raw)
	}
	return editBundle(t, b, func(m map[string]any) {
		if ms, ok := m["messageSignature"].(map[string]any); ok {
			ms["signature"] = flip(ms["signature"].(string))
			return
		}
		sig := m["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
		sig["sig"] = flip(sig["sig"].(string))
	})
}

func TestBundleShape(t *testing.T) {
	f := encryptedKey(t, signing.ECDSAP256)
	manifest := []byte(`{"schema_version":1}`)
	b := sign(t, manifest, f.key)
	var got struct {
		MediaType            string
		VerificationMaterial struct{ PublicKey struct{ Hint string } }
		MessageSignature     struct {
			MessageDigest struct{ Algorithm, Digest string }
			Signature     string
		}
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(manifest)
	if got.MediaType != "application/vnd.dev.sigstore.bundle.v0.3+json" ||
		got.VerificationMaterial.PublicKey.Hint != f.key.Public().Fingerprint ||
		got.MessageSignature.MessageDigest.Algorithm != "SHA2_256" ||
		got.MessageSignature.MessageDigest.Digest != base64.StdEncoding.EncodeToString(sum[:]) ||
		got.MessageSignature.Signature == "" {
		t.Fatalf("bundle %s", b)
	}
	if bytes.ContainsAny(b, " \n") {
		t.Fatalf("bundle is not compact: %s", b)
	}
	if name := signing.BundleFileName(f.key.Public().Fingerprint); name != "manifest.json."+f.key.Public().Fingerprint+".sigstore.json" {
		t.Fatalf("BundleFileName = %q", name)
	}
}

func TestVerifyBundle(t *testing.T) {
	ec := encryptedKey(t, signing.ECDSAP256).key
	ed := encryptedKey(t, signing.Ed25519).key
	stranger, err := signing.GenerateKey(signing.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	manifest := []byte(`{"schema_version":1,"name":"a"}`)
	other := []byte(`{"schema_version":1,"name":"b"}`)
	good := sign(t, manifest, ec)
	dsse, err := signing.SignDigestBundle(sha256Digest(manifest), ec)
	if err != nil {
		t.Fatal(err)
	}
	trusting := ringOf(ec.Public(), ed.Public())
	cases := []struct {
		name      string
		bundle    []byte
		subject   []byte
		ring      *signing.Keyring
		want      signing.Status
		wantClass string
		wantKey   *signing.PublicKey
	}{
		{"trusted ecdsa", good, manifest, trusting, signing.Trusted, "", ec.Public()},
		{"untrusted ed25519 (known key)", sign(t, manifest, ed), manifest, trusting, signing.UntrustedKey, "", ed.Public()},
		{"trusted ed25519", sign(t, manifest, ed), manifest, ringOf(ed.Public(), nil), signing.Trusted, "", ed.Public()},
		{"dsse statement", dsse, manifest, trusting, signing.Trusted, "", ec.Public()},
		{"dsse of another subject", dsse, other, trusting, signing.Invalid, signing.ReasonManifestDigest, nil},
		{"dsse signature byte", flipSignatureByte(t, dsse), manifest, trusting, signing.Invalid, signing.ReasonSignature, ec.Public()},
		{"manifest changed", good, other, trusting, signing.Invalid, signing.ReasonManifestDigest, nil},
		{"signature byte", flipSignatureByte(t, good), manifest, trusting, signing.Invalid, signing.ReasonSignature, ec.Public()},
		{"unknown signer", sign(t, manifest, stranger), manifest, trusting, signing.Invalid, signing.ReasonUnknownKey, nil},
		{"no keys at all", good, manifest, nil, signing.Invalid, signing.ReasonUnknownKey, nil},
		{"hint lies, signature good", editBundle(t, good, func(m map[string]any) {
			m["verificationMaterial"] = map[string]any{"publicKey": map[string]any{"hint": ed.Public().Fingerprint}}
		}), manifest, trusting, signing.Trusted, "", ec.Public()},
		// A bad signature is pinned on the key the hint names, in either form.
		{"cosign hint form", flipSignatureByte(t, editBundle(t, good, func(m map[string]any) {
			m["verificationMaterial"] = map[string]any{"publicKey": map[string]any{"hint": cosignHint(t, ec.Public())}}
		})), manifest, trusting, signing.Invalid, signing.ReasonSignature, ec.Public()},
		// cosign sign-blob leaves the digest empty for Ed25519 without a
		// transparency log; the signature over the whole subject decides.
		{"ed25519 without digest", noDigest(t, sign(t, manifest, ed)), manifest, ringOf(ed.Public(), nil), signing.Trusted, "", ed.Public()},
		{"ed25519 without digest, manifest changed", noDigest(t, sign(t, manifest, ed)), other, ringOf(ed.Public(), nil), signing.Invalid, signing.ReasonSignature, ed.Public()},
		{"not json", []byte("{"), manifest, trusting, signing.Invalid, signing.ReasonParse, nil},
		{"wrong media type", editBundle(t, good, func(m map[string]any) { m["mediaType"] = "text/plain\x1b[31m" }),
			manifest, trusting, signing.Invalid, signing.ReasonParse, nil},
		{"no content", editBundle(t, good, func(m map[string]any) { delete(m, "messageSignature") }),
			manifest, trusting, signing.Invalid, signing.ReasonParse, nil},
		{"keyless certificate", editBundle(t, good, func(m map[string]any) {
			m["verificationMaterial"] = map[string]any{"certificate": map[string]any{"rawBytes": "AAAA"}}
		}), manifest, trusting, signing.Invalid, signing.ReasonUnsupported, nil},
		{"sha512 digest claimed", editBundle(t, good, func(m map[string]any) {
			m["messageSignature"].(map[string]any)["messageDigest"].(map[string]any)["algorithm"] = "SHA2_512"
		}), manifest, trusting, signing.Invalid, signing.ReasonManifestDigest, nil},
		{"oversized", append(good, bytes.Repeat([]byte(" "), signing.MaxBundleSize)...), manifest, trusting, signing.Invalid, signing.ReasonParse, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := signing.VerifyBundle(tc.bundle, tc.subject, tc.ring)
			if got.Status != tc.want || got.Class != tc.wantClass || got.Kind != signing.KindBundle {
				t.Fatalf("got %s/%s (%s), want %s/%s", got.Status, got.Class, got.Reason, tc.want, tc.wantClass)
			}
			if tc.wantKey != nil && (got.Fingerprint != tc.wantKey.Fingerprint || got.Algorithm != tc.wantKey.Algorithm) {
				t.Fatalf("signer %s (%s), want %s", got.Fingerprint, got.Algorithm, tc.wantKey.Fingerprint)
			}
			if tc.wantKey == nil && got.Fingerprint != "" {
				t.Fatalf("names signer %s where none verified", got.Fingerprint)
			}
			if got.Reason == "" || strings.ContainsAny(got.Reason, "\n\x1b") {
				t.Fatalf("reason %q is not one clean line", got.Reason)
			}
		})
	}
}

func noDigest(t *testing.T, b []byte) []byte {
	return editBundle(t, b, func(m map[string]any) {
		m["messageSignature"].(map[string]any)["messageDigest"] = map[string]any{}
	})
}

// cosignHint is cosign's hint form, computed independently: base64 of
// SHA-256 of the PKIX DER.
func cosignHint(t *testing.T, p *signing.PublicKey) string {
	t.Helper()
	block, _ := pem.Decode(p.PEM())
	sum := sha256.Sum256(block.Bytes)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestVerifyBundleNotASignature(t *testing.T) {
	ec := encryptedKey(t, signing.ECDSAP256).key
	manifest := []byte("m")
	dsse, err := signing.SignDigestBundle(sha256Digest(manifest), ec)
	if err != nil {
		t.Fatal(err)
	}
	sbom := editBundle(t, dsse, func(m map[string]any) {
		env := m["dsseEnvelope"].(map[string]any)
		payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
		payload = bytes.Replace(payload, []byte(signPredicate), []byte("https://spdx.dev/Document"), 1)
		env["payload"] = base64.StdEncoding.EncodeToString(payload)
	})
	got := signing.VerifyBundle(sbom, manifest, ringOf(ec.Public(), nil))
	if got.Class != signing.ReasonNotSignature || !strings.Contains(got.Reason, "spdx") {
		t.Fatalf("SBOM attestation: %+v", got)
	}
	if _, err := signing.SignDigestBundle("sha256:abc", ec); err == nil {
		t.Fatal("SignDigestBundle accepted a short digest")
	}
}

func TestKeyringAdd(t *testing.T) {
	a := encryptedKey(t, signing.ECDSAP256).key.Public()
	named := *a
	named.Name = "alice"
	r := signing.NewKeyring()
	r.Add(a, false)
	r.Add(&named, true)
	if len(r.Keys()) != 1 || r.Keys()[0].Name != "alice" || !r.Trusted(a.Fingerprint) || len(r.TrustedKeys()) != 1 {
		t.Fatalf("same key twice: %+v", r.Keys())
	}
	var nilRing *signing.Keyring
	if nilRing.Trusted(a.Fingerprint) {
		t.Fatal("nil ring trusts")
	}
}

func TestVerifySimpleSigning(t *testing.T) {
	ec := encryptedKey(t, signing.ECDSAP256).key
	ed := encryptedKey(t, signing.Ed25519).key
	digest := sha256Digest([]byte("oci manifest"))
	payload := simpleSigningPayload(digest)
	// Signed as cosign does: ECDSA over the SHA-256, Ed25519 over the bytes.
	sigOf := func(k *signing.PrivateKey, msg []byte) string {
		if edKey, ok := signing.SignerOf(k).(ed25519.PrivateKey); ok {
			return base64.StdEncoding.EncodeToString(ed25519.Sign(edKey, msg))
		}
		s, err := signing.SignerOf(k).Sign(rand.Reader, sha256Sum(msg), crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(s)
	}
	ring := ringOf(ec.Public(), ed.Public())
	cases := []struct {
		name      string
		payload   []byte
		sig       string
		want      signing.Status
		wantClass string
	}{
		{"ecdsa trusted", payload, sigOf(ec, payload), signing.Trusted, ""},
		{"ed25519 known", payload, sigOf(ed, payload), signing.UntrustedKey, ""},
		{"payload byte", bytes.Replace(payload, []byte("demo"), []byte("demp"), 1), sigOf(ec, payload), signing.Invalid, signing.ReasonUnknownKey},
		{"other image", simpleSigningPayload(sha256Digest([]byte("x"))), sigOf(ec, payload), signing.Invalid, signing.ReasonManifestDigest},
		{"not base64", payload, "!!", signing.Invalid, signing.ReasonParse},
		{"not json", []byte("x"), sigOf(ec, []byte("x")), signing.Invalid, signing.ReasonParse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := signing.VerifySimpleSigning(tc.payload, tc.sig, digest, ring)
			if got.Status != tc.want || got.Class != tc.wantClass || got.Kind != signing.KindSimpleSigning {
				t.Fatalf("got %s/%s (%s), want %s/%s", got.Status, got.Class, got.Reason, tc.want, tc.wantClass)
			}
		})
	}
}

func sha256Sum(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}
