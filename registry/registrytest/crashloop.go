package registrytest

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// Kills the crash loop makes: in all, and at least of each operation.
const (
	crashKills      = 24
	crashKillsPerOp = 6
	crashMaxRuns    = 60
)

// EnvCrashSeed seeds the crash loop's choice of kill points (default 1):
// set it to explore other points; a failure names the seed it ran with.
const EnvCrashSeed = "PF_CRASH_SEED"

// slot is one operation of the crash loop: where it writes, what is there
// and where it may be killed.
type slot struct {
	op   registry.Op
	runs int
	// ref is where a push or copy writes: a new place every other run,
	// the image written there by the run before otherwise (replaced).
	ref   registry.Ref
	held  model.Digest // the image at ref now, "" for none
	cal   *childRun    // a whole run: its steps and events
	todo  []string     // steps not yet killed at, each once first
	again map[string]bool
}

// missed puts a step of todo that a run did not reach back in the list,
// once (a new place and a replaced image pass different steps).
func (x *slot) missed(step string) {
	if step == "" || x.again[step] || !slices.Contains(x.cal.steps, step) {
		return
	}
	if x.again == nil {
		x.again = map[string]bool{}
	}
	x.again[step] = true
	x.todo = append(x.todo, step)
}

// crashLoop kills pulls, pushes and copies with SIGKILL at least
// crashKills times: first at every step each one passes (a commit's
// steps included), then at steps, progress events or delays chosen by a
// seeded RNG. Every other push or copy replaces the image the run before
// wrote (with the other image, signed by another key), the others write
// to a new place. After every kill the
// destination holds the old image or the new one, complete, verifying
// deep, with its own signatures only; every image marker of a pull's store
// names a complete image; and the next run finishes and leaves no work
// file behind.
func (s *suite) crashLoop(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := newCrasher(t, s.h)
	seed := uint64(1)
	if v := os.Getenv(EnvCrashSeed); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	var srcs [2]registry.Ref
	for i := range srcs {
		srcs[i] = c.push(t, s.h.NewRef(t), i)
	}
	slots := []*slot{{op: registry.OpPull}, {op: registry.OpPush}, {op: registry.OpCopy}}
	kills := map[registry.Op]int{}
	total, runs := 0, 0
	for ; runs < crashMaxRuns && (total < crashKills || slices.ContainsFunc(slots, func(x *slot) bool { return kills[x.op] < crashKillsPerOp })); runs++ {
		x := slots[runs%len(slots)]
		if x.op != registry.OpPull && (x.held == "" || x.runs%2 == 1) {
			// Every other run writes to a new place, where blobs move.
			x.ref, x.held = s.h.NewRef(t), ""
		}
		x.runs++
		job := c.job(t, x, srcs)
		if x.cal == nil {
			c.learn(t, x, job)
			continue
		}
		delay := x.killPoint(rng, &job)
		killed, _ := c.child(t, job, delay)
		if killed {
			kills[x.op]++
			total++
		} else {
			x.missed(job.KillAtStep)
		}
		c.after(t, x, job, killed)
	}
	t.Logf("%d SIGKILLs (%d pull, %d push, %d copy) in %d runs, seed %d, %s", total, kills[registry.OpPull], kills[registry.OpPush],
		kills[registry.OpCopy], runs, seed, time.Since(start).Round(time.Millisecond))
	if total < crashKills {
		t.Fatalf("only %d of %d runs were killed before they finished (seed %d)", total, runs, seed)
	}
}

// push pushes image i, signed by its key, to ref in the test's process.
func (c *crasher) push(t *testing.T, ref registry.Ref, i int) registry.Ref {
	t.Helper()
	if _, err := c.open(t).Push(context.Background(), c.st, c.ids[i], ref, registry.TransferOptions{SignWith: []*signing.PrivateKey{c.keys[i]}}); err != nil {
		t.Fatalf("push to %s: %v", ref.Raw, err)
	}
	return ref
}

// job is the next run of slot x: a pull of image 0 into a fresh store, or
// the other image pushed or copied over the one at x.ref.
func (c *crasher) job(t *testing.T, x *slot, srcs [2]registry.Ref) crashJob {
	if x.op == registry.OpPull {
		return crashJob{Op: x.op, Src: srcs[0].Raw, Store: filepath.Join(t.TempDir(), "store")}
	}
	next := 1 - c.index(x.held)
	job := crashJob{Op: x.op, Dst: x.ref.Raw, Key: c.files[next]}
	if x.op == registry.OpPush {
		job.Store, job.Image = c.st.Root(), c.ids[next]
	} else {
		job.Src = srcs[next].Raw
	}
	return job
}

// want is the image a run of job leaves when it finishes.
func (c *crasher) want(x *slot) model.Digest {
	if x.op == registry.OpPull {
		return c.ids[0]
	}
	return c.ids[1-c.index(x.held)]
}

// learn runs job whole once, to learn the steps and events of the
// operation.
func (c *crasher) learn(t *testing.T, x *slot, job crashJob) {
	t.Helper()
	killed, run := c.child(t, job, 0)
	if killed {
		t.Fatalf("%s was killed with no kill point", x.op)
	}
	x.cal = &run
	for _, s := range run.steps {
		if name := s[:len(s)-len("#1")]; s == name+"#1" {
			x.todo = append(x.todo, s)
		}
	}
	c.after(t, x, job, false)
}

// killPoint sets where job dies, or returns a delay after which it is
// killed from outside.
func (x *slot) killPoint(rng *rand.Rand, job *crashJob) time.Duration {
	if len(x.todo) > 0 {
		job.KillAtStep, x.todo = x.todo[0], x.todo[1:]
		return 0
	}
	switch n := rng.IntN(10); {
	case n < 4 && len(x.cal.steps) > 0:
		job.KillAtStep = x.cal.steps[rng.IntN(len(x.cal.steps))]
	case n < 8 && x.cal.events > 0:
		job.KillAtEvent = 1 + rng.IntN(x.cal.events)
	default:
		return 1 + time.Duration(rng.Int64N(int64(x.cal.took)))
	}
	return 0
}

// after checks what a (killed or finished) run left, runs the next one
// whole when it was killed, and checks that it finished.
func (c *crasher) after(t *testing.T, x *slot, job crashJob, killed bool) {
	t.Helper()
	want := c.want(x)
	if x.op == registry.OpPull {
		checkStore(t, job.Store)
	} else {
		c.checkImage(t, x.ref, x.held, want)
	}
	if killed {
		job.KillAtStep, job.KillAtEvent = "", 0
		if again, _ := c.child(t, job, 0); again {
			t.Fatalf("the run after a kill of %s was killed too", x.op)
		}
	}
	if x.op == registry.OpPull {
		st := checkStore(t, job.Store)
		if files, err := st.StagingFiles(); !st.HasImage(want) || err != nil || len(files) > 0 {
			t.Fatalf("pull after a kill: image in the store %v, staging files %v (%v)", st.HasImage(want), files, err)
		}
		c.checkClean(t, nil)
		return
	}
	if got := c.checkImage(t, x.ref, "", want); got != want {
		t.Fatalf("%s after a kill: %s holds %s, want %s", x.op, x.ref.Raw, got.Short(), want.Short())
	}
	x.held = want
	c.checkClean(t, &x.ref)
}
