package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
)

// pruneOpts are the options of `prune`.
type pruneOpts struct {
	*env
	deleteFlags
	keep      int
	olderThan time.Duration
	yes       bool
}

func (e *env) pruneCmd() *cobra.Command {
	o := &pruneOpts{env: e}
	c := &cobra.Command{
		Use:   "prune REPO --keep N",
		Short: "Delete the older images of a repository (a dry run unless --yes)",
		Long: `Delete the images of a repository beyond the --keep newest (by the
manifests' created_at); with --older-than, only those created longer ago.
Images whose manifest cannot be read are never deleted. Without --yes it
only lists what would be deleted. Deletion works as for ` + "`rm`" + `.`,
		Example: `  pf-registry prune file://./registry/ci/nightly --keep 7
  pf-registry prune oci://localhost:5000/alice/agent --keep 3 --older-than 720h --yes`,
		Args: cobra.ExactArgs(1),
		RunE: o.runPrune,
	}
	c.Flags().IntVar(&o.keep, "keep", -1, "how many of the newest images to keep (required)")
	c.Flags().DurationVar(&o.olderThan, "older-than", 0, "delete only images created longer ago than this (e.g. 720h)")
	c.Flags().BoolVar(&o.yes, "yes", false, "delete; without it nothing is removed")
	o.register(c, false)
	return c
}

// pruneJSON is the document `prune --json` prints.
type pruneJSON struct {
	outcome
	*registry.PruneReport
}

func (o *pruneOpts) runPrune(cmd *cobra.Command, args []string) error {
	if o.keep < 0 {
		return usageError{fmt.Errorf("prune: give --keep N (how many of the newest images stay)")}
	}
	if o.olderThan < 0 {
		return usageError{fmt.Errorf("--older-than %s: give a positive duration", o.olderThan)}
	}
	reg, repo, err := registry.ForRoot(args[0], o.cfg)
	if err != nil {
		return err
	}
	o.dryRun = !o.yes
	dopt, done, err := o.options(o.env)
	if err != nil {
		return err
	}
	rep, err := registry.Prune(cmd.Context(), reg, repo, registry.PruneOptions{DeleteOptions: dopt, Keep: o.keep, OlderThan: o.olderThan})
	done()
	if o.asJSON {
		out := &pruneJSON{PruneReport: rep}
		return o.printOutcome(&out.outcome, out, err)
	}
	if rep == nil {
		return err
	}
	o.printPrune(rep)
	if err == nil && !o.yes && len(rep.Pruned) > 0 {
		fmt.Fprintln(o.stderr, "dry run: nothing was deleted; run again with --yes to delete")
	}
	return err
}

func (o *pruneOpts) printPrune(rep *registry.PruneReport) {
	tw := o.table()
	fmt.Fprintln(tw, "IMAGE\tCREATED\tID\tACTION")
	row := func(e registry.PruneEntry, action string) {
		created := "-"
		if !e.Created.IsZero() {
			created = model.FormatTime(e.Created)
		}
		id := "-"
		if e.ImageID != "" {
			id = e.ImageID.Short()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", termtext.Line(e.Ref), created, id, action)
	}
	for _, e := range rep.Kept {
		row(e, "keep ("+e.Reason+")")
	}
	action := "delete"
	if !o.yes {
		action = "would delete"
	}
	for _, e := range rep.Pruned {
		row(e, action)
	}
	tw.Flush()
	if rep.Delete != nil && len(rep.Pruned) > 0 {
		o.printDelete(rep.Delete)
	}
}
