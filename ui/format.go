package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pf-registry/internal/termtext"
	"pf-registry/signing"
)

// errLine renders an error as one line with its hint.
func errLine(err error) string { return termtext.ErrorLine(err, " — ") }

// tildePath shortens a path under the home directory for display.
func tildePath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return p
	}
	if p == home {
		return "~"
	}
	if rest, ok := strings.CutPrefix(p, home+string(os.PathSeparator)); ok {
		return "~" + string(os.PathSeparator) + rest
	}
	return p
}

// humanDuration renders short durations for ETA and elapsed time.
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// shortTime renders a timestamp for list columns (UTC, deterministic).
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// authState names how a backend will authenticate, mirroring where each
// backend looks for credentials. It only tests whether a variable is set or
// a file exists; no secret is ever read or shown.
func authState(scheme string) string {
	has := func(names ...string) bool {
		for _, n := range names {
			if os.Getenv(n) != "" {
				return true
			}
		}
		return false
	}
	exists := func(p string) bool {
		_, err := os.Stat(p)
		return p != "" && err == nil
	}
	home, _ := os.UserHomeDir()
	switch scheme {
	case "file", "oci-layout", "store":
		return "local"
	case "hf":
		if has("HF_TOKEN") {
			return "token set"
		}
		p := os.Getenv("HF_TOKEN_PATH")
		if p == "" {
			hfHome := os.Getenv("HF_HOME")
			if hfHome == "" {
				cache := os.Getenv("XDG_CACHE_HOME")
				if cache == "" && home != "" {
					cache = filepath.Join(home, ".cache")
				}
				hfHome = filepath.Join(cache, "huggingface")
			}
			p = filepath.Join(hfHome, "token")
		}
		if exists(p) {
			return "token file"
		}
		return "anonymous"
	case "s3":
		if has("AWS_ACCESS_KEY_ID") && has("AWS_SECRET_ACCESS_KEY") {
			return "keys set"
		}
		creds := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
		if creds == "" && home != "" {
			creds = filepath.Join(home, ".aws", "credentials")
		}
		if exists(creds) {
			if p := os.Getenv("AWS_PROFILE"); p != "" {
				return "profile " + p
			}
			return "profile"
		}
		return "anonymous"
	case "oci":
		switch {
		case has("OCI_BEARER"):
			return "token set"
		case has("OCI_USERNAME"):
			return "user set"
		case has("DOCKER_AUTH_CONFIG"):
			return "docker creds"
		}
		dir := os.Getenv("DOCKER_CONFIG")
		if dir == "" && home != "" {
			dir = filepath.Join(home, ".docker")
		}
		if exists(filepath.Join(dir, "config.json")) {
			return "docker config"
		}
		return "anonymous"
	case "ipfs":
		if has("IPFS_API") {
			return "IPFS_API set"
		}
		return "local node"
	}
	return "–"
}

// signKeyState tells whether the backend signs with a configured key or
// the public default one.
func signKeyState(scheme string) string {
	if scheme == "store" {
		return "–"
	}
	k := signing.ForBackend(scheme)
	if k.Default {
		return "default key"
	}
	return k.Source
}
