package oci

import (
	"os"
	"path/filepath"
)

// Credentials implements registry.CredentialReporter: which of the sources
// the client reads is present (OCI_BEARER or OCI_USERNAME for the registry
// OCI_REGISTRY names, Docker's config). It only tests that a variable is
// set or a file exists; no secret is read.
func (b *Backend) Credentials() string {
	if b.scheme != "oci" {
		return "local files"
	}
	bound := normalizeHost(os.Getenv(EnvRegistry))
	env := os.Getenv(EnvBearer) != "" || os.Getenv(EnvUser) != ""
	switch {
	case env && bound == "":
		return "env creds unused (no OCI_REGISTRY)" // they are bound to one registry
	case bound != "" && os.Getenv(EnvBearer) != "":
		return "token for " + bound
	case bound != "" && os.Getenv(EnvUser) != "":
		return "user for " + bound
	case os.Getenv("DOCKER_AUTH_CONFIG") != "":
		return "docker creds"
	}
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".docker")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); dir != "" && err == nil {
		return "docker config"
	}
	return "anonymous"
}
