package hf

import (
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/registry"
)

// Credentials says whether a token was found, never the token.
func TestCredentialsNeverShowTheToken(t *testing.T) {
	const secret = "hf_s3cr3t_value"
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("HF_TOKEN_PATH", filepath.Join(t.TempDir(), "none"))
	t.Setenv("HF_TOKEN", "")
	b, err := New(registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Credentials(); got != "anonymous" {
		t.Errorf("no token: %q", got)
	}
	t.Setenv("HF_TOKEN", secret)
	if b, err = New(registry.Config{}); err != nil {
		t.Fatal(err)
	}
	if got := b.Credentials(); got != "token" || strings.Contains(got, secret) {
		t.Errorf("token: %q", got)
	}
}
