package oci

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"pf-registry/internal/fault"
	"pf-registry/registry"
)

// Credentials are scoped to the registry they belong to:
//
//   - OCI_USERNAME/OCI_PASSWORD and OCI_BEARER go only to the registry that
//     OCI_REGISTRY names (host[:port]); docker's config and credential
//     helpers are per host already;
//   - they go to that registry, and to the token service its Bearer
//     challenge names (on any host: that is how Docker Hub works), only over
//     TLS, except to loopback hosts;
//   - a redirect to another host or port never carries them (blob storage
//     gets pre-signed URLs, not the registry's credentials).
//
// regclient attaches the credentials of a registry to its token requests
// and copies Authorization headers along redirects within the same host
// name (Go's rule ignores the port), so the rules are enforced on the
// requests themselves, below regclient.

// envCredentialsFor reports whether the environment credentials belong to
// the registry host (host[:port] as in a reference).
func envCredentialsFor(host string) bool {
	bound := normalizeHost(os.Getenv(EnvRegistry))
	return bound != "" && bound == normalizeHost(host)
}

// normalizeHost lower-cases host[:port], drops a scheme, a trailing slash
// and the default TLS port.
func normalizeHost(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"oci://", "https://", "http://"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimSuffix(s, "/")
	return strings.TrimSuffix(s, ":443")
}

// authHint is the "what to do" of authentication failures.
func authHint() string {
	if os.Getenv(EnvUser) != "" || os.Getenv(EnvBearer) != "" {
		return EnvUser + "/" + EnvPass + " and " + EnvBearer + " are sent only to the registry " + EnvRegistry +
			" names: set " + EnvRegistry + "=<host>[:<port>] of this registry, or log in with docker/regctl/skopeo"
	}
	return "log in with docker/regctl/skopeo, or set " + EnvRegistry + "=<host>[:<port>] with " +
		EnvUser + "/" + EnvPass + " or " + EnvBearer
}

// credGuard is the HTTP transport under every registry client. It knows
// the registry's host[:port]; requests to other hosts are token requests
// (credentials allowed over TLS or to loopback) or redirects (credentials
// removed).
type credGuard struct {
	base     http.RoundTripper
	registry string
}

// errCredentialsRefused: a request would have sent credentials where they
// do not belong.
type errCredentialsRefused struct {
	registry, host string
	redirect       bool // else: plain HTTP
}

func (e *errCredentialsRefused) Error() string {
	how := "over plain HTTP"
	if e.redirect {
		how = "along a redirect"
	}
	return fmt.Sprintf("refusing to send the credentials of %s %s to %s", e.registry, how, e.host)
}

func (g *credGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == g.registry {
		return g.base.RoundTrip(req)
	}
	redirect := registry.CrossOriginRedirect(req)
	if redirect && req.Header.Get("Authorization") != "" {
		// Go copies Authorization to the same host name on any port.
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	plain := req.URL.Scheme != "https" && !registry.IsLoopback(req.URL.Hostname())
	if (plain || redirect) && carriesCredentials(req) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &errCredentialsRefused{registry: g.registry, host: req.URL.Host, redirect: redirect}
	}
	return g.base.RoundTrip(req)
}

// carriesCredentials reports an Authorization header or a token request
// whose form holds a password or a refresh token.
func carriesCredentials(req *http.Request) bool {
	if req.Header.Get("Authorization") != "" {
		return true
	}
	if req.Method != http.MethodPost || req.GetBody == nil {
		return false
	}
	body, err := req.GetBody()
	if err != nil {
		return true // cannot tell: assume the worst
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 64<<10))
	if err != nil {
		return true
	}
	form, err := url.ParseQuery(string(b))
	return err != nil || form.Get("password") != "" || form.Get("refresh_token") != ""
}

// refusal turns a refused request into a one-line error (nil if err is
// not one).
func refusal(err error, where string) error {
	var ce *errCredentialsRefused
	if !errors.As(err, &ce) {
		return nil
	}
	hint := "the registry's token service must use https (loopback excepted); unset the credentials to use this registry anonymously"
	if ce.redirect {
		hint = "the registry redirected a request holding credentials to another host; report it to the registry's operator"
	}
	return fault.WithHint(fault.Classed(fault.ErrAuth, &causeErr{msg: where + ": " + ce.Error(), cause: err}), hint)
}
