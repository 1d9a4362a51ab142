package registrytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// interruptAfter is how many blobs a transfer moves before it is cancelled.
const interruptAfter = 5

// resume interrupts a pull, then pulls again: the blobs already in the
// store are skipped, and nothing unverified was kept in between.
func (s *suite) resume(t *testing.T) {
	reg := s.open(t)
	ref := s.push(t, reg)
	st := NewStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := CancelAfter(interruptAfter, cancel)
	rep, err := reg.Pull(ctx, ref, st, rec.Options(1))
	rec.Check(t, rep, err)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted pull: %v, want context.Canceled", err)
	}
	CheckStoreClean(t, st)
	if n := len(StoredBlobs(t, st.Root())); n < interruptAfter {
		t.Fatalf("the interrupted pull kept %d blobs, want at least %d", n, interruptAfter)
	}
	rec = &Recorder{}
	rep, err = reg.Pull(context.Background(), ref, st, rec.Options(0))
	if err != nil {
		t.Fatalf("resumed pull: %v", err)
	}
	rec.Check(t, rep, err)
	if !rep.Complete || rep.Skipped < interruptAfter || rep.Skipped+rep.Transferred != len(rep.Blobs) || rep.Inspection.ImageID != s.id || !st.HasImage(s.id) {
		t.Fatalf("resumed pull: complete %v, skipped %d, transferred %d of %d, image %s",
			rep.Complete, rep.Skipped, rep.Transferred, len(rep.Blobs), rep.Inspection.ImageID)
	}
}

// cancel interrupts a push and a copy into the backend: no image, and no
// part of one that does not verify, is left at the destination; a new push
// then completes.
func (s *suite) cancel(t *testing.T) {
	reg := s.open(t)
	fileReg, fixture := Open(t, FileRef(t), registry.Config{})
	s.copy(t, reg, s.push(t, reg), fileReg, fixture)
	for _, how := range []string{"push", "copy"} {
		t.Run(how, func(t *testing.T) {
			ref := s.h.NewRef(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := CancelAfter(interruptAfter, cancel)
			var rep *registry.Report
			var err error
			if how == "push" {
				rep, err = reg.Push(ctx, s.st, s.id, ref, rec.Options(1))
			} else {
				rep, err = registry.Copy(ctx, fileReg, fixture, reg, ref, rec.Options(1))
			}
			rec.Check(t, rep, err)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted %s: %v, want context.Canceled", how, err)
			}
			s.checkNothingAt(t, reg, ref)
			if _, err := reg.Push(context.Background(), s.st, s.id, ref, registry.TransferOptions{}); err != nil {
				t.Fatalf("push after the interrupted %s: %v", how, err)
			}
			s.checkReadable(t, reg, ref)
		})
	}
}

// tamperCase is one way an image at a location is damaged.
type tamperCase struct {
	name   string
	tamper func(t *testing.T, s *suite, reg registry.Registry, ref registry.Ref)
	want   string // in the error text
	// bad is the blob that must never enter the store; nil when the image
	// fails before any blob moves.
	bad func(s *suite, t testing.TB) model.Digest
	// verdict is what inspect says of the signature ("": default-key).
	verdict signing.Status
}

func (s *suite) replaceBlob(role string, content func(s *suite, d model.Digest) []byte) func(*testing.T, *suite, registry.Registry, registry.Ref) {
	return func(t *testing.T, s *suite, _ registry.Registry, ref registry.Ref) {
		d := s.blob(t, role)
		s.h.Write(t, ref, BlobObject(d), content(s, d))
	}
}

func badBlob(role string) func(*suite, testing.TB) model.Digest {
	return func(s *suite, t testing.TB) model.Digest { return s.blob(t, role) }
}

