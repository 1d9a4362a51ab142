// Package signing implements the manifest signatures and the verdict shown
// by the UI and the command line: the v1 HMAC-SHA256 tag over the exact
// manifest bytes (spec §7, this file), cosign-compatible keys and their
// store (keys.go, keystore.go), Sigstore bundles (bundle.go,
// verify_bundle.go), and the verdict on an image with the policy levels
// (verdict.go).
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"pf-registry/internal/termtext"
	"pf-registry/model"
)

// Algorithm is the only algorithm v1 knows.
const Algorithm = "hmac-sha256"

// DefaultKey is public: a default-key signature detects accidents, not forgery.
const DefaultKeyUTF8 = "processfork-default-self-sign-key.v1"

// Key is a signing key and where it came from. The bytes never leave this
// package in any rendering (String and JSON show the source only).
type Key struct {
	bytes   []byte
	Default bool
	// Source names where the key came from, e.g. "PF_FILE_REG_SIGN_KEY".
	Source string
	// Env is the variable that would override the key for its backend.
	Env string
}

// NewKey wraps raw key bytes.
func NewKey(b []byte, source string) Key {
	return Key{bytes: append([]byte(nil), b...), Source: source}
}

// Default returns the public default key.
func Default() Key {
	return Key{bytes: []byte(DefaultKeyUTF8), Default: true, Source: "default key"}
}

// EnvVar is the variable that overrides the key for a backend scheme.
func EnvVar(scheme string) string {
	return "PF_" + strings.ToUpper(strings.ReplaceAll(scheme, "-", "_")) + "_REG_SIGN_KEY"
}

// ForBackend reads PF_<SCHEME>_REG_SIGN_KEY. Set but empty is an empty key;
// a value that is not valid UTF-8 counts as unset (spec §7.3).
func ForBackend(scheme string) Key {
	name := EnvVar(scheme)
	v, ok := os.LookupEnv(name)
	if !ok || !utf8.ValidString(v) {
		k := Default()
		k.Env = name
		return k
	}
	k := NewKey([]byte(v), name)
	k.Env = name
	return k
}

// String never shows the key bytes.
func (k Key) String() string { return k.Source }

// GoString never shows the key bytes.
func (k Key) GoString() string { return "signing.Key(" + k.Source + ")" }

// MarshalJSON never shows the key bytes.
func (k Key) MarshalJSON() ([]byte, error) { return json.Marshal(k.Source) }

// Signature is the wire object of manifest.json.sig.
type Signature struct {
	Algorithm      string `json:"algorithm"`
	ManifestDigest string `json:"manifest_digest"`
	Signature      string `json:"signature"`
	Bundle         string `json:"bundle,omitempty"`
}

// Sign computes the signature object for manifest bytes.
func Sign(manifest []byte, k Key) Signature {
	sum := sha256.Sum256(manifest)
	mac := hmac.New(sha256.New, k.bytes)
	mac.Write(manifest)
	return Signature{
		Algorithm:      Algorithm,
		ManifestDigest: hex.EncodeToString(sum[:]),
		Signature:      hex.EncodeToString(mac.Sum(nil)),
	}
}

// Encode renders the compact wire form (struct order, no newline). All
// values are lowercase hex or fixed ASCII, so no escaping is needed except
// for a bundle, which goes through the canonical string writer.
func (s Signature) Encode() []byte {
	b := []byte(`{"algorithm":`)
	b = model.AppendJSONString(b, s.Algorithm)
	b = append(b, `,"manifest_digest":`...)
	b = model.AppendJSONString(b, s.ManifestDigest)
	b = append(b, `,"signature":`...)
	b = model.AppendJSONString(b, s.Signature)
	if s.Bundle != "" {
		b = append(b, `,"bundle":`...)
		b = model.AppendJSONString(b, s.Bundle)
	}
	return append(b, '}')
}

// SignBytes is Sign followed by Encode.
func SignBytes(manifest []byte, k Key) []byte { return Sign(manifest, k).Encode() }

