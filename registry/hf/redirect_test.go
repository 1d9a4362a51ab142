package hf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

// TestTokenStaysOnTheEndpoint: the Hub (here a proxy in front of the test
// hub) redirects downloads to the same host on another port. Go would
// carry the token along; it must not, while the pull still works
// (storage URLs carry their own authorisation).
func TestTokenStaysOnTheEndpoint(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	st, id := registrytest.SmallImage(t, 21)
	t.Setenv("PF_HF_PUBLIC", "1") // the redirect target serves it without a token
	if _, err := open(t, h, aliceToken).Push(context.Background(), st, id, registrytest.MustRef(t, "hf://alice/redirected"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	leaked := map[string]int{}
	served := 0
	// elsewhere serves what the hub serves, recording any Authorization.
	hubURL, _ := url.Parse(h.URL())
	rp := httputil.NewSingleHostReverseProxy(hubURL)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served++
		if a := r.Header.Get("Authorization"); a != "" {
			leaked[r.Host]++
		}
		mu.Unlock()
		r.Header.Del("Authorization")
		rp.ServeHTTP(w, r)
	}))
	defer elsewhere.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/resolve/") && strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()
	t.Setenv("HF_ENDPOINT", front.URL)
	t.Setenv("HF_TOKEN", aliceToken)
	t.Setenv("HF_HOME", t.TempDir())
	t.Setenv("HF_TOKEN_PATH", "")
	reg, err := registry.Open("hf", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := store.Open(t.TempDir())
	if _, err := reg.Pull(context.Background(), registrytest.MustRef(t, "hf://alice/redirected"), dst, registry.TransferOptions{}); err != nil {
		t.Fatalf("pull through redirects: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if served == 0 {
		t.Fatal("no download was redirected: the test tests nothing")
	}
	if len(leaked) != 0 {
		t.Fatalf("the token followed redirects to %v", leaked)
	}
}
