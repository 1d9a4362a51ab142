package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// retagOpts are the options of `tag`.
type retagOpts struct {
	*env
	asJSON bool
}

func (e *env) tagCmd() *cobra.Command {
	o := &retagOpts{env: e}
	c := &cobra.Command{
		Use:   "tag REF NEWREF",
		Short: "Give an image a second name in the same registry, without moving blob bytes",
		Long: `Make the image at REF also available at NEWREF, in the same registry, after
checking its signature. No blob passes through this machine where the
backend can copy server side: S3 CopyObject within the bucket, a branch or
a commit of LFS references within the HF dataset, the same OCI manifest
under a new tag of the repository, hard links between file directories
(a copy across file systems), files/cp within the IPFS daemon's MFS.`,
		Example: `  pf-registry tag oci://localhost:5000/alice/agent:v3 oci://localhost:5000/alice/agent:stable
  pf-registry tag s3://bucket/agents/nightly-2026-11-26 s3://bucket/agents/release-1`,
		Args: cobra.ExactArgs(2),
		RunE: o.runTag,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	return c
}

func (o *retagOpts) runTag(cmd *cobra.Command, args []string) error {
	reg, src, err := registry.ForRef(args[0], o.cfg)
	if err != nil {
		return err
	}
	dst, err := registry.ParseRef(args[1])
	if err != nil {
		return err
	}
	rep, err := reg.Retag(cmd.Context(), src, dst)
	if err != nil {
		return err
	}
	if o.asJSON {
		return o.printJSON(rep)
	}
	fmt.Fprintf(o.stdout, "✓ tagged %s → %s (%s)\n", termtext.Line(rep.Source), termtext.Line(rep.Destination), rep.ImageID)
	return nil
}
