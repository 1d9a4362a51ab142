package hubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// upload is a pending LFS upload; its URLs carry the id as authorisation,
// since the client sends no token on them.
type upload struct {
	repoKey string
	oid     string
	size    int64
	chunk   int64 // 0 for a single PUT
	nparts  int
	etags   map[int]string
}

func openFile(p string) (*os.File, error) { return os.Open(p) }

// isBinary applies the Hub's test to a sample: a NUL byte or invalid UTF-8
// (a multi-byte rune cut at the sample's end does not count).
func isBinary(sample []byte) bool {
	if bytes.IndexByte(sample, 0) >= 0 {
		return true
	}
	for cut := 0; cut <= 3 && cut <= len(sample); cut++ {
		if utf8.Valid(sample[:len(sample)-cut]) {
			return false
		}
	}
	return true
}

// lfsPatterns reads the filter=lfs patterns of .gitattributes in c (h.mu held).
func (h *Hub) lfsPatterns(c *commit) []string {
	e := c.files[".gitattributes"]
	if e == nil || e.size > 1<<20 {
		return nil
	}
	b, err := os.ReadFile(h.objectPath(e.sha256))
	if err != nil {
		return nil
	}
	var pats []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && !strings.HasPrefix(f[0], "#") && contains(f[1:], "filter=lfs") {
			pats = append(pats, f[0])
		}
	}
	return pats
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func matchesAny(pats []string, p string) bool {
	for _, pat := range pats {
		target := p
		if !strings.Contains(pat, "/") {
			target = path.Base(p)
		}
		if ok, _ := path.Match(pat, target); ok {
			return true
		}
	}
	return false
}

// needsLFS is the preupload decision: .gitattributes patterns, size over
// RegularMax, or binary content over BinaryRegularMax.
func (h *Hub) needsLFS(pats []string, p string, size int64, sample []byte) bool {
	return matchesAny(pats, p) || size > h.opt.RegularMax || (size > h.opt.BinaryRegularMax && isBinary(sample))
}

func (h *Hub) preupload(w http.ResponseWriter, r *http.Request, rp *repo, rev string) {
	var body struct {
		Files []struct {
			Path   string `json:"path"`
			Size   int64  `json:"size"`
			Sample string `json:"sample"`
		} `json:"files"`
	}
	if !decode(w, r, &body) {
		return
	}
	if len(body.Files) > 1000 {
		writeErr(w, r, errf(400, "", "too many files in one preupload call"))
		return
	}
	h.mu.Lock()
	id, ok := rp.branches[rev]
	var pats []string
	if ok {
		pats = h.lfsPatterns(rp.commits[id])
	}
	h.mu.Unlock()
	if !ok && r.URL.Query().Get("create_pr") == "" {
		writeErr(w, r, errf(404, "RevisionNotFound", "Invalid rev id: %s", rev))
		return
	}
	type fileMode struct {
		Path         string `json:"path"`
		UploadMode   string `json:"uploadMode"`
		ShouldIgnore bool   `json:"shouldIgnore"`
	}
	out := []fileMode{}
	for _, f := range body.Files {
		sample, err := base64.StdEncoding.DecodeString(f.Sample)
		if err != nil {
			writeErr(w, r, errf(400, "", "sample of %s is not base64", f.Path))
			return
		}
		mode := "regular"
		if h.needsLFS(pats, f.Path, f.Size, sample) {
			mode = "lfs"
		}
		out = append(out, fileMode{Path: f.Path, UploadMode: mode})
	}
	writeJSON(w, 200, map[string]any{"files": out, "commitOid": id})
}

// lfsObject is one object of an LFS batch request.
type lfsObject struct {
	Oid  string `json:"oid"`
	Size int64  `json:"size"`
}

// partETag is one uploaded part of a multipart completion.
type partETag struct {
	PartNumber int    `json:"partNumber"`
	Etag       string `json:"etag"`
}

