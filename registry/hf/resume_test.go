package hf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/registry/registrytest"
)

// cuttingWriter passes half of a response through, then breaks the
// connection, as a flaky network does.
type cuttingWriter struct {
	http.ResponseWriter
	limit, n int64
	cuts     *atomic.Int64
}

func (w *cuttingWriter) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.limit {
		k := w.limit - w.n
		w.ResponseWriter.Write(p[:k])
		w.ResponseWriter.(http.Flusher).Flush()
		w.cuts.Add(1)
		panic(http.ErrAbortHandler)
	}
	w.n += int64(len(p))
	return w.ResponseWriter.Write(p)
}

// TestPullResumesBrokenDownloads puts a proxy in front of the hub that
// breaks the first full download of every LFS object halfway; the pull
// must still succeed, continuing with Range requests.
func TestPullResumesBrokenDownloads(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	st, id := registrytest.SmallImage(t, 8)
	if _, err := open(t, h, aliceToken).Push(context.Background(), st, id, registrytest.MustRef(t, "hf://alice/flaky"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}

	target, _ := url.Parse(h.URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		cuts atomic.Int64
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/lfs-storage/") && r.Header.Get("Range") == "" {
			mu.Lock()
			first := !seen[r.URL.Path]
			seen[r.URL.Path] = true
			mu.Unlock()
			if first {
				cw := &cuttingWriter{ResponseWriter: w, limit: 100, cuts: &cuts}
				rp.ServeHTTP(cw, r)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	t.Setenv("HF_ENDPOINT", proxy.URL)
	reg, err := registry.Open("hf", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st2 := registrytest.NewStore(t)
	before := h.Stats().RangeRequests
	rep, err := reg.Pull(context.Background(), registrytest.MustRef(t, "hf://alice/flaky"), st2, registry.TransferOptions{})
	if err != nil {
		t.Fatalf("pull through a flaky connection: %v", err)
	}
	if !rep.Complete || !st2.HasImage(id) {
		t.Fatal("pull incomplete")
	}
	if cuts.Load() == 0 {
		t.Fatal("the proxy never broke a download; the test tests nothing")
	}
	if got := h.Stats().RangeRequests - before; got < cuts.Load() {
		t.Errorf("%d downloads broken, only %d resumed with Range", cuts.Load(), got)
	}
}
