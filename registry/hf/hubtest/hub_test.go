package hubtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

type call struct {
	method, path, token, body string
	header                    map[string]string
}

func (h *Hub) call(t *testing.T, c call) (*http.Response, []byte) {
	t.Helper()
	u := c.path
	if strings.HasPrefix(u, "/") {
		u = h.URL() + u
	}
	req, err := http.NewRequest(c.method, u, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func setup(t *testing.T) *Hub {
	t.Helper()
	h, err := New(Options{Dir: t.TempDir(), TreePageSize: 2, MultipartAbove: 10, ChunkSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	h.AddToken("hf_alice", "alice", true)
	h.AddToken("hf_bob", "bob", true)
	for _, r := range []string{`{"name":"priv","organization":"alice","type":"dataset","private":true}`,
		`{"name":"pub","organization":"alice","type":"dataset","private":false}`} {
		if resp, b := h.call(t, call{method: "POST", path: "/api/repos/create", token: "hf_alice", body: r}); resp.StatusCode != 200 {
			t.Fatalf("create: %d %s", resp.StatusCode, b)
		}
	}
	text := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	body := `{"key":"header","value":{"summary":"s"}}` + "\n" +
		fmt.Sprintf(`{"key":"file","value":{"path":"a/b.txt","content":"%s","encoding":"base64"}}`, text) + "\n" +
		fmt.Sprintf(`{"key":"file","value":{"path":"c.txt","content":"%s","encoding":"base64"}}`, text)
	for _, repo := range []string{"priv", "pub"} {
		if resp, b := h.call(t, call{method: "POST", path: "/api/datasets/alice/" + repo + "/commit/main", token: "hf_alice", body: body}); resp.StatusCode != 200 {
			t.Fatalf("commit: %d %s", resp.StatusCode, b)
		}
	}
	return h
}

// TestStatuses: the answers the Hub gives for auth and missing things.
func TestStatuses(t *testing.T) {
	h := setup(t)
	bin := strings.Repeat("\x00", 1_000_001)
	cases := []struct {
		name      string
		c         call
		status    int
		errorCode string
	}{
		{"public, anonymous", call{method: "GET", path: "/datasets/alice/pub/resolve/main/c.txt"}, 200, ""},
		{"private, anonymous", call{method: "GET", path: "/datasets/alice/priv/resolve/main/c.txt"}, 401, "RepoNotFound"},
		{"private, owner", call{method: "GET", path: "/datasets/alice/priv/resolve/main/c.txt", token: "hf_alice"}, 200, ""},
		{"private, other user", call{method: "GET", path: "/datasets/alice/priv/resolve/main/c.txt", token: "hf_bob"}, 404, "RepoNotFound"},
		{"wrong token, public repo", call{method: "GET", path: "/datasets/alice/pub/resolve/main/c.txt", token: "hf_wrong"}, 401, ""},
		{"token without hf_", call{method: "GET", path: "/datasets/alice/pub/resolve/main/c.txt", token: "abc"}, 401, ""},
		{"missing repo", call{method: "GET", path: "/datasets/alice/none/resolve/main/c.txt", token: "hf_alice"}, 404, "RepoNotFound"},
		{"missing revision", call{method: "GET", path: "/datasets/alice/pub/resolve/nope/c.txt"}, 404, "RevisionNotFound"},
		{"missing file", call{method: "GET", path: "/datasets/alice/pub/resolve/main/nope.txt"}, 404, "EntryNotFound"},
		{"HEAD missing file", call{method: "HEAD", path: "/datasets/alice/pub/resolve/main/nope.txt"}, 404, "EntryNotFound"},
		{"range", call{method: "GET", path: "/datasets/alice/pub/resolve/main/c.txt", header: map[string]string{"Range": "bytes=0-0"}}, 206, ""},
		{"create exists", call{method: "POST", path: "/api/repos/create", token: "hf_alice", body: `{"name":"pub","organization":"alice","type":"dataset"}`}, 409, ""},
		{"create anonymous", call{method: "POST", path: "/api/repos/create", body: `{"name":"x","organization":"alice","type":"dataset"}`}, 401, ""},
		{"create in other namespace", call{method: "POST", path: "/api/repos/create", token: "hf_bob", body: `{"name":"x","organization":"alice","type":"dataset"}`}, 403, ""},
		{"commit to missing branch", call{method: "POST", path: "/api/datasets/alice/pub/commit/nope", token: "hf_alice", body: `{"key":"header","value":{"summary":"s"}}`}, 404, "RevisionNotFound"},
		{"commit by non-member", call{method: "POST", path: "/api/datasets/alice/pub/commit/main", token: "hf_bob", body: `{"key":"header","value":{"summary":"s"}}`}, 403, ""},
		{"binary inline file over 1 MB", call{method: "POST", path: "/api/datasets/alice/pub/commit/main", token: "hf_alice",
			body: `{"key":"header","value":{"summary":"s"}}` + "\n" + `{"key":"file","value":{"path":"x.bin","encoding":"base64","content":"` + base64.StdEncoding.EncodeToString([]byte(bin)) + `"}}`}, 400, ""},
		{"lfsFile never uploaded", call{method: "POST", path: "/api/datasets/alice/pub/commit/main", token: "hf_alice",
			body: `{"key":"header","value":{"summary":"s"}}` + "\n" + `{"key":"lfsFile","value":{"path":"x.bin","algo":"sha256","size":3,"oid":"` + strings.Repeat("ab", 32) + `"}}`}, 400, ""},
		{"stale parentCommit", call{method: "POST", path: "/api/datasets/alice/pub/commit/main", token: "hf_alice", body: `{"key":"header","value":{"summary":"s","parentCommit":"` + strings.Repeat("0", 40) + `"}}`}, 412, ""},
		{"tree of missing path", call{method: "GET", path: "/api/datasets/alice/pub/tree/main/nope"}, 404, "EntryNotFound"},
		{"whoami anonymous", call{method: "GET", path: "/api/whoami-v2"}, 401, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := h.call(t, c.c)
			if resp.StatusCode != c.status || resp.Header.Get("X-Error-Code") != c.errorCode {
				t.Errorf("HTTP %d X-Error-Code %q (%s); want %d %q", resp.StatusCode, resp.Header.Get("X-Error-Code"), body, c.status, c.errorCode)
			}
			if c.status == 206 && resp.Header.Get("Content-Range") != "bytes 0-0/16" {
				t.Errorf("Content-Range %q", resp.Header.Get("Content-Range"))
			}
		})
	}
}

var linkRe = regexp.MustCompile(`^<(https?://[^>]+)>; rel="next"$`)

// TestTreePagination: pages follow absolute Link URLs and cover all files.
func TestTreePagination(t *testing.T) {
	h := setup(t)
	var paths []string
	u := "/api/datasets/alice/pub/tree/main?recursive=true"
	for pages := 0; u != ""; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		resp, body := h.call(t, call{method: "GET", path: u})
		var items []struct{ Path, Type string }
		if err := json.Unmarshal(body, &items); err != nil || resp.StatusCode != 200 || len(items) > 2 {
			t.Fatalf("page %d: %d %s", pages, resp.StatusCode, body)
		}
		for _, it := range items {
			paths = append(paths, it.Type+":"+it.Path)
		}
		u = ""
		if l := resp.Header.Get("Link"); l != "" {
			m := linkRe.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link header %q is not an absolute rel=next link", l)
			}
			u = m[1]
		}
	}
	want := "file:.gitattributes directory:a file:a/b.txt file:c.txt"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("tree = %s, want %s", got, want)
	}
}

