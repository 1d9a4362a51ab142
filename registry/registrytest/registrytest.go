// Package registrytest is the conformance suite every backend runs against
// its real server, and the helpers the backends' tests share.
//
// A backend's test package implements Harness (fresh locations, and a way
// around the backend to read, replace and delete what the server stores)
// and calls Run from one test. The suite then checks what every backend
// must do the same way: a round trip keeps manifest and signature bytes and
// the image ID, a re-push skips every blob, an interrupted pull resumes, a
// cancelled transfer leaves nothing partial, every tampering is an
// integrity error and a missing blob an incomplete image, listings page,
// read-only mode refuses every write, a sink keeps no blob that fails
// verification, progress events add up, frames written by the reference
// zstd CLI are read while frames we write are read by it, browsing an
// image's content works (contenttest), and signatures by keys round-trip
// (untrusted-key, then trusted once the key is; sign adds one without
// moving a blob; a replaced image keeps no signature of the old one;
// --require trusted refuses before any blob lands; they follow a copy when
// they still verify; tampering with them is judged as it should be).
// Deleting any subset of images that share blobs keeps every other one
// whole. Network backends (Network) also run their transfers through a
// fault-injecting proxy (faults.go). The crash loop (crashloop.go) kills
// pulls, pushes and copies run in child processes with SIGKILL at every
// step of their writes and at random points, and checks that every reader
// sees the old image or the new one, whole, and that the next run
// finishes: a backend's TestMain calls CrashChild first.
// Backend test files keep only what is specific to them.
package registrytest

import (
	"os"
	"testing"

	"pf-registry/model"
	"pf-registry/registry"
)

// ObjectKind names what an image consists of at a location.
type ObjectKind int

// Object kinds.
const (
	Manifest ObjectKind = iota
	Signature
	Blob
	// Bundle is a Sigstore bundle beside the manifest (file, S3, HF and
	// IPFS layouts only).
	Bundle
)

func (k ObjectKind) String() string {
	return [...]string{"manifest", "signature", "blob", "bundle"}[k]
}

// Object is one stored part of an image: its manifest, its signature, the
// stored (zstd) bytes of one blob, or a Sigstore bundle.
type Object struct {
	Kind   ObjectKind
	Digest model.Digest // logical digest, for Blob
	Name   string       // file name beside manifest.json, for Bundle
}

// Objects of an image.
var (
	ManifestObject  = Object{Kind: Manifest}
	SignatureObject = Object{Kind: Signature}
)

// BlobObject is the stored form of logical blob d.
func BlobObject(d model.Digest) Object { return Object{Kind: Blob, Digest: d} }

// BundleObject is the bundle file name beside the manifest
// (manifest.json.<fingerprint>.sigstore.json).
func BundleObject(name string) Object { return Object{Kind: Bundle, Name: name} }

func (o Object) String() string {
	switch o.Kind {
	case Blob:
		return "blob " + o.Digest.Short()
	case Bundle:
		return "bundle " + o.Name
	}
	return o.Kind.String()
}

// Harness plugs a backend and its running server into the suite.
type Harness interface {
	// Open returns the backend as the command line builds it, under cfg.
	Open(t testing.TB, cfg registry.Config) registry.Registry
	// NewRef returns an image location nothing was ever written to.
	NewRef(t testing.TB) registry.Ref
	// Namespace returns a fresh place to list images in.
	Namespace(t testing.TB) Namespace
	// Read returns the bytes the server holds for an object of the image at
	// ref; ok is false when it holds none.
	Read(t testing.TB, ref registry.Ref, o Object) (b []byte, ok bool)
	// Write makes the location serve b as the object, the way a publisher
	// with write access (or an attacker) could, without the backend: the
	// suite tampers with images through it. Bundle objects are asked only
	// of the layouts that keep bundles as files (file, S3, HF, IPFS).
	Write(t testing.TB, ref registry.Ref, o Object, b []byte)
	// Remove deletes an object the same way.
	Remove(t testing.TB, ref registry.Ref, o Object)
}

// Leftovers is an optional Harness capability for backends that keep work
// files beside images (staging files, unfinished multipart uploads): the
// ones at ref, which must be none once a transfer has ended.
type Leftovers interface {
	Leftovers(t testing.TB, ref registry.Ref) []string
}

// Namespace is where the listing test puts its images.
type Namespace struct {
	// Root is the listing root the repositories are under.
	Root registry.Ref
	// Repo is the reference of a repository (as List names it).
	Repo func(name string) registry.Ref
	// Image is the reference of one image of a repository.
	Image func(repo, tag string) registry.Ref
	// MaxRepos is how many repositories a root holds (an OCI layout: 1);
	// 0 means any number.
	MaxRepos int
	// Shared is set when Root also lists what other tests put there (the
	// IPFS daemon has one index): only this namespace's entries are
	// compared.
	Shared bool
	// ServerPage is the page size the server was started with for the
	// listings the backend follows itself (0: it does not page), so that
	// the listing test proves the backend follows the server's pages.
	ServerPage int
}

// Run runs the suite against a backend. The backend's signing key variable
// is unset for it (the vectors are signed with the default key); a package
// whose TestMain unsets it may run several backends' suites in parallel.
func Run(t *testing.T, h Harness) {
	s := start(t, h)
	s.transfers(t)
	t.Run("SinkKeepsNothingUnverified", s.sinkKeepsNothing)
	t.Run("Tampering", s.tampering)
	t.Run("Listing", s.listing)
	t.Run("ReadOnly", s.readOnly)
	t.Run("FramesFromTheZstdCLI", s.cliFrames)
	t.Run("Content", s.content)
	t.Run("DeleteKeepsTheRest", s.deleteKeepsTheRest)
	t.Run("RetagAndDeleteSignatures", s.retagAndDeleteSignatures)
	t.Run("Signatures", s.signatures)
	if n, ok := h.(Network); ok {
		t.Run("Faults", func(t *testing.T) { runFaults(t, h, n) })
	}
	t.Run("CrashLoop", s.crashLoop)
}

// RunTransfers runs the transfer tests only (round trip, copy, re-push,
// resume, cancel): for a variant of a server the whole suite ran against
// that differs only in how it takes uploads.
func RunTransfers(t *testing.T, h Harness) { start(t, h).transfers(t) }

func start(t *testing.T, h Harness) *suite {
	if env := h.Open(t, registry.Config{}).SignKey().Env; os.Getenv(env) != "" {
		t.Setenv(env, "") // restored at the end
		os.Unsetenv(env)
	}
	return newSuite(t, h)
}

func (s *suite) transfers(t *testing.T) {
	t.Run("RoundTrip", s.roundTrip)
	t.Run("CopyKeepsImageID", s.copyKeepsID)
	t.Run("RePushSkipsEveryBlob", s.rePush)
	t.Run("InterruptedPullResumes", s.resume)
	t.Run("CancelLeavesNothingPartial", s.cancel)
}
