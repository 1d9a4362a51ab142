package bucket

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"pf-registry/internal/fault"
	"pf-registry/registry/s3/s3test"
)

var srv *s3test.Server

func TestMain(m *testing.M) { s3test.Main(m, func(s *s3test.Server) { srv = s }) }

// envOf is the server's environment plus overrides ("" deletes).
func envOf(over map[string]string) Getenv {
	all := map[string]string{"HOME": os.Getenv("HOME")}
	maps.Copy(all, over)
	return srv.Getenv(all)
}

func newBucket(t *testing.T, over map[string]string) *Client {
	t.Helper()
	name := srv.NewBucket(t)
	cfg, err := ConfigFromEnv(envOf(over))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, name, Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	credFile := filepath.Join(dir, "credentials")
	os.WriteFile(cfgFile, []byte("[profile work]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9\n[default]\nregion = ap-south-1\n"), 0o600)
	os.WriteFile(credFile, []byte("[work]\naws_access_key_id = AKWORK\naws_secret_access_key = work-secret\n"), 0o600)
	files := map[string]string{"AWS_CONFIG_FILE": cfgFile, "AWS_SHARED_CREDENTIALS_FILE": credFile}
	tests := []struct {
		name                   string
		env                    map[string]string
		endpoint, region, akid string
		virtual                bool
		wantErr                bool
	}{
		{name: "defaults", env: map[string]string{}, endpoint: DefaultEndpoint, region: "us-east-1"},
		{name: "env keys and endpoint", env: map[string]string{"AWS_ACCESS_KEY_ID": "AK1", "AWS_SECRET_ACCESS_KEY": "s1", "AWS_ENDPOINT_URL": "http://127.0.0.1:7070", "AWS_REGION": "eu-central-1"},
			endpoint: "http://127.0.0.1:7070", region: "eu-central-1", akid: "AK1"},
		{name: "s3 endpoint wins", env: map[string]string{"AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_S3": "https://b:2"}, endpoint: "https://b:2", region: "us-east-1"},
		{name: "bare host is https", env: map[string]string{"AWS_ENDPOINT_URL": "minio.example:9000"}, endpoint: "https://minio.example:9000", region: "us-east-1"},
		{name: "default region var", env: map[string]string{"AWS_DEFAULT_REGION": "sa-east-1"}, endpoint: DefaultEndpoint, region: "sa-east-1"},
		{name: "virtual host switch", env: map[string]string{"PF_S3_VIRTUAL_HOST": "1"}, endpoint: DefaultEndpoint, region: "us-east-1", virtual: true},
		{name: "profile from files", env: map[string]string{"AWS_PROFILE": "work", "AWS_CONFIG_FILE": cfgFile, "AWS_SHARED_CREDENTIALS_FILE": credFile},
			endpoint: "http://127.0.0.1:9", region: "eu-west-3", akid: "AKWORK"},
		{name: "default profile region", env: files, endpoint: DefaultEndpoint, region: "ap-south-1"},
		{name: "env region beats profile", env: map[string]string{"AWS_PROFILE": "work", "AWS_CONFIG_FILE": cfgFile, "AWS_REGION": "us-west-2"},
			endpoint: "http://127.0.0.1:9", region: "us-west-2"},
		{name: "half a key pair", env: map[string]string{"AWS_ACCESS_KEY_ID": "AK1"}, wantErr: true},
		{name: "endpoint with path", env: map[string]string{"AWS_ENDPOINT_URL": "http://h:1/x"}, wantErr: true},
		{name: "endpoint ftp", env: map[string]string{"AWS_ENDPOINT_URL": "ftp://h"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HOME": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want error, got config %+v", cfg)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Endpoint.String(); got != tc.endpoint {
				t.Errorf("endpoint %q, want %q", got, tc.endpoint)
			}
			if cfg.Region != tc.region {
				t.Errorf("region %q, want %q", cfg.Region, tc.region)
			}
			if cfg.VirtualHost != tc.virtual {
				t.Errorf("virtual host %v, want %v", cfg.VirtualHost, tc.virtual)
			}
			v, _ := cfg.Creds.GetWithContext(&credentials.CredContext{})
			if v.AccessKeyID != tc.akid {
				t.Errorf("access key %q, want %q", v.AccessKeyID, tc.akid)
			}
		})
	}
}

