package benchsuite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// server is one real server on 127.0.0.1, restartable on an empty data
// directory. Only processes started here are stopped, by their PID.
type server struct {
	name string
	dir  string // everything of this server lives below it
	cmd  *exec.Cmd
	log  *os.File
	// start launches the process in s.dir/data and waits until it serves.
	start func(s *server) error
	addr  string // host:port (or URL for the hub)
	env   []string
}

func (s *server) PID() int {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Reset stops the server, wipes its data and starts it again.
func (s *server) Reset() error {
	s.Stop()
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o755); err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(s.dir, "log"))
	if err != nil {
		return err
	}
	s.log = log
	if err := s.start(s); err != nil {
		tail, _ := os.ReadFile(log.Name())
		s.Stop()
		return fmt.Errorf("%s did not start: %v\n%s", s.name, err, lastLines(string(tail), 5))
	}
	return nil
}

// Stop ends the server process (SIGTERM, then SIGKILL after 10 s).
func (s *server) Stop() {
	if s.PID() == 0 {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
	if s.log != nil {
		s.log.Close()
	}
}

func (s *server) launch(env []string, name string, args ...string) error {
	s.cmd = exec.Command(name, args...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	return s.cmd.Start()
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// freePort asks the kernel for an unused loopback port.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitHTTP(url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newOCI is the Debian docker-registry (distribution 2.8).
func newOCI(root string) *server {
	return &server{name: "docker-registry", dir: filepath.Join(root, "oci"), start: func(s *server) error {
		addr, err := freePort()
		if err != nil {
			return err
		}
		s.addr = addr
		cfg := filepath.Join(s.dir, "config.yml")
		conf := fmt.Sprintf("version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"+
			"storage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\n"+
			"http: {addr: %s, secret: bench-secret}\n", filepath.Join(s.dir, "data"), addr)
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			return err
		}
		if err := s.launch(nil, "docker-registry", "serve", cfg); err != nil {
			return err
		}
		return waitHTTP("http://"+addr+"/v2/", 30*time.Second)
	}}
}

// S3 credentials of the throwaway versitygw (loopback only).
const (
	s3Access = "bench-access"
	s3Secret = "bench-secret-key"
	s3Bucket = "pfbench"
)

// newS3 is versitygw with its posix backend and one bucket.
func newS3(root string) *server {
	return &server{name: "versitygw", dir: filepath.Join(root, "s3"), start: func(s *server) error {
		addr, err := freePort()
		if err != nil {
			return err
		}
		s.addr = addr
		env := []string{"ROOT_ACCESS_KEY=" + s3Access, "ROOT_SECRET_KEY=" + s3Secret}
		if err := s.launch(env, "versitygw", "--port", addr, "--health", "/health", "--quiet", "posix", filepath.Join(s.dir, "data")); err != nil {
			return err
		}
		if err := waitHTTP("http://"+addr+"/health", 30*time.Second); err != nil {
			return err
		}
		s.env = []string{"AWS_ACCESS_KEY_ID=" + s3Access, "AWS_SECRET_ACCESS_KEY=" + s3Secret,
			"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_ENDPOINT_URL=http://" + addr,
			"RCLONE_CONFIG_BS3_TYPE=s3", "RCLONE_CONFIG_BS3_PROVIDER=Other", "RCLONE_CONFIG_BS3_ENDPOINT=http://" + addr,
			"RCLONE_CONFIG_BS3_ACCESS_KEY_ID=" + s3Access, "RCLONE_CONFIG_BS3_SECRET_ACCESS_KEY=" + s3Secret,
			"RCLONE_CONFIG_BS3_REGION=us-east-1"}
		c, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s3Access, s3Secret, ""), Region: "us-east-1"})
		if err != nil {
			return err
		}
		return c.MakeBucket(context.Background(), s3Bucket, minio.MakeBucketOptions{Region: "us-east-1"})
	}}
}

// newIPFS is an offline Kubo daemon on a fresh repository.
func newIPFS(root string) *server {
	return &server{name: "kubo", dir: filepath.Join(root, "ipfs"), start: func(s *server) error {
		repo := filepath.Join(s.dir, "data")
		s.env = []string{"IPFS_PATH=" + repo}
		api, err := freePort()
		if err != nil {
			return err
		}
		gw, err := freePort()
		if err != nil {
			return err
		}
		for _, args := range [][]string{
			{"init", "--profile=test"},
			{"config", "Addresses.API", "/ip4/127.0.0.1/tcp/" + port(api)},
			{"config", "Addresses.Gateway", "/ip4/127.0.0.1/tcp/" + port(gw)},
			{"config", "--json", "Addresses.Swarm", "[]"},
		} {
			c := exec.Command("ipfs", args...)
			c.Env = append(os.Environ(), s.env...)
			if out, err := c.CombinedOutput(); err != nil {
				return fmt.Errorf("ipfs %s: %v: %s", args[0], err, out)
			}
		}
		if err := s.launch(s.env, "ipfs", "daemon", "--offline"); err != nil {
			return err
		}
		s.addr = api
		s.env = append(s.env, "IPFS_API=http://"+api)
		return waitLog(s.log.Name(), "Daemon is ready", 60*time.Second)
	}}
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

func waitLog(path, want string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no %q in %s after %v", want, path, d)
}

// Hub token of the throwaway test hub (loopback only).
const hubToken = "hf_bench"

// newHub is the project's Hugging Face test hub (registry/hf/hubtest),
// built by the caller as the testhub binary.
func newHub(root, bin string) *server {
	return &server{name: "testhub", dir: filepath.Join(root, "hf"), start: func(s *server) error {
		s.cmd = exec.Command(bin, "-addr", "127.0.0.1:0", "-dir", filepath.Join(s.dir, "data"), "-token", hubToken+":bench")
		s.cmd.Stderr = s.log
		out, err := s.cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := s.cmd.Start(); err != nil {
			return err
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			return err
		}
		go io.Copy(io.Discard, out)
		s.addr = strings.TrimSpace(line)
		s.env = []string{"HF_ENDPOINT=" + s.addr, "HF_TOKEN=" + hubToken}
		return nil
	}}
}
