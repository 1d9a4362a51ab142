package oci

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// regclient cannot read a blob from an offset, so a resumed download asks
// for one below it: under a context from withOffset, the blob GET (and the
// storage it redirects to) carries a Range header, and the partial answer
// is handed up as a plain 200 of the remaining bytes. regclient's own
// digest check then fails at the end of the stream; the layer reader
// ignores it for such reads, since the engine verifies the logical blob.

type offsetKey struct{}

func withOffset(ctx context.Context, off int64) context.Context {
	return context.WithValue(ctx, offsetKey{}, off)
}

type rangeTransport struct{ base http.RoundTripper }

func (t *rangeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	off, ok := req.Context().Value(offsetKey{}).(int64)
	blobGet := req.Method == http.MethodGet && (strings.Contains(req.URL.Path, "/blobs/") || req.Response != nil)
	if !ok || !blobGet || req.Header.Get("Range") != "" {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode/100 != 2 {
		return resp, err // errors and redirects as they are
	}
	if resp.StatusCode != http.StatusPartialContent || !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", off)) {
		resp.Body.Close()
		return nil, fmt.Errorf("%s does not honour Range requests on blobs", req.URL.Host)
	}
	resp.StatusCode, resp.Status = http.StatusOK, "200 OK"
	return resp, nil
}
