package registry

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"pf-registry/internal/fault"
)

// Config is what every backend factory receives. Backends read their own
// credentials (environment, config files) themselves.
type Config struct {
	// Insecure allows plain HTTP / unverified TLS to non-loopback hosts.
	Insecure bool
	// ReadOnly refuses every write: pull into the store, push, copy. The
	// engine enforces it (see CheckWrite); backends never see a write.
	ReadOnly bool
	// Timeout bounds each single request of network backends (0: default).
	Timeout time.Duration
	// MaxBlobSize caps the decompressed size of one blob (zstd bombs);
	// 0 means blob.DefaultMaxLogicalSize.
	MaxBlobSize int64
	// UserAgent for HTTP backends.
	UserAgent string
}

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
func ForRef(s string, cfg Config) (Registry, Ref, error) {
	r, err := ParseRef(s)
	if err != nil {
		return nil, r, err
	}
	reg, err := Open(r.Scheme, cfg)
	return reg, r, err
}

// ForRoot parses a listing root and opens its registry.
func ForRoot(s string, cfg Config) (Registry, Ref, error) {
	r, err := ParseRoot(s)
	if err != nil {
		return nil, r, err
	}
	reg, err := Open(r.Scheme, cfg)
	return reg, r, err
}
