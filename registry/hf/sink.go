package hf

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"pf-registry/internal/crashpoint"
	"pf-registry/internal/fault"
	"pf-registry/internal/httpguard"
	"pf-registry/internal/spool"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// partConcurrency bounds parallel part uploads of one multipart object.
const partConcurrency = 4

// Sink implements registry.Backend: it makes sure the dataset and the
// branch exist (creating them) and pins the branch head the push builds on.
func (b *Backend) Sink(ctx context.Context, ref registry.Ref) (registry.Sink, error) {
	r, err := checkRef(ref)
	if err != nil {
		return nil, err
	}
	if b.c.token == "" {
		return nil, fault.WithHint(fault.Classed(fault.ErrAuth, fmt.Errorf("hf: pushing to %s needs a token", r)),
			"set HF_TOKEN, or log in so that $HF_HOME/token exists")
	}
	if err := b.createRepo(ctx, r); err != nil {
		return nil, err
	}
	head, err := b.ensureBranch(ctx, r)
	if err != nil {
		return nil, err
	}
	return &sink{b: b, r: r, head: head, seq: map[model.Digest]int{}, pending: map[model.Digest]*pendingBlob{}}, nil
}

// createRepo creates the dataset, private unless PF_HF_PUBLIC=1, when it
// does not exist yet (a token may write to a repo it could not create).
func (b *Backend) createRepo(ctx context.Context, r repoRef) error {
	resp, err := b.c.do(ctx, request{method: http.MethodGet, url: r.apiPath()})
	if err != nil {
		return err
	}
	drain(resp)
	if resp.StatusCode/100 == 2 {
		return nil
	}
	if resp.StatusCode != http.StatusNotFound {
		return b.refErr(resp, r, "")
	}
	body, _ := json.Marshal(map[string]any{"name": r.repo, "organization": r.user, "type": "dataset",
		"private": os.Getenv("PF_HF_PUBLIC") != "1"})
	resp, err = b.c.do(ctx, request{method: http.MethodPost, url: "/api/repos/create", body: body, contentType: "application/json"})
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusConflict {
		return nil
	}
	return b.c.statusErr(resp, "creating "+r.what(), "")
}

// ensureBranch returns the head commit of the push's branch, creating the
// branch from main when the revision does not exist. Tags and commit ids
// cannot be pushed to.
func (b *Backend) ensureBranch(ctx context.Context, r repoRef) (string, error) {
	find := func() (*hubRef, error) {
		refs, err := b.refs(ctx, r)
		if err != nil {
			return nil, err
		}
		for i := range refs {
			if refs[i].Name == r.rev {
				return &refs[i], nil
			}
		}
		return nil, nil
	}
	ref, err := find()
	if err != nil {
		return "", err
	}
	if ref != nil && ref.tag {
		return "", fault.WithHint(fmt.Errorf("hf: %s is a tag, and tags do not move", r),
			"push to a branch, e.g. hf://"+r.id()+":<branch>, and set PF_HF_TAG="+r.rev+" to tag the result")
	}
	if ref != nil {
		return ref.TargetCommit, nil
	}
	if commitID.MatchString(r.rev) {
		return "", fault.WithHint(fmt.Errorf("hf: %s names a commit, which cannot be pushed to", r), "push to a branch")
	}
	resp, err := b.c.do(ctx, request{method: http.MethodPost, url: r.apiPath() + "/branch/" + url.PathEscape(r.rev),
		body: []byte("{}"), contentType: "application/json"})
	if err != nil {
		return "", err
	}
	drain(resp)
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusConflict {
		return "", b.c.statusErr(resp, "creating branch "+strconv.Quote(r.rev)+" of "+r.what(), "")
	}
	if ref, err = find(); err != nil {
		return "", err
	}
	if ref == nil {
		return "", fmt.Errorf("hf: branch %q of %s was created but is not listed", r.rev, r.what())
	}
	return ref.TargetCommit, nil
}

// sink pushes one image to a branch.
type sink struct {
	b    *Backend
	r    repoRef
	head string // the commit the push builds on (its parentCommit)

	treeOnce sync.Once
	tree     map[string]bool // files under blobs/ at head
	treeErr  error

	mu      sync.Mutex
	seq     map[model.Digest]int // walk order, as the engine asks
	pending map[model.Digest]*pendingBlob
}