func (s *suite) tamperCases() []tamperCase {
	return []tamperCase{
		{"manifest byte", func(t *testing.T, s *suite, _ registry.Registry, ref registry.Ref) {
			s.h.Write(t, ref, ManifestObject, bytes.Replace(s.raw, []byte("claude-code"), []byte("claude-codf"), 1))
		}, "manifest bytes do not match", nil, signing.Invalid},
		{"signature byte", func(t *testing.T, s *suite, reg registry.Registry, ref registry.Ref) {
			sig := signing.SignBytes(s.raw, reg.SignKey())
			i := bytes.Index(sig, []byte(`"signature":"`)) + len(`"signature":"`)
			if sig[i] == '0' {
				sig[i] = '1'
			} else {
				sig[i] = '0'
			}
			s.h.Write(t, ref, SignatureObject, sig)
		}, "HMAC tag does not validate", nil, signing.Invalid},
		{"signed with another key", func(t *testing.T, s *suite, _ registry.Registry, ref registry.Ref) {
			s.h.Write(t, ref, SignatureObject, signing.SignBytes(s.raw, signing.NewKey([]byte("test-key"), "test key")))
		}, "HMAC tag does not validate", nil, signing.Invalid},
		{"missing signature", func(t *testing.T, s *suite, _ registry.Registry, ref registry.Ref) {
			s.h.Remove(t, ref, SignatureObject)
		}, "no signature", nil, signing.Missing},
		{"malformed manifest digest", func(t *testing.T, s *suite, reg registry.Registry, ref registry.Ref) {
			bad := bytes.Replace(s.raw, []byte(s.blob(t, "model.base")), []byte("sha256:a8"), 1)
			s.h.Write(t, ref, ManifestObject, bad)
			s.h.Write(t, ref, SignatureObject, signing.SignBytes(bad, reg.SignKey()))
		}, "model.base", nil, ""},
		{"blob payload byte", s.replaceBlob("page:0.v", func(s *suite, d model.Digest) []byte {
			b := bytes.Clone(s.stored[d])
			b[len(b)-1] ^= 0x01 // a raw block: still decodes, to other bytes
			return b
		}), "does not match its digest", badBlob("page:0.v"), ""},
		{"other blob at the digest", s.replaceBlob("world.env", func(*suite, model.Digest) []byte {
			return blob.CompressBytes([]byte(`{"kind":"env.v1","evil":true}`), 3)
		}), "does not match its digest", badBlob("world.env"), ""},
		{"other fs tree at the digest", s.replaceBlob("world.fs", func(*suite, model.Digest) []byte {
			return blob.CompressBytes([]byte(`{"entries":[],"kind":"fs.tree.v1"}`), 3)
		}), "does not match its digest", badBlob("world.fs"), ""},
		{"blob not zstd", s.replaceBlob("trace.messages", func(*suite, model.Digest) []byte {
			return []byte("plain text, not a zstd frame")
		}), "zstd", badBlob("trace.messages"), ""},
		{"truncated blob", s.replaceBlob("fs:src/main.py", func(s *suite, d model.Digest) []byte {
			return s.stored[d][:len(s.stored[d])-3]
		}), "zstd", badBlob("fs:src/main.py"), ""},
		{"missing blob", func(t *testing.T, s *suite, _ registry.Registry, ref registry.Ref) {
			s.h.Remove(t, ref, BlobObject(s.blob(t, "page:0.k")))
		}, "incomplete", nil, ""},
	}
}

// tampering damages a pushed image each way a publisher or the storage
// can: every pull, deep verify and copy of it is an integrity error, and
// nothing bad enters the store or the copy's destination. The cases run in
// parallel, each on an image of its own.
func (s *suite) tampering(t *testing.T) {
	for _, tc := range s.tamperCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := s.open(t)
			ref := s.push(t, reg)
			tc.tamper(t, s, reg, ref)
			s.checkVerdict(t, reg, ref, tc.verdict)
			st := NewStore(t)
			rec := &Recorder{}
			rep, err := reg.Pull(context.Background(), ref, st, rec.Options(1))
			rec.Check(t, rep, err)
			checkRefused(t, "pull", err, fault.ErrIntegrity, tc.want)
			CheckStoreClean(t, st)
			if tc.bad != nil && st.HasBlob(tc.bad(s, t)) {
				t.Error("the bad blob entered the store")
			}
			if n := len(StoredBlobs(t, st.Root())); tc.bad == nil && n != 0 {
				t.Errorf("%d blobs were downloaded from an image that fails before its blobs", n)
			}
			_, err = reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true})
			checkRefused(t, "deep verify", err, fault.ErrIntegrity, tc.want)
			s.checkCopyRefused(t, reg, ref, tc.want)
		})
	}
}

