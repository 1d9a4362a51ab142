// Package memwatch samples the Go heap while a benchmark runs, to report
// its peak (the figure the project promises to keep under 64 MiB).
package memwatch

import (
	"runtime/metrics"
	"sync"
	"time"
)

// Watch samples live heap bytes every few milliseconds until Stop.
type Watch struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

// Start begins sampling.
func Start() *Watch {
	w := &Watch{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > w.peak {
				w.peak = v
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// Stop ends sampling and returns the peak live heap in MiB.
func (w *Watch) Stop() float64 {
	close(w.stop)
	w.wg.Wait()
	return float64(w.peak) / (1 << 20)
}
