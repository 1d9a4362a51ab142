package oci

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pf-registry/demo"
	"pf-registry/internal/cosigntest"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/signing"
	"pf-registry/store"
)

// The registries the signature tests run on: both lack the referrers API,
// so both exercise the sha256-<hex> fallback tag. (The conformance suite
// runs the signature round trips on every registry and on layouts.)
var signatureServers = []string{distributionV3, dockerRegistry}

func openOCI(cfg registry.Config) registry.Registry { return registry.New(New(cfg), cfg) }

// TestCosignImageSignatures: cosign verify accepts what a push with a key
// writes, and what cosign sign writes (bundle referrer, older .sig tag)
// verifies here; its tags are listed with the image they sign.
func TestCosignImageSignatures(t *testing.T) {
	for _, name := range signatureServers {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			host := server(t, name).Host
			c := cosigntest.New(t)
			c.MustRun("generate-key-pair")
			theirs, err := signing.ParsePublicKeyPEM(c.Read("cosign.pub"))
			if err != nil {
				t.Fatal(err)
			}
			ours, err := signing.GenerateKey(signing.Ed25519)
			if err != nil {
				t.Fatal(err)
			}
			c.Write("our.pub", ours.Public().PEM())
			theirs.Name = "cosign"
			ring := signing.NewKeyring()
			ring.Add(theirs, true)
			ring.Add(ours.Public(), false)
			reg := openOCI(registry.Config{Keys: ring})
			st, id := registrytest.FixtureStore(t)

			v1, v2 := host+"/pf/sig:v1", host+"/pf/sig:v2"
			for _, tag := range []string{v1, v2} {
				r, _ := registry.ParseRef("oci://" + tag)
				if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{SignWith: []*signing.PrivateKey{ours}}); err != nil {
					t.Fatal(err)
				}
			}
			// Ours in cosign, with our key only.
			c.MustRun("verify", "--key", "our.pub", "--insecure-ignore-tlog", v1)
			if out, err := c.Run("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", v1); err == nil {
				t.Fatalf("cosign verify with another key passed:\n%s", out)
			}

			// cosign's (new bundle format) here: trusted, ours still listed.
			c.MustRun(append(append([]string{"sign", "--key", "cosign.key"}, cosigntest.Offline...), v1)...)
			in := inspectRef(t, reg, "oci://"+v1)
			kinds := checksByKey(in)
			if in.Signature.Status() != signing.Trusted || kinds[theirs.Fingerprint] != signing.Trusted || kinds[ours.Public().Fingerprint] != signing.UntrustedKey {
				t.Fatalf("after cosign sign: %s %+v", in.Signature.Status(), in.Signature.Checks)
			}

			// cosign's signature follows the image to another repository: the
			// OCI manifest there is the same bytes.
			src, _ := registry.ParseRef("oci://" + v1)
			dst, _ := registry.ParseRef("oci://" + host + "/pf/copied:v1")
			if _, err := registry.Copy(ctx, reg, src, reg, dst, registry.TransferOptions{}); err != nil {
				t.Fatal(err)
			}
			c.MustRun("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", host+"/pf/copied:v1")
			if in := inspectRef(t, reg, dst.Raw); in.Signature.Status() != signing.Trusted || len(checksByKey(in)) != 2 {
				t.Fatalf("copied: %+v", in.Signature.Checks)
			}

			// The older format (a .sig tag) on a second image.
			other := pushOther(t, reg, st, host+"/pf/old:v1")
			c.MustRun(append(append([]string{"sign", "--key", "cosign.key", "--new-bundle-format=false"}, cosigntest.Offline...), other)...)
			in = inspectRef(t, reg, "oci://"+other)
			best := in.Signature.Strongest()
			if best.Status != signing.Trusted || best.Kind != signing.KindSimpleSigning {
				t.Fatalf("after cosign sign --new-bundle-format=false: %+v", in.Signature.Checks)
			}

			// Signature tags belong to the image they sign.
			repo, _ := registry.ParseRef("oci://" + host + "/pf/sig")
			tags, err := reg.Tags(ctx, repo, registry.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := "sha256-" + model.FromBytes(rawManifest(t, "oci://"+v1)).Hex()
			if len(tags.Tags) != 2 || tags.Tags[0].Name != "v1" || !slices.Equal(tags.Tags[0].SignatureTags, []string{want}) || tags.Tags[0].Foreign {
				t.Fatalf("tags: %+v", tags.Tags)
			}
			repo, _ = registry.ParseRef("oci://" + host + "/pf/old")
			if tags, err = reg.Tags(ctx, repo, registry.ListOptions{}); err != nil || len(tags.Tags) != 1 ||
				!slices.ContainsFunc(tags.Tags[0].SignatureTags, func(s string) bool { return strings.HasSuffix(s, ".sig") }) {
				t.Fatalf("tags with a .sig tag: %+v %v", tags, err)
			}
		})
	}
}

