package ipfs

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pf-registry/internal/testenv"
	"pf-registry/registry/registrytest"
)

// kubo is a real Kubo daemon started for the tests: a temporary repo
// (`ipfs init --profile=test`), API and gateway on 127.0.0.1 with port 0,
// no swarm addresses, `ipfs daemon --offline`.
type kubo struct {
	bin  string
	repo string // IPFS_PATH
	api  string // http://127.0.0.1:N
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

var (
	daemonOnce sync.Once
	daemon     *kubo
	daemonErr  error
)

func TestMain(m *testing.M) {
	registrytest.CrashChild()
	code := m.Run()
	if daemon != nil {
		daemon.stop()
	}
	os.Exit(code)
}

// needDaemon starts the shared daemon on first use and points the process
// at it through IPFS_PATH (the backend then reads $IPFS_PATH/api).
func needDaemon(t testing.TB) *kubo {
	t.Helper()
	daemonOnce.Do(func() {
		bin, err := testenv.Tool("ipfs")
		if err != nil {
			daemonErr = err
			return
		}
		repo, err := os.MkdirTemp("", "pf-ipfs-test-")
		if err != nil {
			daemonErr = err
			return
		}
		daemon, daemonErr = startKubo(bin, repo)
		if daemonErr == nil {
			os.Unsetenv("IPFS_API")
			os.Setenv("IPFS_PATH", repo)
		}
	})
	if daemonErr != nil {
		t.Fatal(daemonErr)
	}
	return daemon
}

// startKubo initialises repo and starts a daemon on it; config holds extra
// `ipfs config` argument lists.
func startKubo(bin, repo string, config ...[]string) (*kubo, error) {
	k := &kubo{bin: bin, repo: repo, log: &bytes.Buffer{}, done: make(chan struct{})}
	for _, a := range append([][]string{
		{"init", "--profile=test"},
		{"config", "Addresses.API", "/ip4/127.0.0.1/tcp/0"},
		{"config", "Addresses.Gateway", "/ip4/127.0.0.1/tcp/0"},
		{"config", "--json", "Addresses.Swarm", "[]"},
	}, config...) {
		if out, err := k.run(a...); err != nil {
			return nil, fmt.Errorf("ipfs %s: %v: %s", strings.Join(a, " "), err, out)
		}
	}
	k.cmd = exec.Command(bin, "daemon", "--offline")
	k.cmd.Env = k.env()
	k.cmd.Stdout, k.cmd.Stderr = k.log, k.log
	if err := k.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting ipfs daemon: %v", err)
	}
	go func() { k.cmd.Wait(); close(k.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-k.done:
			return nil, fmt.Errorf("ipfs daemon exited: %s", k.log)
		default:
		}
		if raw, err := os.ReadFile(filepath.Join(repo, "api")); err == nil {
			if base, err := endpointURL(strings.TrimSpace(string(raw))); err == nil && strings.HasPrefix(base, "http://127.0.0.1:") {
				if resp, err := http.Post(base+"/api/v0/version", "", nil); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						k.api = base
						return k, nil
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	k.stop()
	return nil, fmt.Errorf("ipfs daemon not ready within 60s: %s", k.log)
}

func (k *kubo) env() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "IPFS_PATH=") && !strings.HasPrefix(e, "IPFS_API=") {
			env = append(env, e)
		}
	}
	return append(env, "IPFS_PATH="+k.repo)
}

// run runs the ipfs CLI against this repo (and its daemon when running).
func (k *kubo) run(a ...string) (string, error) {
	cmd := exec.Command(k.bin, a...)
	cmd.Env = k.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

// ipfs runs the CLI and fails the test on error.
func (k *kubo) ipfs(t testing.TB, a ...string) string {
	t.Helper()
	out, err := k.run(a...)
	if err != nil {
		t.Fatalf("ipfs %s: %v: %s", strings.Join(a, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func (k *kubo) stop() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	k.cmd.Process.Signal(os.Interrupt)
	select {
	case <-k.done:
	case <-time.After(15 * time.Second):
		k.cmd.Process.Kill()
		<-k.done
	}
	os.RemoveAll(k.repo)
}

// withTimeout is a test context bounded well below the test deadline.
func withTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