// lfsBatch answers the git-lfs batch API for uploads (basic and the Hub's
// multipart transfer; never xet).
func (h *Hub) lfsBatch(w http.ResponseWriter, r *http.Request, c caller, kind, ns, name string) {
	rp, aerr := h.lookup(c, kind, ns, name, true)
	if aerr != nil {
		writeErr(w, r, aerr)
		return
	}
	var body struct {
		Operation string      `json:"operation"`
		Transfers []string    `json:"transfers"`
		Objects   []lfsObject `json:"objects"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Operation != "upload" {
		writeErr(w, r, errf(400, "", "only the upload operation is served"))
		return
	}
	multipartOK := contains(body.Transfers, "multipart")
	type action struct {
		Href   string            `json:"href"`
		Header map[string]string `json:"header,omitempty"`
	}
	type object struct {
		Oid     string             `json:"oid"`
		Size    int64              `json:"size"`
		Actions map[string]*action `json:"actions,omitempty"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error,omitempty"`
	}
	out := []object{}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range body.Objects {
		obj := object{Oid: o.Oid, Size: o.Size}
		if !isSHA256Hex(o.Oid) || o.Size < 0 {
			obj.Error = &struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}{422, "invalid oid or size"}
			out = append(out, obj)
			continue
		}
		if sz, ok := rp.lfs[o.Oid]; ok && sz == o.Size {
			out = append(out, obj) // already stored: no action
			continue
		}
		id := randomID()
		up := &upload{repoKey: rp.key(), oid: o.Oid, size: o.Size, etags: map[int]string{}}
		if multipartOK && o.Size > h.opt.MultipartAbove {
			up.chunk = h.opt.ChunkSize
			up.nparts = int((o.Size + up.chunk - 1) / up.chunk)
			hdr := map[string]string{"chunk_size": strconv.FormatInt(up.chunk, 10)}
			for i := 1; i <= up.nparts; i++ {
				hdr[fmt.Sprintf("%05d", i)] = fmt.Sprintf("%s/lfs-part/%s/%d", baseURL(r), id, i)
			}
			obj.Actions = map[string]*action{"upload": {Href: baseURL(r) + "/lfs-complete/" + id, Header: hdr}}
		} else {
			obj.Actions = map[string]*action{"upload": {Href: baseURL(r) + "/lfs-upload/" + id}}
		}
		h.uploads[id] = up
		out = append(out, obj)
	}
	w.Header().Set("Content-Type", "application/vnd.git-lfs+json")
	w.WriteHeader(200)
	_ = json.NewEncoder(w).Encode(map[string]any{"transfer": "basic", "objects": out, "hash_algo": "sha_256"})
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func (h *Hub) takeUpload(id string, multipart bool) *upload {
	h.mu.Lock()
	defer h.mu.Unlock()
	up := h.uploads[id]
	if up == nil || (up.chunk > 0) != multipart {
		return nil
	}
	return up
}

// lfsBasicPut stores a whole LFS object, verifying size and sha256.
func (h *Hub) lfsBasicPut(w http.ResponseWriter, r *http.Request, id string) {
	up := h.takeUpload(id, false)
	if r.Method != http.MethodPut || up == nil {
		writeErr(w, r, errf(404, "", "unknown upload"))
		return
	}
	if _, _, err := h.storeStream(r.Body, up.oid, up.size); err != nil {
		writeErr(w, r, errf(400, "", "upload rejected: %v", err))
		return
	}
	h.finishUpload(id, up)
	h.basic.Add(1)
	w.WriteHeader(200)
}

func (h *Hub) finishUpload(id string, up *upload) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.uploads, id)
	if rp := h.repos[up.repoKey]; rp != nil {
		rp.lfs[up.oid] = up.size
	}
}

func (h *Hub) partPath(id string, n int) string {
	return filepath.Join(h.dir, "uploads", id+"."+strconv.Itoa(n))
}

