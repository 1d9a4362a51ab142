package signtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/signing"
)

// tampering changes what a file layout holds, as anyone with write access
// could, and checks each verdict: a bundle that fails never hides the
// others, and only a changed manifest makes the whole image invalid.
func (s *suite) tampering(t *testing.T) {
	f := s.h.Files
	ref := s.push(t, s.id1, s.keys.Alice)
	name := signing.BundleFileName(s.keys.Alice.Public().Fingerprint)
	good := f.Read(t, ref, name)
	manifest := f.Read(t, ref, "manifest.json")
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
		file   string
		data   []byte
		want   signing.Status // the bundle's verdict
		class  string
		status signing.Status // the image's
	}{
		{"signature byte", name, FlipSignature(t, good), signing.Invalid, signing.ReasonSignature, signing.DefaultKey},
		{"signature by an unknown key", name, sign(manifest, s.keys.Carol), signing.Invalid, signing.ReasonUnknownKey, signing.DefaultKey},
		{"signature by a known untrusted key", name, sign(manifest, s.keys.Bob), signing.UntrustedKey, "", signing.UntrustedKey},
		{"bundle of another image", name, sign(other, s.keys.Alice), signing.Invalid, signing.ReasonManifestDigest, signing.DefaultKey},
		{"not a bundle", name, []byte(`{"mediaType":"text/plain"}`), signing.Invalid, signing.ReasonParse, signing.DefaultKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.Write(t, ref, tc.file, tc.data)
			in := s.inspect(t, s.keys.Trusting, r)
			var b signing.Check
			for _, c := range in.Signature.Checks {
				if c.Kind == signing.KindBundle {
					b = c
				}
			}
			if b.Status != tc.want || b.Class != tc.class || in.Signature.Status() != tc.status {
				t.Fatalf("bundle %s/%s, image %s; want bundle %s/%s, image %s", b.Status, b.Class, in.Signature.Status(), tc.want, tc.class, tc.status)
			}
			_, err := s.open(t, s.keys.Trusting, signing.RequireTrusted).Pull(context.Background(), r, newStore(t), registry.TransferOptions{})
			if !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("pull under --require trusted: %v", err)
			}
			f.Write(t, r, tc.file, good)
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
		r := f.Write(t, ref, "manifest.json", changed)
		in := s.inspect(t, s.keys.Trusting, r)
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

// Opener returns a Harness.Open for a registered scheme.
func Opener(scheme string) func(testing.TB, registry.Config) registry.Registry {
	return func(t testing.TB, cfg registry.Config) registry.Registry {
		t.Helper()
		reg, err := registry.Open(scheme, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}
}
