package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"

	"pf-registry/internal/crashpoint"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/s3/bucket"
)

// Replacing an image means replacing manifest.json, manifest.json.sig and
// the bundles beside them, objects S3 cannot switch together. A commit
// therefore goes through a journal object, .pf-commit.json, beside them:
//
//  1. the journal (the manifest it replaces, and the new manifest,
//     signature and bundles) is written: the switch is decided;
//  2. the bundles, the signature, then the manifest are written;
//  3. the bundles the new image does not have are deleted;
//  4. the journal is deleted.
//
// A reader (this tool) that finds a journal next to the manifest it
// replaces, or next to the manifest it installs, reads the image from the
// journal: a push killed after step 1 leaves the new image, one killed
// before it the old, and never the old manifest with the new signature.
// The next push or sign to the prefix finishes a pending switch. A journal
// next to any other manifest (another tool pushed since) is ignored. A
// reader without the journal (the Rust tool) sees the objects as they are
// between steps; so does this tool when a whole commit happens between its
// own reads: a signature that does not match its manifest fails
// verification, and reading again gives the new image.
const journalLeaf = ".pf-commit.json"

// maxJournal bounds a journal read: two manifests' worth and the bundles.
const maxJournal = 64 << 20

// journal is the content of .pf-commit.json.
type journal struct {
	Replaces model.Digest `json:"replaces,omitempty"` // "" when the prefix held no image
	Manifest []byte       `json:"manifest"`
	Sig      []byte       `json:"sig,omitempty"`
	Bundles  []jfile      `json:"bundles,omitempty"`
}

type jfile struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

func (im *image) journalKey() string { return im.ref.S3Key(journalLeaf) }

// readJournal returns the pending journal of the prefix if it applies to
// the manifest stored now (nil otherwise).
func (im *image) readJournal(ctx context.Context, current []byte) (*journal, error) {
	raw, err := im.c.GetBytes(ctx, im.journalKey(), maxJournal)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var j journal
	if json.Unmarshal(raw, &j) != nil || len(j.Manifest) == 0 || len(j.Manifest) > maxManifestSize {
		return nil, nil // not one of ours: ignored, and replaced by the next commit
	}
	for _, f := range j.Bundles {
		if !registry.IsBundleFile(f.Name) {
			return nil, nil
		}
	}
	if cur := model.FromBytes(current); cur != j.Replaces && cur != model.FromBytes(j.Manifest) {
		return nil, nil // another writer switched the image since
	}
	return &j, nil
}

// attached lists the journal's bundles as the signatures beside it.
func (j *journal) attached() []registry.Attached {
	out := make([]registry.Attached, 0, len(j.Bundles))
	for _, f := range j.Bundles {
		if len(out) < registry.MaxSignatures {
			out = append(out, registry.Attached{Where: f.Name, Bundle: f.Data})
		}
	}
	return out
}

// commit switches the prefix to a new image through the journal.
func (im *image) commit(ctx context.Context, manifest, sig []byte, files []registry.BundleFile) error {
	j := &journal{Manifest: manifest, Sig: sig}
	cur, err := im.c.GetBytes(ctx, im.ref.S3Key(manifestLeaf), maxManifestSize)
	switch {
	case err == nil:
		j.Replaces = model.FromBytes(cur)
	case !errors.Is(err, fault.ErrNotFound):
		return err
	}
	for _, f := range files {
		j.Bundles = append(j.Bundles, jfile{f.Name, f.Data})
	}
	body, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := im.c.Put(ctx, im.journalKey(), bytesReader(body), int64(len(body)), bucket.PutOptions{ContentType: jsonType}); err != nil {
		return err
	}
	crashpoint.Step("s3.journal")
	return im.apply(ctx, j)
}

// apply runs steps 2 to 4 of a decided switch.
func (im *image) apply(ctx context.Context, j *journal) error {
	keep := map[string]bool{}
	files := make([]registry.BundleFile, len(j.Bundles))
	for i, f := range j.Bundles {
		files[i] = registry.BundleFile{Name: f.Name, Data: f.Data}
		keep[im.ref.S3Key(f.Name)] = true
	}
	if err := im.putBundles(ctx, files); err != nil {
		return err
	}
	if j.Sig != nil {
		if err := im.c.Put(ctx, im.ref.S3Key(signatureLeaf), bytesReader(j.Sig), int64(len(j.Sig)), bucket.PutOptions{ContentType: jsonType}); err != nil {
			return err
		}
		crashpoint.Step("s3.sig")
	}
	if err := im.c.Put(ctx, im.ref.S3Key(manifestLeaf), bytesReader(j.Manifest), int64(len(j.Manifest)), bucket.PutOptions{ContentType: jsonType}); err != nil {
		return err
	}
	crashpoint.Step("s3.manifest")
	keys, _, err := im.bundleObjects(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if keep[k] {
			continue
		}
		if err := im.c.Remove(ctx, k); err != nil {
			return fault.WithHint(fmt.Errorf("pushed, but the signature %s of the replaced image stays: %w", path.Base(k), err),
				"push again, or delete that object; it fails verification and is ignored meanwhile")
		}
		crashpoint.Step("s3.pruned")
	}
	return im.c.Remove(ctx, im.journalKey())
}

// finishPending completes the switch a killed push left decided, so that
// the objects agree again for every reader. Best effort: the commit that
// follows writes a journal of its own anyway.
func (im *image) finishPending(ctx context.Context) {
	cur, err := im.c.GetBytes(ctx, im.ref.S3Key(manifestLeaf), maxManifestSize)
	if err != nil {
		return
	}
	if j, err := im.readJournal(ctx, cur); err == nil && j != nil {
		_ = im.apply(ctx, j)
	}
}
