package blob_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry/registrytest"
)

func TestRawFrameVectors(t *testing.T) {
	var cases []struct {
		Logical  string `json:"logical_utf8"`
		FrameHex string `json:"frame_hex"`
	}
	vectors.Load(t, "zstd_raw_frames", &cases)
	for _, c := range cases {
		frame, _ := hex.DecodeString(c.FrameHex)
		got, err := blob.DecodeVerified(frame, model.FromBytes([]byte(c.Logical)), 1<<20)
		if err != nil || string(got) != c.Logical {
			t.Errorf("decode %s = %q, %v; want %q", c.FrameHex, got, err, c.Logical)
		}
	}
}

func randomish(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		if i%2 == 0 {
			b[i] = byte(r.IntN(4))
		} else {
			b[i] = byte(r.Uint32())
		}
	}
	return b
}

func TestVerifierPassesStoredBytes(t *testing.T) {
	for _, size := range []int{0, 1, 1000, 3 << 20} {
		logical := randomish(size, uint64(size))
		stored := blob.CompressBytes(logical, 3)
		v := blob.NewVerifier(iotest.OneByteReader(bytes.NewReader(stored)), model.FromBytes(logical), 0)
		if size > 1000 {
			v = blob.NewVerifier(bytes.NewReader(stored), model.FromBytes(logical), 0)
		}
		got, err := io.ReadAll(v)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, stored) || !v.Verified() || v.LogicalSize() != int64(size) || v.StoredSize() != int64(len(stored)) {
			t.Fatalf("size %d: passthrough wrong (verified %v, logical %d)", size, v.Verified(), v.LogicalSize())
		}
		v.Close()
	}
}

func TestVerifierRejects(t *testing.T) {
	logical := randomish(200_000, 7)
	stored := blob.CompressBytes(logical, 1)
	d := model.FromBytes(logical)
	flipped := append([]byte(nil), stored...)
	flipped[len(flipped)/2] ^= 0xff
	raw, _ := hex.DecodeString("28b52ffd00381100006869") // raw frame of "hi"
	rawFlipped := append([]byte(nil), raw...)
	rawFlipped[len(rawFlipped)-1] ^= 1
	tests := []struct {
		name   string
		stored []byte
		digest model.Digest
		max    int64
	}{
		{"wrong digest", stored, model.FromBytes([]byte("other")), 0},
		{"flipped compressed byte", flipped, d, 0},
		{"flipped raw payload byte", rawFlipped, model.FromBytes([]byte("hi")), 0},
		{"truncated", stored[:len(stored)/2], d, 0},
		{"not zstd", []byte("plain text, not a frame"), d, 0},
		{"bomb over the cap", stored, d, 1000},
		{"uppercase digest never matches", stored, model.Digest(strings.ToUpper(string(d))), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := blob.NewVerifier(bytes.NewReader(tc.stored), tc.digest, tc.max)
			defer v.Close()
			_, err := io.Copy(io.Discard, v)
			if err == nil || !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("err = %v, want an integrity error", err)
			}
			if v.Verified() {
				t.Fatal("reported verified")
			}
			limit := tc.max
			if limit == 0 {
				limit = 1 << 30
			}
			if _, err := blob.DecodeVerified(tc.stored, tc.digest, limit); err == nil {
				t.Fatal("DecodeVerified accepted it")
			}
		})
	}
}

func TestVerifierSourceErrorAndEarlyClose(t *testing.T) {
	logical := randomish(100_000, 9)
	stored := blob.CompressBytes(logical, 1)
	boom := errors.New("connection reset")
	v := blob.NewVerifier(io.MultiReader(bytes.NewReader(stored[:100]), iotest.ErrReader(boom)), model.FromBytes(logical), 0)
	if _, err := io.Copy(io.Discard, v); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the source error", err)
	}
	v.Close()
	// Closing before the end must not leak the decoder goroutine or block.
	v2 := blob.NewVerifier(bytes.NewReader(stored), model.FromBytes(logical), 0)
	buf := make([]byte, 10)
	if _, err := v2.Read(buf); err != nil {
		t.Fatal(err)
	}
	if err := v2.Close(); err != nil {
		t.Fatal(err)
	}
	if v2.Verified() {
		t.Fatal("a half-read stream reported verified")
	}
}

