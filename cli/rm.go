package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// deleteFlags are the flags every deleting command shares.
type deleteFlags struct {
	dryRun bool
	asJSON bool
	grace  time.Duration
}

func (f *deleteFlags) register(c *cobra.Command, dryRun bool) {
	if dryRun {
		c.Flags().BoolVar(&f.dryRun, "dry-run", false, "list what would be removed, and how many bytes; remove nothing")
	}
	c.Flags().BoolVar(&f.asJSON, "json", false, "print the report as one JSON document")
	c.Flags().DurationVar(&f.grace, "grace", registry.DefaultGrace,
		"keep blobs no image reaches that are younger than this (a push in progress elsewhere); 0 keeps none")
}

func (f *deleteFlags) options(e *env) (registry.DeleteOptions, func(), error) {
	if f.grace < 0 {
		return registry.DeleteOptions{}, nil, usageError{fmt.Errorf("--grace %s: give 0 or more", f.grace)}
	}
	p := e.newRunProgress(registry.OpDelete)
	p.dryRun = f.dryRun
	opt := registry.DeleteOptions{DryRun: f.dryRun, Grace: f.grace, Progress: p.event}
	if f.grace == 0 {
		opt.Grace = registry.NoGrace
	}
	return opt, p.finish, nil
}

// rmOpts are the options of `rm`.
type rmOpts struct {
	*env
	deleteFlags
	missingOK bool
}

func (e *env) rmCmd() *cobra.Command {
	o := &rmOpts{env: e}
	c := &cobra.Command{
		Use:   "rm REF...",
		Short: "Delete images from registries: manifests and signatures first, then unreferenced blobs",
		Long: `Delete images. Each image's manifest and signatures go first, so an
interrupted deletion never leaves an image without its blobs; then the
blobs no remaining image reaches are removed where the backend keeps them
beside the image (file, S3, HF), except blobs younger than --grace, which a
push in progress elsewhere may be about to use. OCI registries and IPFS
reclaim blobs with their own garbage collection. Running a deletion again
(with --missing-ok, since some references may be gone entirely) finishes
one that was interrupted. --readonly refuses it (not --dry-run).`,
		Example: `  pf-registry rm --dry-run s3://bucket/agents/nightly-2026-11-01
  pf-registry rm oci://localhost:5000/alice/agent:old hf://alice/agent-snapshots:exp
  pf-registry rm --grace 0 --json file://./registry/alice/agent/v1`,
		Args: cobra.MinimumNArgs(1),
		RunE: o.runRm,
	}
	o.register(c, true)
	c.Flags().BoolVar(&o.missingOK, "missing-ok", false, "a reference with nothing left is not an error (to re-run an interrupted deletion)")
	return c
}

func (o *rmOpts) runRm(cmd *cobra.Command, args []string) error {
	opt, done, err := o.options(o.env)
	if err != nil {
		return err
	}
	opt.MissingOK = o.missingOK
	total, derr := registry.DeleteAll(cmd.Context(), args, func(s string) (registry.Registry, registry.Ref, error) {
		return registry.ForRef(s, o.cfg)
	}, opt)
	done()
	if total == nil {
		return derr
	}
	return o.finish(o.env, total, derr)
}

// outcome heads the JSON report of a command that may have done part of
// its work before failing: whether all went well, and the error if not.
type outcome struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// printOutcome prints a JSON report headed by err's outcome and returns
// err, the command's result.
func (e *env) printOutcome(head *outcome, doc any, err error) error {
	head.OK = err == nil
	if err != nil {
		head.Error = termtext.OneLine(err.Error(), 0)
	}
	if jerr := e.printJSON(doc); jerr != nil {
		return jerr
	}
	return err
}

// deleteJSON is the document the deleting commands print with --json.
type deleteJSON struct {
	outcome
	*registry.DeleteReport
}

// finish prints a deletion's report (also the part done before a failure)
// and returns the failure.
func (f *deleteFlags) finish(e *env, rep *registry.DeleteReport, err error) error {
	if f.asJSON {
		out := &deleteJSON{DeleteReport: rep}
		return e.printOutcome(&out.outcome, out, err)
	}
	e.printDelete(rep)
	return err
}

// printDelete prints what went (or would go) on stdout, notes on stderr.
func (e *env) printDelete(rep *registry.DeleteReport) {
	verb, blobVerb := "deleted", "removed"
	if rep.DryRun {
		verb, blobVerb = "would delete", "would remove"
	}
	for _, im := range rep.Images {
		switch {
		case im.Leftover:
			fmt.Fprintf(e.stdout, "%s the leftovers of %s (its manifest was already gone)\n", verb, termtext.Line(im.Ref))
		case im.ImageID != "" && im.Ref != im.ImageID.String():
			fmt.Fprintf(e.stdout, "%s %s (%s)\n", verb, termtext.Line(im.Ref), im.ImageID.Short())
		default:
			fmt.Fprintf(e.stdout, "%s %s\n", verb, termtext.Line(im.Ref))
		}
	}
	if rep.DryRun {
		for _, b := range rep.Blobs {
			fmt.Fprintf(e.stdout, "  blob %s  %s  %s\n", b.Digest.Short(), termtext.Bytes(b.Size), termtext.Line(b.Store))
		}
	}
	fmt.Fprintf(e.stdout, "%s %d blob(s), %s\n", blobVerb, len(rep.Blobs), termtext.Bytes(rep.Bytes))
	if n := len(rep.Kept); n > 0 {
		var size int64
		for _, b := range rep.Kept {
			size += b.Size
		}
		fmt.Fprintf(e.stdout, "kept %d unreferenced blob(s), %s, younger than the grace period\n", n, termtext.Bytes(size))
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(e.stderr, "note: "+n)
	}
}
