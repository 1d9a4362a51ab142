package bucket

import (
	"context"

	"github.com/minio/minio-go/v7"
)

// maxSingleCopy is the largest object one CopyObject request copies; a
// larger one is copied in parts (UploadPartCopy), still server side.
const maxSingleCopy = 5 << 30

// Copy copies an object of the bucket to another key server side: no byte
// passes through this process. size is the source's size.
func (c *Client) Copy(ctx context.Context, srcKey, dstKey string, size int64) error {
	src := minio.CopySrcOptions{Bucket: c.bucket, Object: srcKey}
	dst := minio.CopyDestOptions{Bucket: c.bucket, Object: dstKey}
	var err error
	if size > maxSingleCopy {
		_, err = c.mc.ComposeObject(ctx, dst, src)
	} else {
		_, err = c.mc.CopyObject(ctx, dst, src)
	}
	return c.classify(srcKey, err)
}

// RemoveKeys deletes objects with multi-object delete requests; a key
// already gone is not an error.
func (c *Client) RemoveKeys(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	ch := make(chan minio.ObjectInfo, len(keys))
	for _, k := range keys {
		ch <- minio.ObjectInfo{Key: k}
	}
	close(ch)
	var first error
	for res := range c.mc.RemoveObjectsWithResult(ctx, c.bucket, ch, minio.RemoveObjectsOptions{}) {
		if res.Err != nil && first == nil && minio.ToErrorResponse(res.Err).Code != minio.NoSuchKey {
			first = c.classify(res.ObjectName, res.Err)
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	return first
}
