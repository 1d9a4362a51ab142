package hf

import (
	"context"
	"errors"
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
		if errors.Is(err, fault.ErrTransient) { // a stall or a broken connection, naming the host
			return nil, nil, fmt.Errorf("hf: reading %s of %s: %w", p, s.r, err)
		}
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

// OpenBlob implements registry.Source: a stream of the stored bytes.
func (s *source) OpenBlob(ctx context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	resp, err := s.get(ctx, d, nil)
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// OpenBlobAt implements registry.BlobRanger with a Range request (the
// header follows the redirect to storage).
func (s *source) OpenBlobAt(ctx context.Context, d model.Digest, off int64) (io.ReadCloser, error) {
	resp, err := s.get(ctx, d, map[string]string{"Range": "bytes=" + strconv.FormatInt(off, 10) + "-"})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusPartialContent || !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", off)) {
		drain(resp)
		return nil, fmt.Errorf("hf: the server of %s does not honour Range requests", s.r)
	}
	return resp.Body, nil
}

func (s *source) get(ctx context.Context, d model.Digest, header map[string]string) (*http.Response, error) {
	resp, err := s.b.c.do(ctx, request{method: http.MethodGet, url: s.r.resolveURL(s.rev(), d.ShardPath()), header: header})
	if err != nil {
		return nil, err
	}
	if errCode(resp) == "EntryNotFound" {
		drain(resp)
		return nil, s.notFound(d)
	}
	if resp.StatusCode/100 != 2 {
		defer drain(resp)
		return nil, s.b.refErr(resp, s.r, d.ShardPath())
	}
	return resp, nil
}
