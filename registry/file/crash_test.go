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
	"pf-registry/internal/crashpoint"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/signing"
	"pf-registry/store"
)

// Environment of a re-executed test binary that pushes one image and
// kills itself with SIGKILL at a commit step.
const (
	envCrashAt    = "PF_FILE_TEST_CRASH_AT"
	envCrashStore = "PF_FILE_TEST_STORE"
	envCrashImage = "PF_FILE_TEST_IMAGE"
	envCrashDest  = "PF_FILE_TEST_DEST"
	envCrashKey   = "PF_FILE_TEST_KEY" // a private key file, empty passphrase
)

// emptyPass opens the test keys.
var emptyPass = signing.StaticPassphrase([]byte{})

func TestMain(m *testing.M) {
	registrytest.CrashChild()
	if step := os.Getenv(envCrashAt); step != "" {
		os.Exit(crashingPush(step))
	}
	os.Exit(m.Run())
}

// crashingPush runs in the child: a push that dies at step.
func crashingPush(step string) int {
	crashpoint.Set(func(s string) {
		if s == "file."+step {
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
	pem, err := os.ReadFile(os.Getenv(envCrashKey))
	if err != nil {
		return 2
	}
	key, err := signing.DecryptPrivateKeyPEM(pem, emptyPass)
	if err != nil {
		return 2
	}
	opt := registry.TransferOptions{SignWith: []*signing.PrivateKey{key}}
	if _, err := reg.Push(context.Background(), st, model.Digest(os.Getenv(envCrashImage)), ref, opt); err != nil {
		return 1
	}
	return 0 // the step was never reached
}

// crashKey makes a key and its encrypted file for the child.
func crashKey(t *testing.T) (*signing.PrivateKey, string) {
	t.Helper()
	k, err := signing.GenerateKey(signing.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := k.EncryptPEM(emptyPass)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return k, p
}

// bundlesIn lists the bundle files of an image directory.
func bundlesIn(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if registry.IsBundleFile(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestKilledCommitLeavesOldOrNewImage: a push that replaces an image and
// is killed at any step of its commit leaves the old image or the new
// one, each verifying, never the new signature next to the old manifest
// (or the reverse), and with its own bundle only. The next open completes
// or discards the switch and removes the dead process's staging files.
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
	oldKey, _ := crashKey(t)
	newKey, newKeyFile := crashKey(t)
	ring := signing.NewKeyring()
	ring.Add(oldKey.Public(), true)
	ring.Add(newKey.Public(), true)
	for _, step := range []string{"blob", "staged", "journal", "bundle", "sig", "manifest", "prune"} {
		t.Run(step, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "img")
			reg, ref := registrytest.Open(t, "file://"+dest, registry.Config{Keys: ring})
			if _, err := reg.Push(context.Background(), st, oldID, ref, registry.TransferOptions{SignWith: []*signing.PrivateKey{oldKey}}); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(self, "-test.run", "^$")
			cmd.Env = append(os.Environ(), envCrashAt+"="+step, envCrashStore+"="+st.Root(),
				envCrashImage+"="+string(newID), envCrashDest+"="+dest, envCrashKey+"="+newKeyFile)
			err = cmd.Run()
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
			want := signing.BundleFileName(oldKey.Public().Fingerprint)
			if rep.Inspection.ImageID == newID {
				want = signing.BundleFileName(newKey.Public().Fingerprint)
			}
			if got := bundlesIn(t, dest); len(got) != 1 || got[0] != want || rep.Inspection.Signature.Status() != signing.Trusted ||
				len(rep.Inspection.Signature.Failed()) != 0 {
				t.Fatalf("bundles after a kill at %q: %v, verdict %+v", step, got, rep.Inspection.Signature.Checks)
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
