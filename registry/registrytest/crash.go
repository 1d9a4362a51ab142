package registrytest

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/crashpoint"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
	"pf-registry/store"
)

// The crash loop runs the backend's test binary again as a child (its
// TestMain calls CrashChild first) that pulls, pushes or copies one image
// and dies by SIGKILL: at a named step of a write (internal/crashpoint),
// at its n-th progress event, or after a delay. The child's choices are
// in the environment as a crashJob.
const envCrashChild = "PF_REGISTRYTEST_CRASH_CHILD"

// Environ is an optional Harness capability: the environment a new
// process needs to reach the server through registry.ForRef the way Open
// does (the crash loop runs the backend in child processes, which inherit
// the test's environment plus these).
type Environ interface {
	Environ() []string
}

// crashJob is what a child does.
type crashJob struct {
	Op    registry.Op  `json:"op"`
	Src   string       `json:"src,omitempty"`   // pull and copy
	Dst   string       `json:"dst,omitempty"`   // push and copy
	Store string       `json:"store,omitempty"` // pull into, push from
	Image model.Digest `json:"image,omitempty"` // push
	// Key is a private key file (PKCS#8 DER) the image is signed with
	// (push and copy).
	Key string `json:"key,omitempty"`
	// KillAtStep is "<step>#<n>": die the n-th time the step is reached.
	KillAtStep string `json:"kill_at_step,omitempty"`
	// KillAtEvent dies at the n-th progress event (1-based).
	KillAtEvent int `json:"kill_at_event,omitempty"`
}

// CrashChild runs a crash loop's child when the environment asks for one,
// and then exits. Every backend's TestMain calls it first.
func CrashChild() {
	raw, ok := os.LookupEnv(envCrashChild)
	if !ok {
		return
	}
	os.Exit(runCrashJob(raw))
}