// pendingBlob is a blob for the commit: an uploaded LFS object, or a small
// regular file that is read again while the commit streams.
type pendingBlob struct {
	path string
	lfs  bool
	oid  string
	size int64
	blob *registry.Blob
}

func (s *sink) Describe() string { return s.r.String() }

// HasBlob lists blobs/ at the head once (following pagination) and answers
// from that set.
func (s *sink) HasBlob(ctx context.Context, d model.Digest) (bool, error) {
	s.mu.Lock()
	if _, ok := s.seq[d]; !ok {
		s.seq[d] = len(s.seq)
	}
	s.mu.Unlock()
	s.treeOnce.Do(func() { s.tree, s.treeErr = s.b.listFiles(ctx, s.r, s.head, "blobs/sha256") })
	if s.treeErr != nil {
		return false, s.treeErr
	}
	return s.tree[d.ShardPath()], nil
}

// listFiles lists the files under dir at rev recursively; a missing dir is
// empty.
func (b *Backend) listFiles(ctx context.Context, r repoRef, rev, dir string) (map[string]bool, error) {
	items, err := b.listTree(ctx, r, rev, dir, true, false)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, it := range items {
		if it.Type == "file" {
			out[it.Path] = true
		}
	}
	return out, nil
}

// listTree lists what is under dir at rev (following pagination), its
// subdirectories too when recursive; with expand each entry carries its
// last commit. A missing dir is empty.
func (b *Backend) listTree(ctx context.Context, r repoRef, rev, dir string, recursive, expand bool) ([]pathInfo, error) {
	var out []pathInfo
	u := r.apiPath() + "/tree/" + url.PathEscape(rev)
	if dir != "" {
		u += "/" + dir
	}
	u += "?recursive=" + strconv.FormatBool(recursive) + "&expand=" + strconv.FormatBool(expand)
	for u != "" {
		resp, err := b.c.do(ctx, request{method: http.MethodGet, url: u, header: map[string]string{"Accept": "application/json"}})
		if err != nil {
			return nil, err
		}
		if errCode(resp) == "EntryNotFound" {
			drain(resp)
			return out, nil
		}
		if resp.StatusCode/100 != 2 {
			defer drain(resp)
			return nil, b.refErr(resp, r, "")
		}
		var items []pathInfo
		err = json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&items)
		drain(resp)
		if err != nil {
			return nil, fmt.Errorf("hf: listing %s: unreadable answer: %v", r, err)
		}
		out = append(out, items...)
		if u, err = b.c.nextLink(resp.Header); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PutBlob spools the verified stream to a temp file (learning size, sha256
// and the sample preupload wants), then uploads it through LFS unless the
// Hub wants it inline.
func (s *sink) PutBlob(ctx context.Context, b *registry.Blob) error {
	f, err := spool.Create("hf-blob")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	rc, err := b.OpenToSpool()
	if err != nil {
		return err
	}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, h), rc)
	rc.Close()
	if err != nil {
		return err // an integrity failure included: nothing was uploaded
	}
	oid := hex.EncodeToString(h.Sum(nil))
	sample := make([]byte, 512)
	n, _ := f.ReadAt(sample, 0)
	p := b.Digest.ShardPath()

	lfs, err := s.preupload(ctx, p, size, sample[:n])
	if err != nil {
		return err
	}
	pb := &pendingBlob{path: p, lfs: lfs, oid: oid, size: size}
	if lfs {
		var sent atomic.Int64
		report := func(n int64) { b.Uploaded(min(sent.Add(n), size)) }
		if err := s.uploadLFS(ctx, f, oid, size, p, report); err != nil {
			return err
		}
	} else {
		pb.blob = b
	}
	s.mu.Lock()
	s.pending[b.Digest] = pb
	s.mu.Unlock()
	return nil
}

func (s *sink) preupload(ctx context.Context, p string, size int64, sample []byte) (bool, error) {
	body, _ := json.Marshal(map[string]any{"files": []map[string]any{
		{"path": p, "size": size, "sample": base64.StdEncoding.EncodeToString(sample)}}})
	var out struct {
		Files []struct {
			Path       string `json:"path"`
			UploadMode string `json:"uploadMode"`
		} `json:"files"`
	}
	if _, err := s.b.c.json(ctx, request{method: http.MethodPost, url: s.r.apiPath() + "/preupload/" + url.PathEscape(s.r.rev),
		body: body, contentType: "application/json"}, s.r.revWhat(s.r.rev), &out); err != nil {
		return false, err
	}
	for _, f := range out.Files {
		if f.Path == p {
			return f.UploadMode == "lfs", nil
		}
	}
	return false, fmt.Errorf("hf: the Hub's preupload answer does not mention %s", p)
}

