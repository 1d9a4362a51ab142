// Package testenv finds what the tests run against: the tools and servers
// scripts/provision.d/*.sh provisions under $PF_CACHE_DIR/bin, free
// loopback ports, and servers that take a moment to answer.
package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Tool finds a provisioned binary: $PF_CACHE_DIR/bin (default
// ~/.cache/pf-registry/bin), then PATH.
func Tool(name string) (string, error) {
	dir := os.Getenv("PF_CACHE_DIR")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".cache", "pf-registry")
		}
	}
	if dir != "" {
		p := filepath.Join(dir, "bin", name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found: run ./test.sh once, it provisions it", name)
}

// MustTool is Tool for a test: a missing tool fails it, saying how to get it.
func MustTool(t testing.TB, name string) string {
	t.Helper()
	p, err := Tool(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitHTTP polls url until it answers with a status below 500, the process
// behind it ends (exited is closed), or wait runs out.
func WaitHTTP(url string, wait time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(wait)
	for {
		select {
		case <-exited:
			return fmt.Errorf("the server exited before it answered on %s", url)
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s within %s (last error: %v)", url, wait, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
