package signing

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"pf-registry/internal/termtext"
)

// Keyring is the set of public keys a verification may name: every key the
// store knows, each trusted or not. Trust belongs to the fingerprint.
type Keyring struct {
	keys    []*PublicKey
	trusted map[string]bool
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring { return &Keyring{trusted: map[string]bool{}} }

// Add puts a key in the ring. The same key added twice stays one entry,
// trusted if either addition was, named by the first name given.
func (r *Keyring) Add(k *PublicKey, trusted bool) {
	if trusted {
		r.trusted[k.Fingerprint] = true
	}
	for i, have := range r.keys {
		if have.Equal(k) {
			if have.Name == "" && k.Name != "" {
				c := *have
				c.Name = k.Name
				r.keys[i] = &c
			}
			return
		}
	}
	r.keys = append(r.keys, k)
}

// Keys lists every key, in the order added.
func (r *Keyring) Keys() []*PublicKey { return append([]*PublicKey(nil), r.keys...) }

// Trusted reports whether the key with this fingerprint is trusted.
func (r *Keyring) Trusted(fingerprint string) bool { return r != nil && r.trusted[fingerprint] }

// TrustedKeys lists the trusted keys.
func (r *Keyring) TrustedKeys() []*PublicKey {
	var out []*PublicKey
	for _, k := range r.keys {
		if r.trusted[k.Fingerprint] {
			out = append(out, k)
		}
	}
	return out
}

// candidates orders the keys to try: those the (unauthenticated) hint names
// first, in our fingerprint form or cosign's base64 form, then the rest, as
// cosign ignores the hint when given a key.
func (r *Keyring) candidates(hint string) (ordered []*PublicKey, hinted bool) {
	if r == nil {
		return nil, false
	}
	var rest []*PublicKey
	for _, k := range r.keys {
		if hint != "" && (hint == k.Fingerprint || hint == k.cosignHint()) {
			ordered = append(ordered, k)
			hinted = true
		} else {
			rest = append(rest, k)
		}
	}
	return append(ordered, rest...), hinted
}

// VerifyBundle checks a Sigstore bundle against the exact subject bytes
// (manifest.json, or for OCI the image manifest) with the keys of ring. It
// accepts a message signature over the bytes (cosign sign-blob) and a DSSE
// in-toto statement naming their SHA-256 with cosign's signature predicate
// (cosign sign). The check names the key that signed, or why none did.
func VerifyBundle(bundle, subject []byte, ring *Keyring) Check {
	c := Check{Kind: KindBundle}
	b, fail := parseBundle(bundle)
	if fail != nil {
		return c.fail(*fail)
	}
	hint := b.GetVerificationMaterial().GetPublicKey().GetHint()
	c.Hint = sanitizeHint(hint)
	switch content := b.Content.(type) {
	case *protobundle.Bundle_MessageSignature:
		return c.judge(ring, hint, checkMessage(content.MessageSignature, subject))
	case *protobundle.Bundle_DsseEnvelope:
		return c.judge(ring, hint, checkDSSE(content.DsseEnvelope, subject))
	}
	return c.fail(failure{ReasonParse, "bundle has neither a message signature nor a DSSE envelope"})
}

type failure struct{ class, reason string }

// signed is what a bundle's content asks to verify: the signed bytes, the
// signatures over them, or a failure found before any key is tried.
type signed struct {
	msg       []byte
	sigs      [][]byte
	digestAlg protocommon.HashAlgorithm
	fail      *failure
}

func parseBundle(raw []byte) (*protobundle.Bundle, *failure) {
	if len(raw) > MaxBundleSize {
		return nil, &failure{ReasonParse, fmt.Sprintf("bundle is larger than %d bytes", MaxBundleSize)}
	}
	var b protobundle.Bundle
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &b); err != nil {
		return nil, &failure{ReasonParse, "not a Sigstore bundle: " + termtext.Cut(err.Error(), 120)}
	}
	if !readableBundleTypes[b.MediaType] {
		return nil, &failure{ReasonParse, fmt.Sprintf("unknown bundle media type %q (expected %s)", termtext.Cut(sanitizeHint(b.MediaType), 80), BundleMediaType)}
	}
	switch b.GetVerificationMaterial().GetContent().(type) {
	case *protobundle.VerificationMaterial_PublicKey:
		return &b, nil
	case *protobundle.VerificationMaterial_Certificate, *protobundle.VerificationMaterial_X509CertificateChain:
		return nil, &failure{ReasonUnsupported, "keyless signature (certificate): only key-based signatures are checked; verify it with cosign verify --certificate-identity"}
	}
	return nil, &failure{ReasonParse, "bundle has no verification material"}
}

