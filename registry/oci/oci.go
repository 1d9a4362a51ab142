// Package oci serves ProcessFork images in OCI registries (oci://, spec
// §9.5) and in on-disk OCI image layouts (oci-layout:, spec §9.6), both
// through regclient. An image is an OCI manifest whose config blob is the
// .pfimg manifest, whose first layer is the signature and whose other layers
// are the stored zstd blobs, each named by an org.processfork.path annotation.
package oci
