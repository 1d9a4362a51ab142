package ui

import (
	"context"
	"sort"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"pf-registry/model"
	"pf-registry/registry"
)

// jobSpec describes one background transfer; run is called inside a
// tea.Cmd and may be called again to retry.
type jobSpec struct {
	op  string // pull, push, copy, verify
	src string
	dst string
	run func(ctx context.Context, progress func(registry.Event)) (*registry.Report, error)
	// changes are the locations a job writes to besides dst (the images a
	// deletion removes): the views of them reload when it ends.
	changes []string
	// outcome, when set, is the log line's account of a job that moves no
	// image (delete, sync, gc): what the last run of run did.
	outcome func() string
}

type jobState int

const (
	jobRunning jobState = iota
	jobDone
	jobFailed
	jobCancelled
)

func (s jobState) String() string {
	return [...]string{"running", "done", "failed", "cancelled"}[s]
}

// blobProgress is where one blob of a job stands.
type blobProgress struct {
	Digest model.Digest
	Role   string
	Phase  registry.Phase
	Done   int64
	Total  int64
	Err    string
	// Note is why the blob started over (a retry), until it moves again.
	Note string
}

// progressSnap is a copy of a job's progress, owned by Update.
type progressSnap struct {
	Blobs     []blobProgress // in first-seen order
	Done      int64
	Total     int64 // sum of known blob sizes; -1 when some are unknown
	Signature string
	Message   string
	// A run over several images (sync, delete): how many, and how many
	// have finished (copied, found present, deleted or failed).
	Images     int
	ImagesDone int
}

// progressSink receives engine events (serialised by the engine, but on
// another goroutine than Update) and coalesces them: it only flags that
// something changed, and the wait command reads one snapshot.
type progressSink struct {
	mu     sync.Mutex
	blobs  map[model.Digest]*blobProgress
	order  []model.Digest
	sig    string
	msg    string
	nBlobs int
	dirty  chan struct{}
	// images of a run, and those finished, by reference.
	images     int
	imagesDone map[string]bool
}

func newProgressSink() *progressSink {
	return &progressSink{blobs: map[model.Digest]*blobProgress{}, dirty: make(chan struct{}, 1)}
}

func (p *progressSink) add(ev registry.Event) {
	// Roles carry fs-tree paths, messages and errors quote registries.
	ev.Role, ev.Message, ev.Error = safe(ev.Role), safe(ev.Message), safe(ev.Error)
	p.mu.Lock()
	switch ev.Kind {
	case registry.KindBlob:
		b, ok := p.blobs[ev.Digest]
		if !ok {
			b = &blobProgress{Digest: ev.Digest, Total: -1}
			p.blobs[ev.Digest] = b
			p.order = append(p.order, ev.Digest)
		}
		if ev.Role != "" {
			b.Role = ev.Role
		}
		b.Phase = ev.Phase
		if ev.Total >= 0 && (ev.Total > 0 || b.Total < 0) {
			b.Total = ev.Total
		}
		if ev.Done > b.Done || ev.Phase == registry.PhaseQueued {
			b.Done = ev.Done
		}
		if ev.Error != "" {
			b.Err = ev.Error
		}
		switch {
		case ev.Phase == registry.PhaseQueued && ev.Message != "":
			b.Note = ev.Message
		case ev.Phase.Terminal():
			b.Note = ""
		}
	default:
		if ev.Signature != "" {
			p.sig = ev.Signature
		}
		if ev.Message != "" {
			p.msg = ev.Message
		}
		if ev.Error != "" {
			p.msg = ev.Error
		}
		if ev.Blobs > 0 {
			p.nBlobs = ev.Blobs
		}
	}
	p.addRun(ev)
	p.mu.Unlock()
	select {
	case p.dirty <- struct{}{}:
	default:
	}
}

// addRun counts the images of a run over several (its KindRun events
// announce how many; each image's last event ends it). Called locked.
func (p *progressSink) addRun(ev registry.Event) {
	switch {
	case ev.Kind == registry.KindRun && ev.Images > 0:
		p.images = ev.Images
	case ev.Kind == registry.KindImage && ev.Ref != "" && ev.Phase.Terminal():
		if p.imagesDone == nil {
			p.imagesDone = map[string]bool{}
		}
		p.imagesDone[ev.Ref] = true
	}
}

func (p *progressSink) snapshot() progressSnap {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := progressSnap{Signature: p.sig, Message: p.msg, Blobs: make([]blobProgress, 0, len(p.order)),
		Images: p.images, ImagesDone: len(p.imagesDone)}
	known := true
	for _, d := range p.order {
		b := *p.blobs[d]
		s.Blobs = append(s.Blobs, b)
		if b.Phase == registry.PhaseSkipped {
			continue
		}
		if b.Total < 0 {
			known = false
		} else {
			s.Total += b.Total
		}
		s.Done += min(b.Done, max(b.Total, b.Done))
	}
	if !known {
		s.Total = -1
	}
	return s
}

