package registry_test

import (
	"net/http"
	"net/url"
	"testing"

	"pf-registry/registry"
)

func TestSameOrigin(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"https://hub.example/x", "https://HUB.example:443/y", true},
		{"http://127.0.0.1:5000/a", "http://127.0.0.1:5000/b", true},
		{"http://127.0.0.1:5000/a", "http://127.0.0.1:5001/a", false},
		{"https://hub.example/x", "http://hub.example/x", false},
		{"https://hub.example/x", "https://cdn.hub.example/x", false},
		{"http://hub.example/x", "http://hub.example:80/x", true},
	} {
		a, _ := url.Parse(c.a)
		b, _ := url.Parse(c.b)
		if registry.SameOrigin(a, b) != c.same {
			t.Errorf("SameOrigin(%s, %s) = %v", c.a, c.b, !c.same)
		}
	}
}

// TestKeepCredentialsOnOrigin: along a chain, the header is dropped as soon
// as a hop leaves the first request's origin.
func TestKeepCredentialsOnOrigin(t *testing.T) {
	hop := func(prev *http.Request, to string) *http.Request {
		r, _ := http.NewRequest("GET", to, nil)
		r.Header.Set("Authorization", "Bearer x")
		if prev != nil {
			r.Response = &http.Response{Request: prev}
		}
		return r
	}
	first := hop(nil, "https://hub.example/a")
	same := hop(first, "https://hub.example/b")
	other := hop(same, "https://hub.example:8443/c")
	for _, c := range []struct {
		r    *http.Request
		keep bool
	}{{same, true}, {other, false}} {
		if err := registry.KeepCredentialsOnOrigin(c.r, []*http.Request{first}); err != nil {
			t.Fatal(err)
		}
		if (c.r.Header.Get("Authorization") != "") != c.keep {
			t.Errorf("%s: Authorization kept %v, want %v", c.r.URL, !c.keep, c.keep)
		}
	}
	if registry.KeepCredentialsOnOrigin(first, make([]*http.Request, 10)) == nil {
		t.Error("no limit on redirects")
	}
}
