package registry

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Credentials follow a redirect only to the origin (scheme, host and port)
// the redirect chain started from. Go's own rule keeps an Authorization
// header for the same host name on any port, for its subdomains, and from
// https to http; a registry, or anyone who can make it redirect, would
// receive the token there.

// SameOrigin reports whether two URLs share scheme, host and port (an
// absent port is the scheme's default).
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// CrossOriginRedirect reports whether req is a redirect to another origin
// than the first request of its chain.
func CrossOriginRedirect(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return first != req && !SameOrigin(first.URL, req.URL)
}

// maxRedirects is Go's default limit.
const maxRedirects = 10

// KeepCredentialsOnOrigin is an http.Client CheckRedirect: a redirect to
// another origin loses its Authorization header.
func KeepCredentialsOnOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	if CrossOriginRedirect(req) {
		req.Header.Del("Authorization")
	}
	return nil
}
