package ipfs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// Deleting a name unpins its directory once no other name points at it;
// a CID that a name points at is refused; retag copies within MFS.
func TestDeleteUnpinsAndRetagCopies(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st, id := registrytest.SmallImage(t, 9301)
	repo := fmt.Sprintf("unpin-%d", runSeq.Add(1))
	v1 := registrytest.MustRef(t, "ipfs://"+repo+":v1")
	rep, err := reg.Push(ctx, st, id, v1, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cid := cidOf(t, rep.Destination)
	stable := registrytest.MustRef(t, "ipfs://"+repo+":stable")
	if _, err := reg.Retag(ctx, v1, stable); err != nil {
		t.Fatal(err)
	}
	if got := k.ipfs(t, "files", "stat", "--hash", IndexRoot+"/"+repo+"/stable"); strings.TrimSpace(got) != cid {
		t.Fatalf("the retagged name points at %q, want %s", got, cid)
	}
	if _, err := reg.Delete(ctx, []registry.Ref{registrytest.MustRef(t, "ipfs://"+cid)}, registry.DeleteOptions{}); !errors.Is(err, fault.ErrUsage) ||
		!strings.Contains(err.Error(), "is named") {
		t.Fatalf("deleting a named CID: %v", err)
	}
	pinned := func() bool {
		out, err := k.run("pin", "ls", "--type=recursive", cid)
		return err == nil && strings.Contains(out, cid)
	}
	if _, err := reg.Delete(ctx, []registry.Ref{v1}, registry.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if !pinned() {
		t.Fatal("the directory was unpinned while a name still points at it")
	}
	if _, err := reg.Verify(ctx, stable, registry.VerifyOptions{Deep: true}); err != nil {
		t.Fatalf("the other name lost its image: %v", err)
	}
	drep, err := reg.Delete(ctx, []registry.Ref{stable}, registry.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pinned() {
		t.Fatal("the directory is still pinned after its last name went")
	}
	if len(drep.Notes) != 1 || !strings.Contains(drep.Notes[0], "repo gc") {
		t.Fatalf("notes: %v", drep.Notes)
	}
	if out, _ := k.run("files", "ls", IndexRoot); strings.Contains(out, repo) {
		t.Fatalf("the empty repository stays in the index: %s", out)
	}
}

// Prune deletes IPFS images by name (the listing names them by CID).
func TestPruneByName(t *testing.T) {
	needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	repo := fmt.Sprintf("prune-%d", runSeq.Add(1))
	for i, seed := range []uint64{9401, 9402, 9403} {
		st, id := registrytest.SmallImage(t, seed)
		if _, err := reg.Push(ctx, st, id, registrytest.MustRef(t, fmt.Sprintf("ipfs://%s:t%d", repo, i)), registry.TransferOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := registry.Prune(ctx, reg, registrytest.MustRef(t, "ipfs://"+repo), registry.PruneOptions{Keep: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Pruned) != 2 || len(rep.Delete.Images) != 2 {
		t.Fatalf("pruned %v", rep.Pruned)
	}
	tags, err := reg.Tags(ctx, registrytest.MustRef(t, "ipfs://"+repo), registry.ListOptions{})
	if err != nil || len(tags.Tags) != 1 || "ipfs://"+repo+":"+tags.Tags[0].Name != rep.Kept[0].Ref {
		t.Fatalf("after the prune: %+v %v (kept %v)", tags, err, rep.Kept)
	}
}

// A switch a killed push decided (its ready directory) shows while the
// name is missing; deleting the name drops it, so that it cannot bring the
// image back.
func TestDeleteDropsAPendingSwitch(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st, a := registrytest.SmallImage(t, 9311)
	b := registrytest.AddSmallImage(t, st, 9312)
	repo := fmt.Sprintf("pending-%d", runSeq.Add(1))
	name := registrytest.MustRef(t, "ipfs://"+repo+":v1")
	if _, err := reg.Push(ctx, st, a, name, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Push(ctx, st, b, registrytest.MustRef(t, "ipfs://new"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// This process's own ready directory: no push finishes it meanwhile.
	tg := target{raw: repo + ":v1", repo: repo, tag: "v1"}
	k.ipfs(t, "files", "cp", "/ipfs/"+cidOf(t, rep.Destination), stagingRoot+"/"+readyName(tg, newStaging()))
	if in, err := reg.Inspect(ctx, name); err != nil || in.ImageID != a {
		t.Fatalf("the name while a switch is pending: %v; want image %s", err, a.Short())
	}
	k.ipfs(t, "files", "rm", "-r", tg.indexPath())
	if in, err := reg.Inspect(ctx, name); err != nil || in.ImageID != b {
		t.Fatalf("the name missing, its switch pending: %v; want image %s", err, b.Short())
	}
	if _, err := reg.Delete(ctx, []registry.Ref{name}, registry.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := reg.Exists(ctx, name); ok || err != nil {
		t.Fatalf("the deleted name shows an image again (exists %v, %v)", ok, err)
	}
}
