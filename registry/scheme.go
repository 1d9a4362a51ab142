package registry

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/internal/httpguard"
	"pf-registry/signing"
)

// Config is what every backend factory receives. Backends read their own
// credentials (environment, config files) themselves.
type Config struct {
	// Insecure allows plain HTTP / unverified TLS to non-loopback hosts.
	Insecure bool
	// ReadOnly refuses every write: pull into the store, push, copy. The
	// engine enforces it (see CheckWrite); backends never see a write.
	ReadOnly bool
	// Timeout is the stall window of network backends (0:
	// DefaultTimeout): a request fails with a transient error when its
	// server does not answer within it, or when its request or response
	// body moves less than 1 KiB in it while waiting on the network.
	Timeout time.Duration
	// Retry bounds how transient failures are retried (zero: defaults).
	Retry RetryPolicy
	// MaxBlobSize caps the decompressed size of one blob (zstd bombs).
	// 0 means automatic caps: the size the image declares for fs-tree
	// files and KV pages (page geometry), model.MaxMetadataSize for the fs
	// tree and page manifest, and never more than blob.MaxRatio times the
	// stored size (at least blob.MinCap). Set, it replaces the ratio rule
	// and lowers every other cap, metadata included.
	MaxBlobSize int64
	// UserAgent for HTTP backends.
	UserAgent string
	// Keys are the public keys that name the signer of a Sigstore
	// signature and say whether it is trusted (the key store's keyring);
	// nil knows no key.
	Keys *signing.Keyring
	// Policy is the signature requirement of pull, copy and opening an
	// image's content; the engine checks it before any blob moves.
	Policy Policy
}

// DefaultTimeout is the stall window when Config.Timeout is 0.
const DefaultTimeout = httpguard.DefaultTimeout

// Factory builds a backend.
type Factory func(cfg Config) (Backend, error)

var (
	factoriesMu sync.RWMutex
	factories   = map[string]Factory{}
)

// Register makes a backend available for a scheme. Backend packages call it
// from init; the command line imports them for effect.
func Register(scheme string, f Factory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	factories[scheme] = f
}

// Schemes lists the registered schemes, sorted.
func Schemes() []string {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	out := make([]string, 0, len(factories))
	for s := range factories {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Open returns the Registry serving a scheme.
func Open(scheme string, cfg Config) (Registry, error) {
	factoriesMu.RLock()
	f, ok := factories[scheme]
	factoriesMu.RUnlock()
	if !ok {
		return nil, fault.WithHint(fault.Classed(fault.ErrUnsupportedScheme,
			fmt.Errorf("unsupported scheme %q: this build serves %v", scheme, Schemes())),
			"use one of the schemes this build serves")
	}
	b, err := f(cfg)
	if err != nil {
		return nil, err
	}
	return New(b, cfg), nil
}

// ForRef parses an image reference and opens its registry.
func ForRef(s string, cfg Config) (Registry, Ref, error) { return openParsed(s, cfg, ParseRef) }

// ForRoot parses a listing root and opens its registry.
func ForRoot(s string, cfg Config) (Registry, Ref, error) { return openParsed(s, cfg, ParseRoot) }

func openParsed(s string, cfg Config, parse func(string) (Ref, error)) (Registry, Ref, error) {
	r, err := parse(s)
	if err != nil {
		return nil, r, err
	}
	reg, err := Open(r.Scheme, cfg)
	return reg, r, err
}
