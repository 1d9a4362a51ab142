package registrytest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/contenttest"
)

// cliFrames replaces every blob of a pushed image by frames the zstd CLI
// wrote at level 19 (one or two frames, with and without checksum): the
// pull reads them, keeps their bytes as they are, and a copy passes them
// on unchanged. Then an image our encoder wrote is pushed and the CLI reads
// every blob the backend stores.
func (s *suite) cliFrames(t *testing.T) {
	reg := s.open(t)
	ref := s.push(t, reg)
	var logical [][]byte
	var kinds []int
	for i, w := range s.fx.WalkOrder {
		logical = append(logical, s.logical[model.Digest(w.Digest)])
		kinds = append(kinds, i%numFrameKinds)
	}
	made := CLIFrames(t, logical, kinds)
	frames := map[model.Digest][]byte{}
	for i, w := range s.fx.WalkOrder {
		d := model.Digest(w.Digest)
		frames[d] = made[i]
		s.h.Write(t, ref, BlobObject(d), frames[d])
	}
	st, _ := s.pull(t, reg, ref)
	fileReg, fileRef := Open(t, FileRef(t), registry.Config{})
	s.copy(t, reg, ref, fileReg, fileRef)
	for _, w := range s.fx.WalkOrder {
		d := model.Digest(w.Digest)
		for where, p := range map[string]string{"the store": st.BlobPath(d), "the file:// copy": filepath.Join(fileRef.Path, filepath.FromSlash(d.ShardPath()))} {
			if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, frames[d]) {
				t.Errorf("%s: %s does not hold the zstd CLI's bytes (%v)", w.Role, where, err)
			}
		}
	}
	s.ourFrames(t, reg)
}

// ourFrames pushes an image compressed by this project's encoder (the
// store's default level, several threads, one frame over many blocks) and
// has the zstd CLI decode every blob the backend holds.
func (s *suite) ourFrames(t *testing.T, reg registry.Registry) {
	st := NewStore(t)
	id, err := demo.Build(st, demo.ImageSpec{Seed: 42, Files: 3, Pages: 1, Messages: 3, Layers: 2, Tokens: 64, Heads: 8, HeadDim: 64})
	if err != nil {
		t.Fatal(err)
	}
	ref := s.h.NewRef(t)
	rep, err := reg.Push(context.Background(), st, id, ref, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[model.Digest][]byte{}
	for _, b := range rep.Blobs {
		stored, ok := s.h.Read(t, ref, BlobObject(b.Digest))
		if !ok {
			t.Fatalf("blob %s (%s) is not at %s", b.Digest.Short(), b.Role, ref.Raw)
		}
		blobs[b.Digest] = stored
	}
	CheckCLIDecodes(t, blobs)
}

// content pushes an image holding every kind of blob and browses it
// (contenttest.Check).
func (s *suite) content(t *testing.T) {
	st, id := contenttest.Image(t, filepath.Join(t.TempDir(), "store"))
	contenttest.Check(t, s.open(t), st, id, s.h.NewRef(t))
}
