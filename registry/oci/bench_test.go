package oci

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"pf-registry/blob"
	"pf-registry/demo"
	"pf-registry/internal/memwatch"
	"pf-registry/internal/testenv"
	"pf-registry/registry"
	"pf-registry/registry/oci/ocitest"
	"pf-registry/store"
)

// BenchmarkPushPull pushes and pulls a 256 MiB image to a Debian
// docker-registry on 127.0.0.1, and has regctl move the same stored layers
// (from an OCI layout holding them) in the same run. It reports the
// wall-time ratio ours/regctl and the peak resident memory of both sides.
//
//	go test -run '^$' -bench PushPull -benchtime 1x ./registry/oci
//
// PF_BENCH_CONCURRENCY overrides the engine's transfer concurrency.
func BenchmarkPushPull(b *testing.B) {
	ctx := context.Background()
	srv := ocitest.Debian(b, "")
	regctl := testenv.MustTool(b, "regctl")
	st, err := store.Open(b.TempDir(), store.WithLevel(blob.DefaultLevel))
	if err != nil {
		b.Fatal(err)
	}
	logical := memwatch.BenchBytes(b)
	id, err := demo.BigImage(st, logical, 7)
	if err != nil {
		b.Fatal(err)
	}
	storedBytes, _ := st.Size()

	// The same stored layers in an OCI layout, for regctl to push.
	layout := filepath.Join(b.TempDir(), "layout")
	lreg, lr := open(b, "oci-layout:"+layout+"#v1")
	if _, err := lreg.Push(ctx, st, id, lr, registry.TransferOptions{}); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// regctl: push the layout, pull it into a fresh layout.
		peerRepo := fmt.Sprintf("%s/bench/peer%d:v1", srv.Host, i)
		regHost := "reg=" + srv.Host + ",tls=disabled"
		peerPush, peerPushRSS := runTimed(b, regctl, "--host", regHost, "image", "copy", "ocidir://"+layout+":v1", peerRepo)
		peerPull, peerPullRSS := runTimed(b, regctl, "--host", regHost, "image", "copy", peerRepo, "ocidir://"+filepath.Join(b.TempDir(), "peer-out")+":v1")

		// ours: push from the store, pull (verifying) into a fresh store.
		reg, r := open(b, fmt.Sprintf("oci://%s/bench/ours%d:v1", srv.Host, i))
		dst, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		debug.FreeOSMemory() // drop what the setup left behind
		base := memwatch.Start().Stop()
		syscall.Sync()
		w := memwatch.Start()
		t0 := time.Now()
		if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{Concurrency: benchConcurrency()}); err != nil {
			b.Fatal(err)
		}
		ourPush := time.Since(t0)
		pushMem := w.Stop()
		debug.FreeOSMemory()
		syscall.Sync()
		w = memwatch.Start()
		t1 := time.Now()
		rep, err := reg.Pull(ctx, r, dst, registry.TransferOptions{Concurrency: benchConcurrency()})
		if err != nil || !rep.Complete {
			b.Fatal(err)
		}
		ourPull := time.Since(t1)
		pullMem := w.Stop()

		ours, peer := ourPush+ourPull, peerPush+peerPull
		b.ReportMetric(ours.Seconds()/peer.Seconds(), "ratio-vs-regctl")
		b.ReportMetric(max(pushMem.HeapMiB(), pullMem.HeapMiB()), "peak-heap-MiB")
		b.ReportMetric(max(pushMem.RSSMiB(), pullMem.RSSMiB()), "peak-RSS-MiB")
		b.Logf("image: %d MiB logical, %d MiB stored, %d blobs", logical>>20, storedBytes>>20, len(rep.Blobs))
		b.Logf("ours:   push %v  pull %v  total %v  peak RSS push %d / pull %d MiB (whole test process, %d MiB before the push)", ourPush.Round(time.Millisecond), ourPull.Round(time.Millisecond), ours.Round(time.Millisecond), pushMem.RSS>>20, pullMem.RSS>>20, base.RSS>>20)
		b.Logf("ours:   peak live heap push %.1f / pull %.1f MiB (%.1f MiB before the push)", pushMem.HeapMiB(), pullMem.HeapMiB(), base.HeapMiB())
		b.Logf("regctl: push %v  pull %v  total %v  peak RSS %d / %d MiB", peerPush.Round(time.Millisecond), peerPull.Round(time.Millisecond), peer.Round(time.Millisecond), peerPushRSS>>20, peerPullRSS>>20)
		b.Logf("wall-time ratio ours/regctl: %.2f", ours.Seconds()/peer.Seconds())
	}
}

// runTimed runs a command and returns its wall time and peak RSS in bytes.
// The peak is sampled from /proc (VmHWM) while it runs: rusage would report
// this process's size, which the child shares until it execs.
func runTimed(b *testing.B, bin string, args ...string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "REGCTL_CONFIG="+filepath.Join(b.TempDir(), "regctl.json"))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	syscall.Sync() // start each side with no dirty pages of the other
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var hwm int64
		for {
			if v := memwatch.PeakRSS(cmd.Process.Pid); v > hwm {
				hwm = v
			}
			select {
			case <-done:
				peak <- hwm
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	d := time.Since(t0)
	close(done)
	rss := <-peak
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", bin, args, err, errb.String())
	}
	return d, rss
}

// benchConcurrency is PF_BENCH_CONCURRENCY, or 0 for the engine's default.
func benchConcurrency() int {
	n, _ := strconv.Atoi(os.Getenv("PF_BENCH_CONCURRENCY"))
	return n
}
