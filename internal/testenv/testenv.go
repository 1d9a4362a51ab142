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

// Proc is a server process started for tests, with a temporary directory
// of its own that Stop removes.
type Proc struct {
	Dir    string // the temporary directory (the log is Dir/log)
	Port   int    // on 127.0.0.1
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartProc starts the provisioned tool with the arguments args returns for
// a fresh temporary directory and a free port, with env added to this
// process's environment, and waits until health (a path) answers on that
// port over HTTP.
func StartProc(tool, health string, env []string, args func(dir string, port int) ([]string, error)) (*Proc, error) {
	bin, err := Tool(tool)
	if err != nil {
		return nil, err
	}
	p := &Proc{exited: make(chan struct{})}
	if p.Dir, err = os.MkdirTemp("", "pf-"+tool+"-"); err != nil {
		return nil, err
	}
	if err := p.start(bin, env, args); err != nil {
		os.RemoveAll(p.Dir)
		return nil, err
	}
	if err := WaitHTTP("http://"+p.Addr()+health, 30*time.Second, p.exited); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.Dir, "log"))
		p.Stop()
		return nil, fmt.Errorf("%s: %v\n%s", tool, err, log)
	}
	return p, nil
}

func (p *Proc) start(bin string, env []string, args func(dir string, port int) ([]string, error)) error {
	var err error
	if p.Port, err = FreePort(); err != nil {
		return err
	}
	a, err := args(p.Dir, p.Port)
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(p.Dir, "log"))
	if err != nil {
		return err
	}
	p.cmd = exec.Command(bin, a...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.exited) }()
	return nil
}

// Addr is 127.0.0.1:<port>.
func (p *Proc) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.Port) }

// PID of the process (for benchmarks that sample it).
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Stop kills the process and removes its directory.
func (p *Proc) Stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	os.RemoveAll(p.Dir)
}
