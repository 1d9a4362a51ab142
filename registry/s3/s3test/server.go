package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Credentials of the test server's root account (loopback only).
const (
	AccessKey = "pf-test-access"
	SecretKey = "pf-test-secret-key"
)

// Server is a running versitygw.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	Dir      string // data root (one directory per bucket)
	cmd      *exec.Cmd
	log      *bytes.Buffer
	tmp      string
	done     chan struct{}
}

// Binary finds a provisioned tool: $PF_CACHE_DIR/bin (default
// ~/.cache/pf-registry/bin), then PATH.
func Binary(name string) (string, error) {
	dir := os.Getenv("PF_CACHE_DIR")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".cache", "pf-registry")
		}
	}
	if dir != "" {
		p := filepath.Join(dir, "bin", name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found: run ./test.sh once, it builds it", name)
}

// Start launches versitygw on a free loopback port and waits until its
// health endpoint answers.
func Start() (*Server, error) {
	bin, err := Binary("versitygw")
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "pf-s3test-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(tmp, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := &Server{Endpoint: "http://" + addr, Dir: data, log: &bytes.Buffer{}, tmp: tmp, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--port", addr, "--health", "/health", "--quiet", "posix", data)
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			log := s.log.String()
			s.Stop()
			return nil, fmt.Errorf("versitygw exited at start: %s", log)
		default:
		}
		resp, err := http.Get(s.Endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("versitygw did not become healthy within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server and removes its data.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.tmp)
}

// PID of the server process (for benchmarks that sample it).
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Env is the environment a client needs to reach the server with the root
// credentials.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":         AccessKey,
		"AWS_SECRET_ACCESS_KEY":     SecretKey,
		"AWS_REGION":                "us-east-1",
		"AWS_DEFAULT_REGION":        "us-east-1",
		"AWS_ENDPOINT_URL":          s.Endpoint,
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}

// Setenv exports Env into the process (for code that reads os.Getenv)
// and blanks variables that would otherwise redirect clients.
func (s *Server) Setenv() {
	for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_PROFILE", "PF_S3_VIRTUAL_HOST"} {
		os.Unsetenv(k)
	}
	for k, v := range s.Env() {
		os.Setenv(k, v)
	}
}

// bucketSeq numbers test buckets: the server outlives one run of a test
// under -count, so names must not repeat.
var bucketSeq atomic.Int64

// NewBucket creates a bucket named after the test (S3 naming rules: lower
// case, at most 63 characters) and returns its name.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 45 {
		name = name[:45]
	}
	name = fmt.Sprintf("t-%s-%d", strings.Trim(name, "-"), bucketSeq.Add(1))
	if err := s.MakeBucket(context.Background(), name); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
	return name
}

// MakeBucket creates a bucket through the S3 API.
func (s *Server) MakeBucket(ctx context.Context, name string) error {
	mc, err := minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds:        credentials.NewStaticV4(AccessKey, SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return err
	}
	return mc.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: "us-east-1"})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
