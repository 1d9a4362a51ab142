package s3_test

import (
	"bytes"
	"context"
	"path"
	"strconv"
	"sync/atomic"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/s3"
	"pf-registry/registry/s3/bucket"
	"pf-registry/registry/signtest"
)

// objects reads and replaces an image's objects with a plain S3 client.
type objects struct{}

func (objects) client(t testing.TB, ref registry.Ref) *bucket.Client {
	t.Helper()
	cfg, err := bucket.ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := bucket.New(cfg, ref.Bucket, bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (o objects) Names(t testing.TB, ref registry.Ref) []string {
	ents, _, err := o.client(t, ref).List(context.Background(), ref.S3Key(""), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.Dir {
			out = append(out, path.Base(e.Key))
		}
	}
	return out
}

func (o objects) Read(t testing.TB, ref registry.Ref, name string) []byte {
	b, err := o.client(t, ref).GetBytes(context.Background(), ref.S3Key(name), 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (o objects) Write(t testing.TB, ref registry.Ref, name string, data []byte) registry.Ref {
	if err := o.client(t, ref).Put(context.Background(), ref.S3Key(name), bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestSignatures(t *testing.T) {
	bkt := newBucket(t)
	var n atomic.Int64
	signtest.Run(t, signtest.Harness{
		Open: func(t testing.TB, cfg registry.Config) registry.Registry {
			b, err := s3.New(cfg, env(nil))
			if err != nil {
				t.Fatal(err)
			}
			return registry.New(b, cfg)
		},
		NewRef: func(t testing.TB) registry.Ref {
			return ref(t, "s3://"+bkt+"/sig/"+strconv.FormatInt(n.Add(1), 10)+"/img")
		},
		Files: objects{},
	})
}
