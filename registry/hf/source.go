package hf

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
)

// maxManifestSize bounds manifest and signature downloads.
const maxManifestSize = 16 << 20

// Source implements registry.Backend.
func (b *Backend) Source(_ context.Context, ref registry.Ref) (registry.Source, error) {
	r, err := checkRef(ref)
	if err != nil {
		return nil, err
	}
	return &source{b: b, r: r, pinned: r.rev}, nil
}

// source reads one image. After FetchManifest every read uses the commit
// manifest.json came from (X-Repo-Commit), not the moving branch.
type source struct {
	b      *Backend
	r      repoRef
	mu     sync.Mutex
	pinned string
}

func (s *source) Describe() string { return s.r.String() }

func (s *source) rev() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pinned
}

var commitID = regexp.MustCompile(`^[0-9a-f]{40}$`)

func (s *source) FetchManifest(ctx context.Context) ([]byte, []byte, error) {
	raw, hdr, err := s.small(ctx, s.r.rev, "manifest.json")
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, fault.WithHint(fault.NotFoundf("no image at %s: manifest.json is missing", s.r),
			"list the images of the repository with `pf-registry tags hf://"+s.r.id()+"`")
	}
	if c := hdr.Get("X-Repo-Commit"); commitID.MatchString(c) {
		s.mu.Lock()
		s.pinned = c
		s.mu.Unlock()
	}
	sig, _, err := s.small(ctx, s.rev(), "manifest.json.sig")
	if err != nil {
		return nil, nil, err
	}
	return raw, sig, nil
}

// small downloads a small file; a missing file (EntryNotFound) is nil.
func (s *source) small(ctx context.Context, rev, p string) ([]byte, http.Header, error) {
	resp, err := s.b.c.do(ctx, request{method: http.MethodGet, url: s.r.resolveURL(rev, p)})
	if err != nil {
		return nil, nil, err
	}
	defer drain(resp)
	if errCode(resp) == "EntryNotFound" {
		return nil, resp.Header, nil
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, s.b.refErr(resp, s.r, p)
	}
	// A redirect (LFS/Xet storage) answers without X-Repo-Commit; the Hub's
	// own first answer has it.
	for r := resp; r != nil && resp.Header.Get("X-Repo-Commit") == ""; {
		if c := r.Header.Get("X-Repo-Commit"); c != "" {
			resp.Header.Set("X-Repo-Commit", c)
		}
		if r.Request == nil {
			break
		}
		r = r.Request.Response
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("hf: reading %s of %s: %s", p, s.r, s.b.c.redact(err.Error()))
	}
	if len(b) > maxManifestSize {
		return nil, nil, fault.Integrityf("hf: %s of %s is larger than %d bytes", p, s.r, maxManifestSize)
	}
	return b, resp.Header, nil
}

func (s *source) notFound(d model.Digest) error {
	return fault.NotFoundf("blob %s is missing from %s", d.Short(), s.r)
}

// StatBlob implements registry.BlobStater with a HEAD of the resolve URL.
func (s *source) StatBlob(ctx context.Context, d model.Digest) (int64, error) {
	resp, err := s.b.c.do(ctx, request{method: http.MethodHead, url: s.r.resolveURL(s.rev(), d.ShardPath())})
	if err != nil {
		return 0, err
	}
	drain(resp)
	if errCode(resp) == "EntryNotFound" {
		return 0, s.notFound(d)
	}
	if resp.StatusCode/100 != 2 {
		return 0, s.b.refErr(resp, s.r, d.ShardPath())
	}
	return resp.ContentLength, nil
}

// OpenBlob implements registry.Source: a stream of the stored bytes that
// resumes with a Range request when the connection breaks.
func (s *source) OpenBlob(ctx context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	u := s.r.resolveURL(s.rev(), d.ShardPath())
	resp, err := s.b.c.do(ctx, request{method: http.MethodGet, url: u})
	if err != nil {
		return nil, 0, err
	}
	if errCode(resp) == "EntryNotFound" {
		drain(resp)
		return nil, 0, s.notFound(d)
	}
	if resp.StatusCode/100 != 2 {
		defer drain(resp)
		return nil, 0, s.b.refErr(resp, s.r, d.ShardPath())
	}
	size := resp.ContentLength
	return &resumer{ctx: ctx, c: s.b.c, url: resp.Request.URL.String(), hubURL: u, body: resp.Body, size: size}, size, nil
}

// resumer reads a download and, on a broken connection, continues from the
// byte it got to with Range: bytes=<n>-.
type resumer struct {
	ctx     context.Context
	c       *client
	url     string // final URL after redirects (storage URLs are signed)
	hubURL  string // the resolve URL, to start over when url expired
	body    io.ReadCloser
	n, size int64
	resumes int
}

const maxResumes = 5

func (r *resumer) Read(p []byte) (int, error) {
	for {
		n, err := r.body.Read(p)
		r.n += int64(n)
		if err == io.EOF && r.size >= 0 && r.n < r.size {
			err = io.ErrUnexpectedEOF
		}
		if err == nil || err == io.EOF || r.ctx.Err() != nil {
			return n, err
		}
		if r.resumes >= maxResumes {
			return n, fault.WithHint(fmt.Errorf("hf: download broke after %d bytes, %d resumes: %s", r.n, r.resumes, r.c.redact(err.Error())),
				"check the network and retry")
		}
		r.resumes++
		if rerr := r.reopen(); rerr != nil {
			return n, fmt.Errorf("hf: download broke after %d bytes (%s) and could not resume: %w", r.n, r.c.redact(err.Error()), rerr)
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (r *resumer) reopen() error {
	r.body.Close()
	for _, u := range []string{r.url, r.hubURL} {
		resp, err := r.c.do(r.ctx, request{method: http.MethodGet, url: u, noAuth: u != r.hubURL,
			header: map[string]string{"Range": "bytes=" + strconv.FormatInt(r.n, 10) + "-"}})
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusPartialContent && strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", r.n)) {
			r.body = resp.Body
			return nil
		}
		drain(resp)
	}
	return fmt.Errorf("the server did not honour the Range request")
}

func (r *resumer) Close() error { return r.body.Close() }
