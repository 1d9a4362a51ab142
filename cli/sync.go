package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// syncOpts are the options of `sync`.
type syncOpts struct {
	*env
	dryRun bool
	asJSON bool
	images int
}

func (e *env) syncCmd() *cobra.Command {
	o := &syncOpts{env: e}
	c := &cobra.Command{
		Use:   "sync SRC DST",
		Short: "Mirror a repository or a whole root to another registry, copying only what is missing",
		Long: `Mirror every image of SRC (a repository, or a root listing several) to DST,
each under the same relative name and tag (HF datasets and IPFS names are
flat: '/' becomes '-'). Images DST already holds with a valid signature are
left alone; the others are copied as by ` + "`copy`" + `, skipping the blobs DST
has, --images at a time. A copy writes its manifest last, so running an
interrupted sync again finishes it.`,
		Example: `  pf-registry sync file://./registry s3://bucket/mirror
  pf-registry sync --dry-run oci://localhost:5000/alice/agent file://./mirror/agent
  pf-registry sync --json --progress json hf://alice oci://localhost:5000/hf-mirror`,
		Args: cobra.ExactArgs(2),
		RunE: o.runSync,
	}
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "list the images that would be copied; copy nothing")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as one JSON document")
	c.Flags().IntVar(&o.images, "images", registry.DefaultSyncImages, "images copied at once")
	return c
}

// syncJSON is the document `sync --json` prints.
type syncJSON struct {
	outcome
	ElapsedMS int64 `json:"elapsed_ms"`
	*registry.SyncReport
}

func (o *syncOpts) runSync(cmd *cobra.Command, args []string) error {
	if o.images < 1 {
		return usageError{fmt.Errorf("--images %d: give at least 1", o.images)}
	}
	srcReg, src, err := registry.ForRoot(args[0], o.cfg)
	if err != nil {
		return err
	}
	dstReg, dst, err := registry.ForRoot(args[1], o.cfg)
	if err != nil {
		return err
	}
	p := o.newRunProgress(registry.OpSync)
	opt := registry.SyncOptions{
		TransferOptions: registry.TransferOptions{Concurrency: o.g.concurrency, Progress: p.event},
		DryRun:          o.dryRun, Images: o.images,
	}
	rep, err := registry.Sync(cmd.Context(), srcReg, src, dstReg, dst, opt)
	p.finish()
	if rep == nil {
		return err
	}
	if o.asJSON {
		out := &syncJSON{SyncReport: rep, ElapsedMS: rep.Elapsed.Milliseconds()}
		return o.printOutcome(&out.outcome, out, err)
	}
	o.printSync(rep)
	return err
}

func (o *syncOpts) printSync(rep *registry.SyncReport) {
	missing := 0
	for _, im := range rep.Images {
		src, dst := termtext.Line(im.Source), termtext.Line(im.Destination)
		switch im.State {
		case registry.SyncCopied:
			fmt.Fprintf(o.stdout, "copied %s → %s (%d blob(s) moved, %d present, %s)\n", src, dst, im.Transferred, im.Skipped, termtext.Bytes(im.Bytes))
		case registry.SyncMissing:
			missing++
			if o.dryRun {
				fmt.Fprintf(o.stdout, "would copy %s → %s\n", src, dst)
			}
		case registry.SyncFailed:
			fmt.Fprintf(o.stdout, "failed %s → %s: %s\n", src, dst, termtext.Line(termtext.OneLine(im.Error, 0)))
		}
	}
	if o.dryRun {
		fmt.Fprintf(o.stdout, "%d image(s) to copy, %d already at the destination\n", missing, rep.Present)
		return
	}
	fmt.Fprintf(o.stdout, "%d copied, %d already present, %d failed: %d blob(s) moved (%s), %d skipped\n",
		rep.Copied, rep.Present, rep.Failed, rep.Transferred, termtext.Bytes(rep.Bytes), rep.Skipped)
}
