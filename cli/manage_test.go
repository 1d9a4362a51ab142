package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

// fileRegistry pushes n small images sharing blobs to dir/<repo>/t<i>, one
// day apart, and returns their references and IDs.
func fileRegistry(t *testing.T, dir string, repos, n int, rng *rand.Rand) ([]string, []model.Digest) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ids := registrytest.SharedImages(t, st, n, rng)
	var refs []string
	for i, id := range ids {
		raw := fmt.Sprintf("file://%s/repo%d/t%d", dir, i%repos, i)
		reg, r, err := registry.ForRef(raw, registry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Push(context.Background(), st, id, r, registry.TransferOptions{}); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, raw)
	}
	return refs, ids
}

// verifyRef checks the image at raw deeply (in this process).
func verifyRef(t *testing.T, raw string, id model.Digest) {
	t.Helper()
	reg, r, err := registry.ForRef(raw, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Verify(context.Background(), r, registry.VerifyOptions{Deep: true})
	if err != nil || rep.Inspection.ImageID != id {
		t.Fatalf("%s no longer verifies: %v", raw, err)
	}
}

func exists(t *testing.T, raw string) bool {
	t.Helper()
	reg, r, err := registry.ForRef(raw, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := reg.Exists(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// Every command that writes is refused in read-only mode with one line,
// before it changes anything; dry runs and du still work.
func TestReadOnlyRefusesManagement(t *testing.T) {
	dir := t.TempDir()
	refs, _ := fileRegistry(t, filepath.Join(dir, "reg"), 1, 3, registrytest.Rand(t))
	st := filepath.Join(dir, "store")
	r := run(t, "--store", st, "--progress", "none", "pull", refs[0])
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	before := snapshotTree(t, dir)
	for _, args := range [][]string{
		{"rm", refs[0]},
		{"prune", "file://" + filepath.Join(dir, "reg", "repo0"), "--keep", "1", "--yes"},
		{"tag", refs[0], "file://" + filepath.Join(dir, "reg", "repo0", "new")},
		{"sync", "file://" + filepath.Join(dir, "reg"), "file://" + filepath.Join(dir, "mirror")},
		{"--store", st, "images", "rm", id},
		{"--store", st, "gc"},
	} {
		r := run(t, append([]string{"--readonly", "--progress", "none"}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "read-only mode: refusing to write") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("--readonly %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	for _, args := range [][]string{
		{"rm", "--dry-run", refs[0]},
		{"prune", "file://" + filepath.Join(dir, "reg", "repo0"), "--keep", "1"},
		{"sync", "--dry-run", "file://" + filepath.Join(dir, "reg"), "file://" + filepath.Join(dir, "mirror")},
		{"--store", st, "images", "rm", "--dry-run", id},
		{"--store", st, "gc", "--dry-run"},
		{"--store", st, "du"},
	} {
		if r := run(t, append([]string{"--readonly", "--progress", "none"}, args...)...); r.code != 0 {
			t.Errorf("--readonly %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if after := snapshotTree(t, dir); after != before {
		t.Fatal("read-only commands changed the registry or the store")
	}
}

// snapshotTree lists every file under dir with its size.
func snapshotTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			fmt.Fprintf(&b, "%s %d\n", p, fi.Size())
		}
		return nil
	})
	return b.String()
}

// The JSON reports of rm, tag, sync, gc and du parse, and say what was
// done.
func TestManagementJSON(t *testing.T) {
	dir := t.TempDir()
	refs, ids := fileRegistry(t, filepath.Join(dir, "reg"), 1, 3, registrytest.Rand(t))
	var tagged struct {
		ImageID model.Digest `json:"image_id"`
	}
	r := run(t, "--progress", "none", "tag", "--json", refs[0], refs[0]+"-stable")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &tagged) != nil || tagged.ImageID != ids[0] {
		t.Fatalf("tag --json: %d %q %q", r.code, r.stdout, r.stderr)
	}
	var del struct {
		OK     bool `json:"ok"`
		DryRun bool `json:"dry_run"`
		Images []struct {
			ImageID model.Digest `json:"image_id"`
		} `json:"images"`
		Blobs []json.RawMessage `json:"blobs"`
		Bytes int64             `json:"bytes"`
	}
	r = run(t, "--progress", "none", "rm", "--json", "--grace", "0", refs[0])
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &del) != nil || !del.OK || len(del.Images) != 1 ||
		del.Images[0].ImageID != ids[0] || len(del.Blobs) == 0 || del.Bytes <= 0 {
		t.Fatalf("rm --json: %d %q %q", r.code, r.stdout, r.stderr)
	}
	verifyRef(t, refs[0]+"-stable", ids[0])
	var sy struct {
		OK     bool `json:"ok"`
		Copied int  `json:"copied"`
	}
	r = run(t, "--progress", "none", "sync", "--json", "file://"+filepath.Join(dir, "reg"), "file://"+filepath.Join(dir, "mirror"))
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &sy) != nil || !sy.OK || sy.Copied != 3 {
		t.Fatalf("sync --json: %d %q %q", r.code, r.stdout, r.stderr)
	}
	st := filepath.Join(dir, "store")
	run(t, "--store", st, "--progress", "none", "pull", refs[1])
	var du struct {
		Images []struct {
			Unique int64 `json:"unique"`
		} `json:"images"`
		Total int64 `json:"total"`
	}
	r = run(t, "--store", st, "du", "--json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &du) != nil || len(du.Images) != 1 || du.Images[0].Unique <= 0 || du.Total < du.Images[0].Unique {
		t.Fatalf("du --json: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// killer runs commands as separate processes and SIGKILLs them after a
// number of progress events.
type killer struct {
	t     *testing.T
	rng   *rand.Rand
	kills int
}

// runKilled starts args with --progress json and kills the process after
// its k-th event; it reports whether the process was killed (rather than
// done first).
func (k *killer) runKilled(args []string, events int) bool {
	t := k.t
	t.Helper()
	cmd := cliCommand(t, append([]string{"--progress", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	at := 1 + k.rng.IntN(events)
	sc := bufio.NewScanner(stderr)
	for n := 0; sc.Scan(); {
		if json.Valid(sc.Bytes()) {
			if n++; n >= at {
				break
			}
		}
	}
	cmd.Process.Kill()
	go func() { _, _ = bufio.NewReader(stderr).WriteTo(discard{}) }()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			k.kills++
			return true
		}
	}
	return false
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// rerun runs the command again in this process; it must finish.
func rerun(t *testing.T, args ...string) {
	t.Helper()
	if r := run(t, append([]string{"--progress", "none"}, args...)...); r.code != 0 {
		t.Fatalf("re-running %v: exit %d: %s", args, r.code, r.stderr)
	}
}

// copyTree hard-links a prepared registry or store into a fresh place, so
// each kill starts from the same state without rebuilding it.
func copyTree(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), filepath.Base(from))
	registrytest.LinkTree(t, from, to)
	return to
}

// SIGKILL at random points of rm, prune, sync and gc: every image that
// stays verifies --deep, and running the command again finishes it.
func TestKilledManagementCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the command line dozens of times; skipped with -short")
	}
	rng := registrytest.Rand(t)
	k := &killer{t: t, rng: rng}
	base := t.TempDir()
	refs, ids := fileRegistry(t, filepath.Join(base, "reg"), 2, 6, rng)
	storeDir := filepath.Join(base, "store")
	for _, r := range refs[:4] {
		if res := run(t, "--store", storeDir, "--progress", "none", "pull", r); res.code != 0 {
			t.Fatal(res.stderr)
		}
	}
	ops := []struct {
		name string
		try  func()
	}{
		{"rm", func() { k.rm(base, refs, ids) }},
		{"prune", func() { k.prune(base, refs, ids) }},
		{"sync", func() { k.sync(base, refs, ids) }},
		{"gc", func() { k.gc(storeDir, ids[:4]) }},
	}
	for _, op := range ops {
		start := k.kills
		for try := 0; try < 12 && k.kills-start < 5; try++ {
			op.try()
		}
		if k.kills-start < 5 {
			t.Fatalf("%s: only %d of the runs were killed before they ended", op.name, k.kills-start)
		}
	}
	t.Logf("%d processes killed", k.kills)
}

// relocate turns a reference of the prepared registry into one of its copy.
func relocate(raw, from, to string) string {
	return strings.Replace(raw, from, to, 1)
}

func (k *killer) rm(base string, refs []string, ids []model.Digest) {
	t := k.t
	reg := copyTree(t, filepath.Join(base, "reg"))
	var gone []string
	for i := 1; i < len(refs); i += 2 {
		gone = append(gone, relocate(refs[i], filepath.Join(base, "reg"), reg))
	}
	args := append([]string{"rm", "--grace", "0"}, gone...)
	k.runKilled(args, 40)
	// Those not yet deleted too: a manifest is never left without blobs.
	for i := range refs {
		if r := relocate(refs[i], filepath.Join(base, "reg"), reg); i%2 == 0 || exists(t, r) {
			verifyRef(t, r, ids[i])
		}
	}
	rerun(t, append(args, "--missing-ok")...)
	for _, g := range gone {
		if left := snapshotTree(t, strings.TrimPrefix(g, "file://")); left != "" {
			t.Fatalf("files of %s are left after the deletion was finished:\n%s", g, left)
		}
	}
}

func (k *killer) prune(base string, refs []string, ids []model.Digest) {
	t := k.t
	reg := copyTree(t, filepath.Join(base, "reg"))
	repo := "file://" + filepath.Join(reg, "repo0")
	args := []string{"prune", repo, "--keep", "1", "--yes", "--grace", "0"}
	k.runKilled(args, 40)
	for i := 0; i < len(refs); i += 2 {
		if r := relocate(refs[i], filepath.Join(base, "reg"), reg); exists(t, r) {
			verifyRef(t, r, ids[i])
		}
	}
	rerun(t, args...)
	for i := 0; i < len(refs); i += 2 {
		r := relocate(refs[i], filepath.Join(base, "reg"), reg)
		if newest := i == 4; exists(t, r) != newest {
			t.Fatalf("after the prune was finished, %s exists: %v", r, !newest)
		}
	}
	verifyRef(t, relocate(refs[4], filepath.Join(base, "reg"), reg), ids[4])
}

func (k *killer) sync(base string, refs []string, ids []model.Digest) {
	t := k.t
	dst := filepath.Join(t.TempDir(), "mirror")
	args := []string{"sync", "--images", "2", "file://" + filepath.Join(base, "reg"), "file://" + dst}
	k.runKilled(args, 120)
	mirrored := func(i int) string { return relocate(refs[i], filepath.Join(base, "reg"), dst) }
	for i := range refs {
		if exists(t, mirrored(i)) {
			verifyRef(t, mirrored(i), ids[i])
		}
	}
	rerun(t, args...)
	for i := range refs {
		verifyRef(t, mirrored(i), ids[i])
	}
}

// gc: two images' markers are removed by hand (their unique blobs become
// garbage) and a hundred orphans added; the four images stay whole.
func (k *killer) gc(storeDir string, ids []model.Digest) {
	t := k.t
	dir := copyTree(t, storeDir)
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := st.PutBytes([]byte(fmt.Sprintf("orphan %d %d", i, k.rng.Uint64()))); err != nil {
			t.Fatal(err)
		}
	}
	extra, err := demo.Build(st, demo.ImageSpec{Seed: k.rng.Uint64(), Files: 3, Messages: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "images", extra.Hex()+".json")); err != nil {
		t.Fatal(err)
	}
	args := []string{"--store", dir, "gc", "--grace", "0"}
	k.runKilled(args, 100)
	for _, id := range ids {
		verifyLocalImage(t, st, id)
	}
	rerun(t, args...)
	u, err := registry.NewLocal(st, registry.Config{}).Usage(context.Background())
	if err != nil || u.ReclaimableBlobs != 0 || len(u.Images) != len(ids) {
		t.Fatalf("after the gc was finished: %d blobs reclaimable, %d images: %v", u.ReclaimableBlobs, len(u.Images), err)
	}
	for _, id := range ids {
		verifyLocalImage(t, st, id)
	}
}

func verifyLocalImage(t *testing.T, st *store.Store, id model.Digest) {
	t.Helper()
	src, err := registry.StoreSource(st, id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := registry.Transfer(ctx, registry.OpVerify, src, nil, registry.DiscardSink(), nil, registry.TransferOptions{}); err != nil {
		t.Fatalf("local image %s no longer verifies: %v", id.Short(), err)
	}
}
