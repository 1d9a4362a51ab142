package bucket

import (
	"strings"
	"testing"
)

// CredSource names where credentials come from, never a key.
func TestCredSource(t *testing.T) {
	const secret = "s3cr3t-access-key"
	env := func(m map[string]string) Getenv { return func(k string) string { return m[k] } }
	c, err := ConfigFromEnv(env(map[string]string{"AWS_ACCESS_KEY_ID": "AKIA" + secret, "AWS_SECRET_ACCESS_KEY": secret}))
	if err != nil || c.CredSource != "access keys" {
		t.Fatalf("keys: %q %v", c.CredSource, err)
	}
	c, err = ConfigFromEnv(env(map[string]string{"AWS_PROFILE": "ci"}))
	if err != nil || c.CredSource != "profile ci" || strings.Contains(c.CredSource, secret) {
		t.Fatalf("profile: %q %v", c.CredSource, err)
	}
}