// pushOther pushes another image (so another OCI digest) and returns
// host/repo:tag.
func pushOther(t testing.TB, reg registry.Registry, st *store.Store, ref string) string {
	t.Helper()
	id, err := demo.Build(st, demo.ImageSpec{Seed: 77, Files: 2, Pages: 1, Messages: 3})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := registry.ParseRef("oci://" + ref)
	if _, err := reg.Push(context.Background(), st, id, r, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	return ref
}

func inspectRef(t testing.TB, reg registry.Registry, ref string) *registry.Inspection {
	t.Helper()
	r, err := registry.ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	in, err := reg.Inspect(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func checksByKey(in *registry.Inspection) map[string]signing.Status {
	out := map[string]signing.Status{}
	for _, c := range in.Signature.Checks {
		if c.Fingerprint != "" {
			out[c.Fingerprint] = c.Status
		}
	}
	return out
}

// TestOCISignatureTampering: referrers attached by someone else, judged
// here and by cosign.
func TestOCISignatureTampering(t *testing.T) {
	ctx := context.Background()
	host := server(t, distributionV3).Host
	keys := registrytest.NewKeys(t)
	c := cosigntest.New(t)
	c.Write("alice.pub", keys.Alice.Public().PEM())
	st, id := registrytest.FixtureStore(t)
	reg := openOCI(registry.Config{Keys: keys.Trusting})
	otherRaw := rawManifest(t, "oci://"+pushOther(t, reg, st, host+"/pf/other:v1"))

	sign := func(digest string, k *signing.PrivateKey) []byte {
		b, err := signing.SignDigestBundle(digest, k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name   string
		bundle func(digest string) []byte
		want   signing.Status
		class  string
	}{
		{"untouched", func(d string) []byte { return sign(d, keys.Alice) }, signing.Trusted, ""},
		{"signature byte", func(d string) []byte { return registrytest.FlipSignature(t, sign(d, keys.Alice)) }, signing.Invalid, signing.ReasonSignature},
		{"unknown key", func(d string) []byte { return sign(d, keys.Carol) }, signing.Invalid, signing.ReasonUnknownKey},
		{"known untrusted key", func(d string) []byte { return sign(d, keys.Bob) }, signing.UntrustedKey, ""},
		{"bundle of another image", func(string) []byte { return sign(string(model.FromBytes(otherRaw)), keys.Alice) }, signing.Invalid, signing.ReasonManifestDigest},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := fmt.Sprintf("oci://%s/pf/t%d:v1", host, i)
			r, _ := registry.ParseRef(ref)
			if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
				t.Fatal(err)
			}
			raw := rawManifest(t, ref)
			l, err := New(registry.Config{}).locate(r)
			if err != nil {
				t.Fatal(err)
			}
			sk, err := newSink(ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			if err := sk.attach(ctx, raw, tc.bundle(string(model.FromBytes(raw))), "test"); err != nil {
				t.Fatal(err)
			}
			in := inspectRef(t, reg, ref)
			var b signing.Check
			for _, c := range in.Signature.Checks {
				if c.Kind == signing.KindBundle {
					b = c
				}
			}
			if b.Status != tc.want || b.Class != tc.class {
				t.Fatalf("bundle %s/%s (%s), want %s/%s", b.Status, b.Class, b.Reason, tc.want, tc.class)
			}
			_, err = c.Run("verify", "--key", "alice.pub", "--insecure-ignore-tlog", strings.TrimPrefix(ref, "oci://"))
			if ok := err == nil; ok != (tc.want == signing.Trusted) {
				t.Fatalf("cosign verify with alice.pub: ok=%v", ok)
			}
		})
	}
}
