package registry

import (
	"fmt"
	"sort"
	"strings"

	"pf-registry/internal/fault"
	"pf-registry/signing"
)

// CheckWrite is the read-only policy: the refusal of a write to target in
// read-only mode, nil otherwise. The engine asks it before every write
// (pull into the store, and the sink of push and copy), so no backend
// needs to; a front end may ask it too, to refuse before opening dialogs.
func (c Config) CheckWrite(target string) error {
	if !c.ReadOnly {
		return nil
	}
	return fault.WithHint(fault.Classed(fault.ErrReadOnly, fmt.Errorf("read-only mode: refusing to write to %s", target)),
		"run without --readonly (and without readonly: true in the UI config)")
}

// configOf is the configuration a Registry was opened with (New always
// returns an engine).
func configOf(r Registry) Config {
	if e, ok := r.(*engine); ok {
		return e.cfg
	}
	return Config{}
}

// forSource is withLimits for a transfer that reads ref: its requirement
// is tightened by the policy that applies to ref.
func (c Config) forSource(ref Ref, opt TransferOptions) TransferOptions {
	level, _ := c.Policy.For(ref)
	opt.Require = opt.Require.Stronger(level)
	return c.withLimits(opt)
}

// withLimits fills the caps a caller left unset from the configuration.
func (c Config) withLimits(opt TransferOptions) TransferOptions {
	if opt.MaxBlobSize <= 0 {
		opt.MaxBlobSize = c.MaxBlobSize
	}
	if opt.Retry == (RetryPolicy{}) {
		opt.Retry = c.Retry
	}
	return opt
}

// Policy is a signature requirement: a level for every image (--require,
// --strict) and levels per listing root (require: in the config file). The
// strictest level that applies wins, so no flag loosens a root's policy.
type Policy struct {
	Require signing.Level
	// Roots maps listing roots, as written in the config file, to levels.
	Roots map[string]signing.Level
}

// For returns the level for an image and what set it ("--require", or the
// root whose policy decides).
func (p Policy) For(ref Ref) (signing.Level, string) {
	level, from := p.Require.Stronger(signing.RequireAny), "--require"
	roots := make([]string, 0, len(p.Roots))
	for root := range p.Roots {
		roots = append(roots, root)
	}
	sort.Strings(roots)
	for _, root := range roots {
		if l := p.Roots[root]; underRoot(ref.Raw, root) && l.Stronger(level) != level {
			level, from = l, root
		}
	}
	return level, from
}

// WithRoots returns p with more per-root levels; a root named twice keeps
// the stricter level.
func (p Policy) WithRoots(levels map[string]signing.Level) Policy {
	out := Policy{Require: p.Require, Roots: make(map[string]signing.Level, len(p.Roots)+len(levels))}
	for root, l := range p.Roots {
		out.Roots[root] = l
	}
	for root, l := range levels {
		out.Roots[root] = l.Stronger(out.Roots[root])
	}
	return out
}

// underRoot reports whether an image reference lies under a root: the
// root's text followed by a path, tag or digest separator, or nothing.
func underRoot(ref, root string) bool {
	root = strings.TrimRight(root, "/")
	rest, ok := strings.CutPrefix(ref, root)
	return ok && (rest == "" || strings.ContainsRune("/:#@", rune(rest[0])))
}

// BackendOf is the backend a Registry wraps, to ask for its optional
// capabilities (Deleter, BlobSweeper, ...).
func BackendOf(r Registry) Backend {
	if e, ok := r.(*engine); ok {
		return e.Backend
	}
	return r
}
