package hf

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/memwatch"
	"pf-registry/registry"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

// BenchmarkPushPull pushes a 256 MiB+ image (PF_BENCH_BYTES) (demo.BigImage) to the
// test hub through LFS (multipart for its 4 MiB+ pages when above the
// threshold) and pulls it back, reporting throughput and peak memory.
//
//	go test -run '^$' -bench PushPull -benchtime 1x ./registry/hf/
func BenchmarkPushPull(b *testing.B) {
	h := startHub(b, hubtest.Options{MultipartAbove: 3 << 20, ChunkSize: 2 << 20})
	reg := open(b, h, aliceToken)
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	id, err := demo.BigImage(st, memwatch.BenchBytes(b), 42)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	var pushDur, pullDur time.Duration
	var stored int64
	var peak memwatch.Peak
	for i := 0; i < b.N; i++ {
		target := registrytest.MustRef(b, fmt.Sprintf("hf://alice/bench-%d", i))
		st2, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		w := memwatch.Start()
		{
			t0 := time.Now()
			rep, err := reg.Push(ctx, st, id, target, registry.TransferOptions{})
			if err != nil {
				b.Fatal(err)
			}
			stored = rep.Bytes
			pushDur += time.Since(t0)
			t1 := time.Now()
			if _, err := reg.Pull(ctx, target, st2, registry.TransferOptions{}); err != nil {
				b.Fatal(err)
			}
			pullDur += time.Since(t1)
		}
		p := w.Stop()
		peak = memwatch.Peak{Heap: max(peak.Heap, p.Heap), RSS: max(peak.RSS, p.RSS)}
	}
	b.StopTimer()
	mb := float64(stored) / (1 << 20)
	b.ReportMetric(mb, "stored-MiB")
	b.ReportMetric(mb*float64(b.N)/pushDur.Seconds(), "push-MiB/s")
	b.ReportMetric(mb*float64(b.N)/pullDur.Seconds(), "pull-MiB/s")
	b.ReportMetric(peak.HeapMiB(), "peak-heap-MiB")
	b.ReportMetric(peak.RSSMiB(), "peak-RSS-MiB")
	s := h.Stats()
	if s.MultipartUploads == 0 {
		b.Errorf("no multipart upload in the benchmark: %+v", s)
	}
}
