package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"

	"pf-registry/internal/httpguard"
)

// PartSize is the multipart part size: objects larger than this go up in
// several parts, each buffered once (so memory per upload is one part).
const PartSize = 8 << 20

// maxRetries is minio-go's tries per request: one. The engine retries
// what failed for a passing reason (errors wrapping fault.ErrTransient),
// with its own bounded pauses.
const maxRetries = 1

// Client talks to one bucket.
type Client struct {
	mc       *minio.Client
	bucket   string
	cfg      Config
	listPage int
	// bucketOK is set once the bucket is known to exist and answer.
	bucketOK atomic.Bool
}

// Options tune New.
type Options struct {
	// Timeout is the stall window of each request (see httpguard; 0:
	// httpguard.DefaultTimeout). Bodies may stream for as long as they
	// move.
	Timeout time.Duration
	// UserAgent is appended to the client's own.
	UserAgent string
	// InsecureTLS skips certificate verification (self-signed MinIO and
	// the like); plain HTTP still needs an http:// endpoint.
	InsecureTLS bool
	// ListPageSize is the number of keys asked for per ListObjectsV2
	// request (0: the server's default, 1000 on AWS); a listing follows the
	// continuation tokens whatever the page size.
	ListPageSize int
}

// New returns a client for bucket. It does not touch the network.
func New(cfg Config, bucket string, opt Options) (*Client, error) {
	secure := cfg.Endpoint.Scheme == "https"
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3: transport: %w", err)
	}
	if opt.InsecureTLS && tr.TLSClientConfig != nil {
		tr.TLSClientConfig.InsecureSkipVerify = true
	}
	lookup := minio.BucketLookupPath
	if cfg.VirtualHost {
		lookup = minio.BucketLookupDNS
	}
	mc, err := minio.New(cfg.Endpoint.Host, &minio.Options{
		Creds:        cfg.Creds,
		Secure:       secure,
		Transport:    httpguard.New(tr, opt.Timeout),
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", cfg.Endpoint.Host, err)
	}
	if opt.UserAgent != "" {
		name, version, _ := strings.Cut(opt.UserAgent, "/")
		mc.SetAppInfo(name, version)
	}
	return &Client{mc: mc, bucket: bucket, cfg: cfg, listPage: opt.ListPageSize}, nil
}

// Bucket is the bucket name.
func (c *Client) Bucket() string { return c.bucket }

// Endpoint is the endpoint URL (no secrets).
func (c *Client) Endpoint() string { return c.cfg.Endpoint.String() }

