package registry

import (
	"time"

	"pf-registry/model"
	"pf-registry/signing"
)

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

// Terminal reports whether no further event follows for the subject.
func (p Phase) Terminal() bool {
	return p == PhaseSkipped || p == PhaseDone || p == PhaseFailed
}

// Event kinds.
const (
	KindImage = "image" // the image as a whole: start, signature, commit
	KindBlob  = "blob"
)

// Event is one progress report. The same stream feeds the UI, the plain
// text printer and the NDJSON printer.
type Event struct {
	Time   time.Time    `json:"time"`
	Op     string       `json:"op"`   // pull, push, copy, verify
	Kind   string       `json:"kind"` // image or blob
	Digest model.Digest `json:"digest,omitempty"`
	Role   string       `json:"role,omitempty"`
	Phase  Phase        `json:"phase"`
	Done   int64        `json:"done"`  // stored bytes moved so far
	Total  int64        `json:"total"` // stored size, -1 when unknown
	// Image events only.
	Blobs     int    `json:"blobs,omitempty"`     // number of blobs in the walk
	Signature string `json:"signature,omitempty"` // verdict status once known
	Message   string `json:"message,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Inspection is what Inspect learns from manifest and signature alone.
type Inspection struct {
	Ref       string          `json:"ref"`
	ImageID   model.Digest    `json:"image_id"`
	Manifest  *model.Manifest `json:"-"`
	Raw       []byte          `json:"-"`
	Signature signing.Verdict `json:"signature"`
	// Canonical is false when re-encoding the manifest changes its bytes
	// (the Rust CLI would record another ID after pull).
	Canonical bool         `json:"canonical"`
	Warnings  []string     `json:"warnings,omitempty"`
	Blobs     []BlobStatus `json:"blobs"`
	// ManifestError is set when the signed bytes do not parse or carry
	// invalid digests.
	ManifestError string `json:"manifest_error,omitempty"`
}

// BlobStatus is one blob of a report.
type BlobStatus struct {
	Digest     model.Digest `json:"digest"`
	Role       string       `json:"role"`
	StoredSize int64        `json:"stored_size,omitempty"`
	// Status: "ok", "present", "missing", "corrupt", "skipped", "unchecked".
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Report is the outcome of Verify, Pull, Push and Copy.
type Report struct {
	Op          string       `json:"op"`
	Source      string       `json:"source"`
	Destination string       `json:"destination,omitempty"`
	Inspection  *Inspection  `json:"inspection"`
	Blobs       []BlobStatus `json:"blobs"`
	Transferred int          `json:"transferred"`
	Skipped     int          `json:"skipped"`
	Bytes       int64        `json:"bytes"` // stored bytes moved
	Elapsed     time.Duration
	// Complete is true when every reachable blob was found (and, for
	// transfers and deep verify, hashed right).
	Complete bool `json:"complete"`
}
