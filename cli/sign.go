package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// signOpts are the options of `sign`.
type signOpts struct {
	*env
	keys   []string
	asJSON bool
}

func (e *env) signCmd() *cobra.Command {
	o := &signOpts{env: e}
	c := &cobra.Command{
		Use:   "sign REF --key NAME",
		Short: "Add a signature by one of your keys to an image already in a registry",
		Long: `Add a Sigstore signature by a key of the key store to an image in a
registry, without moving its blobs: a bundle beside manifest.json (file, S3,
HF, IPFS) or a cosign signature attached to the OCI manifest (OCI). The
image's signatures are checked first: an image whose signature fails is not
signed. An IPFS image gets a new CID, printed on stdout.`,
		Example: `  pf-registry sign file://./registry/alice/agent/v2 --key release
  COSIGN_PASSWORD=… pf-registry sign oci://localhost:5000/alice/agent:v2 --key release`,
		Args: cobra.ExactArgs(1),
		RunE: o.runSign,
	}
	c.Flags().StringArrayVar(&o.keys, "key", nil, "name of a signing key in the key store (repeat for several)")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the image's signatures after signing as JSON")
	_ = c.MarkFlagRequired("key")
	return c
}

func (o *signOpts) runSign(cmd *cobra.Command, args []string) error {
	reg, ref, err := registry.ForRef(args[0], o.cfg)
	if err != nil {
		return err
	}
	keys, err := o.signingKeys(o.keys)
	if err != nil {
		return err
	}
	in, err := reg.Sign(cmd.Context(), ref, keys)
	if err != nil {
		return err
	}
	if o.asJSON {
		return o.printJSON(toInspectJSON(in, nil))
	}
	fmt.Fprintf(o.stdout, "✓ signed %s\n", termtext.Line(in.Ref))
	o.printSignatures(in.Signature)
	return nil
}
