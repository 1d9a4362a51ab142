package hubtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune the hub. Zero values pick the defaults noted per field.
type Options struct {
	// Dir holds stored files; empty means a temp dir removed by Close.
	Dir string
	// Addr to listen on; default 127.0.0.1:0. Only loopback is allowed.
	Addr string
	// TreePageSize is the page size of tree listings (default 1000, the Hub's).
	TreePageSize int
	// ListPageSize caps the page size of repo listings (default 1000).
	ListPageSize int
	// RegularMax is the largest file a regular (non-LFS) commit accepts
	// (default 10 MiB, the Hub's limit).
	RegularMax int64
	// BinaryRegularMax is the largest binary file accepted as regular
	// (default 1,000,000 bytes, the Hub's limit).
	BinaryRegularMax int64
	// MultipartAbove: LFS objects larger than this get a multipart upload
	// (default 8 MiB).
	MultipartAbove int64
	// ChunkSize of multipart parts (default 5 MiB).
	ChunkSize int64
}

// Stats count what the hub served; tests use them to prove which protocol
// paths a client took.
type Stats struct {
	Commits            int64
	RegularFiles       int64 // files committed inline (base64)
	LFSFiles           int64 // lfsFile commit entries
	BasicUploads       int64 // completed single-PUT LFS uploads
	MultipartUploads   int64 // completed multipart LFS uploads
	PartsUploaded      int64
	TreePages          int64
	ListPages          int64
	RangeRequests      int64 // resolve/CDN GETs with a Range header
	RedirectsToStorage int64 // LFS resolves answered with 302
}

// Hub is a running test hub.
type Hub struct {
	opt     Options
	srv     *httptest.Server
	dir     string
	ownsDir bool
	secret  []byte // signs storage (CDN) URLs

	mu      sync.Mutex
	tokens  map[string]token
	orgs    map[string]map[string]bool // org → members
	repos   map[string]*repo           // "datasets/ns/name" → repo
	uploads map[string]*upload
	seq     int64

	commits, regular, lfsFiles, basic, multipart, parts atomic.Int64
	treePages, listPages, ranges, redirects             atomic.Int64
}

type token struct {
	user  string
	write bool
}

// New starts a hub on 127.0.0.1. Close it when done.
func New(opt Options) (*Hub, error) {
	if opt.TreePageSize <= 0 {
		opt.TreePageSize = 1000
	}
	if opt.ListPageSize <= 0 {
		opt.ListPageSize = 1000
	}
	if opt.RegularMax <= 0 {
		opt.RegularMax = 10 << 20
	}
	if opt.BinaryRegularMax <= 0 {
		opt.BinaryRegularMax = 1_000_000
	}
	if opt.MultipartAbove <= 0 {
		opt.MultipartAbove = 8 << 20
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = 5 << 20
	}
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("hubtest: bad address %q: %v", opt.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("hubtest: address %q is not loopback; use 127.0.0.1", opt.Addr)
	}
	h := &Hub{
		opt:     opt,
		dir:     opt.Dir,
		tokens:  map[string]token{},
		orgs:    map[string]map[string]bool{},
		repos:   map[string]*repo{},
		uploads: map[string]*upload{},
		secret:  randomBytes(32),
	}
	if h.dir == "" {
		if h.dir, err = os.MkdirTemp("", "hubtest-"); err != nil {
			return nil, err
		}
		h.ownsDir = true
	}
	for _, d := range []string{"objects", "tmp", "uploads"} {
		if err := os.MkdirAll(filepath.Join(h.dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", opt.Addr)
	if err != nil {
		return nil, err
	}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(h.serve))
	h.srv.Listener = ln
	h.srv.Start()
	return h, nil
}

// URL is the hub's base URL (use as HF_ENDPOINT / hubUrl).
func (h *Hub) URL() string { return h.srv.URL }

// Close stops the server and removes a temp storage dir.
func (h *Hub) Close() {
	h.srv.Close()
	if h.ownsDir {
		os.RemoveAll(h.dir)
	}
}

// AddToken makes tok (which must start with hf_) authenticate as user;
// write tokens may write to the user's repos and its organisations'.
func (h *Hub) AddToken(tok, user string, write bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tokens[tok] = token{user: user, write: write}
}

// AddOrg makes users members of an organisation.
func (h *Hub) AddOrg(org string, members ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.orgs[org] == nil {
		h.orgs[org] = map[string]bool{}
	}
	for _, m := range members {
		h.orgs[org][m] = true
	}
}

// Stats returns the counters so far.
func (h *Hub) Stats() Stats {
	return Stats{
		Commits: h.commits.Load(), RegularFiles: h.regular.Load(), LFSFiles: h.lfsFiles.Load(),
		BasicUploads: h.basic.Load(), MultipartUploads: h.multipart.Load(), PartsUploaded: h.parts.Load(),
		TreePages: h.treePages.Load(), ListPages: h.listPages.Load(), RangeRequests: h.ranges.Load(),
		RedirectsToStorage: h.redirects.Load(),
	}
}

// apiError is an error answer: status, message, optional X-Error-Code.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errf(status int, code, format string, a ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, a...)}
}

func writeErr(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.code != "" {
		w.Header().Set("X-Error-Code", e.code)
	}
	w.Header().Set("X-Error-Message", e.msg)
	if r.Method == http.MethodHead {
		w.WriteHeader(e.status)
		return
	}
	writeJSON(w, e.status, map[string]string{"error": e.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// caller is who a request authenticates as; user "" is anonymous.
type caller struct {
	user  string
	write bool
}

// authenticate: a present but unknown token is refused everywhere (the
// Hub answers 401 even on public resources).
func (h *Hub) authenticate(r *http.Request) (caller, *apiError) {
	a := r.Header.Get("Authorization")
	if a == "" {
		return caller{}, nil
	}
	tok, ok := strings.CutPrefix(a, "Bearer ")
	if !ok || !strings.HasPrefix(tok, "hf_") {
		return caller{}, errf(401, "", "Invalid credentials in Authorization header")
	}
	h.mu.Lock()
	t, ok := h.tokens[tok]
	h.mu.Unlock()
	if !ok {
		return caller{}, errf(401, "", "Invalid credentials in Authorization header")
	}
	return caller(t), nil
}

// member reports whether user may act for namespace ns (h.mu held).
func (h *Hub) member(user, ns string) bool {
	return user != "" && (user == ns || h.orgs[ns][user])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randomID() string { return hex.EncodeToString(randomBytes(16)) }

func baseURL(r *http.Request) string { return "http://" + r.Host }

func now() time.Time { return time.Now().UTC() }
