package signing

// Sigstore bundles. The bundle types and their JSON mapping come from
// sigstore/protobuf-specs (what cosign itself marshals with protojson);
// verification is the public-key path of the Sigstore verifier (digest check,
// then ECDSA/Ed25519 over the message or the DSSE PAE) on the standard
// library. sigstore-go's verifier would add ~300 packages and ~19 MB to the
// binary for transparency-log, certificate and TUF code that offline
// key-based verification never uses.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"pf-registry/internal/termtext"
)

// BundleMediaType is the media type of the bundles written here (and of
// cosign v3's).
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// readableBundleTypes are the bundle versions accepted on read.
var readableBundleTypes = map[string]bool{
	BundleMediaType: true,
	"application/vnd.dev.sigstore.bundle+json;version=0.1": true,
	"application/vnd.dev.sigstore.bundle+json;version=0.2": true,
	"application/vnd.dev.sigstore.bundle.v0.2+json":        true,
}

// MaxBundleSize caps a bundle read from a registry. A key-based bundle is
// under 1 KiB; one with a certificate chain and log entries a few KiB.
const MaxBundleSize = 1 << 20

// The in-toto statement cosign sign puts in a DSSE envelope for an image.
const (
	InTotoPayloadType   = "application/vnd.in-toto+json"
	CosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"
	inTotoStatementV1   = "https://in-toto.io/Statement/v1"
	inTotoStatementV01  = "https://in-toto.io/Statement/v0.1"
)

// Reason classes of a bundle that does not verify (beside ReasonParse and
// ReasonManifestDigest, shared with the HMAC signature).
const (
	ReasonSignature    = "bad_signature"
	ReasonUnknownKey   = "unknown_key"
	ReasonUnsupported  = "unsupported"
	ReasonNotSignature = "not_a_signature"
)

// BundleFileName is where a signer's bundle lives beside manifest.json in
// the file, S3, HF and IPFS layouts.
func BundleFileName(fingerprint string) string {
	return "manifest.json." + fingerprint + ".sigstore.json"
}

// hintOf is cosign's public-key hint: base64 of SHA-256 of the PKIX DER.
func hintOf(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// SignBundle signs the exact subject bytes (manifest.json) as a message
// signature, the shape cosign sign-blob writes, with the key fingerprint as
// the public-key hint.
func SignBundle(subject []byte, k *PrivateKey) ([]byte, error) {
	sum := sha256.Sum256(subject)
	sig, err := k.sign(subject, sum[:])
	if err != nil {
		return nil, err
	}
	b := newBundle(k)
	b.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
		MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
		Signature:     sig,
	}}
	return marshalBundle(b)
}

// SignDigestBundle signs an artifact digest ("sha256:<hex>", for OCI the
// image manifest digest) as cosign sign does: a DSSE envelope around an
// in-toto statement whose subject is the digest and whose predicate type is
// cosign's signature predicate.
func SignDigestBundle(digest string, k *PrivateKey) ([]byte, error) {
	hexDigest, ok := strings.CutPrefix(digest, "sha256:")
	if _, err := hex.DecodeString(hexDigest); !ok || err != nil || len(hexDigest) != 64 {
		return nil, fmt.Errorf("cannot sign %q: not a sha256:<64 hex> digest", termtext.Cut(digest, 80))
	}
	payload, err := json.Marshal(statement{
		Type:          inTotoStatementV1,
		Subject:       []statementSubject{{Digest: map[string]string{"sha256": hexDigest}}},
		PredicateType: CosignSignPredicate,
		Predicate:     map[string]any{},
	})
	if err != nil {
		return nil, err
	}
	pae := dssePAE(InTotoPayloadType, payload)
	sum := sha256.Sum256(pae)
	sig, err := k.sign(pae, sum[:])
	if err != nil {
		return nil, err
	}
	b := newBundle(k)
	b.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
		Payload: payload, PayloadType: InTotoPayloadType,
		Signatures: []*protodsse.Signature{{Sig: sig}},
	}}
	return marshalBundle(b)
}

func newBundle(k *PrivateKey) *protobundle.Bundle {
	return &protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{
				PublicKey: &protocommon.PublicKeyIdentifier{Hint: k.pub.Fingerprint},
			},
		},
	}
}

// marshalBundle writes compact JSON. protojson deliberately varies its
// whitespace between runs; compacting makes the bytes depend on the content
// only.
func marshalBundle(b *protobundle.Bundle) ([]byte, error) {
	raw, err := protojson.Marshal(b)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// sign signs msg (ECDSA over its SHA-256 digest, Ed25519 over the message
// itself, as cosign does without a transparency log).
func (k *PrivateKey) sign(msg, digest []byte) ([]byte, error) {
	switch s := k.signer.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(s, msg), nil
	default:
		return k.signer.Sign(rand.Reader, digest, crypto.SHA256)
	}
}

// verifySig checks one signature with one key. Ed25519 accepts pure Ed25519
// and, when the bundle says SHA-512, Ed25519ph (what cosign uses when it
// uploads to a transparency log).
func (p *PublicKey) verifySig(msg, sig []byte, digestAlg protocommon.HashAlgorithm) bool {
	switch pub := p.key.(type) {
	case *ecdsa.PublicKey:
		sum := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(pub, sum[:], sig)
	case ed25519.PublicKey:
		if ed25519.Verify(pub, msg, sig) {
			return true
		}
		if digestAlg == protocommon.HashAlgorithm_SHA2_512 {
			sum := sha512.Sum512(msg)
			return ed25519.VerifyWithOptions(pub, sum[:], sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
		}
	}
	return false
}

// dssePAE is the DSSE v1 pre-authentication encoding that is signed.
func dssePAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

type statement struct {
	Type          string             `json:"_type"`
	Subject       []statementSubject `json:"subject"`
	PredicateType string             `json:"predicateType"`
	Predicate     map[string]any     `json:"predicate"`
}

type statementSubject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}
