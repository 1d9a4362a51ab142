package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/file"
	"pf-registry/registry/registrytest"
	"pf-registry/signing"
	"pf-registry/store"
)

// sinkCounter is the file backend, counting the writes it is asked for.
type sinkCounter struct {
	*file.Backend
	sinks atomic.Int32
}

func (c *sinkCounter) Sink(ctx context.Context, ref registry.Ref) (registry.Sink, error) {
	c.sinks.Add(1)
	return c.Backend.Sink(ctx, ref)
}

// published pushes a small demo image to a file registry and returns its
// reference.
func published(t *testing.T) (registry.Ref, *store.Store, model.Digest) {
	t.Helper()
	st, id := registrytest.SmallImage(t, 11)
	ref := registrytest.MustRef(t, "file://"+filepath.Join(t.TempDir(), "reg", "alice", "agent", "v1"))
	if _, err := registry.New(file.New(registry.Config{}), registry.Config{}).Push(context.Background(), st, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	return ref, st, id
}

// Read-only mode is the engine's: every write is refused with the same
// text before the backend is asked, and reads still work.
func TestReadOnlyRefusedByTheEngine(t *testing.T) {
	ctx := context.Background()
	ref, st, id := published(t)
	cb := &sinkCounter{Backend: file.New(registry.Config{})}
	ro := registry.New(cb, registry.Config{ReadOnly: true})
	target := filepath.Join(t.TempDir(), "out")
	out := registrytest.MustRef(t, "file://"+target)
	fresh, err := store.Open(filepath.Join(t.TempDir(), "fresh"))
	if err != nil {
		t.Fatal(err)
	}

	_, pushErr := ro.Push(ctx, st, id, out, registry.TransferOptions{})
	_, pullErr := ro.Pull(ctx, ref, fresh, registry.TransferOptions{})
	_, copyErr := registry.Copy(ctx, ro, ref, ro, out, registry.TransferOptions{})
	_, sinkErr := ro.Sink(ctx, out)
	for name, err := range map[string]error{"push": pushErr, "pull": pullErr, "copy": copyErr, "sink": sinkErr} {
		if !errors.Is(err, fault.ErrReadOnly) || !strings.HasPrefix(err.Error(), "read-only mode: refusing to write to ") ||
			!strings.Contains(fault.Hint(err), "--readonly") {
			t.Errorf("%s in read-only mode: %v (hint %q)", name, err, fault.Hint(err))
		}
	}
	if n := cb.sinks.Load(); n != 0 {
		t.Errorf("the backend was asked for %d sinks in read-only mode", n)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only push or copy created %s: %v", target, err)
	}
	if imgs, _ := fresh.Images(); len(imgs) != 0 {
		t.Errorf("read-only pull stored %d images", len(imgs))
	}
	if rep, err := ro.Verify(ctx, ref, registry.VerifyOptions{Deep: true}); err != nil || !rep.Complete {
		t.Errorf("deep verify must stay allowed in read-only mode: %v", err)
	}
}

// The decompression cap is configuration: a registry opened with a small
// MaxBlobSize refuses larger blobs in every operation that decodes them.
func TestMaxBlobSizeIsPassedDown(t *testing.T) {
	ctx := context.Background()
	ref, _, _ := published(t)
	small := registry.Config{MaxBlobSize: 64}
	reg := registry.New(file.New(small), small)
	dst, err := store.Open(filepath.Join(t.TempDir(), "dst"))
	if err != nil {
		t.Fatal(err)
	}
	_, pullErr := reg.Pull(ctx, ref, dst, registry.TransferOptions{})
	_, verifyErr := reg.Verify(ctx, ref, registry.VerifyOptions{Deep: true})
	out := registrytest.MustRef(t, "file://"+filepath.Join(t.TempDir(), "copy"))
	_, copyErr := registry.Copy(ctx, reg, ref, registry.New(file.New(registry.Config{}), registry.Config{}), out, registry.TransferOptions{})
	for name, err := range map[string]error{"pull": pullErr, "deep verify": verifyErr, "copy": copyErr} {
		if !errors.Is(err, fault.ErrIntegrity) || !strings.Contains(err.Error(), "decompresses to more than 64 bytes") {
			t.Errorf("%s with a 64-byte cap: %v", name, err)
		}
	}
	// The default cap lets the same image through.
	if _, err := registry.New(file.New(registry.Config{}), registry.Config{}).Pull(ctx, ref, dst, registry.TransferOptions{}); err != nil {
		t.Errorf("pull with the default cap: %v", err)
	}
}

// TestPolicyFor: the strictest level that applies wins, a root applies to
// what lies under it only, and no flag loosens a root's level.
func TestPolicyFor(t *testing.T) {
	p := registry.Policy{Require: signing.RequireSigned}.WithRoots(map[string]signing.Level{
		"oci://reg.example.com/team": signing.RequireTrusted,
		"file:///srv/images/":        signing.RequireAny,
	})
	p = p.WithRoots(map[string]signing.Level{"file:///srv/images/": signing.RequireTrusted})
	cases := []struct {
		ref   string
		level signing.Level
		from  string
	}{
		{"oci://reg.example.com/team:v1", signing.RequireTrusted, "oci://reg.example.com/team"},
		{"oci://reg.example.com/team/agent:v1", signing.RequireTrusted, "oci://reg.example.com/team"},
		{"oci://reg.example.com/team@sha256:" + strings.Repeat("a", 64), signing.RequireTrusted, "oci://reg.example.com/team"},
		{"oci://reg.example.com/teammate/agent:v1", signing.RequireSigned, "--require"},
		{"file:///srv/images/alice/v1", signing.RequireTrusted, "file:///srv/images/"},
		{"file:///srv/images2/alice/v1", signing.RequireSigned, "--require"},
		{"s3://bucket/x", signing.RequireSigned, "--require"},
	}
	for _, tc := range cases {
		level, from := p.For(registrytest.MustRef(t, tc.ref))
		if level != tc.level || from != tc.from {
			t.Errorf("%s: %s from %s, want %s from %s", tc.ref, level, from, tc.level, tc.from)
		}
	}
	if level, _ := (registry.Policy{}).For(registrytest.MustRef(t, "file:///x")); level != signing.RequireAny {
		t.Errorf("empty policy: %q", level)
	}
}
