package signing_test

import (
	"strings"
	"testing"

	"pf-registry/signing"
)

// TestSignatureParsedLikeRust: a signature object that Rust's typed parse
// refuses (duplicate field, a field name in another letter case, invalid
// UTF-8, a lone surrogate) is a parse error here too, even when the value
// Go would keep verifies.
func TestSignatureParsedLikeRust(t *testing.T) {
	manifest := []byte(`{"schema_version":1}`)
	good := string(signing.SignBytes(manifest, signing.Default()))
	sig := signing.Sign(manifest, signing.Default())
	cases := map[string]string{
		"duplicate signature": strings.Replace(good, `"signature":`, `"signature":"`+strings.Repeat("0", 64)+`","signature":`, 1),
		"duplicate algorithm": strings.Replace(good, `{"algorithm":"hmac-sha256"`, `{"algorithm":"none","algorithm":"hmac-sha256"`, 1),
		"case variant":        `{"Algorithm":"hmac-sha256","manifest_digest":"` + sig.ManifestDigest + `","signature":"` + sig.Signature + `"}`,
		"invalid utf-8":       strings.Replace(good, `}`, ",\"bundle\":\"\xff\"}", 1),
		"lone surrogate":      strings.Replace(good, `}`, `,"bundle":"\udead"}`, 1),
	}
	for name, doc := range cases {
		v := signing.Verify(manifest, []byte(doc), signing.Default())
		if v.Status != signing.Invalid || v.Class != signing.ReasonParse {
			t.Errorf("%s: verdict %s/%s (%s), want invalid/%s", name, v.Status, v.Class, v.Reason, signing.ReasonParse)
		}
	}
	if v := signing.Verify(manifest, []byte(good), signing.Default()); !v.OK() {
		t.Fatalf("good signature: %+v", v)
	}
}
