package file_test

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"testing"

	"pf-registry/blob"
	"pf-registry/demo"
	"pf-registry/internal/memwatch"
	"pf-registry/registry"
	"pf-registry/store"
)

// BenchmarkPushPull moves a 256 MiB+ image (PF_BENCH_BYTES) through file:// (push from a
// store, pull into a fresh store) and reports MB/s of stored bytes and the
// peak live heap, which must stay far below the image size.
func BenchmarkPushPull(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	src, err := store.Open(filepath.Join(dir, "src"))
	if err != nil {
		b.Fatal(err)
	}
	id, err := demo.BigImage(src, memwatch.BenchBytes(b), 1)
	if err != nil {
		b.Fatal(err)
	}
	size, _ := src.Size()
	reg, _, err := registry.ForRef("file://x", registry.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(2 * size) // pushed once, pulled once
	// The command line runs with this soft limit; measure what users get.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(blob.SoftMemoryLimit))
	peak := 0.0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		out := filepath.Join(dir, "reg", string(rune('a'+i%26)), filepath.Base(b.TempDir()))
		ref, _ := registry.ParseRef("file://" + out)
		dst, err := store.Open(filepath.Join(out, "..", "store-"+filepath.Base(out)))
		if err != nil {
			b.Fatal(err)
		}
		w := memwatch.Start()
		b.StartTimer()
		if _, err := reg.Push(ctx, src, id, ref, registry.TransferOptions{}); err != nil {
			b.Fatal(err)
		}
		rep, err := reg.Pull(ctx, ref, dst, registry.TransferOptions{})
		if err != nil || !rep.Complete {
			b.Fatal(err)
		}
		b.StopTimer()
		peak = max(peak, w.Stop().HeapMiB())
		b.StartTimer()
	}
	b.ReportMetric(peak, "peak-heap-MiB")
}
