package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/regclient/regclient/types/manifest"

	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/oci/ocitest"
	"pf-registry/registry/registrytest"
)

// fixtureParts are the fixture's artefacts as §9.5 lays them out.
type fixtureParts struct {
	config, sig []byte
	layers      []Layer
	stored      map[model.Digest][]byte
}

func loadFixtureParts(t testing.TB) fixtureParts {
	t.Helper()
	p := fixtureParts{stored: map[model.Digest][]byte{}}
	var err error
	if p.config, err = os.ReadFile(filepath.Join(vectors.FixtureDir(), "manifest.json")); err != nil {
		t.Fatal(err)
	}
	if p.sig, err = os.ReadFile(filepath.Join(vectors.FixtureDir(), "manifest.json.sig")); err != nil {
		t.Fatal(err)
	}
	for _, w := range vectors.LoadFixture(t).WalkOrder {
		b, err := os.ReadFile(filepath.Join(vectors.FixtureDir(), w.Path))
		if err != nil {
			t.Fatal(err)
		}
		d := model.Digest(w.Digest)
		p.stored[d] = b
		p.layers = append(p.layers, Layer{Logical: d, Stored: Descriptor{
			MediaType: MediaTypeLayer, Size: int64(len(b)), Digest: string(model.FromBytes(b))}})
	}
	return p
}