func TestPutGetHeadList(t *testing.T) {
	c := newBucket(t, nil)
	ctx := context.Background()
	objs := map[string]string{
		"p/manifest.json":      "m",
		"p/a/manifest.json":    "ma",
		"p/a/blobs/sha256/x.z": "blob",
		"p/b/c/manifest.json":  "mc",
		"q/other":              "o",
	}
	for k, v := range objs {
		if err := c.Put(ctx, k, strings.NewReader(v), int64(len(v)), PutOptions{}); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	b, err := c.GetBytes(ctx, "p/a/manifest.json", 100)
	if err != nil || string(b) != "ma" {
		t.Fatalf("get: %q %v", b, err)
	}
	if _, err := c.GetBytes(ctx, "p/a/manifest.json", 1); err == nil {
		t.Fatal("size cap not enforced")
	}
	size, found, err := c.Head(ctx, "p/a/blobs/sha256/x.z")
	if err != nil || !found || size != 4 {
		t.Fatalf("head: %d %v %v", size, found, err)
	}
	if _, found, err := c.Head(ctx, "p/none"); err != nil || found {
		t.Fatalf("head missing: found=%v err=%v", found, err)
	}
	_, _, err = c.Get(ctx, "p/none")
	if !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}

	es, more, err := c.List(ctx, "p/", "", 0)
	if err != nil || more {
		t.Fatal(err, more)
	}
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%s:%v", e.Key, e.Dir))
	}
	want := "p/a/:true p/b/:true p/manifest.json:false"
	if strings.Join(got, " ") != want {
		t.Errorf("list = %v, want %s", got, want)
	}
	// Paging: one entry at a time through After.
	var paged []string
	after := ""
	for i := 0; i < 10; i++ {
		es, more, err := c.List(ctx, "p/", after, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			paged = append(paged, e.Key)
			after = e.Key
		}
		if !more {
			break
		}
	}
	if strings.Join(paged, " ") != "p/a/ p/b/ p/manifest.json" {
		t.Errorf("paged list = %v", paged)
	}
	all, err := c.ListAll(ctx, "p/")
	if err != nil || len(all) != 4 {
		t.Errorf("list all = %v %v", all, err)
	}
	if err := c.Remove(ctx, "q/other"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := c.Head(ctx, "q/other"); found {
		t.Error("object still there after Remove")
	}
}

func TestMultipartUploadUnknownAndKnownSize(t *testing.T) {
	c := newBucket(t, nil)
	ctx := context.Background()
	data := make([]byte, 3*PartSize+12345)
	rand.Read(data)
	for _, tc := range []struct {
		name string
		size int64
	}{{"known", int64(len(data))}, {"unknown", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			var steps []int64
			// OneByteReader-like small reads and no Seek/ReadAt: the
			// engine's verifying stream is a plain io.Reader.
			r := iotest.HalfReader(bytes.NewReader(data))
			key := "big-" + tc.name
			err := c.Put(ctx, key, r, tc.size, PutOptions{Progress: func(done int64) {
				if len(steps) == 0 || steps[len(steps)-1] != done {
					steps = append(steps, done)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) < 4 || steps[len(steps)-1] != int64(len(data)) {
				t.Errorf("progress steps %d, last %v; want ≥ 4 ending at %d", len(steps), steps[len(steps)-1:], len(data))
			}
			got, err := c.GetBytes(ctx, key, int64(len(data)))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("round trip differs (err %v)", err)
			}
			// The ETag of a multipart object ends in -<parts>.
			info, err := c.mc.StatObject(ctx, c.bucket, key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(info.ETag, "-4") {
				t.Errorf("ETag %q: want a 4-part multipart upload", info.ETag)
			}
		})
	}
}

func TestErrorsAreOneLineAndClassed(t *testing.T) {
	ctx := context.Background()
	good := newBucket(t, nil)
	if err := good.Put(ctx, "k", strings.NewReader("v"), 1, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		over   map[string]string
		bucket string
		class  error
		text   string
	}{
		{"wrong secret", map[string]string{"AWS_SECRET_ACCESS_KEY": "not-the-secret-xyz"}, good.bucket, fault.ErrAuth, "credentials"},
		{"unknown key id", map[string]string{"AWS_ACCESS_KEY_ID": "nobody-xyz"}, good.bucket, fault.ErrAuth, "credentials"},
		{"missing bucket", nil, "no-such-bucket-here", fault.ErrNotFound, "does not exist"},
		{"unreachable", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, good.bucket, nil, "cannot reach S3 endpoint http://127.0.0.1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(envOf(tc.over))
			if err != nil {
				t.Fatal(err)
			}
			c, err := New(cfg, tc.bucket, Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]func() error{
				"check": func() error { return c.Check(ctx) },
				"get":   func() error { _, err := c.GetBytes(ctx, "k", 10); return err },
				"head":  func() error { _, _, err := c.Head(ctx, "k"); return err },
				"put":   func() error { return c.Put(ctx, "k2", strings.NewReader("v"), 1, PutOptions{}) },
				"list":  func() error { _, _, err := c.List(ctx, "", "", 0); return err },
			}
			for op, f := range ops {
				err := f()
				if err == nil {
					t.Errorf("%s: no error", op)
					continue
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.text) {
					t.Errorf("%s: %q: want one line containing %q", op, msg, tc.text)
				}
				if tc.class != nil && !errors.Is(err, tc.class) {
					t.Errorf("%s: %q is not %v", op, msg, tc.class)
				}
				if fault.Hint(err) == "" {
					t.Errorf("%s: %q has no hint", op, msg)
				}
				for _, secret := range []string{s3test.SecretKey, "not-the-secret-xyz"} {
					if strings.Contains(msg+fault.Hint(err), secret) {
						t.Errorf("%s: error shows a secret: %q", op, msg)
					}
				}
			}
		})
	}
}

func TestGetStreamsLargeObject(t *testing.T) {
	c := newBucket(t, nil)
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	if err := c.Put(ctx, "s", bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, size, err := c.Get(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if size != int64(len(data)) {
		t.Errorf("size %d, want %d", size, len(data))
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stream differs: %v", err)
	}
}
