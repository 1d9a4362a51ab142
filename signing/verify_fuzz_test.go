package signing_test

import (
	"encoding/json"
	"testing"

	"pf-registry/internal/vectors"
	"pf-registry/signing"
)

// FuzzVerify: any signature bytes give a verdict without panicking; a
// verdict that passes holds exactly the values Sign computes; and what
// Sign writes always verifies.
func FuzzVerify(f *testing.F) {
	fx := vectors.LoadFixture(f)
	f.Add([]byte(fx.ManifestJSON), []byte(fx.ManifestSigJSON))
	f.Add([]byte(fx.ManifestJSON), []byte(`{"algorithm":"hmac-sha256","manifest_digest":"x","signature":"y","bundle":null}`))
	f.Add([]byte("m"), []byte(`{"algorithm":"hmac-sha256","algorithm":"hmac-sha256"}`))
	f.Add([]byte(""), []byte("null"))
	f.Fuzz(func(t *testing.T, manifest, sig []byte) {
		key := signing.Default()
		v := signing.Verify(manifest, sig, key)
		switch v.Status {
		case signing.DefaultKey:
			var got map[string]any
			if err := json.Unmarshal(sig, &got); err != nil {
				t.Fatalf("passed a signature that is not JSON: %q", sig)
			}
			want := signing.Sign(manifest, key)
			if got["algorithm"] != want.Algorithm || got["manifest_digest"] != want.ManifestDigest || got["signature"] != want.Signature {
				t.Fatalf("passed %q for a manifest signed %+v", sig, want)
			}
		case signing.Invalid:
			if v.Class == "" || v.Reason == "" {
				t.Fatalf("invalid verdict without class or reason: %+v", v)
			}
		default:
			t.Fatalf("verdict %q for present signature bytes", v.Status)
		}
		if own := signing.Verify(manifest, signing.SignBytes(manifest, key), key); !own.OK() {
			t.Fatalf("own signature does not verify: %+v", own)
		}
	})
}
