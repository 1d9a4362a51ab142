package cli

// Backends linked into the binary; each registers its scheme in init.
import (
	_ "pf-registry/registry/file"
	_ "pf-registry/registry/hf"
	_ "pf-registry/registry/ipfs"
	_ "pf-registry/registry/oci"
	_ "pf-registry/registry/s3"
)
