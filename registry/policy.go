package registry

import (
	"fmt"

	"pf-registry/internal/fault"
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

// withLimits fills the caps a caller left unset from the configuration.
func (c Config) withLimits(opt TransferOptions) TransferOptions {
	if opt.MaxBlobSize <= 0 {
		opt.MaxBlobSize = c.MaxBlobSize
	}
	return opt
}