type lfsAction struct {
	Href   string            `json:"href"`
	Header map[string]string `json:"header"`
}

// uploadLFS runs the batch API for one object, then a single PUT or a
// multipart upload as the Hub asks. Already-stored objects need nothing.
func (s *sink) uploadLFS(ctx context.Context, f *os.File, oid string, size int64, p string, report func(int64)) error {
	body, _ := json.Marshal(map[string]any{
		"operation": "upload", "transfers": []string{"basic", "multipart"}, "hash_algo": "sha_256",
		"ref": map[string]string{"name": s.r.rev}, "objects": []map[string]any{{"oid": oid, "size": size}}})
	var out struct {
		Transfer string `json:"transfer"`
		Objects  []struct {
			Oid     string                `json:"oid"`
			Actions map[string]*lfsAction `json:"actions"`
			Error   *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"objects"`
	}
	if _, err := s.b.c.json(ctx, request{method: http.MethodPost, url: s.r.gitPath() + ".git/info/lfs/objects/batch", body: body,
		contentType: "application/vnd.git-lfs+json", header: map[string]string{"Accept": "application/vnd.git-lfs+json"}},
		"LFS upload to "+s.r.what(), &out); err != nil {
		return err
	}
	if out.Transfer != "" && out.Transfer != "basic" && out.Transfer != "multipart" {
		return fmt.Errorf("hf: the Hub chose LFS transfer %q, which this tool does not speak", out.Transfer)
	}
	if len(out.Objects) != 1 || out.Objects[0].Oid != oid {
		return fmt.Errorf("hf: the Hub's LFS batch answer does not match the object of %s", p)
	}
	obj := out.Objects[0]
	if obj.Error != nil {
		return fmt.Errorf("hf: LFS upload of %s refused: %s (code %d)", p, s.b.c.redact(obj.Error.Message), obj.Error.Code)
	}
	up := obj.Actions["upload"]
	if up == nil {
		return nil // already stored
	}
	var err error
	if cs := up.Header["chunk_size"]; cs != "" {
		err = s.multipart(ctx, f, oid, size, up, cs, report)
	} else {
		_, err = s.putPart(ctx, up.Href, up.Header, io.NewSectionReader(f, 0, size), size, report)
	}
	if err != nil {
		return fmt.Errorf("hf: uploading %s: %w", p, err)
	}
	if v := obj.Actions["verify"]; v != nil {
		vb, _ := json.Marshal(map[string]any{"oid": oid, "size": size})
		_, err := s.b.c.json(ctx, request{method: http.MethodPost, url: v.Href, body: vb, header: v.Header, noAuth: true,
			contentType: "application/vnd.git-lfs+json"}, "LFS verify of "+p, nil)
		return err
	}
	return nil
}

// putPart uploads body to a storage URL (no Hub token: the URL carries its
// own authorisation) and returns the ETag. A failure for a passing reason
// is transient: the engine sends the blob again.
func (s *sink) putPart(ctx context.Context, href string, header map[string]string, body *io.SectionReader, size int64, report func(int64)) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, href, reportingReader{io.NewSectionReader(body, 0, size), report})
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	req.Header.Set("User-Agent", s.b.c.ua)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.b.c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", s.b.c.transportErr(err)
	}
	drain(resp)
	if resp.StatusCode/100 == 2 {
		return resp.Header.Get("ETag"), nil
	}
	err = fmt.Errorf("storage answered HTTP %d", resp.StatusCode)
	if httpguard.TransientStatus(resp.StatusCode) {
		err = fault.Transient(err, httpguard.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
	}
	return "", err
}

var partKey = regexp.MustCompile(`^[0-9]+$`)

// multipart uploads chunk_size slices to the numbered part URLs, up to
// partConcurrency at once, then posts the ETags to the completion URL.
func (s *sink) multipart(ctx context.Context, f *os.File, oid string, size int64, up *lfsAction, cs string, report func(int64)) error {
	chunk, err := strconv.ParseInt(cs, 10, 64)
	if err != nil || chunk <= 0 {
		return fmt.Errorf("bad multipart chunk_size %q", cs)
	}
	var nums []int
	for k := range up.Header {
		if partKey.MatchString(k) {
			n, _ := strconv.Atoi(k)
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	want := int((size + chunk - 1) / chunk)
	if len(nums) != want {
		return fmt.Errorf("the Hub offered %d part URLs for %d parts", len(nums), want)
	}
	urls := map[int]string{}
	for k, v := range up.Header {
		if partKey.MatchString(k) {
			n, _ := strconv.Atoi(k)
			urls[n] = v
		}
	}
	etags := make([]string, len(nums))
	err = forEach(ctx, len(nums), partConcurrency, func(i int) error {
		off := int64(i) * chunk
		n := min(chunk, size-off)
		etag, err := s.putPart(ctx, urls[nums[i]], nil, io.NewSectionReader(f, off, n), n, report)
		if err != nil {
			return fmt.Errorf("part %d: %w", nums[i], err)
		}
		if etag == "" {
			return fmt.Errorf("part %d: storage sent no ETag", nums[i])
		}
		etags[i] = etag
		return nil
	})
	if err != nil {
		return err
	}
	parts := make([]map[string]any, len(nums))
	for i, n := range nums {
		parts[i] = map[string]any{"partNumber": n, "etag": etags[i]}
	}
	body, _ := json.Marshal(map[string]any{"oid": oid, "parts": parts})
	_, err = s.b.c.json(ctx, request{method: http.MethodPost, url: up.Href, body: body, noAuth: true,
		contentType: "application/vnd.git-lfs+json", header: map[string]string{"Accept": "application/vnd.git-lfs+json"}},
		"completing the multipart upload", nil)
	return err
}

// Commit is CommitSigned without bundles.
func (s *sink) Commit(ctx context.Context, manifest, sig []byte) error {
	_, err := s.CommitSigned(ctx, manifest, sig, registry.Bundles{})
	return err
}

// commitSpec is what one commit adds and deletes.
type commitSpec struct {
	summary, description string
	inline               []inlineFile // small files, in order
	blobs                bool         // also the pending blobs
	deleted              []string
	tag                  bool // PF_HF_TAG applies
}

type inlineFile struct {
	path string
	data []byte
}

// CommitSigned implements registry.SignedSink: one NDJSON commit of
// manifest.json, manifest.json.sig, the bundles and the new blobs in walk
// order, deleting the bundles of the image it replaces. parentCommit
// makes the Hub refuse it if the branch moved since the push started (the
// skip decisions were made on that head).
func (s *sink) CommitSigned(ctx context.Context, manifest, sig []byte, b registry.Bundles) ([]signing.Check, error) {
	files, err := b.Files(manifest)
	if err != nil {
		return nil, err
	}
	spec := commitSpec{description: "image " + string(model.FromBytes(manifest)), blobs: true, tag: true,
		inline: []inlineFile{{"manifest.json", manifest}}}
	if sig != nil {
		spec.inline = append(spec.inline, inlineFile{"manifest.json.sig", sig})
	}
	keep := map[string]bool{}
	for _, f := range files {
		spec.inline = append(spec.inline, inlineFile{f.Name, f.Data})
		keep[f.Name] = true
	}
	if spec.deleted, err = s.bundlesAtHead(ctx, keep); err != nil {
		return nil, err
	}
	return registry.Checks(files), s.send(ctx, spec)
}

// AddSignatures implements registry.SignedSink: a commit of bundles only,
// on the head whose manifest.json must be manifest.
func (s *sink) AddSignatures(ctx context.Context, manifest []byte, b registry.Bundles) ([]signing.Check, error) {
	files, err := b.Files(manifest)
	if err != nil {
		return nil, err
	}
	src := &source{b: s.b, r: s.r, pinned: s.head}
	cur, _, err := src.small(ctx, s.head, "manifest.json")
	if err != nil {
		return nil, err
	}
	if cur == nil || model.FromBytes(cur) != model.FromBytes(manifest) {
		return nil, registry.Changed(s.r.String())
	}
	spec := commitSpec{description: "signatures of image " + string(model.FromBytes(manifest))}
	for _, f := range files {
		spec.inline = append(spec.inline, inlineFile{f.Name, f.Data})
	}
	return registry.Checks(files), s.send(ctx, spec)
}

// bundlesAtHead lists the bundle files at the top of the head but keep.
func (s *sink) bundlesAtHead(ctx context.Context, keep map[string]bool) ([]string, error) {
	items, err := s.b.listTree(ctx, s.r, s.head, "", false, false)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		if it.Type == "file" && registry.IsBundleFile(it.Path) && !keep[it.Path] {
			out = append(out, it.Path)
		}
	}
	return out, nil
}

// send streams one commit.
func (s *sink) send(ctx context.Context, spec commitSpec) error {
	var blobs []model.Digest
	if spec.blobs {
		s.mu.Lock()
		for d := range s.pending {
			blobs = append(blobs, d)
		}
		sort.Slice(blobs, func(i, j int) bool { return s.seq[blobs[i]] < s.seq[blobs[j]] })
		s.mu.Unlock()
	}
	spec.summary = fmt.Sprintf("pf push: %d files", len(spec.inline)+len(blobs))
	if !spec.blobs {
		spec.summary = fmt.Sprintf("pf sign: %d signatures", len(spec.inline))
	}
	pr, pw := io.Pipe()
	werr := make(chan error, 1)
	go func() {
		err := s.writeCommit(pw, spec, blobs)
		pw.CloseWithError(err)
		werr <- err
	}()
	resp, err := s.b.c.http.Do(s.commitRequest(ctx, pr))
	pr.Close()
	if wErr := <-werr; wErr != nil && !errors.Is(wErr, io.ErrClosedPipe) {
		if resp != nil {
			drain(resp)
		}
		return wErr // e.g. an inline blob that failed verification
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.b.c.transportErr(err)
	}
	defer drain(resp)
	if resp.StatusCode == http.StatusPreconditionFailed {
		return fault.WithHint(fmt.Errorf("hf: %s changed while writing (another commit landed)", s.r), "try again")
	}
	if resp.StatusCode/100 != 2 {
		return s.b.c.statusErr(resp, "commit to "+s.r.revWhat(s.r.rev), "")
	}
	var out struct {
		CommitOid string `json:"commitOid"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
	crashpoint.Step("hf.committed")
	if tag := os.Getenv("PF_HF_TAG"); tag != "" && spec.tag {
		rev := out.CommitOid
		if rev == "" {
			rev = s.r.rev
		}
		return s.b.createTag(ctx, s.r, rev, tag)
	}
	return nil
}

func (s *sink) commitRequest(ctx context.Context, body io.Reader) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.b.c.endpoint+s.r.apiPath()+"/commit/"+url.PathEscape(s.r.rev), body)
	s.b.c.decorate(req, request{contentType: "application/x-ndjson"})
	return req
}

