package s3test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"pf-registry/internal/testenv"
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
	proc     *testenv.Proc
}

// Start launches versitygw on a free loopback port and waits until its
// health endpoint answers.
func Start() (*Server, error) {
	s := &Server{}
	p, err := testenv.StartProc("versitygw", "/health", []string{"ROOT_ACCESS_KEY=" + AccessKey, "ROOT_SECRET_KEY=" + SecretKey},
		func(dir string, port int) ([]string, error) {
			s.Dir = filepath.Join(dir, "data")
			addr := "127.0.0.1:" + strconv.Itoa(port)
			return []string{"--port", addr, "--health", "/health", "--quiet", "posix", s.Dir}, os.Mkdir(s.Dir, 0o755)
		})
	if err != nil {
		return nil, err
	}
	s.proc, s.Endpoint = p, "http://"+p.Addr()
	return s, nil
}

// Stop ends the server and removes its data.
func (s *Server) Stop() { s.proc.Stop() }

// PID of the server process (for benchmarks that sample it).
func (s *Server) PID() int { return s.proc.PID() }

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

// Getenv is Env with overrides ("" removes a variable), as a lookup.
func (s *Server) Getenv(over map[string]string) func(string) string {
	m := s.Env()
	for k, v := range over {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
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

// Client is a client of the server's S3 API with the root credentials,
// for what tests do around the backend.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds:        credentials.NewStaticV4(AccessKey, SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
}

// MakeBucket creates a bucket through the S3 API.
func (s *Server) MakeBucket(ctx context.Context, name string) error {
	mc, err := s.Client()
	if err != nil {
		return err
	}
	return mc.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: "us-east-1"})
}

// Main is a TestMain that runs the package's tests against one server,
// handed to use before they start.
func Main(m *testing.M, use func(*Server)) {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	use(s)
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// IncompleteUploads lists the multipart uploads under prefix that were
// started and neither completed nor aborted.
func (s *Server) IncompleteUploads(ctx context.Context, bucket, prefix string) ([]string, error) {
	mc, err := s.Client()
	if err != nil {
		return nil, err
	}
	var out []string
	for u := range mc.ListIncompleteUploads(ctx, bucket, prefix, true) {
		if u.Err != nil {
			return nil, u.Err
		}
		out = append(out, u.Key)
	}
	return out, nil
}
