package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/regclient/regclient/types/manifest"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/oci/ocitest"
	"pf-registry/registry/registrytest"
	"pf-registry/signing"
)

// The registries the tests push to, started once for the package on first
// use: distribution v3 in-process (whose catalog pages hold 2 repositories,
// so that listings follow its pages), Debian's docker-registry 2.8, and the
// same with relative Location headers on uploads (spec §9.5: prefixed with
// the base).
var servers = struct {
	mu      sync.Mutex
	running map[string]*ocitest.Server
}{running: map[string]*ocitest.Server{}}

const (
	distributionV3  = "distribution-v3"
	dockerRegistry  = "docker-registry-2.8"
	relativeUploads = "docker-registry-2.8-relative-urls"
)

// catalogPage is distribution v3's _catalog page size in these tests.
const catalogPage = 2

func server(t testing.TB, name string) *ocitest.Server {
	t.Helper()
	servers.mu.Lock()
	defer servers.mu.Unlock()
	if s, ok := servers.running[name]; ok {
		return s
	}
	var s *ocitest.Server
	var err error
	switch name {
	case distributionV3:
		s = ocitest.StartDistribution(catalogPage)
	case dockerRegistry:
		s, err = ocitest.StartDebian("")
	case relativeUploads:
		s, err = ocitest.StartDebian(", relativeurls: true")
	}
	if err != nil {
		t.Fatal(err)
	}
	servers.running[name] = s
	return s
}

func TestMain(m *testing.M) {
	registrytest.CrashChild()
	// The vectors are signed with the default key, and the registries
	// take no credentials.
	for _, v := range []string{signing.EnvVar("oci"), signing.EnvVar("file"), EnvUser, EnvPass, EnvBearer, EnvRegistry} {
		os.Unsetenv(v)
	}
	code := m.Run()
	for _, s := range servers.running {
		s.Stop()
	}
	os.Exit(code)
}

// open returns the engine for a reference.
func open(t testing.TB, ref string) (registry.Registry, registry.Ref) {
	return registrytest.Open(t, ref, registry.Config{})
}

// harness: images in a registry (host set) or in OCI layouts, read and
// changed the way another publisher would, through regclient: new blobs
// and a rewritten manifest.
type harness struct {
	host string // "" for layouts
}

func (h *harness) Open(_ testing.TB, cfg registry.Config) registry.Registry {
	if h.host == "" {
		return registry.New(NewLayout(cfg), cfg)
	}
	return registry.New(New(cfg), cfg)
}

func (h *harness) NewRef(t testing.TB) registry.Ref {
	if h.host == "" {
		return registrytest.MustRef(t, "oci-layout:"+filepath.Join(t.TempDir(), "layout")+"#v1")
	}
	return registrytest.MustRef(t, fmt.Sprintf("oci://%s/conformance/img%d:v1", h.host, seq.Add(1)))
}

func (h *harness) Namespace(t testing.TB) registrytest.Namespace {
	if h.host == "" {
		root := "oci-layout:" + filepath.Join(t.TempDir(), "layout")
		return registrytest.Namespace{
			Root:     registrytest.MustRoot(t, root),
			Repo:     func(string) registry.Ref { return registrytest.MustRoot(t, root) },
			Image:    func(_, tag string) registry.Ref { return registrytest.MustRef(t, root+"#"+tag) },
			MaxRepos: 1,
		}
	}
	root := fmt.Sprintf("oci://%s/ns%d", h.host, seq.Add(1))
	page := 0
	if h.host == server(t, distributionV3).Host {
		page = catalogPage
	}
	return registrytest.Namespace{
		Root:       registrytest.MustRoot(t, root),
		Repo:       func(repo string) registry.Ref { return registrytest.MustRef(t, root+"/"+repo) },
		Image:      func(repo, tag string) registry.Ref { return registrytest.MustRef(t, root+"/"+repo+":"+tag) },
		ServerPage: page,
	}
}

// image is an OCI image as the harness rewrites it.
type image struct {
	l      location
	config Descriptor
	sig    *Descriptor
	layers []Layer
}

