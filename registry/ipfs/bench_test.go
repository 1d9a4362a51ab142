package ipfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"pf-registry/internal/memwatch"
	"pf-registry/internal/testenv"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
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
	bin, err := testenv.Tool("ipfs")
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

	st, id := registrytest.BigImage(b, size)
	reg := openIPFS(b, registry.Config{})
	ctx := context.Background()

	for i := 0; i < b.N; i++ {
		var rep *registry.Report
		pushTime, pushMem := memwatch.Measure(func() {
			if rep, err = reg.Push(ctx, st, id, registrytest.MustRef(b, "ipfs://bench:"+strconv.Itoa(i)), registry.TransferOptions{}); err != nil {
				b.Fatal(err)
			}
		})
		cid := cidOf(b, rep.Destination)
		pullTime, pullMem := memwatch.Measure(func() {
			if _, err := reg.Pull(ctx, registrytest.MustRef(b, rep.Destination), registrytest.NewStore(b), registry.TransferOptions{}); err != nil {
				b.Fatal(err)
			}
		})

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
		t0 := time.Now()
		peerCID := peer.ipfs(b, "add", "-r", "-Q", dir)
		addTime := time.Since(t0)
		if peerCID != cid {
			b.Errorf("ipfs add -r gave %s, push gave %s for the same files", peerCID, cid)
		}
		t0 = time.Now()
		peer.ipfs(b, "get", "-o", filepath.Join(b.TempDir(), "got"), peerCID)
		getTime := time.Since(t0)

		memwatch.ReportVersus(b, fmt.Sprintf("ipfs bench: %d MiB logical, %d MiB stored in %d blobs", size>>20, rep.Bytes>>20, len(rep.Blobs)),
			memwatch.Side{Ours: pushTime, Mem: pushMem, Peer: addTime, Cmd: "ipfs add -r", Metric: "push/add"},
			memwatch.Side{Ours: pullTime, Mem: pullMem, Peer: getTime, Cmd: "ipfs get", Metric: "pull/get"})
	}
}
