package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/registry"
)

// Credentials names where the client finds credentials, never a secret.
func TestCredentialSourceNeverShowsSecrets(t *testing.T) {
	const secret = "s3cr3t-token-value"
	b := New(registry.Config{})
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	t.Setenv(EnvUser, "")
	t.Setenv(EnvBearer, "")
	if got := b.Credentials(); got != "anonymous" {
		t.Errorf("no credentials: %q", got)
	}
	dcfg := t.TempDir()
	os.WriteFile(filepath.Join(dcfg, "config.json"), []byte(`{"auths":{"x":{"auth":"`+secret+`"}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", dcfg)
	if got := b.Credentials(); got != "docker config" {
		t.Errorf("docker config: %q", got)
	}
	t.Setenv(EnvBearer, secret)
	t.Setenv(EnvRegistry, "")
	if got := b.Credentials(); got != "env creds unused (no OCI_REGISTRY)" {
		t.Errorf("a token not bound to a registry is not used: %q", got)
	}
	t.Setenv(EnvRegistry, "registry.example:5000")
	if got := b.Credentials(); got != "token for registry.example:5000" || strings.Contains(got, secret) {
		t.Errorf("bearer: %q", got)
	}
	if got := NewLayout(registry.Config{}).Credentials(); got != "local files" {
		t.Errorf("layout: %q", got)
	}
}