// checkVerdict: inspect reads a damaged image without failing and says
// what is wrong with its signature.
func (s *suite) checkVerdict(t *testing.T, reg registry.Registry, ref registry.Ref, want signing.Status) {
	t.Helper()
	if want == "" {
		want = signing.DefaultKey
	}
	if in, err := reg.Inspect(context.Background(), ref); err != nil || in.Signature.Status() != want {
		t.Errorf("inspect: %v, %+v; want the verdict %s", err, in, want)
	}
}

// checkCopyRefused copies a damaged image to file:// and into the backend:
// both fail and commit nothing.
func (s *suite) checkCopyRefused(t *testing.T, reg registry.Registry, ref registry.Ref, want string) {
	t.Helper()
	fileReg, fileRef := Open(t, FileRef(t), registry.Config{})
	for _, dst := range []struct {
		reg registry.Registry
		ref registry.Ref
	}{{fileReg, fileRef}, {reg, s.h.NewRef(t)}} {
		_, err := registry.Copy(context.Background(), reg, ref, dst.reg, dst.ref, registry.TransferOptions{Concurrency: 1})
		checkRefused(t, "copy to "+dst.ref.Raw, err, fault.ErrIntegrity, want)
		if ok, err := dst.reg.Exists(context.Background(), dst.ref); ok || err != nil {
			t.Errorf("copy to %s committed a damaged image (%v)", dst.ref.Raw, err)
		}
	}
}

// readOnly opens the backend read-only: every write is refused with the
// engine's one text before anything is written, and reads still work.
func (s *suite) readOnly(t *testing.T) {
	ctx := context.Background()
	reg := s.open(t)
	existing := s.push(t, reg)
	ro := s.h.Open(t, registry.Config{ReadOnly: true})
	ref := s.h.NewRef(t)
	pulled := NewStore(t)
	_, pushErr := ro.Push(ctx, s.st, s.id, ref, registry.TransferOptions{})
	_, sinkErr := ro.Sink(ctx, ref)
	_, copyErr := registry.Copy(ctx, reg, existing, ro, ref, registry.TransferOptions{})
	_, pullErr := ro.Pull(ctx, existing, pulled, registry.TransferOptions{})
	for name, err := range map[string]error{"push": pushErr, "sink": sinkErr, "copy": copyErr, "pull": pullErr} {
		checkRefused(t, name, err, fault.ErrReadOnly, "read-only mode: refusing to write to ")
		if err != nil && (!strings.HasPrefix(err.Error(), "read-only mode: ") || !strings.Contains(fault.Hint(err), "--readonly")) {
			t.Errorf("%s: %q (hint %q) is not the engine's refusal", name, err, fault.Hint(err))
		}
	}
	s.checkNothingAt(t, reg, ref)
	if imgs, _ := pulled.Images(); len(imgs) != 0 || len(StoredBlobs(t, pulled.Root())) != 0 {
		t.Error("a read-only pull wrote to the store")
	}
	if vr, err := ro.Verify(ctx, existing, registry.VerifyOptions{Deep: true}); err != nil || !vr.Complete {
		t.Errorf("read-only deep verify: %v", err)
	}
	if in, err := ro.Inspect(ctx, existing); err != nil || in.ImageID != s.id {
		t.Errorf("read-only inspect: %v", err)
	}
}

// sinkKeepsNothing hands a sink blob streams that fail verification at
// their end, small and larger than a multipart part: the sink fails with
// the integrity error and keeps nothing.
func (s *suite) sinkKeepsNothing(t *testing.T) {
	ctx := context.Background()
	reg := s.open(t)
	good := []byte("the real content")
	d := model.FromBytes(good)
	for _, size := range []int{100, 9 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			noise := make([]byte, size)
			rand.Read(noise)
			evil := blob.CompressBytes(noise, 1)
			ref := s.h.NewRef(t)
			sink, err := reg.Sink(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			b := registry.NewBlob(d, "test", int64(len(evil)), func() (io.ReadCloser, error) {
				return blob.NewVerifier(bytes.NewReader(evil), d, 0), nil
			})
			if err := sink.PutBlob(ctx, b); !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("PutBlob: %v, want an integrity error", err)
			}
			if has, err := sink.HasBlob(ctx, d); err != nil || has {
				t.Errorf("the sink kept the blob: has %v, %v", has, err)
			}
			if _, ok := s.h.Read(t, ref, BlobObject(d)); ok {
				t.Error("the blob is stored")
			}
		})
	}
}
