package s3

import (
	"bytes"
	"io"

	"pf-registry/internal/fault"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// trackingReader passes a blob stream to the uploader and keeps the
// stream's own failure (a verification error at the end of the stream)
// even when the uploader replaces it with an error of its own. With a known
// size it looks one read past the last byte before handing that byte over,
// so the verdict arrives while the request is still open and a body that
// does not verify aborts the upload instead of completing it.
type trackingReader struct {
	r    io.Reader
	size int64 // expected stored size, -1 when unknown
	n    int64
	err  error // first failure other than io.EOF
	eof  bool
}

func (t *trackingReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if t.eof {
		return 0, io.EOF
	}
	n, err := t.r.Read(p)
	t.n += int64(n)
	switch {
	case err == io.EOF:
		t.eof = true
		if t.size >= 0 && t.n != t.size {
			t.err = fault.Integrityf("stored blob ended after %d of %d bytes", t.n, t.size)
			return n, t.err
		}
		return n, io.EOF
	case err != nil:
		t.err = err
		return n, err
	}
	if t.size >= 0 && t.n > t.size {
		t.err = fault.Integrityf("stored blob is longer than its %d bytes", t.size)
		return n, t.err
	}
	if t.size >= 0 && t.n == t.size {
		t.probeEnd()
		if t.err != nil {
			return n, t.err
		}
	}
	return n, nil
}

// probeEnd reads past the expected end: only io.EOF (the verifier's
// success) is acceptable.
func (t *trackingReader) probeEnd() {
	var one [1]byte
	for {
		m, err := t.r.Read(one[:])
		if m > 0 {
			t.err = fault.Integrityf("stored blob is longer than its %d bytes", t.size)
			return
		}
		if err == io.EOF {
			t.eof = true
			return
		}
		if err != nil {
			t.err = err
			return
		}
	}
}
