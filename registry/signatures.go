package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/signing"
)

// Signatures besides the HMAC manifest.json.sig. The file, S3, HF and IPFS
// layouts keep one Sigstore bundle per signer beside the manifest
// (manifest.json.<fingerprint>.sigstore.json, a message signature over the
// exact manifest bytes); OCI registries keep cosign's signatures on the
// image's OCI manifest digest (a DSSE bundle attached as a referrer, and
// the older sha256-<hex>.sig tags). Backends only read and write them; the
// engine judges them here, the same way for every backend.

// MaxSignatures bounds the signatures read beside one image: whoever can
// write beside an image could otherwise make every inspection slow.
const MaxSignatures = 32

// Attached is one signature stored beside an image, as read (unverified).
type Attached struct {
	// Where names it for people: a file name, an OCI referrer or tag.
	Where string
	// Bundle is a Sigstore bundle (JSON).
	Bundle []byte
	// Payload and SignatureB64 are cosign's older simple signing: the
	// payload layer of a sha256-<hex>.sig tag and its signature annotation.
	Payload      []byte
	SignatureB64 string
	// Subject is what the signature covers when that is not manifest.json:
	// an OCI registry's signatures cover the OCI image manifest.
	Subject []byte
	// Problem says why the signature could not be read (too large, a
	// digest that does not match): it is judged invalid.
	Problem string
}

// SignatureSource is an optional Source capability: a layout that keeps
// signatures beside the image. Signatures is called after FetchManifest
// and returns those beside the manifest it returned, at most
// MaxSignatures of them.
type SignatureSource interface {
	Signatures(ctx context.Context) ([]Attached, error)
}

// Check judges one attached signature of the image whose manifest.json
// bytes are raw.
func (a Attached) Check(raw []byte, ring *signing.Keyring) signing.Check {
	subject := raw
	if a.Subject != nil {
		subject = a.Subject
	}
	var c signing.Check
	switch {
	case a.Problem != "":
		c = signing.Check{Kind: signing.KindBundle, Status: signing.Invalid, Class: signing.ReasonParse, Reason: a.Problem}
	case a.Payload != nil || a.SignatureB64 != "":
		c = signing.VerifySimpleSigning(a.Payload, a.SignatureB64, string(model.FromBytes(subject)), ring)
	default:
		c = signing.VerifyBundle(a.Bundle, subject, ring)
	}
	c.Where = a.Where
	return c
}

// Verifier judges an image's signatures: the HMAC signature with the
// backend's key, every attached signature with the key store's keyring.
type Verifier struct {
	Key signing.Key
	// Keys are the public keys that name a bundle's signer (nil: none).
	Keys *signing.Keyring
}

// judge returns the verdict on every signature of the image src holds,
// whose manifest and HMAC signature FetchManifest returned, and the
// attached signatures as read (for a copy to carry).
func (v Verifier) judge(ctx context.Context, src Source, raw, sig []byte) (signing.Result, []Attached, error) {
	r := signing.Result{Checks: []signing.Check{signing.HMACCheck(signing.Verify(raw, sig, v.Key))}}
	ss, ok := src.(SignatureSource)
	if !ok {
		return r, nil, nil
	}
	att, err := ss.Signatures(ctx)
	if err != nil {
		return r, nil, err
	}
	if len(att) > MaxSignatures {
		att = att[:MaxSignatures]
	}
	for _, a := range att {
		r.Checks = append(r.Checks, a.Check(raw, v.Keys))
	}
	return r, att, nil
}

// Signer signs an image at its destination: the backend's HMAC key (the
// manifest.json.sig every layout keeps, which the Rust tool reads) and the
// private keys that each add a Sigstore bundle.
type Signer struct {
	Key  signing.Key
	With []*signing.PrivateKey
}

// Bundles is what a SignedSink stores beside an image besides the HMAC
// signature.
type Bundles struct {
	// Keys sign the image as the sink stores it.
	Keys []*signing.PrivateKey
	// Carried are signatures read at the source of a copy: the sink keeps
	// each bundle that still verifies with Ring over what it stores (a
	// signature follows the image when it covers the same bytes there).
	Carried []Attached
	Ring    *signing.Keyring
}

