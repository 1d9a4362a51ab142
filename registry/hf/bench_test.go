package hf

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/registry"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/store"
)

// peakHeap samples the Go heap while fn runs (the test hub shares the
// process, so this is an upper bound for the client alone).
func peakHeap(fn func()) uint64 {
	var (
		peak uint64
		mu   sync.Mutex
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak
}

// vmHWM is the process's peak resident set (Linux), in bytes.
func vmHWM() uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkPushPull256MiB pushes a 256 MiB image (demo.BigImage) to the
// test hub through LFS (multipart for its 4 MiB+ pages when above the
// threshold) and pulls it back, reporting throughput and peak memory.
//
//	go test -run '^$' -bench PushPull -benchtime 1x ./registry/hf/
func BenchmarkPushPull256MiB(b *testing.B) {
	h := startHub(b, hubtest.Options{MultipartAbove: 3 << 20, ChunkSize: 2 << 20})
	reg := open(b, h, aliceToken)
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	id, err := demo.BigImage(st, 256<<20, 42)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	runtime.GC()
	// Reset the peak RSS so that it covers push and pull only (Linux ≥ 4.0).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	b.ResetTimer()
	var pushDur, pullDur time.Duration
	var stored int64
	var peak uint64
	for i := 0; i < b.N; i++ {
		target := ref(b, fmt.Sprintf("hf://alice/bench-%d", i))
		st2, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		p := peakHeap(func() {
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
		})
		peak = max(peak, p)
	}
	b.StopTimer()
	mb := float64(stored) / (1 << 20)
	b.ReportMetric(mb, "stored-MiB")
	b.ReportMetric(mb*float64(b.N)/pushDur.Seconds(), "push-MiB/s")
	b.ReportMetric(mb*float64(b.N)/pullDur.Seconds(), "pull-MiB/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(vmHWM())/(1<<20), "peak-RSS-MiB")
	s := h.Stats()
	if s.MultipartUploads == 0 {
		b.Errorf("no multipart upload in the benchmark: %+v", s)
	}
}
