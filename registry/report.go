package registry

import (
	"time"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/signing"
)

// Inspection is what Inspect learns from manifest and signatures alone.
type Inspection struct {
	Ref      string          `json:"ref"`
	ImageID  model.Digest    `json:"image_id"`
	Manifest *model.Manifest `json:"-"`
	Raw      []byte          `json:"-"`
	// Signature is the verdict on every signature of the image: its
	// status is the strongest (see signing.Result).
	Signature signing.Result `json:"signature"`
	// Canonical is false when re-encoding the manifest changes its bytes
	// (the Rust CLI would record another ID after pull).
	Canonical bool         `json:"canonical"`
	Warnings  []string     `json:"warnings,omitempty"`
	Blobs     []BlobStatus `json:"blobs"`
	// ManifestError is set when the signed bytes do not parse or carry
	// invalid digests.
	ManifestError string `json:"manifest_error,omitempty"`
}

// Problem returns the integrity error an inspection implies under a
// signature requirement (a status below level: an invalid or missing
// signature always is), or a malformed manifest; nil when there is none.
// The error names the key that would be needed and how to trust it.
func (in *Inspection) Problem(level signing.Level) error {
	if r := level.Check(in.Ref, in.Signature); r != nil {
		return fault.WithHint(fault.Classed(fault.ErrIntegrity, r), r.Hint)
	}
	if in.ManifestError != "" {
		return fault.WithHint(fault.Integrityf("%s: %s", in.Ref, in.ManifestError),
			"the image is malformed; it cannot be pulled or pushed")
	}
	return nil
}

// BlobState is the outcome for one blob in a report.
type BlobState string

// Blob states.
const (
	BlobUnchecked BlobState = "unchecked" // listed by inspect, not looked for
	BlobPresent   BlobState = "present"   // found by verify (not re-hashed)
	BlobMissing   BlobState = "missing"
	BlobQueued    BlobState = "queued" // planned, not moved yet
	BlobOK        BlobState = "ok"     // moved and re-hashed
	BlobSkipped   BlobState = "skipped"
	BlobCorrupt   BlobState = "corrupt" // bytes do not match the digest
	BlobFailed    BlobState = "failed"
)

func (s BlobState) String() string { return string(s) }

// BlobStatus is one blob of a report.
type BlobStatus struct {
	Digest     model.Digest `json:"digest"`
	Role       string       `json:"role"`
	StoredSize int64        `json:"stored_size,omitempty"`
	Status     BlobState    `json:"status,omitempty"`
	Error      string       `json:"error,omitempty"`
}

// Report is the outcome of Verify, Pull, Push and Copy.
type Report struct {
	Op          Op           `json:"op"`
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
