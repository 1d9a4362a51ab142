package oci

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/registry"
)

const (
	credUser   = "alice"
	credSecret = "pw-secret-4711"
	goodToken  = "token-from-the-token-service"
)

// seen records what requests carried to one test server.
type seen struct {
	mu       sync.Mutex
	requests int
	leaked   []string // Authorization headers and bodies holding the secret
	auth     []string
}

func (s *seen) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	a := r.Header.Get("Authorization")
	s.auth = append(s.auth, a)
	basic := base64.StdEncoding.EncodeToString([]byte(credUser + ":" + credSecret))
	for _, v := range []string{a, string(body), r.URL.RawQuery} {
		if strings.Contains(v, credSecret) || strings.Contains(v, basic) {
			s.leaked = append(s.leaked, v)
		}
	}
}

func (s *seen) check(t *testing.T, who string, wantRequests bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.leaked) > 0 {
		// The count only: a failing test must not print them either.
		t.Errorf("%s received the credentials (%d requests)", who, len(s.leaked))
	}
	if wantRequests && s.requests == 0 {
		t.Errorf("%s was never asked", who)
	}
}

// tokenServer answers every token request with a token, as a hostile or
// careless one would.
func tokenServer(rec *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"`+goodToken+`","access_token":"`+goodToken+`","expires_in":300}`)
	})
}

// bearerRegistry challenges with a Bearer realm and accepts the token; the
// manifest it then reports missing (404).
func bearerRegistry(rec *seen, realm string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		if r.Header.Get("Authorization") != "Bearer "+goodToken {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="registry.test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	})
}

// listen starts a server on 127.0.0.1 (TLS when a cert pool is wanted).
func listen(t *testing.T, h http.Handler, tls bool) (*httptest.Server, string) {
	t.Helper()
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return srv, port
}

// openRouted opens an oci:// reference with a transport that dials the
// given names (not loopback by registry.IsLoopback) on 127.0.0.1, and
// trusts the TLS test servers' certificate.
func openRouted(t *testing.T, ref string, tlsSrv *httptest.Server, names ...string) (registry.Registry, registry.Ref) {
	t.Helper()
	r, err := registry.ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	b := New(registry.Config{})
	b.clients.transport = func() *http.Transport {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		dialer := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				if host == n {
					addr = net.JoinHostPort("127.0.0.1", port)
				}
			}
			if h, _, _ := net.SplitHostPort(addr); h != "127.0.0.1" {
				return nil, errors.New("test dials only 127.0.0.1, not " + addr)
			}
			return dialer.DialContext(ctx, network, addr)
		}
		if tlsSrv != nil {
			pool := x509.NewCertPool()
			pool.AddCert(tlsSrv.Certificate())
			tr.TLSClientConfig.RootCAs = pool
		}
		return tr
	}
	return registry.New(b, registry.Config{}), r
}

func setCredentials(t *testing.T, registryHost string) {
	t.Setenv(EnvUser, credUser)
	t.Setenv(EnvPass, credSecret)
	t.Setenv(EnvRegistry, registryHost)
}

// tokenSetup starts a token service (plain or TLS) reached as name and a
// loopback registry whose Bearer realm points at it, with the environment
// credentials bound to that registry.
func tokenSetup(t *testing.T, scheme, name string) (registry.Registry, registry.Ref, *seen, *seen) {
	t.Helper()
	tokens, regSeen := &seen{}, &seen{}
	tokSrv, tokPort := listen(t, tokenServer(tokens), scheme == "https")
	regSrv, _ := listen(t, bearerRegistry(regSeen, scheme+"://"+name+":"+tokPort+"/token"), false)
	host := strings.TrimPrefix(regSrv.URL, "http://")
	setCredentials(t, host)
	if scheme != "https" {
		tokSrv = nil
	}
	reg, r := openRouted(t, "oci://"+host+"/a/b:v1", tokSrv, name)
	return reg, r, tokens, regSeen
}

// TestPlainHTTPRealmNeverGetsCredentials: a registry (loopback, plain HTTP
// is fine) whose Bearer realm is plain HTTP on a host that is not loopback
// never receives OCI_USERNAME/OCI_PASSWORD: the operation fails with an
// error naming the problem.
func TestPlainHTTPRealmNeverGetsCredentials(t *testing.T) {
	reg, r, tokens, regSeen := tokenSetup(t, "http", "tokens.evil.test")
	_, err := reg.Inspect(context.Background(), r)
	tokens.check(t, "the plain-HTTP token service", false)
	regSeen.check(t, "the registry", true)
	if err == nil || !strings.Contains(err.Error(), "plain HTTP") || strings.ContainsAny(err.Error(), "\r\n") ||
		strings.Contains(err.Error(), credSecret) {
		t.Fatalf("error %v, want one line naming the plain-HTTP token service", err)
	}
	if !errors.Is(err, fault.ErrAuth) || fault.Hint(err) == "" {
		t.Errorf("error %v: want an auth error with a hint", err)
	}
}

// TestTLSRealmOnAnotherHostGetsCredentials: a token service on another
// host over TLS (how Docker Hub works) receives the credentials, and the
// registry then the token.
func TestTLSRealmOnAnotherHostGetsCredentials(t *testing.T) {
	reg, r, tokens, regSeen := tokenSetup(t, "https", "example.com")
	exists, err := reg.Exists(context.Background(), r)
	if err != nil || exists {
		t.Fatalf("exists=%v err=%v", exists, err)
	}
	tokens.mu.Lock()
	defer tokens.mu.Unlock()
	if len(tokens.leaked) == 0 {
		t.Fatalf("the TLS token service never got the credentials (%d Authorization headers)", len(tokens.auth))
	}
	regSeen.mu.Lock()
	defer regSeen.mu.Unlock()
	if !strings.Contains(strings.Join(regSeen.auth, " "), "Bearer "+goodToken) {
		t.Fatalf("the registry never got the token (%d Authorization headers)", len(regSeen.auth))
	}
}

// TestRedirectNeverCarriesCredentials: a registry that accepts Basic
// credentials and redirects the manifest to the same host on another
// port, or to another host over TLS: neither target sees them.
func TestRedirectNeverCarriesCredentials(t *testing.T) {
	otherPort := &seen{}
	_, port := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherPort.record(r)
		w.WriteHeader(http.StatusNotFound)
	}), false)
	otherHost := &seen{}
	tlsSrv, tlsPort := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHost.record(r)
		w.WriteHeader(http.StatusNotFound)
	}), true)
	for name, target := range map[string]string{
		"same host, other port": "http://127.0.0.1:" + port + "/manifest",
		"other host over TLS":   "https://example.com:" + tlsPort + "/manifest",
	} {
		t.Run(name, func(t *testing.T) {
			regSeen := &seen{}
			regSrv, _ := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				regSeen.record(r)
				if u, p, ok := r.BasicAuth(); !ok || u != credUser || p != credSecret {
					w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if strings.Contains(r.URL.Path, "/manifests/") {
					http.Redirect(w, r, target, http.StatusTemporaryRedirect)
					return
				}
				w.WriteHeader(http.StatusOK)
			}), false)
			host := strings.TrimPrefix(regSrv.URL, "http://")
			setCredentials(t, host)
			reg, r := openRouted(t, "oci://"+host+"/a/b:v1", tlsSrv, "example.com")
			_, _ = reg.Inspect(context.Background(), r)
			regSeen.mu.Lock()
			if len(regSeen.leaked) == 0 {
				t.Error("the registry itself never got its credentials")
			}
			regSeen.mu.Unlock()
		})
	}
	otherPort.check(t, "the same host on another port", true)
	otherHost.check(t, "another host", true)
}

// TestEnvCredentialsBoundToOCIRegistry: OCI_USERNAME/OCI_PASSWORD (and
// OCI_BEARER) go only to the registry OCI_REGISTRY names, not to whatever
// host a reference names.
func TestEnvCredentialsBoundToOCIRegistry(t *testing.T) {
	for name, bound := range map[string]string{
		"another registry": "registry.example.com:5000",
		"unset":            "",
	} {
		t.Run(name, func(t *testing.T) {
			regSeen := &seen{}
			regSrv, _ := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				regSeen.record(r)
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
			}), false)
			host := strings.TrimPrefix(regSrv.URL, "http://")
			setCredentials(t, bound)
			t.Setenv(EnvBearer, credSecret)
			reg, r := openRouted(t, "oci://"+host+"/a/b:v1", nil)
			_, err := reg.Inspect(context.Background(), r)
			regSeen.check(t, "a registry the credentials are not for", true)
			if !errors.Is(err, fault.ErrAuth) || !strings.Contains(fault.Hint(err), EnvRegistry) {
				t.Errorf("error %v (hint %q): want an auth error pointing at %s", err, fault.Hint(err), EnvRegistry)
			}
		})
	}
}