// TestMultipartChecks: parts must carry the right sizes and ETags, and the
// joined object must hash to its oid.
func TestMultipartChecks(t *testing.T) {
	h := setup(t)
	data := []byte("0123456789abcdefghij") // 20 bytes: 5 parts of 4 (MultipartAbove 10)
	sum := sha256.Sum256(data)
	oid := hex.EncodeToString(sum[:])
	batch := func() (string, map[string]string) {
		body := fmt.Sprintf(`{"operation":"upload","transfers":["basic","multipart"],"objects":[{"oid":"%s","size":%d}]}`, oid, len(data))
		resp, b := h.call(t, call{method: "POST", path: "/datasets/alice/pub.git/info/lfs/objects/batch", token: "hf_alice", body: body})
		if resp.StatusCode != 200 {
			t.Fatalf("batch: %d %s", resp.StatusCode, b)
		}
		var out struct {
			Objects []struct {
				Actions struct {
					Upload struct {
						Href   string
						Header map[string]string
					}
				}
			}
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out.Objects[0].Actions.Upload.Href, out.Objects[0].Actions.Upload.Header
	}
	href, hdr := batch()
	if hdr["chunk_size"] != "4" || hdr["00005"] == "" || hdr["00006"] != "" {
		t.Fatalf("multipart header %v", hdr)
	}
	if resp, _ := h.call(t, call{method: "PUT", path: hdr["00001"], body: "012"}); resp.StatusCode != 400 {
		t.Errorf("short part accepted: %d", resp.StatusCode)
	}
	var parts []string
	for i := 1; i <= 5; i++ {
		resp, _ := h.call(t, call{method: "PUT", path: hdr[fmt.Sprintf("%05d", i)], body: string(data[(i-1)*4 : i*4])})
		if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
			t.Fatalf("part %d: %d", i, resp.StatusCode)
		}
		parts = append(parts, fmt.Sprintf(`{"partNumber":%d,"etag":%q}`, i, resp.Header.Get("ETag")))
	}
	bad := strings.Replace(strings.Join(parts, ","), `"etag":"\"`, `"etag":"\"x`, 1)
	if resp, _ := h.call(t, call{method: "POST", path: href, body: `{"oid":"` + oid + `","parts":[` + bad + `]}`}); resp.StatusCode != 400 {
		t.Errorf("wrong ETag accepted: %d", resp.StatusCode)
	}
	if resp, b := h.call(t, call{method: "POST", path: href, body: `{"oid":"` + oid + `","parts":[` + strings.Join(parts, ",") + `]}`}); resp.StatusCode != 200 {
		t.Fatalf("complete: %d %s", resp.StatusCode, b)
	}
	// Now stored: a second batch asks for nothing.
	if resp, b := h.call(t, call{method: "POST", path: "/datasets/alice/pub.git/info/lfs/objects/batch", token: "hf_alice",
		body: fmt.Sprintf(`{"operation":"upload","transfers":["basic"],"objects":[{"oid":"%s","size":%d}]}`, oid, len(data))}); resp.StatusCode != 200 || bytes.Contains(b, []byte("actions")) {
		t.Errorf("stored object still gets an upload action: %s", b)
	}

	// A basic upload whose bytes do not hash to the oid is refused.
	other := []byte("short")
	body := fmt.Sprintf(`{"operation":"upload","transfers":["basic"],"objects":[{"oid":"%s","size":%d}]}`, strings.Repeat("cd", 32), len(other))
	_, b := h.call(t, call{method: "POST", path: "/datasets/alice/pub.git/info/lfs/objects/batch", token: "hf_alice", body: body})
	var out struct {
		Objects []struct {
			Actions struct{ Upload struct{ Href string } }
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if resp, _ := h.call(t, call{method: "PUT", path: out.Objects[0].Actions.Upload.Href, body: string(other)}); resp.StatusCode != 400 {
		t.Errorf("upload with the wrong sha256 accepted: %d", resp.StatusCode)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "10.1.2.3:0", ":0"} {
		if h, err := New(Options{Addr: addr}); err == nil {
			h.Close()
			t.Errorf("New(%q) listened on a non-loopback address", addr)
		}
	}
}