// Status is the verdict class shown everywhere.
type Status string

// Verdict statuses.
const (
	// Valid: signed with a configured (non-default) key.
	Valid Status = "valid"
	// DefaultKey: valid, but under the public default key, so anyone could
	// have made it. Shown as a warning, never as plain success.
	DefaultKey Status = "default-key"
	// Invalid: present but does not verify.
	Invalid Status = "invalid"
	// Missing: no signature at all.
	Missing Status = "missing"
)

// Reason classes of an invalid signature (the labels of the test vectors).
const (
	ReasonParse          = "parse_error"
	ReasonAlgorithm      = "unsupported_algorithm"
	ReasonManifestDigest = "manifest_digest_mismatch"
	ReasonHMAC           = "hmac_mismatch"
)

// Verdict is the outcome of verifying one signature.
type Verdict struct {
	Status Status `json:"status"`
	// Class is one of the Reason* constants for Invalid.
	Class string `json:"class,omitempty"`
	// Reason is a human sentence.
	Reason string `json:"reason,omitempty"`
	// KeySource names the key used ("default key" or the env variable).
	KeySource string `json:"key"`
}

// OK reports whether the signature verifies (valid or default-key).
func (v Verdict) OK() bool { return v.Status == Valid || v.Status == DefaultKey }

// Verify checks sig against manifest with key k, in Rust's order (spec
// §7.4). sig == nil means the signature file is missing.
func Verify(manifest, sig []byte, k Key) Verdict {
	v := Verdict{KeySource: k.Source}
	if sig == nil {
		v.Status, v.Reason = Missing, "no signature next to the manifest"
		return v
	}
	var s struct {
		Algorithm      *string `json:"algorithm"`
		ManifestDigest *string `json:"manifest_digest"`
		Signature      *string `json:"signature"`
		Bundle         *string `json:"bundle"` // ignored, but Rust wants a string
	}
	if err := json.Unmarshal(sig, &s); err != nil || s.Algorithm == nil || s.ManifestDigest == nil || s.Signature == nil ||
		model.CheckTyped(sig, "algorithm", "manifest_digest", "signature", "bundle") != nil {
		v.Status, v.Class = Invalid, ReasonParse
		v.Reason = "signature is not a JSON object with algorithm, manifest_digest and signature"
		return v
	}
	if *s.Algorithm != Algorithm {
		v.Status, v.Class = Invalid, ReasonAlgorithm
		v.Reason = fmt.Sprintf("unsupported signature algorithm %q (only %s)", termtext.Cut(*s.Algorithm, 40), Algorithm)
		return v
	}
	want := Sign(manifest, k)
	if *s.ManifestDigest != want.ManifestDigest {
		v.Status, v.Class = Invalid, ReasonManifestDigest
		v.Reason = "manifest bytes do not match the signed digest (manifest changed after signing)"
		return v
	}
	if !equalLowerHex(*s.Signature, want.Signature) {
		v.Status, v.Class = Invalid, ReasonHMAC
		v.Reason = "HMAC tag does not validate with " + k.Source
		if !k.Default && equalLowerHex(*s.Signature, Sign(manifest, Default()).Signature) {
			v.Reason += " (the image is signed with the public default key)"
		}
		return v
	}
	v.Status = Valid
	if k.Default {
		v.Status = DefaultKey
		env := k.Env
		if env == "" {
			env = "PF_<BACKEND>_REG_SIGN_KEY"
		}
		v.Reason = "signed with the public default key: anyone can forge it; set " + env + " to sign and verify with your own"
	}
	return v
}

// equalLowerHex compares in constant time, but only accepts exactly 64
// lowercase hex digits on the received side, as Rust's string equality does.
func equalLowerHex(got, want string) bool {
	if len(got) != 64 {
		return false
	}
	for i := 0; i < len(got); i++ {
		c := got[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	g, err1 := hex.DecodeString(got)
	w, err2 := hex.DecodeString(want)
	return err1 == nil && err2 == nil && hmac.Equal(g, w)
}
