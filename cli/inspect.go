package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// inspectOpts are the options of `inspect`.
type inspectOpts struct {
	*env
	asJSON bool
	walk   bool
}

func (e *env) inspectCmd() *cobra.Command {
	o := &inspectOpts{env: e}
	c := &cobra.Command{
		Use:   "inspect REF",
		Short: "Show an image's manifest, signature verdict and blobs (no blob download)",
		Long: `Show an image's manifest, signature verdict and blobs. Only the manifest and
its signature are fetched; with --walk the fs tree and page manifest are
fetched too, to list every blob. Exits 4 when the signature is invalid or
missing or the manifest is malformed.`,
		Example: `  pf-registry inspect oci://localhost:5000/alice/agent:v1
  pf-registry inspect --walk s3://bucket/agents/refactor
  pf-registry inspect --json hf://alice/agent-snapshots:v2 | jq .signature`,
		Args: cobra.ExactArgs(1),
		RunE: o.runInspect,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	c.Flags().BoolVar(&o.walk, "walk", false, "also fetch the fs tree and page manifest to list (and check) every blob")
	return c
}

func (o *inspectOpts) runInspect(cmd *cobra.Command, args []string) error {
	reg, ref, err := registry.ForRef(args[0], o.cfg)
	if err != nil {
		return err
	}
	var in *registry.Inspection
	var blobs []registry.BlobStatus
	if o.walk {
		rep, verr := reg.Verify(cmd.Context(), ref, registry.VerifyOptions{})
		if rep == nil || rep.Inspection == nil {
			return verr
		}
		in, blobs = rep.Inspection, rep.Blobs
	} else {
		in, err = reg.Inspect(cmd.Context(), ref)
		if err != nil {
			return err
		}
		blobs = in.Blobs
	}
	if o.asJSON {
		if err := o.printJSON(toInspectJSON(in, blobs)); err != nil {
			return err
		}
	} else {
		o.printInspection(in, blobs)
	}
	return in.Problem(o.levelFor(ref))
}

// inspectJSON is the document `inspect --json` prints.
type inspectJSON struct {
	Ref           string                `json:"ref"`
	ImageID       model.Digest          `json:"image_id"`
	Manifest      json.RawMessage       `json:"manifest"`
	Signature     signing.Result        `json:"signature"`
	Canonical     bool                  `json:"canonical"`
	Warnings      []string              `json:"warnings"`
	ManifestError string                `json:"manifest_error,omitempty"`
	Blobs         []registry.BlobStatus `json:"blobs"`
}

func toInspectJSON(in *registry.Inspection, blobs []registry.BlobStatus) inspectJSON {
	out := inspectJSON{Ref: in.Ref, ImageID: in.ImageID, Signature: in.Signature, Canonical: in.Canonical,
		Warnings: in.Warnings, ManifestError: in.ManifestError, Blobs: blobs}
	if json.Valid(in.Raw) {
		out.Manifest = json.RawMessage(in.Raw)
	} else {
		s, _ := json.Marshal(string(in.Raw))
		out.Manifest = s
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	if out.Blobs == nil {
		out.Blobs = []registry.BlobStatus{}
	}
	return out
}

func verdictLine(c signing.Check) string {
	s := termtext.VerdictSymbol(string(c.Status)) + " " + string(c.Status)
	if c.Reason != "" {
		s += " — " + termtext.Line(c.Reason)
	}
	return s
}

// printSignatures lists every signature of an image with its key, the
// deciding one first.
func (e *env) printSignatures(r signing.Result) {
	tw := e.table()
	for _, c := range r.Checks {
		key := c.Key
		if key == "" && c.Hint != "" {
			key = "hint " + c.Hint
		}
		fmt.Fprintf(tw, "  %s %s\t%s\t%s\t%s\n", termtext.VerdictSymbol(string(c.Status)), c.Status, c.Kind, termtext.Line(c.Where), termtext.Line(orDash(key)))
	}
	tw.Flush()
}

func (e *env) printInspection(in *registry.Inspection, blobs []registry.BlobStatus) {
	tw := e.table()
	fmt.Fprintf(tw, "Image\t%s\n", in.ImageID)
	fmt.Fprintf(tw, "Reference\t%s\n", termtext.Line(in.Ref))
	fmt.Fprintf(tw, "Signature\t%s\n", verdictLine(in.Signature.Strongest()))
	if m := in.Manifest; m != nil {
		fmt.Fprintf(tw, "Agent\t%s %s (%s)\n", termtext.Line(m.Agent.Kind), termtext.Line(m.Agent.Version), termtext.Line(m.Agent.Fingerprint))
		fmt.Fprintf(tw, "Created\t%s\n", model.FormatTime(m.CreatedAt))
		parents := "none (root image)"
		if len(m.Parents) > 0 {
			ps := make([]string, len(m.Parents))
			for i, p := range m.Parents {
				ps[i] = string(p)
			}
			parents = strings.Join(ps, ", ")
		}
		fmt.Fprintf(tw, "Parents\t%s\n", parents)
		fmt.Fprintf(tw, "Cache\t%s\n", termtext.Line(m.Cache.Layout))
		fmt.Fprintf(tw, "Canonical\t%v\n", in.Canonical)
	}
	if in.ManifestError != "" {
		fmt.Fprintf(tw, "Manifest\t✗ %s\n", termtext.Line(in.ManifestError))
	}
	for _, w := range in.Warnings {
		fmt.Fprintf(tw, "Warning\t%s\n", termtext.Line(w))
	}
	tw.Flush()
	if len(in.Signature.Checks) > 0 {
		fmt.Fprintf(e.stdout, "\nSignatures (%d)\n", len(in.Signature.Checks))
		e.printSignatures(in.Signature)
	}
	if len(blobs) > 0 {
		fmt.Fprintf(e.stdout, "\nBlobs (%d)\n", len(blobs))
		tw = e.table()
		for _, b := range blobs {
			size := ""
			if b.StoredSize > 0 {
				size = termtext.Bytes(b.StoredSize)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", termtext.Line(b.Role), termtext.Line(string(b.Digest)), size, b.Status)
		}
		tw.Flush()
	}
}

// verifyOpts are the options of `verify`.
type verifyOpts struct {
	*env
	asJSON bool
	deep   bool
}

func (e *env) verifyCmd() *cobra.Command {
	o := &verifyOpts{env: e}
	c := &cobra.Command{
		Use:   "verify REF",
		Short: "Verify an image: signature, manifest, and that every reachable blob is there",
		Long: `Verify an image in a registry: the signature (before anything else), the
manifest's digests, and the presence of every blob the image reaches. With
--deep every blob is downloaded, decompressed and re-hashed (nothing is
stored). Exits 4 on any integrity failure.`,
		Example: `  pf-registry verify file://./registry/alice/refactor-agent/v2
  pf-registry verify --deep oci://localhost:5000/alice/agent:v1
  pf-registry verify --strict --json ipfs://alice-agent:v1`,
		Args: cobra.ExactArgs(1),
		RunE: o.runVerify,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	c.Flags().BoolVar(&o.deep, "deep", false, "download and re-hash every blob")
	return c
}

func (o *verifyOpts) runVerify(cmd *cobra.Command, args []string) error {
	reg, ref, err := registry.ForRef(args[0], o.cfg)
	if err != nil {
		return err
	}
	p := o.newProgress(registry.OpVerify)
	if !o.deep {
		p = o.quietProgress()
	}
	rep, err := reg.Verify(cmd.Context(), ref, registry.VerifyOptions{Deep: o.deep, Concurrency: o.g.concurrency, Progress: p.event})
	p.finish()
	if err == nil && rep != nil && rep.Inspection != nil {
		err = rep.Inspection.Problem(o.levelFor(ref))
	}
	if o.asJSON && rep != nil {
		if jerr := o.printJSON(verifyJSON(rep, err, o.deep)); jerr != nil {
			return jerr
		}
	}
	if err != nil || o.asJSON {
		return err
	}
	how := "present"
	if o.deep {
		how = "re-hashed"
	}
	fmt.Fprintf(o.stdout, "✓ %s verified: signature %s, %d blobs %s\n", rep.Inspection.ImageID, rep.Inspection.Signature.Status(), len(rep.Blobs), how)
	o.warnSignatures(rep.Inspection.Signature)
	return nil
}

// verifyReport is the document `verify --json` prints.
type verifyReport struct {
	OK        bool                  `json:"ok"`
	Error     string                `json:"error,omitempty"`
	Deep      bool                  `json:"deep"`
	Complete  bool                  `json:"complete"`
	Inspect   *inspectJSON          `json:"image,omitempty"`
	Blobs     []registry.BlobStatus `json:"blobs"`
	ElapsedMS int64                 `json:"elapsed_ms"`
}

func verifyJSON(rep *registry.Report, err error, deep bool) verifyReport {
	out := verifyReport{OK: err == nil, Deep: deep, Complete: rep.Complete,
		Blobs: rep.Blobs, ElapsedMS: rep.Elapsed.Milliseconds()}
	if err != nil {
		out.Error = termtext.OneLine(err.Error(), 0)
	}
	if rep.Inspection != nil {
		ij := toInspectJSON(rep.Inspection, nil)
		ij.Blobs = nil
		out.Inspect = &ij
	}
	if out.Blobs == nil {
		out.Blobs = []registry.BlobStatus{}
	}
	return out
}
