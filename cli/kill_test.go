package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/blob"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// A pull killed with SIGKILL halfway leaves no partial file where readers
// look (blobs/, images/), no image marker, and the next pull completes,
// skipping what was already safe. Verified blobs become safe in groups, one
// sync each (internal/durable): the kill comes once a few are in blobs/.
func TestKilledPullLeavesStoreUsable(t *testing.T) {
	dir := t.TempDir()
	regDir, reg, ref, id := bigFileImage(t, dir, 7)

	dstPath := filepath.Join(dir, "dst")
	cmd := cliCommand(t, "--store", dstPath, "--concurrency", "1", "--progress", "json", "pull", "file://"+regDir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pages := 0
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var ev registry.Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		// Kill while a page is moving, after a few pages are complete and
		// a few blobs are safe.
		if ev.Kind == registry.KindBlob && strings.HasPrefix(ev.Role, "page:") {
			if ev.Phase == registry.PhaseDone {
				pages++
			}
			if pages >= 3 && ev.Phase == registry.PhaseTransferring && countBlobs(dstPath) >= 3 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if pages < 3 {
		t.Fatalf("the pull ended before it could be killed (%d pages done)", pages)
	}

	// Readers' view: no marker, and every blob file verifies.
	if ents, _ := os.ReadDir(filepath.Join(dstPath, "images")); len(ents) != 0 {
		t.Fatalf("image marker written by a killed pull: %v", ents)
	}
	blobs := 0
	filepath.WalkDir(filepath.Join(dstPath, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dstPath, p)
		dg, err := model.DigestFromShardPath(filepath.ToSlash(rel))
		if err != nil {
			t.Errorf("unexpected file in blobs/: %s", rel)
			return nil
		}
		blobs++
		stored, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := blob.DecodeVerified(stored, dg, 64<<20); err != nil {
			t.Errorf("partial or bad blob left in blobs/: %s: %v", rel, err)
		}
		return nil
	})
	if blobs < 3 {
		t.Fatalf("only %d blobs kept before the kill", blobs)
	}
	dst, err := store.Open(dstPath) // clears the dead process's staging files
	if err != nil {
		t.Fatal(err)
	}
	if files, _ := dst.StagingFiles(); len(files) != 0 {
		t.Fatalf("staging files of the killed process survive: %v", files)
	}

	start := time.Now()
	rep, err := reg.Pull(context.Background(), ref, dst, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inspection.ImageID != id || !rep.Complete || rep.Skipped < 3 {
		t.Fatalf("resumed pull: id %s complete %v skipped %d (%s)", rep.Inspection.ImageID, rep.Complete, rep.Skipped, time.Since(start))
	}
	for _, b := range rep.Blobs {
		if _, err := dst.ReadBlob(b.Digest, 64<<20); err != nil {
			t.Errorf("blob %s after resume: %v", b.Role, err)
		}
	}
}

// countBlobs counts the files in a store's blobs/.
func countBlobs(store string) int {
	n := 0
	filepath.WalkDir(filepath.Join(store, "blobs"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
