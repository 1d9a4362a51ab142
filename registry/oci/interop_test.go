package oci

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"pf-registry/internal/testenv"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// peer runs a peer client and returns its stdout.
func peer(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testenv.MustTool(t, name), args...)
	// regctl keeps its config in a file; keep it out of the home directory.
	cmd.Env = append(os.Environ(), "REGCTL_CONFIG="+filepath.Join(t.TempDir(), "regctl.json"))
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, errb.String())
	}
	return out.Bytes()
}

// TestPeersReadOurPush: skopeo and regctl see exactly the §9.5 manifest
// (media types, descriptor order, annotations) after our push.
func TestPeersReadOurPush(t *testing.T) {
	fx := vectors.LoadFixture(t)
	host := server(t, distributionV3).Host
	st, id := registrytest.FixtureStore(t)
	reg, r := open(t, "oci://"+host+"/pf/interop:v1")
	if _, err := reg.Push(context.Background(), st, id, r, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	image := host + "/pf/interop:v1"
	regHost := "reg=" + host + ",tls=disabled"

	if got := peer(t, nil, "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+image); string(bytes.TrimSpace(got)) != fx.OCIManifest {
		t.Fatalf("skopeo inspect --raw:\n%s", got)
	}
	if got := peer(t, nil, "regctl", "--host", regHost, "manifest", "get", "--format", "raw-body", image); string(bytes.TrimSpace(got)) != fx.OCIManifest {
		t.Fatalf("regctl manifest get:\n%s", got)
	}
	config := peer(t, nil, "regctl", "--host", regHost, "blob", "get", host+"/pf/interop", fx.ImageCID)
	if model.FromBytes(config) != model.Digest(fx.ImageCID) {
		t.Fatalf("regctl blob get of the config returned other bytes")
	}

	// skopeo copies our push into an OCI layout; we read it back from there.
	dir := filepath.Join(t.TempDir(), "skopeo-layout")
	peer(t, nil, "skopeo", "copy", "--src-tls-verify=false", "docker://"+image, "oci:"+dir+":v1")
	lreg, lr := open(t, "oci-layout:"+dir+"#v1")
	dst := registrytest.NewStore(t)
	rep, err := lreg.Pull(context.Background(), lr, dst, registry.TransferOptions{})
	if err != nil || !rep.Complete || rep.Inspection.ImageID != id {
		t.Fatalf("pull from the layout skopeo wrote: %v", err)
	}
}

// TestWePullPeerLayout: an image laid out by hand with regctl, following
// §9.5 (blob put of config, signature and zstd layers, then the manifest),
// is pulled and verified by us.
func TestWePullPeerLayout(t *testing.T) {
	fx := vectors.LoadFixture(t)
	p := loadFixtureParts(t)
	host := server(t, distributionV3).Host
	regHost := "reg=" + host + ",tls=disabled"
	repo := host + "/pf/by-hand"
	blobs := [][]byte{p.config, p.sig}
	for _, l := range p.layers {
		blobs = append(blobs, p.stored[l.Logical])
	}
	for _, b := range blobs {
		got := bytes.TrimSpace(peer(t, b, "regctl", "--host", regHost, "blob", "put", repo))
		if string(got) != string(model.FromBytes(b)) {
			t.Fatalf("regctl blob put answered %q", got)
		}
	}
	peer(t, []byte(fx.OCIManifest), "regctl", "--host", regHost, "manifest", "put",
		"--content-type", MediaTypeManifest, repo+":v1")

	reg, r := open(t, "oci://"+repo+":v1")
	ctx := context.Background()
	vr, err := reg.Verify(ctx, r, registry.VerifyOptions{Deep: true})
	if err != nil || !vr.Complete {
		t.Fatalf("verify: %v", err)
	}
	dst := registrytest.NewStore(t)
	rep, err := reg.Pull(ctx, r, dst, registry.TransferOptions{})
	if err != nil || rep.Inspection.ImageID != model.Digest(fx.ImageCID) || !dst.HasImage(rep.Inspection.ImageID) {
		t.Fatalf("pull: %v", err)
	}
	// A container image next to it is listed as foreign.
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	peer(t, cfg, "regctl", "--host", regHost, "blob", "put", repo)
	other := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":` +
		itoa(len(cfg)) + `,"digest":"` + string(model.FromBytes(cfg)) + `"},"layers":[]}`
	peer(t, []byte(other), "regctl", "--host", regHost, "manifest", "put", "--content-type", MediaTypeManifest, repo+":container")
	repoRef, _ := registry.ParseRef("oci://" + repo)
	tags, err := reg.Tags(ctx, repoRef, registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	foreign := map[string]bool{}
	for _, tg := range tags.Tags {
		foreign[tg.Name] = tg.Foreign
	}
	if len(foreign) != 2 || foreign["v1"] || !foreign["container"] {
		t.Fatalf("tags: %+v", tags.Tags)
	}
	cr, _ := registry.ParseRef("oci://" + repo + ":container")
	if _, err := reg.Pull(ctx, cr, registrytest.NewStore(t), registry.TransferOptions{}); err == nil {
		t.Fatal("pulled a container image as a ProcessFork image")
	}
}

func itoa(n int) string {
	return string(model.AppendUint(nil, uint64(n)))
}