// Empty reports whether there is nothing to store.
func (b Bundles) Empty() bool { return len(b.Keys) == 0 && len(b.Carried) == 0 }

// SignedSink is an optional Sink capability: a layout that stores Sigstore
// bundles beside the image. Both methods return the checks of the bundles
// stored, as a reader with Ring will see them.
type SignedSink interface {
	// CommitSigned is Commit that also stores the bundles. Replacing an
	// image leaves no bundle of the manifest it replaces.
	CommitSigned(ctx context.Context, manifest, sig []byte, b Bundles) ([]signing.Check, error)
	// AddSignatures stores more bundles beside the image already at the
	// sink's reference, moving no blob and keeping its other signatures.
	// It fails when the manifest there is no longer manifest.
	AddSignatures(ctx context.Context, manifest []byte, b Bundles) ([]signing.Check, error)
}

// BundleFile is one bundle of the file, S3, HF and IPFS layouts.
type BundleFile struct {
	Name  string // manifest.json.<fingerprint>.sigstore.json
	Data  []byte
	Check signing.Check
}

// IsBundleFile reports whether name is a bundle beside manifest.json
// (manifest.json.<16 hex>.sigstore.json).
func IsBundleFile(name string) bool {
	fp, ok := strings.CutPrefix(name, "manifest.json.")
	if !ok {
		return false
	}
	fp, ok = strings.CutSuffix(fp, ".sigstore.json")
	if !ok || len(fp) != 16 {
		return false
	}
	for i := 0; i < len(fp); i++ {
		if c := fp[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Keyring is Ring (copied: the caller's is shared) with the public half
// of every key of Keys, so that a fresh signature names its key.
func (b Bundles) Keyring() *signing.Keyring {
	ring := signing.NewKeyring()
	if b.Ring != nil {
		for _, k := range b.Ring.Keys() {
			ring.Add(k, b.Ring.Trusted(k.Fingerprint))
		}
	}
	for _, k := range b.Keys {
		ring.Add(k.Public(), b.Ring.Trusted(k.Public().Fingerprint))
	}
	return ring
}

// Files returns the bundle files of a file-like layout for manifest: a
// fresh message signature by each key, then each carried bundle that
// verifies over the manifest bytes, one file per signer (the first wins),
// sorted by name.
func (b Bundles) Files(manifest []byte) ([]BundleFile, error) {
	ring := b.Keyring()
	var out []BundleFile
	seen := map[string]bool{}
	for _, k := range b.Keys {
		data, err := signing.SignBundle(manifest, k)
		if err != nil {
			return nil, fmt.Errorf("signing with %s: %w", k.Public().Label(), err)
		}
		name := signing.BundleFileName(k.Public().Fingerprint)
		out = append(out, BundleFile{Name: name, Data: data, Check: Attached{Where: name, Bundle: data}.Check(manifest, ring)})
		seen[k.Public().Fingerprint] = true
	}
	for _, a := range b.Carried {
		if a.Bundle == nil {
			continue
		}
		c := Attached{Bundle: a.Bundle}.Check(manifest, ring)
		if !c.Status.Verifies() || seen[c.Fingerprint] {
			continue
		}
		seen[c.Fingerprint] = true
		c.Where = signing.BundleFileName(c.Fingerprint)
		out = append(out, BundleFile{Name: c.Where, Data: a.Bundle, Check: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Checks lists the checks of files.
func Checks(files []BundleFile) []signing.Check {
	out := make([]signing.Check, len(files))
	for i, f := range files {
		out[i] = f.Check
	}
	return out
}

// errNoSignatures refuses keys given to a sink that cannot store bundles.
func errNoSignatures(dst Sink) error {
	return fault.WithHint(fmt.Errorf("%s cannot store Sigstore signatures", dst.Describe()),
		"sign images in a file, S3, HF, IPFS or OCI registry")
}

// ErrChanged is returned by AddSignatures when the image at the reference
// changed since its manifest was read.
var ErrChanged = errors.New("the image changed while it was being signed")

// Changed wraps ErrChanged with where it happened and what to do.
func Changed(where string) error {
	return fault.WithHint(fmt.Errorf("%s: %w", where, ErrChanged), "inspect it again, then sign the image now there")
}