// runCrashJob is the child. It prints each step it passes ("step s3.sig#1")
// and, when it finishes, how many progress events it saw ("events 41"), for
// the parent to choose kill points from.
func runCrashJob(raw string) int {
	var job crashJob
	if err := json.Unmarshal([]byte(raw), &job); err != nil {
		fmt.Fprintln(os.Stderr, "crash job:", err)
		return 2
	}
	var mu sync.Mutex
	seen := map[string]int{}
	crashpoint.Set(func(step string) {
		mu.Lock()
		seen[step]++
		at := step + "#" + strconv.Itoa(seen[step])
		fmt.Println("step " + at)
		mu.Unlock()
		if at == job.KillAtStep {
			die()
		}
	})
	var events atomic.Int64
	opt := registry.TransferOptions{Progress: func(registry.Event) {
		if n := events.Add(1); n == int64(job.KillAtEvent) {
			die()
		}
	}}
	if job.Key != "" {
		k, err := readKey(job.Key)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		opt.SignWith = []*signing.PrivateKey{k}
	}
	err := job.run(context.Background(), opt)
	fmt.Printf("events %d\n", events.Load())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func readKey(file string) (*signing.PrivateKey, error) {
	der, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	return signing.NewPrivateKey(k.(crypto.Signer))
}

// die kills the process where it stands: no deferred function, no
// cleanup runs.
func die() {
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

func (j crashJob) run(ctx context.Context, opt registry.TransferOptions) error {
	var st *store.Store
	if j.Store != "" {
		var err error
		if st, err = store.Open(j.Store); err != nil {
			return err
		}
	}
	switch j.Op {
	case registry.OpPull:
		reg, ref, err := registry.ForRef(j.Src, registry.Config{})
		if err == nil {
			_, err = reg.Pull(ctx, ref, st, opt)
		}
		return err
	case registry.OpPush:
		reg, ref, err := registry.ForRef(j.Dst, registry.Config{})
		if err == nil {
			_, err = reg.Push(ctx, st, j.Image, ref, opt)
		}
		return err
	}
	sreg, sref, err := registry.ForRef(j.Src, registry.Config{})
	if err != nil {
		return err
	}
	dreg, dref, err := registry.ForRef(j.Dst, registry.Config{})
	if err != nil {
		return err
	}
	_, err = registry.Copy(ctx, sreg, sref, dreg, dref, opt)
	return err
}

// childRun is what a child printed: the steps it passed, in order, and
// its events (-1 when it was killed before it could say).
type childRun struct {
	steps  []string
	events int
	took   time.Duration
}

// crasher is the parent's side: two images, each signed by its own key
// wherever it is pushed or copied, and the children's environment.
type crasher struct {
	h    Harness
	self string
	env  []string
	// tmp is the children's TMPDIR: whatever they spool lands there.
	tmp   string
	st    *store.Store
	ids   [2]model.Digest
	keys  [2]*signing.PrivateKey
	files [2]string // the keys' PEM files
	ring  *signing.Keyring
}

func newCrasher(t *testing.T, h Harness) *crasher {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &crasher{h: h, self: self, tmp: t.TempDir(), ring: signing.NewKeyring()}
	// A race-enabled child would sleep a second before it exits.
	c.env = append(os.Environ(), "TMPDIR="+c.tmp, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	if e, ok := h.(Environ); ok {
		c.env = append(c.env, e.Environ()...)
	}
	// Tiny images (KV pages of 512 bytes): the loop runs many times, with
	// the race detector too.
	c.st = NewStore(t)
	for i := range c.ids {
		id, err := demo.Build(c.st, demo.ImageSpec{Seed: 1301 + uint64(i), Files: 3, Pages: 2, Messages: 3,
			Layers: 1, Tokens: 16, Heads: 2, HeadDim: 8})
		if err != nil {
			t.Fatal(err)
		}
		c.ids[i] = id
	}
	for i := range c.keys {
		_, k, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err == nil {
			c.keys[i], err = signing.NewPrivateKey(k)
		}
		if err != nil {
			t.Fatal(err)
		}
		c.files[i] = filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(c.files[i], der, 0o600); err != nil {
			t.Fatal(err)
		}
		c.ring.Add(c.keys[i].Public(), true)
	}
	return c
}

func (c *crasher) open(t testing.TB) registry.Registry {
	return c.h.Open(t, registry.Config{Keys: c.ring})
}

// index is which of the two images id is.
func (c *crasher) index(id model.Digest) int {
	if id == c.ids[1] {
		return 1
	}
	return 0
}

// child runs one job. A delay > 0 kills it from outside after that long.
// It reports whether SIGKILL ended the child; any other failure of the
// child fails the test.
func (c *crasher) child(t *testing.T, job crashJob, delay time.Duration) (bool, childRun) {
	t.Helper()
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(c.self, "-test.run=^$")
	cmd.Env = append(c.env, envCrashChild+"="+string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if delay > 0 {
		timer := time.AfterFunc(delay, func() { _ = cmd.Process.Kill() })
		defer timer.Stop()
	}
	err = cmd.Wait()
	run := childRun{events: -1, took: time.Since(start)}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "step "); ok {
			run.steps = append(run.steps, s)
		} else if n, ok := strings.CutPrefix(sc.Text(), "events "); ok {
			run.events, _ = strconv.Atoi(n)
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, run
		}
	}
	if err != nil {
		t.Fatalf("%s child (%+v) failed: %v\n%s", job.Op, job, err, stderr.String())
	}
	return false, run
}

// checkImage asserts that the image at ref is want or (when not "") was,
// verifying deep, signed by its own key with no signature of the other
// image beside it, and returns it. Nothing at ref is allowed only when
// was is "".
func (c *crasher) checkImage(t *testing.T, ref registry.Ref, was, want model.Digest) model.Digest {
	t.Helper()
	ctx := context.Background()
	reg := c.open(t)
	if ok, err := reg.Exists(ctx, ref); err != nil || !ok {
		if was == "" && err == nil {
			return ""
		}
		t.Fatalf("%s: the image is gone (exists %v, %v)", ref.Raw, ok, err)
	}
	rep, err := reg.Verify(ctx, ref, registry.VerifyOptions{Deep: true})
	if err != nil {
		t.Fatalf("%s: not a complete image: %v", ref.Raw, err)
	}
	in := rep.Inspection
	if in.ImageID != want && in.ImageID != was {
		t.Fatalf("%s holds %s, neither the old image %s nor the new %s", ref.Raw, in.ImageID.Short(), was.Short(), want.Short())
	}
	key := c.keys[c.index(in.ImageID)].Public().Fingerprint
	if best := in.Signature.Strongest(); best.Status != signing.Trusted || best.Fingerprint != key || len(in.Signature.Failed()) != 0 {
		t.Fatalf("%s: image %s with signatures %+v; want its own key's only", ref.Raw, in.ImageID.Short(), in.Signature.Checks)
	}
	return in.ImageID
}

// checkStore asserts that every image marker of the store at dir names a
// complete image whose every blob verifies.
func checkStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := st.Images()
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imgs {
		if im.Err != nil || model.FromBytes(im.Raw) != im.ID {
			t.Fatalf("store %s: marker of %s: %v", dir, im.ID.Short(), im.Err)
		}
		refs := model.Walk(im.Manifest, func(d model.Digest) ([]byte, error) { return st.ReadBlob(d, model.MaxMetadataSize) })
		for _, r := range refs {
			if _, err := st.ReadBlob(r.Digest, 1<<30); err != nil {
				t.Fatalf("store %s: image %s marked, but %s: %v", dir, im.ID.Short(), r.Role, err)
			}
		}
	}
	return st
}

// checkClean asserts that nothing a child spooled or staged is left once
// the next run finished: no file in the children's temp dir, no work file
// at ref.
func (c *crasher) checkClean(t *testing.T, ref *registry.Ref) {
	t.Helper()
	var left []string
	_ = filepath.WalkDir(c.tmp, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, strings.TrimPrefix(p, c.tmp))
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("files left in the temp dir after the next run: %v", left)
	}
	if l, ok := c.h.(Leftovers); ok && ref != nil {
		if left := l.Leftovers(t, *ref); len(left) > 0 {
			t.Fatalf("%s: work files left after the next run: %v", ref.Raw, left)
		}
	}
}
