package ipfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/memwatch"
	"pf-registry/registry"
	"pf-registry/signing"
)

// BenchmarkPushPull pushes and pulls a large image (PF_BENCH_BYTES, default
// 256 MiB of logical data) through the RPC API of one offline daemon, and
// adds and gets the same stored files with the ipfs CLI (`ipfs add -r`,
// `ipfs get`) against a second, fresh daemon, in the same run. It prints
// the wall-time ratios and the peak memory of push and pull (in-process;
// scripts/bench.sh times the whole command beside the peers).
func BenchmarkPushPull(b *testing.B) {
	size := memwatch.BenchBytes(b)
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
		mem := memwatch.Start()
		t0 := time.Now()
		rep, err := reg.Push(ctx, st, id, mustRef(b, "ipfs://bench:"+strconv.Itoa(i)), registry.TransferOptions{})
		if err != nil {
			b.Fatal(err)
		}
		pushTime := time.Since(t0)
		pushMem := mem.Stop()
		cid := cidOf(b, rep.Destination)

		mem = memwatch.Start()
		t0 = time.Now()
		if _, err := reg.Pull(ctx, mustRef(b, rep.Destination), newStore(b), registry.TransferOptions{}); err != nil {
			b.Fatal(err)
		}
		pullTime := time.Since(t0)
		pullMem := mem.Stop()

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
		b.ReportMetric(max(pushMem.RSSMiB(), pullMem.RSSMiB()), "peakRSS-MiB")
		b.ReportMetric(max(pushMem.HeapMiB(), pullMem.HeapMiB()), "peakheap-MiB")
		fmt.Printf("ipfs bench: %d MiB logical, %d MiB stored in %d blobs\n", size>>20, rep.Bytes>>20, len(rep.Blobs))
		fmt.Printf("  push %-9s vs ipfs add -r %-9s ratio %.2f   peak heap %d MiB, peak RSS %d MiB\n",
			pushTime.Round(time.Millisecond), addTime.Round(time.Millisecond), pushTime.Seconds()/addTime.Seconds(), pushMem.Heap>>20, pushMem.RSS>>20)
		fmt.Printf("  pull %-9s vs ipfs get    %-9s ratio %.2f   peak heap %d MiB, peak RSS %d MiB\n",
			pullTime.Round(time.Millisecond), getTime.Round(time.Millisecond), pullTime.Seconds()/getTime.Seconds(), pullMem.Heap>>20, pullMem.RSS>>20)
	}
}
