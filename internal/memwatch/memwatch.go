// Package memwatch measures memory for the benchmarks: the peak Go heap
// while an operation runs (the figure the project keeps under 64 MiB), the
// process's peak resident set, and the image size benchmarks move.
package memwatch

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Watch samples the heap between Start and Stop.
type Watch struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

// Peak is what a Watch saw, in bytes. RSS is 0 where the kernel does not
// tell (it is the whole process: test servers in the process count too).
type Peak struct {
	Heap, RSS int64
}

// HeapMiB is the peak heap in MiB.
func (p Peak) HeapMiB() float64 { return float64(p.Heap) / (1 << 20) }

// RSSMiB is the peak resident set in MiB.
func (p Peak) RSSMiB() float64 { return float64(p.RSS) / (1 << 20) }

const heapMetric = "/memory/classes/heap/objects:bytes"

// Start collects garbage, resets the process's peak RSS and begins
// sampling the heap every 2 ms.
func Start() *Watch {
	runtime.GC()
	ResetPeakRSS()
	w := &Watch{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			w.peak = max(w.peak, s[0].Value.Uint64())
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// Stop ends sampling.
func (w *Watch) Stop() Peak {
	close(w.stop)
	w.wg.Wait()
	return Peak{Heap: int64(w.peak), RSS: PeakRSS(0)}
}

// ResetPeakRSS restarts the kernel's high-water mark of this process
// (Linux clear_refs; best effort).
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// PeakRSS is the peak resident set (VmHWM) of a process in bytes; pid 0 is
// this process. 0 when unknown.
func PeakRSS(pid int) int64 {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchBytes is the logical size of the image a benchmark moves:
// PF_BENCH_BYTES, default 257 MiB (the issues ask for 256 MiB or more).
func BenchBytes(tb testing.TB) int64 {
	size := int64(257 << 20)
	if v := os.Getenv("PF_BENCH_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			tb.Fatalf("PF_BENCH_BYTES=%q is not a positive byte count", v)
		}
		size = n
	}
	return size
}