// lfsPartPut stores one part and answers its ETag (md5, quoted, like S3).
func (h *Hub) lfsPartPut(w http.ResponseWriter, r *http.Request, id, part string) {
	up := h.takeUpload(id, true)
	n, err := strconv.Atoi(part)
	if r.Method != http.MethodPut || up == nil || err != nil || n < 1 || n > up.nparts {
		writeErr(w, r, errf(404, "", "unknown upload part"))
		return
	}
	want := up.chunk
	if n == up.nparts {
		want = up.size - int64(up.nparts-1)*up.chunk
	}
	f, err := os.Create(h.partPath(id, n))
	if err != nil {
		writeErr(w, r, errf(500, "", "%v", err))
		return
	}
	md := md5.New()
	got, err := io.Copy(io.MultiWriter(f, md), r.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || got != want {
		os.Remove(h.partPath(id, n))
		writeErr(w, r, errf(400, "", "part %d: got %d bytes, expected %d", n, got, want))
		return
	}
	etag := `"` + hex.EncodeToString(md.Sum(nil)) + `"`
	h.mu.Lock()
	up.etags[n] = etag
	h.mu.Unlock()
	h.parts.Add(1)
	w.Header().Set("ETag", etag)
	w.WriteHeader(200)
}

// lfsComplete joins the parts, checking the ETags and the object's sha256.
func (h *Hub) lfsComplete(w http.ResponseWriter, r *http.Request, id string) {
	up := h.takeUpload(id, true)
	if r.Method != http.MethodPost || up == nil {
		writeErr(w, r, errf(404, "", "unknown upload"))
		return
	}
	var body struct {
		Oid   string     `json:"oid"`
		Parts []partETag `json:"parts"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Oid != up.oid || len(body.Parts) != up.nparts {
		writeErr(w, r, errf(400, "", "completion does not match the upload (oid or part count)"))
		return
	}
	sort.Slice(body.Parts, func(i, j int) bool { return body.Parts[i].PartNumber < body.Parts[j].PartNumber })
	h.mu.Lock()
	for i, p := range body.Parts {
		if p.PartNumber != i+1 || up.etags[p.PartNumber] == "" || up.etags[p.PartNumber] != p.Etag {
			h.mu.Unlock()
			writeErr(w, r, errf(400, "", "part %d missing or ETag mismatch", p.PartNumber))
			return
		}
	}
	h.mu.Unlock()
	pr, pw := io.Pipe()
	go func() {
		for i := 1; i <= up.nparts; i++ {
			f, err := os.Open(h.partPath(id, i))
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, err = io.Copy(pw, f)
			f.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	_, _, err := h.storeStream(pr, up.oid, up.size)
	pr.Close()
	for i := 1; i <= up.nparts; i++ {
		os.Remove(h.partPath(id, i))
	}
	if err != nil {
		h.mu.Lock()
		delete(h.uploads, id)
		h.mu.Unlock()
		writeErr(w, r, errf(400, "", "multipart upload rejected: %v", err))
		return
	}
	h.finishUpload(id, up)
	h.multipart.Add(1)
	writeJSON(w, 200, map[string]any{})
}

// storageURL is a signed, expiring URL for an LFS object (the "CDN").
func (h *Hub) storageURL(oid string) string {
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	return "/lfs-storage/" + oid + "?expires=" + exp + "&sig=" + h.sign(oid+"|"+exp)
}

func (h *Hub) sign(s string) string {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

func (h *Hub) storageGet(w http.ResponseWriter, r *http.Request, oid string) {
	q := r.URL.Query()
	exp, _ := strconv.ParseInt(q.Get("expires"), 10, 64)
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !isSHA256Hex(oid) ||
		!hmac.Equal([]byte(q.Get("sig")), []byte(h.sign(oid+"|"+q.Get("expires")))) || time.Now().Unix() > exp {
		writeErr(w, r, errf(403, "", "Request has expired or signature does not match"))
		return
	}
	h.serveObject(w, r, oid, `"`+oid+`"`)
}

// commit applies an NDJSON commit to a branch.
func (h *Hub) commit(w http.ResponseWriter, r *http.Request, rp *repo, rev string) {
	if r.URL.Query().Get("create_pr") != "" {
		writeErr(w, r, errf(400, "", "pull requests are not served by the test hub"))
		return
	}
	req, aerr := h.parseCommit(r.Body)
	if aerr == nil {
		aerr = h.applyCommit(rp, rev, req)
	}
	if aerr != nil {
		writeErr(w, r, aerr)
		return
	}
	writeJSON(w, 200, map[string]any{"success": true, "commitOid": req.id,
		"commitUrl": baseURL(r) + "/" + urlPrefix(rp.kind) + rp.id() + "/commit/" + req.id, "hookOutput": ""})
}

// commitReq is a parsed NDJSON commit body.
type commitReq struct {
	title, parent string
	ops           []commitOp
	id            string // set once applied
}

// commitOp is one file operation of a commit.
type commitOp struct {
	path string
	del  bool
	dir  bool
	e    *entry
}

// parseCommit reads the NDJSON body, storing the regular files it carries.
func (h *Hub) parseCommit(body io.Reader) (*commitReq, *apiError) {
	req := &commitReq{}
	sawHeader := false
	dec := json.NewDecoder(body)
	for {
		var line struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		if err := dec.Decode(&line); err == io.EOF {
			break
		} else if err != nil {
			return nil, errf(400, "", "invalid NDJSON commit body: %v", err)
		}
		if line.Key == "header" {
			var v struct {
				Summary      string `json:"summary"`
				ParentCommit string `json:"parentCommit"`
			}
			if err := json.Unmarshal(line.Value, &v); err != nil {
				return nil, errf(400, "", "invalid header: %v", err)
			}
			req.title, req.parent, sawHeader = v.Summary, v.ParentCommit, true
			continue
		}
		op, aerr := h.parseCommitOp(line.Key, line.Value)
		if aerr != nil {
			return nil, aerr
		}
		req.ops = append(req.ops, op)
	}
	if !sawHeader || req.title == "" {
		return nil, errf(400, "", "commit header with a summary is required")
	}
	return req, nil
}

// parseCommitOp reads one file, lfsFile, deletedFile or deletedFolder line.
func (h *Hub) parseCommitOp(key string, value json.RawMessage) (commitOp, *apiError) {
	switch key {
	case "file":
		var v struct {
			Path, Content, Encoding string
		}
		if err := json.Unmarshal(value, &v); err != nil || v.Encoding != "base64" || !validPath(v.Path) {
			return commitOp{}, errf(400, "", "invalid file operation")
		}
		b, err := base64.StdEncoding.DecodeString(v.Content)
		if err != nil {
			return commitOp{}, errf(400, "", "%s: content is not base64", v.Path)
		}
		if int64(len(b)) > h.opt.RegularMax {
			return commitOp{}, errf(400, "", "Your push was rejected because it contains files larger than 10 MiB. Please use https://huggingface.co/docs/hub/xet to store large files.")
		}
		if int64(len(b)) > h.opt.BinaryRegularMax && isBinary(b[:min(len(b), 512)]) {
			return commitOp{}, errf(400, "", "Your push was rejected because it contains binary files. Please use https://huggingface.co/docs/hub/xet to store binary files.")
		}
		sha, err := h.storeBytes(b)
		if err != nil {
			return commitOp{}, errf(500, "", "%v", err)
		}
		return commitOp{path: v.Path, e: &entry{size: int64(len(b)), sha256: sha, gitOid: gitBlobID(b)}}, nil
	case "lfsFile":
		var v struct {
			Path, Algo, Oid string
			Size            int64
		}
		if err := json.Unmarshal(value, &v); err != nil || v.Algo != "sha256" || !validPath(v.Path) {
			return commitOp{}, errf(400, "", "invalid lfsFile operation")
		}
		return commitOp{path: v.Path, e: &entry{size: v.Size, sha256: v.Oid, lfs: true,
			gitOid: gitBlobID(lfsPointer(v.Oid, v.Size))}}, nil
	case "deletedFile", "deletedFolder":
		var v struct{ Path string }
		if err := json.Unmarshal(value, &v); err != nil || v.Path == "" {
			return commitOp{}, errf(400, "", "invalid %s operation", key)
		}
		return commitOp{path: strings.Trim(v.Path, "/"), del: true, dir: key == "deletedFolder"}, nil
	}
	return commitOp{}, errf(400, "", "unknown commit operation %q", key)
}

// applyCommit makes req the new head of branch rev, or changes nothing.
func (h *Hub) applyCommit(rp *repo, rev string, req *commitReq) *apiError {
	h.mu.Lock()
	defer h.mu.Unlock()
	head, ok := rp.branches[rev]
	if !ok {
		return errf(404, "RevisionNotFound", "Invalid rev id: %s", rev)
	}
	if req.parent != "" && req.parent != head {
		return errf(412, "", "A commit has happened since. Please refresh and try again.")
	}
	c := h.newCommit(rp, head, req.title, rp.commits[head].files)
	for _, o := range req.ops {
		switch {
		case o.del && o.dir:
			for p := range c.files {
				if strings.HasPrefix(p, o.path+"/") {
					delete(c.files, p)
				}
			}
		case o.del:
			if _, ok := c.files[o.path]; !ok {
				delete(rp.commits, c.id)
				return errf(404, "EntryNotFound", "%s does not exist", o.path)
			}
			delete(c.files, o.path)
		default:
			if o.e.lfs {
				if sz, ok := rp.lfs[o.e.sha256]; !ok || sz != o.e.size {
					delete(rp.commits, c.id)
					return errf(400, "", "Your push was rejected because an LFS pointer for %s points to a file that does not exist", o.path)
				}
				h.lfsFiles.Add(1)
			} else {
				h.regular.Add(1)
			}
			e := *o.e
			e.lastCommit = c.id
			c.files[o.path] = &e
		}
	}
	rp.branches[rev] = c.id
	h.commits.Add(1)
	req.id = c.id
	return nil
}

func validPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return false
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" || s == "." || s == ".." || s == ".git" {
			return false
		}
	}
	return true
}
