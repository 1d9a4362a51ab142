package file_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/file"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

// Environment of a re-executed test binary that pushes one image and
// kills itself with SIGKILL at a commit step.
const (
	envCrashAt    = "PF_FILE_TEST_CRASH_AT"
	envCrashStore = "PF_FILE_TEST_STORE"
	envCrashImage = "PF_FILE_TEST_IMAGE"
	envCrashDest  = "PF_FILE_TEST_DEST"
)

func TestMain(m *testing.M) {
	if step := os.Getenv(envCrashAt); step != "" {
		os.Exit(crashingPush(step))
	}
	os.Exit(m.Run())
}

// crashingPush runs in the child: a push that dies at step.
func crashingPush(step string) int {
	file.SetCrashPoint(func(s string) {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	})
	st, err := store.Open(os.Getenv(envCrashStore))
	if err != nil {
		return 2
	}
	reg, ref, err := registry.ForRef("file://"+os.Getenv(envCrashDest), registry.Config{})
	if err != nil {
		return 2
	}
	if _, err := reg.Push(context.Background(), st, model.Digest(os.Getenv(envCrashImage)), ref, registry.TransferOptions{}); err != nil {
		return 1
	}
	return 0 // the step was never reached
}

// TestKilledCommitLeavesOldOrNewImage: a push that replaces an image and
// is killed at any step of its commit leaves the old image or the new
// one, each verifying, never the new signature next to the old manifest
// (or the reverse). The next open completes or discards the switch and
// removes the dead process's staging files.
func TestKilledCommitLeavesOldOrNewImage(t *testing.T) {
	st := registrytest.NewStore(t)
	oldID, err := demo.Build(st, demo.ImageSpec{Seed: 1, Files: 3, Pages: 2})
	if err != nil {
		t.Fatal(err)
	}
	newID, err := demo.Build(st, demo.ImageSpec{Seed: 2, Files: 3, Pages: 2, Agent: "other-agent"})
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"blob", "staged", "journal", "sig", "manifest"} {
		t.Run(step, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "img")
			reg, ref := registrytest.Open(t, "file://"+dest, registry.Config{})
			if _, err := reg.Push(context.Background(), st, oldID, ref, registry.TransferOptions{}); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(self, "-test.run", "^$")
			cmd.Env = append(os.Environ(), envCrashAt+"="+step, envCrashStore+"="+st.Root(),
				envCrashImage+"="+string(newID), envCrashDest+"="+dest)
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the push was not killed at %q: %v", step, err)
			}

			rep, err := reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true})
			if err != nil {
				t.Fatalf("image after a kill at %q: %v", step, err)
			}
			if id := rep.Inspection.ImageID; id != oldID && id != newID {
				t.Fatalf("image after a kill at %q is %s, neither old nor new", step, id.Short())
			}
			if ents, _ := os.ReadDir(filepath.Join(dest, ".pf-staging")); len(ents) != 0 {
				t.Fatalf("staging left after the next open: %v", names(ents))
			}
			rep, err = reg.Push(context.Background(), st, newID, ref, registry.TransferOptions{})
			if err != nil || !rep.Complete {
				t.Fatalf("next push: %v", err)
			}
			if rep, err := reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true}); err != nil || rep.Inspection.ImageID != newID {
				t.Fatalf("after the next push: %v", err)
			}
		})
	}
}

func names(ents []os.DirEntry) []string {
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestConcurrentPushesLeaveOneImage: pushes of different images to the
// same directory at once end with one of them, complete and verifying,
// and no journal or staging file left.
func TestConcurrentPushesLeaveOneImage(t *testing.T) {
	st := registrytest.NewStore(t)
	var ids []model.Digest
	for seed := uint64(1); seed <= 4; seed++ {
		id, err := demo.Build(st, demo.ImageSpec{Seed: seed, Files: 2, Pages: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	dest := filepath.Join(t.TempDir(), "img")
	reg, ref := registrytest.Open(t, "file://"+dest, registry.Config{})
	errs := make(chan error, len(ids))
	for _, id := range ids {
		go func() {
			_, err := reg.Push(context.Background(), st, id, ref, registry.TransferOptions{})
			errs <- err
		}()
	}
	for range ids {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent push: %v", err)
		}
	}
	rep, err := reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, id := range ids {
		found = found || rep.Inspection.ImageID == id
	}
	if !found {
		t.Fatalf("image %s is none of the pushed ones", rep.Inspection.ImageID.Short())
	}
	if ents, _ := os.ReadDir(filepath.Join(dest, ".pf-staging")); len(ents) != 0 {
		t.Fatalf("left in staging: %v", names(ents))
	}
}