// writeCommit streams the NDJSON body; inline files are base64-encoded
// while read, never held whole.
func (s *sink) writeCommit(w io.Writer, spec commitSpec, blobs []model.Digest) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	line := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = bw.Write(append(b, '\n'))
		return err
	}
	if err := line(map[string]any{"key": "header", "value": map[string]string{
		"summary": spec.summary, "description": spec.description, "parentCommit": s.head}}); err != nil {
		return err
	}
	inline := func(p string, r io.Reader) error {
		if _, err := fmt.Fprintf(bw, `{"key":"file","value":{"content":"`); err != nil {
			return err
		}
		enc := base64.NewEncoder(base64.StdEncoding, bw)
		if _, err := io.Copy(enc, r); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
		pj, _ := json.Marshal(p)
		_, err := fmt.Fprintf(bw, `","encoding":"base64","path":%s}}`+"\n", pj)
		return err
	}
	for _, f := range spec.inline {
		if err := inline(f.path, bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	crashpoint.Step("hf.commit-body") // the Hub has part of the commit
	for _, p := range spec.deleted {
		if err := line(map[string]any{"key": "deletedFile", "value": map[string]string{"path": p}}); err != nil {
			return err
		}
	}
	for _, d := range blobs {
		pb := s.pending[d]
		if pb.lfs {
			if err := line(map[string]any{"key": "lfsFile", "value": map[string]any{
				"path": pb.path, "algo": "sha256", "oid": pb.oid, "size": pb.size}}); err != nil {
				return err
			}
			continue
		}
		rc, err := pb.blob.Open()
		if err != nil {
			return err
		}
		err = inline(pb.path, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

// reportingReader reports every chunk read (sent) to the blob's upload
// progress.
type reportingReader struct {
	r      io.Reader
	report func(n int64)
}

func (r reportingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.report(int64(n))
	}
	return n, err
}