func (h *harness) image(t testing.TB, ref registry.Ref) (*image, bool) {
	t.Helper()
	b := New(registry.Config{})
	if h.host == "" {
		b = NewLayout(registry.Config{})
	}
	l, err := b.locate(ref)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := getManifest(context.Background(), l)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	img, err := ParseImage(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &image{l: l, config: img.Config, sig: img.Signature, layers: img.Layers}, true
}

func (im *image) get(t testing.TB, d Descriptor) []byte {
	t.Helper()
	br, err := im.l.rc.BlobGet(context.Background(), im.l.ref, toRC(d))
	return registrytest.ReadAll(t, br, err)
}

func (im *image) put(t testing.TB, mediaType string, b []byte) Descriptor {
	t.Helper()
	d := Descriptor{MediaType: mediaType, Size: int64(len(b)), Digest: string(model.FromBytes(b))}
	if _, err := im.l.rc.BlobPut(context.Background(), im.l.ref, toRC(d), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return d
}

func (im *image) layer(d model.Digest) int {
	for i, l := range im.layers {
		if l.Logical == d {
			return i
		}
	}
	return -1
}

// commit writes the manifest of the (changed) image to the tag.
func (im *image) commit(t testing.TB) {
	t.Helper()
	m := Manifest{SchemaVersion: 2, MediaType: MediaTypeManifest, Config: im.config}
	if im.sig != nil {
		sig := *im.sig
		sig.Annotations = map[string]string{AnnotationPath: SignaturePath}
		m.Layers = append(m.Layers, sig)
	}
	for _, l := range im.layers {
		d := l.Stored
		d.Annotations = map[string]string{AnnotationPath: l.Logical.ShardPath()}
		m.Layers = append(m.Layers, d)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	om, err := manifest.New(manifest.WithRaw(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := im.l.rc.ManifestPut(context.Background(), im.l.ref, om); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) Read(t testing.TB, ref registry.Ref, o registrytest.Object) ([]byte, bool) {
	im, ok := h.image(t, ref)
	switch {
	case !ok:
		return nil, false
	case o.Kind == registrytest.Manifest:
		return im.get(t, im.config), true
	case o.Kind == registrytest.Signature:
		if im.sig == nil {
			return nil, false
		}
		return im.get(t, *im.sig), true
	}
	i := im.layer(o.Digest)
	if i < 0 {
		return nil, false
	}
	return im.get(t, im.layers[i].Stored), true
}

func (h *harness) mustImage(t testing.TB, ref registry.Ref) *image {
	t.Helper()
	im, ok := h.image(t, ref)
	if !ok {
		t.Fatalf("no image at %s", ref.Raw)
	}
	return im
}

func (h *harness) Write(t testing.TB, ref registry.Ref, o registrytest.Object, b []byte) {
	im := h.mustImage(t, ref)
	switch o.Kind {
	case registrytest.Manifest:
		im.config = im.put(t, MediaTypeConfig, b)
	case registrytest.Signature:
		d := im.put(t, MediaTypeSignature, b)
		im.sig = &d
	case registrytest.Blob:
		im.layers[im.layer(o.Digest)].Stored = im.put(t, MediaTypeLayer, b)
	}
	im.commit(t)
}

func (h *harness) Remove(t testing.TB, ref registry.Ref, o registrytest.Object) {
	im := h.mustImage(t, ref)
	switch o.Kind {
	case registrytest.Signature:
		im.sig = nil
	case registrytest.Blob:
		i := im.layer(o.Digest)
		im.layers = append(im.layers[:i], im.layers[i+1:]...)
	default:
		t.Fatalf("the harness cannot remove the %s", o)
	}
	im.commit(t)
}

// TestConformance runs the suite against each registry and a layout, in
// parallel (TestMain unset the signing keys).
func TestConformance(t *testing.T) {
	for _, name := range []string{distributionV3, dockerRegistry} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			registrytest.Run(t, network{&harness{host: server(t, name).Host}})
		})
	}
	t.Run(relativeUploads, func(t *testing.T) {
		t.Parallel()
		registrytest.RunTransfers(t, &harness{host: server(t, relativeUploads).Host})
	})
	t.Run("layout", func(t *testing.T) {
		t.Parallel()
		registrytest.Run(t, &harness{})
	})
}
