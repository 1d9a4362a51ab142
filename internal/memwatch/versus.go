package memwatch

import (
	"fmt"
	"testing"
	"time"
)

// Measure runs f and returns its wall time and the memory peak while it
// ran.
func Measure(f func()) (time.Duration, Peak) {
	w := Start()
	t0 := time.Now()
	f()
	d := time.Since(t0)
	return d, w.Stop()
}

// Side is one direction of a benchmark against a peer tool: our time and
// memory, the peer's time, the peer's command and the metric the ratio is
// reported as.
type Side struct {
	Ours   time.Duration
	Mem    Peak
	Peer   time.Duration
	Cmd    string // e.g. "ipfs add -r"
	Metric string // e.g. "push/add"
}

// ReportVersus reports push and pull against the peer: the time ratios and
// the peaks as metrics, and a summary under title.
func ReportVersus(b *testing.B, title string, push, pull Side) {
	b.ReportMetric(push.Ours.Seconds()/push.Peer.Seconds(), push.Metric)
	b.ReportMetric(pull.Ours.Seconds()/pull.Peer.Seconds(), pull.Metric)
	b.ReportMetric(max(push.Mem.RSSMiB(), pull.Mem.RSSMiB()), "peakRSS-MiB")
	b.ReportMetric(max(push.Mem.HeapMiB(), pull.Mem.HeapMiB()), "peakheap-MiB")
	fmt.Println(title)
	width := max(len(push.Cmd), len(pull.Cmd))
	for _, s := range []struct {
		name string
		Side
	}{{"push", push}, {"pull", pull}} {
		fmt.Printf("  %s %-9s vs %-*s %-9s ratio %.2f   peak heap %d MiB, peak RSS %d MiB\n", s.name,
			s.Ours.Round(time.Millisecond), width, s.Cmd, s.Peer.Round(time.Millisecond), s.Ours.Seconds()/s.Peer.Seconds(), s.Mem.Heap>>20, s.Mem.RSS>>20)
	}
}
