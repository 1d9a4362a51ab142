package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// transferOpts are the options of `pull`, `push` and `copy`.
type transferOpts struct {
	*env
	asJSON   bool
	signKeys []string
}

// addSignKey adds --sign-key to push and copy.
func (o *transferOpts) addSignKey(c *cobra.Command) {
	c.Flags().StringArrayVar(&o.signKeys, "sign-key", nil,
		"also sign with this key of the key store: a Sigstore signature beside the image (repeat for several)")
}

// options are the transfer options with the --sign-key keys loaded.
func (o *transferOpts) options(op registry.Op) (registry.TransferOptions, func(), error) {
	keys, err := o.signingKeys(o.signKeys)
	if err != nil {
		return registry.TransferOptions{}, nil, err
	}
	opt, done := o.transferOptions(op)
	opt.SignWith = keys
	return opt, done, nil
}

func (e *env) pullCmd() *cobra.Command {
	o := &transferOpts{env: e}
	c := &cobra.Command{
		Use:   "pull REF",
		Short: "Verify an image and pull it into the local store; prints the image ID",
		Long: `Verify an image's signatures, then pull every blob it reaches into the local
store (--store, $PF_STORE, ~/.processfork), each one re-hashed before it is
kept. An image below the signature requirement (--require, --strict, the
config's require: for its root) is refused before any blob moves. Blobs
already in the store are skipped, so an interrupted pull resumes. Prints the
image ID on stdout.`,
		Example: `  id=$(pf-registry pull s3://bucket/agents/refactor)
  pf-registry --store ./store --progress plain pull oci://localhost:5000/alice/agent:v1
  pf-registry --require trusted pull hf://alice/agent-snapshots:v2`,
		Args: cobra.ExactArgs(1),
		RunE: o.runPull,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the transfer report as JSON instead of the image ID")
	return c
}

func (o *transferOpts) runPull(cmd *cobra.Command, args []string) error {
	reg, ref, err := registry.ForRef(args[0], o.cfg)
	if err != nil {
		return err
	}
	st, err := o.openStore()
	if err != nil {
		return err
	}
	opt, done := o.transferOptions(registry.OpPull)
	rep, err := reg.Pull(cmd.Context(), ref, st, opt)
	done()
	return o.finish(rep, err, func() {
		fmt.Fprintln(o.stdout, rep.Inspection.ImageID)
	})
}

func (e *env) pushCmd() *cobra.Command {
	o := &transferOpts{env: e}
	c := &cobra.Command{
		Use:   "push IMAGE_ID REF",
		Short: "Push a local image to a registry, signed with the backend's key",
		Long: `Push an image of the local store to a registry. IMAGE_ID is the full
sha256:… ID or a unique hex prefix (see ` + "`pf-registry images`" + `). Blobs the
destination already has are skipped without being read; the manifest and
its signatures are written last. The HMAC signature (manifest.json.sig, read
by the Rust tool too) uses PF_<BACKEND>_REG_SIGN_KEY or, without it, the
public default key; --sign-key adds a Sigstore signature by a key of the key
store (see ` + "`pf-registry keys`" + `), verified as trusted by whoever trusts that key.`,
		Example: `  pf-registry push 3f2a9c1e hf://alice/agent-snapshots:v2
  PF_OCI_REG_SIGN_KEY=… pf-registry push "$id" oci://localhost:5000/alice/agent:v2
  COSIGN_PASSWORD=… pf-registry push "$id" file://./registry/alice/agent/v2 --sign-key release`,
		Args: cobra.ExactArgs(2),
		RunE: o.runPush,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the transfer report as JSON")
	o.addSignKey(c)
	return c
}

func (o *transferOpts) runPush(cmd *cobra.Command, args []string) error {
	st, err := o.openStore()
	if err != nil {
		return err
	}
	id, err := st.Resolve(args[0])
	if err != nil {
		return err
	}
	reg, ref, err := registry.ForRef(args[1], o.cfg)
	if err != nil {
		return err
	}
	opt, done, err := o.options(registry.OpPush)
	if err != nil {
		return err
	}
	rep, err := reg.Push(cmd.Context(), st, id, ref, opt)
	done()
	return o.finish(rep, err, func() {
		fmt.Fprintf(o.stdout, "✓ pushed %s → %s (signature %s)\n", id, termtext.Line(rep.Destination), rep.Inspection.Signature.Status())
		if rep.Inspection.Signature.Status() == signing.DefaultKey {
			fmt.Fprintf(o.stderr, "note: signed with the public default key; set %s to sign with your own\n", signing.EnvVar(ref.Scheme))
		}
	})
}

func (e *env) copyCmd() *cobra.Command {
	o := &transferOpts{env: e}
	c := &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy an image between registries, verified, without the local store",
		Long: `Copy an image from one registry to another. The source signatures are
verified (source backend's key, key store, --require and the config's
require:) before any blob moves; every blob is re-hashed in flight; the
destination gets an HMAC signature under its own key. Sigstore signatures
follow the image when they still verify over what the destination stores:
between file, S3, HF and IPFS (same manifest bytes) they do; between OCI
and the others they cannot (cosign signs the OCI manifest), so sign again
with --sign-key.`,
		Example: `  pf-registry copy hf://alice/agent-snapshots:v2 oci://localhost:5000/alice/agent:v2
  pf-registry copy --json file://./registry/alice/agent/v1 s3://bucket/agents/v1`,
		Args: cobra.ExactArgs(2),
		RunE: o.runCopy,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the transfer report as JSON")
	o.addSignKey(c)
	return c
}

func (o *transferOpts) runCopy(cmd *cobra.Command, args []string) error {
	srcReg, srcRef, err := registry.ForRef(args[0], o.cfg)
	if err != nil {
		return err
	}
	dstReg, dstRef, err := registry.ForRef(args[1], o.cfg)
	if err != nil {
		return err
	}
	opt, done, err := o.options(registry.OpCopy)
	if err != nil {
		return err
	}
	rep, err := registry.Copy(cmd.Context(), srcReg, srcRef, dstReg, dstRef, opt)
	done()
	return o.finish(rep, err, func() {
		fmt.Fprintf(o.stdout, "✓ copied %s → %s\n", rep.Inspection.ImageID, termtext.Line(rep.Destination))
	})
}

// finish prints a transfer's outcome: the JSON report, or human, then the
// warnings on stderr.
func (o *transferOpts) finish(rep *registry.Report, err error, human func()) error {
	if o.asJSON && rep != nil {
		if jerr := o.printJSON(transferJSON(rep, err)); jerr != nil {
			return jerr
		}
	}
	if err != nil {
		return err
	}
	if !o.asJSON {
		human()
	}
	if rep.Op != registry.OpPush {
		o.warnSignatures(rep.Inspection.Signature)
	}
	for _, w := range rep.Inspection.Warnings {
		fmt.Fprintln(o.stderr, "warning: "+termtext.Line(w))
	}
	return nil
}

// transferReport is the document `pull|push|copy --json` prints.
type transferReport struct {
	OK          bool                  `json:"ok"`
	Error       string                `json:"error,omitempty"`
	Op          registry.Op           `json:"op"`
	ImageID     model.Digest          `json:"image_id,omitempty"`
	Source      string                `json:"source"`
	Destination string                `json:"destination"`
	Signature   signing.Result        `json:"signature"`
	Transferred int                   `json:"transferred"`
	Skipped     int                   `json:"skipped"`
	Bytes       int64                 `json:"bytes"`
	ElapsedMS   int64                 `json:"elapsed_ms"`
	Blobs       []registry.BlobStatus `json:"blobs"`
}

func transferJSON(rep *registry.Report, err error) transferReport {
	out := transferReport{OK: err == nil, Op: rep.Op, Source: rep.Source, Destination: rep.Destination,
		Transferred: rep.Transferred, Skipped: rep.Skipped, Bytes: rep.Bytes, ElapsedMS: rep.Elapsed.Milliseconds(), Blobs: rep.Blobs}
	if rep.Inspection != nil {
		out.ImageID, out.Signature = rep.Inspection.ImageID, rep.Inspection.Signature
	}
	if err != nil {
		out.Error = termtext.OneLine(err.Error(), 0)
	}
	if out.Blobs == nil {
		out.Blobs = []registry.BlobStatus{}
	}
	return out
}