func TestCompressLevels(t *testing.T) {
	logical := []byte(strings.Repeat("processfork ", 10000))
	for _, level := range []int{0, 1, 3, 9, 19} {
		var out bytes.Buffer
		n, err := blob.Compress(&out, bytes.NewReader(logical), level)
		if err != nil || n != int64(len(logical)) {
			t.Fatalf("level %d: %d, %v", level, n, err)
		}
		if out.Len() >= len(logical)/10 {
			t.Errorf("level %d: %d bytes, expected real compression", level, out.Len())
		}
		if got, err := blob.DecodeVerified(out.Bytes(), model.FromBytes(logical), 1<<30); err != nil || !bytes.Equal(got, logical) {
			t.Fatalf("level %d round trip: %v", level, err)
		}
	}
}

// TestZstdCLIReadsOurFrames: every frame this project writes (each level the
// command line offers, small and larger than the window, compressed on
// several threads) is one frame with a window of at most 8 MiB (spec §6)
// that the reference zstd CLI decodes to the logical bytes.
func TestZstdCLIReadsOurFrames(t *testing.T) {
	blobs := map[model.Digest][]byte{}
	for _, level := range []int{1, 3, 19} {
		big := 5 << 20 // several blocks and threads, more than the window
		if level == 19 {
			big = 300 << 10 // slow under -race
		}
		for _, size := range []int{0, 1000, big} {
			logical := randomish(size, uint64(level*size+1))
			stored := blob.CompressBytes(logical, level)
			blobs[model.FromBytes(logical)] = stored
			p := filepath.Join(t.TempDir(), "b.zst")
			if err := os.WriteFile(p, stored, 0o600); err != nil {
				t.Fatal(err)
			}
			info := string(registrytest.Zstd(t, nil, "-lv", p))
			if !strings.Contains(info, "# Zstandard Frames: 1\n") || !windowAtMost(info, 8<<20) {
				t.Errorf("level %d, %d bytes: want one frame with a window ≤ 8 MiB, zstd -lv says\n%s", level, size, info)
			}
		}
	}
	registrytest.CheckCLIDecodes(t, blobs)
}

// windowAtMost reads the "Window Size: … (N B)" line of zstd -lv.
func windowAtMost(info string, max int64) bool {
	_, rest, ok := strings.Cut(info, "Window Size: ")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, "(")
	var n int64
	if _, err := fmt.Sscanf(rest, "%d B)", &n); !ok || err != nil {
		return false
	}
	return n <= max
}

// TestWeReadCLIFrames: frames the zstd CLI writes at level 19 (the Rust
// tool's level), one or two, with and without checksum and content size.
func TestWeReadCLIFrames(t *testing.T) {
	var logical [][]byte
	var kinds []int
	for kind := range 4 {
		for _, size := range []int{1, 1000, 300 << 10} {
			logical = append(logical, randomish(size, uint64(kind*size+7)))
			kinds = append(kinds, kind)
		}
	}
	for i, f := range registrytest.CLIFrames(t, logical, kinds) {
		if got, err := blob.DecodeVerified(f, model.FromBytes(logical[i]), 1<<30); err != nil || !bytes.Equal(got, logical[i]) {
			t.Errorf("frame kind %d of %d bytes: %v", kinds[i], len(logical[i]), err)
		}
		v := blob.NewVerifier(bytes.NewReader(f), model.FromBytes(logical[i]), 0)
		if _, err := io.Copy(io.Discard, v); err != nil || !v.Verified() {
			t.Errorf("frame kind %d of %d bytes, streamed: %v", kinds[i], len(logical[i]), err)
		}
		v.Close()
	}
}
