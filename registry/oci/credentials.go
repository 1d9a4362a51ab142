package oci

import (
	"os"
	"path/filepath"
)

// Credentials implements registry.CredentialReporter: which of the sources
// the client reads is present (OCI_BEARER, OCI_USERNAME, Docker's config).
// It only tests that a variable is set or a file exists; nothing is read.
func (b *Backend) Credentials() string {
	if b.scheme != "oci" {
		return "local files"
	}
	switch {
	case os.Getenv(EnvBearer) != "":
		return "bearer token"
	case os.Getenv(EnvUser) != "":
		return "user/password"
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
