package oci

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/regclient/regclient/types/errs"

	"pf-registry/internal/fault"
	"pf-registry/registry"
)

// TestTransportRule: TLS unless loopback; --insecure opts into the Rust
// rule (plain HTTP on a port other than 443) but then sends no credentials.
func TestTransportRule(t *testing.T) {
	cases := []struct {
		ref      string
		insecure bool
		want     transport
	}{
		{"oci://localhost:5000/r", false, transport{plainHTTP: true, credentials: true}},
		{"oci://127.0.0.1:5000/r", false, transport{plainHTTP: true, credentials: true}},
		{"oci://127.1.2.3/r", false, transport{plainHTTP: true, credentials: true}},
		{"oci://registry.example.com:5000/r", false, transport{credentials: true}},
		{"oci://registry.example.com/r", false, transport{credentials: true}},
		{"oci://registry.example.com:5000/r", true, transport{plainHTTP: true}},
		{"oci://registry.example.com:443/r", true, transport{skipVerify: true, credentials: true}},
		{"oci://registry.example.com/r", true, transport{skipVerify: true, credentials: true}},
		{"oci://127.evil.example.com/r", false, transport{credentials: true}},
		{"oci://127.evil.example.com:5000/r", true, transport{plainHTTP: true}},
	}
	for _, c := range cases {
		r, err := registry.ParseRef(c.ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := transportFor(r, c.insecure); got != c.want {
			t.Errorf("%s insecure=%v: got %+v, want %+v", c.ref, c.insecure, got, c.want)
		}
	}
}

// TestBearerSent: OCI_BEARER reaches the registry OCI_REGISTRY names as a
// bearer token, and never appears in the error.
func TestBearerSent(t *testing.T) {
	const token = "tok-123-secret"
	t.Setenv(EnvBearer, token)
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	t.Setenv(EnvRegistry, strings.TrimPrefix(srv.URL, "http://"))
	reg, r := open(t, "oci://"+strings.TrimPrefix(srv.URL, "http://")+"/a/b:v1")
	_, err := reg.Inspect(context.Background(), r)
	if err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("error: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("no request")
	}
	for _, h := range seen {
		if h != "Bearer "+token {
			t.Fatalf("Authorization %q", h)
		}
	}
}

// TestBasicCredentials: OCI_USERNAME/OCI_PASSWORD (for the registry
// OCI_REGISTRY names), or docker's config.json, answer a Basic challenge.
func TestBasicCredentials(t *testing.T) {
	for _, from := range []string{"env", "docker-config"} {
		t.Run(from, func(t *testing.T) { testBasicCredentials(t, from) })
	}
}

func testBasicCredentials(t *testing.T, from string) {
	var mu sync.Mutex
	ok := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, has := r.BasicAuth()
		if !has || u != "alice" || p != "pw-secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		ok = true
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	switch from {
	case "env":
		t.Setenv(EnvUser, "alice")
		t.Setenv(EnvPass, "pw-secret")
		t.Setenv(EnvRegistry, host)
	case "docker-config":
		dir := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte("alice:pw-secret"))
		conf := `{"auths":{"` + host + `":{"auth":"` + auth + `"}}}`
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", dir)
	}
	reg, r := open(t, "oci://"+host+"/a/b:v1")
	exists, err := reg.Exists(context.Background(), r)
	if err != nil || exists {
		t.Fatalf("exists=%v err=%v", exists, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !ok {
		t.Fatal("credentials never accepted")
	}
}

// TestClassify: regclient failures become one-line errors of the right
// class with a hint, whatever the response body said.
func TestClassify(t *testing.T) {
	body := "request failed: %w: {\"errors\":[{\"message\":\"a\\nb\"}]}"
	cases := []struct {
		name  string
		err   error
		class error
		want  string
	}{
		{"401", fmt.Errorf(body, errors.New("unauthorized [http 401]")), fault.ErrAuth, "access to image manifest refused (HTTP 401 Unauthorized)"},
		{"404", fmt.Errorf("x: %w", errs.ErrNotFound), fault.ErrNotFound, "image manifest not found"},
		{"500", fmt.Errorf(body, errors.New("unexpected http status code: Internal Server Error [http 500]")), nil, "registry failed on image manifest (HTTP 500 Internal Server Error)"},
		{"digest", fmt.Errorf("x: %w", errs.ErrDigestMismatch), fault.ErrIntegrity, "image manifest does not match its digest"},
		{"refused", &url.Error{Op: "Get", URL: "http://h/v2/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}, nil, "cannot reach the registry for the image manifest: connect: connection refused"},
		{"plain http", errors.New("Get \"https://h:5000/v2/\": http: server gave HTTP response to HTTPS client"), nil, "the registry speaks plain HTTP, not TLS"},
		{"other", errors.New("first line\nsecond line"), nil, "image manifest: first line"},
	}
	for _, c := range cases {
		got := classify(c.err, "oci://h/r:t", "image manifest")
		if c.class != nil && !errors.Is(got, c.class) {
			t.Errorf("%s: class of %v", c.name, got)
		}
		if !strings.HasPrefix(got.Error(), "oci://h/r:t: ") || !strings.Contains(got.Error(), c.want) || strings.ContainsAny(got.Error(), "\r\n") {
			t.Errorf("%s: %q", c.name, got)
		}
		if !errors.Is(got, fault.ErrIntegrity) && fault.Hint(got) == "" {
			t.Errorf("%s: no hint", c.name)
		}
	}
}
