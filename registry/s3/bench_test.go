package s3_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/memwatch"
	"pf-registry/registry"
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
	st := newStore(b)
	start := time.Now()
	id, err := demo.BigImage(st, size, 7)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built a %d MiB image in %s", size>>20, time.Since(start).Round(time.Millisecond))
	reg := openReg(b, nil)
	ctx := context.Background()

	for i := 0; i < b.N; i++ {
		mem := memwatch.Start()
		t0 := time.Now()
		rep, err := reg.Push(ctx, st, id, ref(b, fmt.Sprintf("s3://%s/ours/%d", bkt, i)), registry.TransferOptions{})
		if err != nil {
			b.Fatal(err)
		}
		pushTime := time.Since(t0)
		pushMem := mem.Stop()

		mem = memwatch.Start()
		t0 = time.Now()
		if _, err := reg.Pull(ctx, ref(b, fmt.Sprintf("s3://%s/ours/%d", bkt, i)), newStore(b), registry.TransferOptions{}); err != nil {
			b.Fatal(err)
		}
		pullTime := time.Since(t0)
		pullMem := mem.Stop()

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
		t0 = time.Now()
		awsCLI(b, "s3", "cp", "--recursive", "--only-show-errors", dir, fmt.Sprintf("s3://%s/peer/%d/", bkt, i))
		upTime := time.Since(t0)
		t0 = time.Now()
		awsCLI(b, "s3", "cp", "--recursive", "--only-show-errors", fmt.Sprintf("s3://%s/peer/%d/", bkt, i), filepath.Join(b.TempDir(), "got"))
		downTime := time.Since(t0)

		b.ReportMetric(pushTime.Seconds()/upTime.Seconds(), "push/aws-up")
		b.ReportMetric(pullTime.Seconds()/downTime.Seconds(), "pull/aws-down")
		b.ReportMetric(max(pushMem.RSSMiB(), pullMem.RSSMiB()), "peakRSS-MiB")
		b.ReportMetric(max(pushMem.HeapMiB(), pullMem.HeapMiB()), "peakheap-MiB")
		fmt.Printf("s3 bench: %d MiB logical, %d MiB stored in %d blobs (versitygw on loopback)\n", size>>20, rep.Bytes>>20, len(rep.Blobs))
		fmt.Printf("  push %-9s vs aws s3 cp --recursive up   %-9s ratio %.2f   peak heap %d MiB, peak RSS %d MiB\n",
			pushTime.Round(time.Millisecond), upTime.Round(time.Millisecond), pushTime.Seconds()/upTime.Seconds(), pushMem.Heap>>20, pushMem.RSS>>20)
		fmt.Printf("  pull %-9s vs aws s3 cp --recursive down %-9s ratio %.2f   peak heap %d MiB, peak RSS %d MiB\n",
			pullTime.Round(time.Millisecond), downTime.Round(time.Millisecond), pullTime.Seconds()/downTime.Seconds(), pullMem.Heap>>20, pullMem.RSS>>20)
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