// Check verifies that the endpoint answers, the credentials are accepted
// and the bucket exists, with one HEAD request (plus one listing request
// on failure, whose error body tells a missing bucket from refused
// credentials: HEAD answers carry no body).
func (c *Client) Check(ctx context.Context) error {
	ok, err := c.mc.BucketExists(ctx, c.bucket)
	if err == nil && ok {
		c.bucketOK.Store(true)
		return nil
	}
	if err != nil {
		if st := minio.ToErrorResponse(err).StatusCode; st != http.StatusForbidden && st != http.StatusNotFound {
			return c.classify("", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o, ok := <-c.mc.ListObjects(ctx, c.bucket, minio.ListObjectsOptions{MaxKeys: 1}); ok && o.Err != nil {
		return c.classify("", o.Err)
	}
	if err != nil {
		return c.classify("", err)
	}
	return c.classify("", minio.ErrorResponse{Code: minio.NoSuchBucket, StatusCode: http.StatusNotFound, BucketName: c.bucket})
}

// Get opens an object for streaming. A missing object wraps
// fault.ErrNotFound.
func (c *Client) Get(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	core := minio.Core{Client: c.mc}
	rc, info, _, err := core.GetObject(ctx, c.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, c.classify(key, err)
	}
	return &bodyReader{rc: rc, c: c, key: key}, info.Size, nil
}

// GetFrom opens an object from byte off on (a Range request), to resume a
// download; it fails when the server does not honour the range.
func (c *Client) GetFrom(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, 0); err != nil {
		return nil, err
	}
	rc, _, hdr, err := minio.Core{Client: c.mc}.GetObject(ctx, c.bucket, key, opts)
	if err != nil {
		return nil, c.classify(key, err)
	}
	if !strings.HasPrefix(hdr.Get("Content-Range"), fmt.Sprintf("bytes %d-", off)) {
		rc.Close()
		return nil, fmt.Errorf("%s: %s does not honour Range requests", c.URL(key), c.Endpoint())
	}
	return &bodyReader{rc: rc, c: c, key: key}, nil
}

// GetBytes reads a small object whole (manifest, signature), at most max
// bytes.
func (c *Client) GetBytes(ctx context.Context, key string, max int64) ([]byte, error) {
	rc, size, err := c.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > max {
		return nil, fmt.Errorf("s3://%s/%s: %d bytes, more than the %d allowed", c.bucket, key, size, max)
	}
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("s3://%s/%s: more than the %d bytes allowed", c.bucket, key, max)
	}
	return b, nil
}

// Head returns the size of an object; found is false for a missing object
// (a missing bucket is an error).
func (c *Client) Head(ctx context.Context, key string) (size int64, found bool, err error) {
	e, found, err := c.Stat(ctx, key)
	return e.Size, found, err
}

// Stat is Head with the modification time.
func (c *Client) Stat(ctx context.Context, key string) (Entry, bool, error) {
	info, err := c.mc.StatObject(ctx, c.bucket, key, minio.StatObjectOptions{})
	if err == nil {
		return Entry{Key: key, Size: info.Size, LastModified: info.LastModified}, true, nil
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		// HEAD has no error body: a missing bucket also reads as a
		// missing key. Tell them apart (once) so a typo is not "not
		// found".
		if c.bucketOK.Load() {
			return Entry{}, false, nil
		}
		if cerr := c.Check(ctx); cerr != nil {
			return Entry{}, false, cerr
		}
		return Entry{}, false, nil
	}
	return Entry{}, false, c.classify(key, err)
}

// PutOptions tune Put.
type PutOptions struct {
	// ContentType is stored with the object; empty sends
	// application/octet-stream (an S3 client always sends one).
	ContentType string
	// Progress, if set, is called with the number of bytes handed to the
	// network so far (per part for multipart uploads).
	Progress func(done int64)
}

// Put uploads r as key. size is the exact length or -1. Objects larger
// than PartSize (and all of unknown size) go up as multipart uploads, one
// part in memory at a time.
func (c *Client) Put(ctx context.Context, key string, r io.Reader, size int64, po PutOptions) error {
	opts := minio.PutObjectOptions{
		PartSize: PartSize,
		// One part buffer per upload; the engine runs several uploads.
		NumThreads:  1,
		ContentType: po.ContentType,
	}
	if po.Progress != nil {
		opts.Progress = &progressCounter{fn: po.Progress}
	}
	if _, err := c.mc.PutObject(ctx, c.bucket, key, r, size, opts); err != nil {
		return c.classify(key, err)
	}
	return nil
}

// AbortUploads aborts the multipart uploads below prefix started before
// the cutoff (those of killed pushes: S3 keeps their parts, and bills
// them, until someone aborts them) and returns how many it aborted.
func (c *Client) AbortUploads(ctx context.Context, prefix string, cutoff time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	core := minio.Core{Client: c.mc}
	n := 0
	for u := range c.mc.ListIncompleteUploads(ctx, c.bucket, prefix, true) {
		if u.Err != nil {
			return n, c.classify(prefix, u.Err)
		}
		if u.Initiated.IsZero() || !u.Initiated.Before(cutoff) {
			continue
		}
		if err := core.AbortMultipartUpload(ctx, c.bucket, u.Key, u.UploadID); err != nil {
			return n, c.classify(u.Key, err)
		}
		n++
	}
	return n, nil
}

// Remove deletes an object (no error when it is missing).
func (c *Client) Remove(ctx context.Context, key string) error {
	if err := c.mc.RemoveObject(ctx, c.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return c.classify(key, err)
	}
	return nil
}

// Entry is one result of a delimited listing: an object or, with Dir set,
// a common prefix (ending in "/").
type Entry struct {
	Key          string
	Dir          bool
	Size         int64
	LastModified time.Time
}

// List lists one level below prefix (delimiter "/"), following
// continuation tokens, in key order. After skips keys up to and including
// it; limit > 0 stops after that many entries (more reports whether the
// listing was cut short).
func (c *Client) List(ctx context.Context, prefix, after string, limit int) (entries []Entry, more bool, err error) {
	return c.list(ctx, prefix, after, limit, false)
}

// ListAll lists every key below prefix (no delimiter).
func (c *Client) ListAll(ctx context.Context, prefix string) ([]Entry, error) {
	es, _, err := c.list(ctx, prefix, "", 0, true)
	return es, err
}

func (c *Client) list(ctx context.Context, prefix, after string, limit int, recursive bool) ([]Entry, bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The whole level is read (minio-go follows the continuation tokens)
	// and then sorted: each page lists its objects before its common
	// prefixes, and StartAfter cannot skip past a common prefix.
	var out []Entry
	for o := range c.mc.ListObjects(ctx, c.bucket, minio.ListObjectsOptions{
		Prefix:    prefix,
		Recursive: recursive,
		MaxKeys:   c.listPage,
	}) {
		if o.Err != nil {
			return nil, false, c.classify(prefix, o.Err)
		}
		if o.Key <= after {
			continue
		}
		out = append(out, Entry{
			Key:          o.Key,
			Dir:          !recursive && strings.HasSuffix(o.Key, "/") && o.ETag == "",
			Size:         o.Size,
			LastModified: o.LastModified,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	if limit > 0 && len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// URL names an object for messages.
func (c *Client) URL(key string) string {
	if key == "" {
		return "s3://" + c.bucket
	}
	return "s3://" + c.bucket + "/" + key
}

// bodyReader classifies errors that surface while an object streams.
type bodyReader struct {
	rc  io.ReadCloser
	c   *Client
	key string
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = b.c.classify(b.key, err)
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.rc.Close() }

// progressCounter adapts minio's Progress (an io.Reader it feeds with
// byte counts) to a callback.
type progressCounter struct {
	done int64
	fn   func(int64)
}

func (p *progressCounter) Read(b []byte) (int, error) {
	p.done += int64(len(b))
	p.fn(p.done)
	return len(b), nil
}