// pushRaw writes blobs and an OCI manifest exactly as given, bypassing the
// sink: the way a broken or hostile publisher would.
func pushRaw(t testing.TB, ref string, blobs [][]byte, raw []byte) {
	t.Helper()
	r, err := registry.ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(registry.Config{}).locate(r)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, b := range blobs {
		d := Descriptor{Size: int64(len(b)), Digest: string(model.FromBytes(b))}
		if _, err := l.rc.BlobPut(ctx, l.ref, toRC(d), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.New(manifest.WithRaw(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.rc.ManifestPut(ctx, l.ref, m); err != nil {
		t.Fatal(err)
	}
}

func desc(mediaType string, b []byte) Descriptor {
	return Descriptor{MediaType: mediaType, Size: int64(len(b)), Digest: string(model.FromBytes(b))}
}

// checkRefused asserts a pull failed with an integrity error on one line and
// left the store without the image or any blob.
func checkRefused(t *testing.T, ref string, class error) {
	t.Helper()
	reg, r := open(t, ref)
	dst := registrytest.NewStore(t)
	_, err := reg.Pull(context.Background(), r, dst, registry.TransferOptions{})
	if err == nil {
		t.Fatal("pull succeeded")
	}
	if !errors.Is(err, class) {
		t.Fatalf("want %v, got: %v", class, err)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("error is not one line: %q", err)
	}
	registrytest.CheckStoreClean(t, dst)
	if dst.HasBlob(model.Digest(vectors.LoadFixture(t).WalkOrder[0].Digest)) {
		t.Fatal("the tampered blob model.base entered the store")
	}
}

// TestTamperedImages: OCI manifests that lie about a layer's size, carry
// no signature layer or name a layer by a path outside the layout are all
// integrity failures, and nothing enters the store. (Changed config,
// signature and layer bytes are cases of the conformance suite.)
func TestTamperedImages(t *testing.T) {
	host := server(t, distributionV3).Host
	p := loadFixtureParts(t)
	all := [][]byte{p.config, p.sig}
	for _, l := range p.layers {
		all = append(all, p.stored[l.Logical])
	}
	good := BuildManifest(desc(MediaTypeConfig, p.config), desc(MediaTypeSignature, p.sig), p.layers)
	wrongSize := append([]Layer(nil), p.layers...)
	wrongSize[0].Stored.Size++
	firstPath := p.layers[0].Logical.ShardPath()

	cases := []struct {
		name  string
		blobs [][]byte
		raw   []byte
	}{
		{"layer-size", all, BuildManifest(desc(MediaTypeConfig, p.config), desc(MediaTypeSignature, p.sig), wrongSize)},
		{"no-signature", all, bytes.Replace(good, []byte(MediaTypeSignature), []byte("application/vnd.example.other"), 1)},
		{"traversal", all, bytes.Replace(good, []byte(firstPath), []byte("blobs/sha256/../../../../etc/x.zst"), 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := "oci://" + host + "/tamper/" + c.name + ":v1"
			pushRaw(t, ref, c.blobs, c.raw)
			checkRefused(t, ref, fault.ErrIntegrity)
			// Deep verify says the same.
			reg, r := open(t, ref)
			if _, err := reg.Verify(context.Background(), r, registry.VerifyOptions{Deep: true}); !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("deep verify: %v", err)
			}
			// A copy to another registry and to a layout refuses it and
			// leaves no tag behind.
			for _, to := range []string{"oci://" + host + "/copied/" + c.name + ":v1", "oci-layout:" + t.TempDir() + "/l#v1"} {
				dreg, dr := open(t, to)
				if _, err := registry.Copy(context.Background(), reg, r, dreg, dr, registry.TransferOptions{}); !errors.Is(err, fault.ErrIntegrity) {
					t.Fatalf("copy to %s: %v", to, err)
				}
				if ok, err := dreg.Exists(context.Background(), dr); ok || err != nil {
					t.Fatalf("copy to %s left a tag (err %v)", to, err)
				}
			}
		})
	}
}

// TestTamperedStorage corrupts blobs inside a real registry's storage (the
// registry serves them unchecked): the pull must catch it.
func TestTamperedStorage(t *testing.T) {
	p := loadFixtureParts(t)
	srv := ocitest.Debian(t, "") // its own: the corrupted blobs are shared by every repository
	for _, target := range []struct {
		name string
		data []byte
	}{{"config", p.config}, {"signature", p.sig}, {"layer", p.stored[p.layers[0].Logical]}} {
		t.Run(target.name, func(t *testing.T) {
			st, id := registrytest.FixtureStore(t)
			ref := "oci://" + srv.Host + "/tamper/" + target.name + ":v1"
			reg, r := open(t, ref)
			if _, err := reg.Push(context.Background(), st, id, r, registry.TransferOptions{}); err != nil {
				t.Fatal(err)
			}
			h := model.FromBytes(target.data).Hex()
			f := filepath.Join(srv.Data, "docker/registry/v2/blobs/sha256", h[:2], h, "data")
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(b)
			bad[len(bad)-1] ^= 0x01 // same size, different bytes
			if err := os.WriteFile(f, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(f, b, 0o644)
			checkRefused(t, ref, fault.ErrIntegrity)
		})
	}
}

// TestHTTPFailures: 401, 404 and 500 give one-line errors of the right
// class, never show credentials, and leave the store untouched.
func TestHTTPFailures(t *testing.T) {
	const secret = "s3cr3t-password-value"
	t.Setenv(EnvUser, "alice")
	t.Setenv(EnvPass, secret)
	cases := []struct {
		status int
		class  error
	}{
		{http.StatusUnauthorized, fault.ErrAuth},
		{499, fault.ErrAuth}, // stands for a 401 without WWW-Authenticate
		{http.StatusForbidden, fault.ErrAuth},
		{http.StatusNotFound, fault.ErrNotFound},
		{http.StatusInternalServerError, nil},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			var mu sync.Mutex
			var requests int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests++
				mu.Unlock()
				status := c.status
				switch status {
				case http.StatusUnauthorized:
					w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				case 499:
					status = http.StatusUnauthorized
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte("{\"errors\":[{\"code\":\"X\",\"message\":\"line one\\nline two\"}]}\n"))
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			t.Setenv(EnvRegistry, host) // the secret is offered to this server
			ref := "oci://" + host + "/some/repo:v1"
			reg, r := open(t, ref)
			dst := registrytest.NewStore(t)
			before := listFiles(t, dst.Root())

			_, err := reg.Pull(context.Background(), r, dst, registry.TransferOptions{})
			checkHTTPErr(t, "pull", err, c.class, secret)
			if after := listFiles(t, dst.Root()); after != before {
				t.Fatalf("store changed:\n%s\n---\n%s", before, after)
			}

			st, id := registrytest.FixtureStore(t)
			_, err = reg.Push(context.Background(), st, id, r, registry.TransferOptions{})
			pushClass := c.class
			if c.status == http.StatusNotFound {
				// An upload refused with 404 is not a missing blob.
				pushClass = nil
				if errors.Is(err, fault.ErrNotFound) {
					t.Fatalf("push: 404 on upload reported as not found: %v", err)
				}
			}
			checkHTTPErr(t, "push", err, pushClass, secret)

			_, err = reg.Tags(context.Background(), r, registry.ListOptions{})
			checkHTTPErr(t, "tags", err, c.class, secret)
			if requests == 0 {
				t.Fatal("the server saw no request")
			}
		})
	}
}

func checkHTTPErr(t *testing.T, op string, err, class error, secret string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded", op)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("%s: error is not one line: %q", op, msg)
	}
	if strings.Contains(msg, secret) || strings.Contains(fault.Hint(err), secret) {
		t.Fatalf("%s: error shows the password: %q", op, msg)
	}
	if errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("%s: an HTTP failure is not an integrity error: %v", op, err)
	}
	if class != nil && !errors.Is(err, class) {
		t.Fatalf("%s: want %v, got %v", op, class, err)
	}
	if fault.Hint(err) == "" {
		t.Fatalf("%s: no hint on %q", op, msg)
	}
}

// listFiles renders every path under dir, for before/after comparisons.
func listFiles(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