// checkMessage compares the bundle's digest of the message with the subject
// before any signature is tried, so that a bundle for other bytes is named
// as such. cosign leaves the digest out for pure Ed25519 signatures; the
// signature over the full subject still decides then.
func checkMessage(m *protocommon.MessageSignature, subject []byte) signed {
	s := signed{msg: subject, sigs: [][]byte{m.GetSignature()}, digestAlg: m.GetMessageDigest().GetAlgorithm()}
	want := m.GetMessageDigest().GetDigest()
	var got []byte
	switch s.digestAlg {
	case protocommon.HashAlgorithm_SHA2_256:
		sum := sha256.Sum256(subject)
		got = sum[:]
	case protocommon.HashAlgorithm_SHA2_512:
		sum := sha512.Sum512(subject)
		got = sum[:]
	case protocommon.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED:
		if len(want) == 0 {
			return s
		}
		fallthrough
	default:
		s.fail = &failure{ReasonUnsupported, "unsupported message digest algorithm " + s.digestAlg.String()}
		return s
	}
	if !bytes.Equal(got, want) {
		s.fail = &failure{ReasonManifestDigest, "bundle was made for other bytes (another manifest, or this one changed after signing)"}
	}
	return s
}

// checkDSSE reads the in-toto statement: it must be cosign's signature
// predicate over the subject's SHA-256.
func checkDSSE(e *protodsse.Envelope, subject []byte) signed {
	s := signed{msg: dssePAE(e.GetPayloadType(), e.GetPayload())}
	for _, sig := range e.GetSignatures() {
		s.sigs = append(s.sigs, sig.GetSig())
	}
	if e.GetPayloadType() != InTotoPayloadType {
		s.fail = &failure{ReasonNotSignature, fmt.Sprintf("DSSE payload type %q is not an in-toto statement", termtext.Cut(sanitizeHint(e.GetPayloadType()), 60))}
		return s
	}
	var st statement
	if err := json.Unmarshal(e.GetPayload(), &st); err != nil || (st.Type != inTotoStatementV1 && st.Type != inTotoStatementV01) {
		s.fail = &failure{ReasonParse, "DSSE payload is not an in-toto statement"}
		return s
	}
	if st.PredicateType != CosignSignPredicate {
		s.fail = &failure{ReasonNotSignature, fmt.Sprintf("attestation of type %q, not a signature (%s)", termtext.Cut(sanitizeHint(st.PredicateType), 80), CosignSignPredicate)}
		return s
	}
	sum := sha256.Sum256(subject)
	want := hex.EncodeToString(sum[:])
	for _, sub := range st.Subject {
		if sub.Digest["sha256"] == want {
			return s
		}
	}
	s.fail = &failure{ReasonManifestDigest, "signed statement names another digest (a signature of another image, or this one changed after signing)"}
	return s
}

// judge tries the keys and names the outcome.
func (c Check) judge(ring *Keyring, hint string, s signed) Check {
	if s.fail != nil {
		return c.fail(*s.fail)
	}
	if len(s.sigs) == 0 {
		return c.fail(failure{ReasonParse, "bundle carries no signature"})
	}
	keys, hinted := ring.candidates(hint)
	for _, k := range keys {
		for _, sig := range s.sigs {
			if k.verifySig(s.msg, sig, s.digestAlg) {
				c.setSigner(k)
				c.Status = UntrustedKey
				c.Reason = "valid signature by " + k.Label() + ", a key you do not trust; trust it with `pf-registry keys trust FILE.pub`"
				if ring.Trusted(k.Fingerprint) {
					c.Status, c.Reason = Trusted, "signed by trusted key "+k.Label()
				}
				return c
			}
		}
	}
	if hinted {
		c.setSigner(keys[0])
		return c.fail(failure{ReasonSignature, "signature does not verify with key " + keys[0].Label() + " (the signature or the signed bytes were changed)"})
	}
	return c.fail(failure{ReasonUnknownKey, "signed by a key not in the key store (hint " + orNone(c.Hint) + "); to check it, get the signer's public key and run `pf-registry keys import FILE.pub`"})
}

func (c Check) fail(f failure) Check {
	c.Status, c.Class, c.Reason = Invalid, f.class, f.reason
	return c
}

func (c *Check) setSigner(k *PublicKey) {
	c.Key, c.KeyName, c.Fingerprint, c.Algorithm = k.Label(), k.Name, k.Fingerprint, k.Algorithm
}

// sanitizeHint keeps a registry-supplied string printable: base64, hex and
// media-type characters only, at most 64 of them.
func sanitizeHint(s string) string {
	out := make([]byte, 0, min(len(s), 64))
	for i := 0; i < len(s) && len(out) < 64; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || bytes.IndexByte([]byte("+/=_-.:;"), c) >= 0 {
			out = append(out, c)
		}
	}
	return string(out)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
