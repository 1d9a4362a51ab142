package ipfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/registry"
	"pf-registry/signing"
)

// BenchmarkPushPull pushes and pulls a large image (PF_BENCH_BYTES, default
// 256 MiB of logical data) through the RPC API of one offline daemon, and
// adds and gets the same stored files with the ipfs CLI (`ipfs add -r`,
// `ipfs get`) against a second, fresh daemon, in the same run. It prints
// the wall-time ratios and the peak memory of push and pull. Run it with
// scripts/bench-ipfs.sh.
func BenchmarkPushPull(b *testing.B) {
	size := int64(256<<20 + 1<<20)
	if v := os.Getenv("PF_BENCH_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatalf("PF_BENCH_BYTES=%q: %v", v, err)
		}
		size = n
	}
	needDaemon(b) // ours: push and pull go through the shared daemon
	bin, err := ipfsBinary()
	if err != nil {
		b.Fatal(err)
	}
	peerRepo, err := os.MkdirTemp("", "pf-ipfs-bench-peer-")
	if err != nil {
		b.Fatal(err)
	}
	peer, err := startKubo(bin, peerRepo)
	if err != nil {
		b.Fatal(err)
	}
	defer peer.stop()

	st := newStore(b)
	start := time.Now()
	id, err := demo.BigImage(st, size, 7)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built a %d MiB image in %s", size>>20, time.Since(start).Round(time.Millisecond))
	reg := openIPFS(b, registry.Config{})
	ctx := context.Background()

	for i := 0; i < b.N; i++ {
		mem := startMemWatch()
		t0 := time.Now()
		rep, err := reg.Push(ctx, st, id, mustRef(b, "ipfs://bench:"+strconv.Itoa(i)), registry.TransferOptions{})
		if err != nil {
			b.Fatal(err)
		}
		pushTime := time.Since(t0)
		pushHeap, pushRSS := mem.stop()
		cid := cidOf(b, rep.Destination)

		mem = startMemWatch()
		t0 = time.Now()
		if _, err := reg.Pull(ctx, mustRef(b, rep.Destination), newStore(b), registry.TransferOptions{}); err != nil {
			b.Fatal(err)
		}
		pullTime := time.Since(t0)
		pullHeap, pullRSS := mem.stop()

		// The same stored files in the Rust layout, for the peer tool.
		dir := filepath.Join(b.TempDir(), "image")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		manifest, err := st.Manifest(id)
		if err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, ManifestEntry), manifest, 0o644)
		os.WriteFile(filepath.Join(dir, SignatureEntry), signing.SignBytes(manifest, signing.ForBackend(Scheme)), 0o644)
		for _, bl := range rep.Blobs {
			if err := os.Link(st.BlobPath(bl.Digest), filepath.Join(dir, blobEntry(bl.Digest))); err != nil {
				b.Fatal(err)
			}
		}
		t0 = time.Now()
		peerCID := peer.ipfs(b, "add", "-r", "-Q", dir)
		addTime := time.Since(t0)
		if peerCID != cid {
			b.Errorf("ipfs add -r gave %s, push gave %s for the same files", peerCID, cid)
		}
		t0 = time.Now()
		peer.ipfs(b, "get", "-o", filepath.Join(b.TempDir(), "got"), peerCID)
		getTime := time.Since(t0)

		b.ReportMetric(pushTime.Seconds()/addTime.Seconds(), "push/add")
		b.ReportMetric(pullTime.Seconds()/getTime.Seconds(), "pull/get")
		b.ReportMetric(float64(max(pushRSS, pullRSS))/(1<<20), "peakRSS-MiB")
		fmt.Printf("ipfs bench: %d MiB logical, %d MiB stored in %d blobs\n", size>>20, rep.Bytes>>20, len(rep.Blobs))
		fmt.Printf("  push %-9s vs ipfs add -r %-9s ratio %.2f   peak heap %d MiB, peak RSS %d MiB\n",
			pushTime.Round(time.Millisecond), addTime.Round(time.Millisecond), pushTime.Seconds()/addTime.Seconds(), pushHeap>>20, pushRSS>>20)
		fmt.Printf("  pull %-9s vs ipfs get    %-9s ratio %.2f   peak heap %d MiB, peak RSS %d MiB\n",
			pullTime.Round(time.Millisecond), getTime.Round(time.Millisecond), pullTime.Seconds()/getTime.Seconds(), pullHeap>>20, pullRSS>>20)
	}
}

// memWatch samples the Go heap while an operation runs and reads the
// process's peak RSS after resetting it (Linux clear_refs).
type memWatch struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	peak  uint64
}

func startMemWatch() *memWatch {
	runtime.GC()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM; best effort
	w := &memWatch{stopc: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			w.peak = max(w.peak, ms.HeapInuse)
			select {
			case <-w.stopc:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// stop returns the peak heap in use and the peak RSS (0 when unknown).
func (w *memWatch) stop() (heap, rss uint64) {
	close(w.stopc)
	w.wg.Wait()
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			rss = kb << 10
		}
	}
	return w.peak, rss
}
