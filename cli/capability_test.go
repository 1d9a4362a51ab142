package cli_test

import (
	"pf-registry/registry"
	"pf-registry/registry/file"
	"pf-registry/registry/hf"
	"pf-registry/registry/ipfs"
	"pf-registry/registry/oci"
	"pf-registry/registry/s3"
)

// The command line links every backend; the registry package's own tests
// link only file://, so this is where their capabilities are checked.

// What each backend can manage (checked when the tests compile): every
// one deletes and retags; a registry that reclaims blobs itself says how
// instead of sweeping them.
type (
	sweeps interface {
		registry.Deleter
		registry.Retagger
		registry.BlobSweeper
	}
	reclaimsItself interface {
		registry.Deleter
		registry.Retagger
		registry.SweepNoter
	}
)

var (
	_ sweeps         = (*file.Backend)(nil)
	_ sweeps         = (*hf.Backend)(nil)
	_ sweeps         = (*s3.Backend)(nil)
	_ reclaimsItself = (*ipfs.Backend)(nil)
	_ reclaimsItself = (*oci.Backend)(nil)
)