// job is one background transfer as the transfers view knows it.
type job struct {
	id      int
	spec    jobSpec
	state   jobState
	cancel  context.CancelFunc
	sink    *progressSink
	done    chan struct{}
	snap    progressSnap
	started time.Time
	ended   time.Time
	report  *registry.Report
	err     error
	// speed: samples of (time, bytes) over the last few seconds.
	samples   []sample
	lastMoved time.Time
	lastDone  int64
}

type sample struct {
	t time.Time
	n int64
}

// Messages of the job machinery.
type (
	jobProgressMsg struct {
		id   int
		snap progressSnap
	}
	jobDoneMsg struct {
		id     int
		report *registry.Report
		err    error
	}
	jobTickMsg time.Time
)

// progressInterval bounds how often one job re-renders: never a message per
// event, at most ~12 per second.
const progressInterval = 80 * time.Millisecond

// stallAfter is how long a running job may move no bytes before it is
// marked stalled.
const stallAfter = 5 * time.Second

// runJobCmd runs the job's operation; it is the only place a transfer
// touches the backend.
func runJobCmd(ctx context.Context, j *job) tea.Cmd {
	run, sink, done, id := j.spec.run, j.sink, j.done, j.id
	return func() tea.Msg {
		rep, err := run(ctx, sink.add)
		close(done)
		return jobDoneMsg{id: id, report: rep, err: err}
	}
}

// waitProgressCmd waits for the next change of a job's progress and
// delivers one coalesced snapshot; Update re-arms it while the job runs.
func waitProgressCmd(j *job) tea.Cmd {
	sink, done, id := j.sink, j.done, j.id
	return func() tea.Msg {
		select {
		case <-sink.dirty:
		case <-done:
			return nil
		}
		t := time.NewTimer(progressInterval)
		select {
		case <-t.C:
		case <-done:
			t.Stop()
		}
		return jobProgressMsg{id: id, snap: sink.snapshot()}
	}
}

func tickCmd() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return jobTickMsg(t) })
}

// observe records moved bytes for speed and stall detection.
func (j *job) observe(now time.Time) {
	if j.snap.Done != j.lastDone || j.lastMoved.IsZero() {
		j.lastMoved = now
		j.lastDone = j.snap.Done
	}
	j.samples = append(j.samples, sample{now, j.snap.Done})
	cut := 0
	for cut < len(j.samples)-2 && now.Sub(j.samples[cut].t) > 5*time.Second {
		cut++
	}
	j.samples = j.samples[cut:]
}

// speed in stored bytes per second over the sample window.
func (j *job) speed() float64 {
	if len(j.samples) < 2 {
		return 0
	}
	a, b := j.samples[0], j.samples[len(j.samples)-1]
	dt := b.t.Sub(a.t).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(b.n-a.n) / dt
}

// eta is the remaining time at the current speed (0 when unknown).
func (j *job) eta() time.Duration {
	s := j.speed()
	if s <= 0 || j.snap.Total <= 0 {
		return 0
	}
	return time.Duration(float64(j.snap.Total-j.snap.Done) / s * float64(time.Second))
}

// stalledFor is how long a running job has moved no bytes (0 when moving).
func (j *job) stalledFor(now time.Time) time.Duration {
	if j.state != jobRunning || j.lastMoved.IsZero() {
		return 0
	}
	if d := now.Sub(j.lastMoved); d >= stallAfter {
		return d
	}
	return 0
}

// fraction is the job's completed share in [0,1], -1 when unknown.
func (j *job) fraction() float64 {
	if j.state == jobDone {
		return 1
	}
	if j.snap.Images > 0 {
		// A run over several images: bytes are learnt image by image,
		// so the share of images finished is what moves steadily.
		return min(float64(j.snap.ImagesDone)/float64(j.snap.Images), 1)
	}
	if j.snap.Total <= 0 {
		if j.snap.Total == 0 && len(j.snap.Blobs) > 0 {
			return 1
		}
		return -1
	}
	return min(float64(j.snap.Done)/float64(j.snap.Total), 1)
}

// phaseCounts counts blobs per phase for the summary line.
func phaseCounts(bs []blobProgress) map[registry.Phase]int {
	m := map[registry.Phase]int{}
	for _, b := range bs {
		m[b.Phase]++
	}
	return m
}

// displayOrder puts the interesting blobs first: moving, verifying,
// failed, queued, then finished ones; stable within a group.
func displayOrder(bs []blobProgress) []blobProgress {
	rank := map[registry.Phase]int{
		registry.PhaseTransferring: 0, registry.PhaseVerifying: 1, registry.PhaseFailed: 2,
		registry.PhaseQueued: 3, registry.PhaseDone: 4, registry.PhaseSkipped: 5,
	}
	out := append([]blobProgress(nil), bs...)
	sort.SliceStable(out, func(a, b int) bool { return rank[out[a].Phase] < rank[out[b].Phase] })
	return out
}
