package model

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// DigestPrefix starts every digest string.
const DigestPrefix = "sha256:"

// Digest is a "sha256:<64 hex>" string. Parsing accepts uppercase hex (Rust
// does), producers always emit lowercase.
type Digest string

// Errors returned by ParseDigest; both wrap ErrInvalidDigest.
var (
	ErrInvalidDigest = errors.New("invalid digest")
	ErrMissingPrefix = fmt.Errorf("%w: missing sha256: prefix", ErrInvalidDigest)
	ErrNot64Hex      = fmt.Errorf("%w: not 64 hex chars", ErrInvalidDigest)
)

// ParseDigest validates s with the rules of spec §1.2: literal prefix, exactly
// 64 ASCII hex bytes after it, no trimming.
func ParseDigest(s string) (Digest, error) {
	if !strings.HasPrefix(s, DigestPrefix) {
		return "", fmt.Errorf("%w in %q", ErrMissingPrefix, s)
	}
	h := s[len(DigestPrefix):]
	if len(h) != 64 {
		return "", fmt.Errorf("%w: %q", ErrNot64Hex, s)
	}
	for i := 0; i < len(h); i++ {
		if !isHex(h[i]) {
			return "", fmt.Errorf("%w: %q", ErrNot64Hex, s)
		}
	}
	return Digest(s), nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// FromBytes is the digest of b.
func FromBytes(b []byte) Digest {
	sum := sha256.Sum256(b)
	return Digest(DigestPrefix + hex.EncodeToString(sum[:]))
}

// FromHash renders the current sum of a sha256 hash.
func FromHash(h hash.Hash) Digest {
	return Digest(DigestPrefix + hex.EncodeToString(h.Sum(nil)))
}

// FromHex builds a digest from a bare hex string and validates it.
func FromHex(h string) (Digest, error) { return ParseDigest(DigestPrefix + h) }

// Validate reports whether d is well formed.
func (d Digest) Validate() error {
	_, err := ParseDigest(string(d))
	return err
}

// IsLower reports whether the hex part is lowercase, the only form that can
// ever match a computed digest.
func (d Digest) IsLower() bool { return strings.ToLower(string(d)) == string(d) }

// Hex is the part after "sha256:" (empty for a malformed digest).
func (d Digest) Hex() string {
	if !strings.HasPrefix(string(d), DigestPrefix) {
		return ""
	}
	return string(d)[len(DigestPrefix):]
}

// Short is the first 12 hex characters, for display.
func (d Digest) Short() string {
	h := d.Hex()
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// ShardPath is the sharded blob path shared by the file, HF and S3 layouts and
// the local store: blobs/sha256/<aa>/<hex>.zst. Only call it on a valid digest.
func (d Digest) ShardPath() string {
	h := d.Hex()
	return "blobs/sha256/" + h[:2] + "/" + h + ".zst"
}

// DigestFromShardPath inverts ShardPath, rejecting anything that is not
// exactly blobs/sha256/<aa>/<64 lowercase hex>.zst with a matching shard.
func DigestFromShardPath(p string) (Digest, error) {
	const pre, suf = "blobs/sha256/", ".zst"
	if !strings.HasPrefix(p, pre) || !strings.HasSuffix(p, suf) {
		return "", fmt.Errorf("blob path %q is not blobs/sha256/<aa>/<hex>.zst", p)
	}
	mid := p[len(pre) : len(p)-len(suf)]
	if len(mid) != 67 || mid[2] != '/' {
		return "", fmt.Errorf("blob path %q is not blobs/sha256/<aa>/<hex>.zst", p)
	}
	d, err := FromHex(mid[3:])
	if err != nil || !d.IsLower() || mid[:2] != mid[3:5] {
		return "", fmt.Errorf("blob path %q is not blobs/sha256/<aa>/<hex>.zst", p)
	}
	return d, nil
}

// String implements fmt.Stringer.
func (d Digest) String() string { return string(d) }
