package s3_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pf-registry/internal/memwatch"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/signing"
)

// BenchmarkPushPull pushes and pulls a 256 MiB+ image through versitygw and
// prints the wall-time ratios against `aws s3 cp --recursive` moving the
// same stored objects up and down in the same run, and the peak memory.
// PF_BENCH_BYTES sets the logical image size (in-process; scripts/bench.sh
// times the whole command beside the peers).
func BenchmarkPushPull(b *testing.B) {
	size := memwatch.BenchBytes(b)
	bkt := newBucket(b)
	st, id := registrytest.BigImage(b, size)
	reg := openReg(b, nil)
	ctx := context.Background()

	for i := 0; i < b.N; i++ {
		var rep *registry.Report
		var err error
		pushTime, pushMem := memwatch.Measure(func() {
			if rep, err = reg.Push(ctx, st, id, registrytest.MustRef(b, fmt.Sprintf("s3://%s/ours/%d", bkt, i)), registry.TransferOptions{}); err != nil {
				b.Fatal(err)
			}
		})
		pullTime, pullMem := memwatch.Measure(func() {
			if _, err := reg.Pull(ctx, registrytest.MustRef(b, fmt.Sprintf("s3://%s/ours/%d", bkt, i)), registrytest.NewStore(b), registry.TransferOptions{}); err != nil {
				b.Fatal(err)
			}
		})

		// The same stored objects in the spec's layout, for the peer.
		dir := filepath.Join(b.TempDir(), "image")
		manifest, err := st.Manifest(id)
		if err != nil {
			b.Fatal(err)
		}
		writeAll(b, filepath.Join(dir, "manifest.json"), manifest)
		writeAll(b, filepath.Join(dir, "manifest.json.sig"), signing.SignBytes(manifest, signing.ForBackend("s3")))
		for _, bl := range rep.Blobs {
			p := filepath.Join(dir, filepath.FromSlash(bl.Digest.ShardPath()))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Link(st.BlobPath(bl.Digest), p); err != nil {
				b.Fatal(err)
			}
		}
		t0 := time.Now()
		awsCLI(b, "s3", "cp", "--recursive", "--only-show-errors", dir, fmt.Sprintf("s3://%s/peer/%d/", bkt, i))
		upTime := time.Since(t0)
		t0 = time.Now()
		awsCLI(b, "s3", "cp", "--recursive", "--only-show-errors", fmt.Sprintf("s3://%s/peer/%d/", bkt, i), filepath.Join(b.TempDir(), "got"))
		downTime := time.Since(t0)

		memwatch.ReportVersus(b, fmt.Sprintf("s3 bench: %d MiB logical, %d MiB stored in %d blobs (versitygw on loopback)", size>>20, rep.Bytes>>20, len(rep.Blobs)),
			memwatch.Side{Ours: pushTime, Mem: pushMem, Peer: upTime, Cmd: "aws s3 cp --recursive up", Metric: "push/aws-up"},
			memwatch.Side{Ours: pullTime, Mem: pullMem, Peer: downTime, Cmd: "aws s3 cp --recursive down", Metric: "pull/aws-down"})
	}
}

func writeAll(b testing.TB, p string, data []byte) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
}
