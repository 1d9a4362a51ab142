package blob_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/zstd"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/model"
)

// fuzzMax bounds decompression in the fuzzer (bombs are inputs too).
const fuzzMax = 1 << 20

// readVerified streams stored through a Verifier and returns what came
// out and the terminal error (nil when the stream verified).
func readVerified(src io.Reader, d model.Digest) (*blob.Verifier, []byte, error) {
	v := blob.NewVerifier(src, d, fuzzMax)
	defer v.Close()
	var out bytes.Buffer
	_, err := io.Copy(&out, v)
	return v, out.Bytes(), err
}

// FuzzVerifier: the verifying reader passes the stored bytes on unchanged,
// never ends without an error unless they decode to content with the
// claimed digest, and agrees with the in-memory decoder.
func FuzzVerifier(f *testing.F) {
	frame := blob.CompressBytes([]byte("hello, world"), 3)
	skippable := append([]byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}, frame...)
	for _, s := range [][]byte{
		frame, frame[:len(frame)-3], append(append([]byte{}, frame...), frame...), skippable,
		blob.CompressBytes(nil, 1), blob.CompressBytes(bytes.Repeat([]byte{0}, 70000), 19),
		{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x19, 0x00, 0x00, 'h', 'i'}, {},
	} {
		f.Add(s, []byte("hello, world"), true)
		f.Add(s, []byte("other"), false)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(fuzzMax), zstd.WithDecoderConcurrency(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, stored, claimed []byte, useDecoded bool) {
		d := model.FromBytes(claimed)
		if useDecoded {
			if content, err := dec.DecodeAll(stored, nil); err == nil {
				d = model.FromBytes(content)
			}
		}
		v, out, err := readVerified(bytes.NewReader(stored), d)
		if !bytes.HasPrefix(stored, out) {
			t.Fatalf("the verifier changed the stored bytes")
		}
		content, memErr := blob.DecodeVerified(stored, d, fuzzMax)
		switch {
		case err == nil && memErr != nil:
			t.Fatalf("stream verified bytes the in-memory decoder refuses: %v", memErr)
		case err == nil && (model.FromBytes(content) != d || v.LogicalSize() != int64(len(content)) || !v.Verified()):
			t.Fatalf("stream verified, but the content hashes to %s (want %s), size %d vs %d",
				model.FromBytes(content).Short(), d.Short(), v.LogicalSize(), len(content))
		case err == nil && !bytes.Equal(out, stored):
			t.Fatalf("stream verified after passing %d of %d bytes", len(out), len(stored))
		case err != nil && memErr == nil:
			t.Fatalf("stream refused bytes the in-memory decoder verifies: %v", err)
		case err != nil && v.Verified():
			t.Fatalf("Verified() after error %v", err)
		}
		if err != nil && !errors.Is(err, fault.ErrIntegrity) {
			t.Fatalf("a bad stream fails with %v, not an integrity error", err)
		}
		if len(stored) <= 4096 {
			_, _, slowErr := readVerified(iotest.OneByteReader(bytes.NewReader(stored)), d)
			if (slowErr == nil) != (err == nil) {
				t.Fatalf("one byte at a time: %v; all at once: %v", slowErr, err)
			}
		}
	})
}
