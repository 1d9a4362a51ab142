package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/faultproxy"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/store"
)

// TestPullTimeoutEndsADrip: `pull --timeout` against a server that sends
// its headers and then a byte every 50ms (never idle) ends with exit code 1
// and one error line naming the stall and the server, instead of hanging.
func TestPullTimeoutEndsADrip(t *testing.T) {
	hub, err := hubtest.New(hubtest.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	hub.AddToken("hf_drip_token", "alice", true)
	t.Setenv("HF_TOKEN", "hf_drip_token")
	t.Setenv("HF_HOME", t.TempDir())
	t.Setenv("HF_TOKEN_PATH", "")
	t.Setenv("HF_ENDPOINT", hub.URL())
	storeDir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := demo.Build(st, demo.ImageSpec{Seed: 4, Files: 2, Messages: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, "--store", storeDir, "--progress", "none", "push", string(id), "hf://alice/drip"); r.code != 0 {
		t.Fatalf("push: %d %s", r.code, r.stderr)
	}

	p, err := faultproxy.New(hub.URL(), 1, faultproxy.Rule{Method: "GET", Kind: faultproxy.Drip, Chunk: 1, Delay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t.Setenv("HF_ENDPOINT", p.URL())
	done := make(chan result, 1)
	go func() {
		done <- run(t, "--store", t.TempDir(), "--progress", "plain", "--timeout", "300ms", "--retries", "1", "pull", "hf://alice/drip")
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second): // a hang guard, not a speed check
		t.Fatal("pull --timeout 300ms hangs on a dripping server")
	}
	host := strings.TrimPrefix(p.URL(), "http://")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	t.Logf("stderr:\n%s", r.stderr)
	if r.code != 1 || !strings.HasPrefix(last, "pf-registry: error: ") || !strings.Contains(last, host+" stalled") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and an error line naming the stall at %s", r.code, r.stderr, host)
	}
}
