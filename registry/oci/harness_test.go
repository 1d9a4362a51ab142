package oci

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"

	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
	"pf-registry/signing"
	"pf-registry/store"
)

func TestMain(m *testing.M) {
	// The vectors are signed with the default key; a key from the
	// environment would change every signature.
	os.Unsetenv(signing.EnvVar("oci"))
	os.Unsetenv(signing.EnvVar("file"))
	for _, v := range []string{EnvUser, EnvPass, EnvBearer, EnvRegistry} {
		os.Unsetenv(v)
	}
	logrus.SetOutput(io.Discard) // distribution logs every 404 HEAD at error level
	os.Exit(m.Run())
}

// startDistribution runs distribution v3 in-process with in-memory storage
// on 127.0.0.1 and returns host:port.
func startDistribution(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &configuration.Configuration{Storage: configuration.Storage{
		"inmemory":    configuration.Parameters{},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}}
	cfg.HTTP.Secret = "test-secret"
	cfg.Catalog.MaxEntries = 1000 // the file config's default; the zero value refuses every n
	cfg.Log.AccessLog.Disabled = true
	cfg.Log.Level = "error"
	srv := httptest.NewServer(handlers.NewApp(ctx, cfg))
	t.Cleanup(func() { srv.Close(); cancel() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// findTool looks a provisioned binary up in $PF_CACHE_DIR/bin, then PATH.
func findTool(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("PF_CACHE_DIR")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".cache", "pf-registry")
		}
	}
	if p := filepath.Join(dir, "bin", name); dir != "" {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s not found: run ./test.sh once, it builds it", name)
	return ""
}

// debianRegistry is a docker-registry (distribution 2.8) process with its
// storage in a temp dir.
type debianRegistry struct {
	host string
	data string
}

// startDebianRegistry starts /usr/bin/docker-registry with its own config
// on 127.0.0.1:<free port> and stops it when the test ends.
func startDebianRegistry(t testing.TB) *debianRegistry { return startDebianRegistryWith(t, "") }

// startDebianRegistryWith adds settings to the http section of the config
// (e.g. "relativeurls: true").
func startDebianRegistryWith(t testing.TB, httpExtra string) *debianRegistry {
	t.Helper()
	bin := findTool(t, "docker-registry")
	dir := t.TempDir()
	port := freePort(t)
	data := filepath.Join(dir, "data")
	conf := fmt.Sprintf(`version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}
http: {addr: 127.0.0.1:%d, secret: test-secret%s}
`, data, port, httpExtra)
	cf := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	host := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("docker-registry did not answer on %s: %v\n%s", host, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &debianRegistry{host: host, data: data}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// registries under test: each returns host:port of a fresh server.
var servers = []struct {
	name  string
	start func(testing.TB) string
}{
	{"distribution-v3", startDistribution},
	{"docker-registry-2.8", func(t testing.TB) string { return startDebianRegistry(t).host }},
	// Relative Location headers on uploads (spec §9.5: prefix with base).
	{"docker-registry-2.8-relative-urls", func(t testing.TB) string {
		return startDebianRegistryWith(t, ", relativeurls: true").host
	}},
}

// open returns the engine for a reference.
func open(t testing.TB, ref string) (registry.Registry, registry.Ref) {
	t.Helper()
	reg, r, err := registry.ForRef(ref, registry.Config{})
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	return reg, r
}

// fixtureStore returns a fresh store holding the fixture image (pulled from
// the file:// fixture, so its stored bytes are the fixture's).
func fixtureStore(t testing.TB) (*store.Store, model.Digest) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	reg, r := open(t, "file://"+abs)
	rep, err := reg.Pull(context.Background(), r, st, registry.TransferOptions{})
	if err != nil {
		t.Fatalf("pull fixture: %v", err)
	}
	return st, rep.Inspection.ImageID
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
