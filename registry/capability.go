package registry

import (
	"context"

	"pf-registry/model"
)

// Optional capabilities a front end may ask a Registry for. A backend
// implements the ones it can answer; the helpers below unwrap the engine
// and answer for the rest with a neutral value.

// CredentialReporter is an optional Backend capability: how the backend
// will authenticate, in a few words ("token", "profile default",
// "anonymous"). It names where credentials come from and never a secret.
type CredentialReporter interface {
	Credentials() string
}

// Credentials asks r's backend how it authenticates; "" when the backend
// does not say.
func Credentials(r Registry) string {
	if c, ok := backendOf(r).(CredentialReporter); ok {
		return c.Credentials()
	}
	return ""
}

func backendOf(r Registry) Backend {
	if e, ok := r.(*engine); ok {
		return e.Backend
	}
	return r
}

// WalkedBlob is one blob reachable from an image, in walk order.
type WalkedBlob struct {
	Role   string
	Digest model.Digest
	// StoredSize is the stored (compressed) size, -1 when the source
	// cannot tell cheaply or the lookup budget ran out.
	StoredSize int64
}

// Walk is every blob an image reaches, with the metadata blobs (fs tree,
// page manifest) that the walk read, decoded and verified.
type Walk struct {
	Blobs    []WalkedBlob
	Metadata map[model.Digest][]byte
}

// WalkSource lists every blob reachable from m, reading only the metadata
// blobs, and looks up stored sizes (at most maxStat lookups, 0 for none)
// when the source can stat blobs cheaply.
func WalkSource(ctx context.Context, src Source, m *model.Manifest, maxStat int) (*Walk, error) {
	meta, err := loadMetadata(ctx, src, m, TransferOptions{})
	if err != nil {
		return nil, err
	}
	w := &Walk{Metadata: make(map[model.Digest][]byte, len(meta))}
	for d, b := range meta {
		w.Metadata[d] = b.logical
	}
	refs, err := walk(src.Describe(), m, meta)
	if err != nil {
		return nil, err
	}
	stater, _ := src.(BlobStater)
	for i, r := range refs {
		b := WalkedBlob{Role: r.Role, Digest: r.Digest, StoredSize: -1}
		if mb, ok := meta[r.Digest]; ok {
			b.StoredSize = int64(len(mb.stored))
		} else if stater != nil && i < maxStat {
			if n, err := stater.StatBlob(ctx, r.Digest); err == nil {
				b.StoredSize = n
			}
		}
		w.Blobs = append(w.Blobs, b)
	}
	return w, nil
}
