package registry

import (
	"time"

	"pf-registry/model"
)

// Op is the operation a progress event or a report belongs to.
type Op string

// Operations.
const (
	OpPull   Op = "pull"
	OpPush   Op = "push"
	OpCopy   Op = "copy"
	OpVerify Op = "verify"
	OpDelete Op = "delete" // rm, prune, images rm, gc
	OpRetag  Op = "retag"
	OpSync   Op = "sync"
)

func (o Op) String() string { return string(o) }

// EventKind tells what an event is about.
type EventKind string

// Event kinds.
const (
	KindImage EventKind = "image" // the image as a whole: start, signature, commit
	KindBlob  EventKind = "blob"
	// KindRun is a run over several images (sync, delete): its totals.
	KindRun EventKind = "run"
)

func (k EventKind) String() string { return string(k) }

// Phase is where one blob (or the whole image) stands in a transfer.
type Phase string

// Phases in the order a blob moves through them.
const (
	PhaseQueued       Phase = "queued"
	PhaseSkipped      Phase = "skipped" // already at the destination
	PhaseTransferring Phase = "transferring"
	PhaseVerifying    Phase = "verifying"
	PhaseDone         Phase = "done"
	PhaseFailed       Phase = "failed"
)

func (p Phase) String() string { return string(p) }

// Terminal reports whether no further event follows for the subject.
func (p Phase) Terminal() bool {
	return p == PhaseSkipped || p == PhaseDone || p == PhaseFailed
}

// Event is one progress report. The same stream feeds the UI, the plain
// text printer and the NDJSON printer.
type Event struct {
	Time time.Time `json:"time"`
	Op   Op        `json:"op"`
	Kind EventKind `json:"kind"`
	// Ref is the image an event of a run over several images is about.
	Ref    string       `json:"ref,omitempty"`
	Digest model.Digest `json:"digest,omitempty"`
	Role   string       `json:"role,omitempty"`
	Phase  Phase        `json:"phase"`
	Done   int64        `json:"done"`  // stored bytes moved so far
	Total  int64        `json:"total"` // stored size, -1 when unknown
	// Image events only.
	Blobs     int    `json:"blobs,omitempty"`     // number of blobs in the walk
	Images    int    `json:"images,omitempty"`    // run events: images in the run
	Signature string `json:"signature,omitempty"` // verdict status once known
	// Message is free text; on a blob event it says why the blob is
	// queued again (a retry: its Done starts over from 0).
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}
