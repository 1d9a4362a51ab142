package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/lineage"
	"pf-registry/registry"
)

// logOpts are the flags of `log`.
type logOpts struct {
	*env
	asJSON bool
}

func (e *env) logCmd() *cobra.Command {
	o := &logOpts{env: e}
	c := &cobra.Command{
		Use:   "log ROOT",
		Short: "Draw the fork tree of the images under a root or repository (like git log --graph)",
		Long: `Inspect every image under a registry root or repository (manifest and
signature only) and draw how they relate: each image's parents resolved to
the tags that hold them, forks, merges and roots, newest first, like
` + "`git log --graph`" + `. Parents that no tag under the root holds are shown as such.`,
		Example: `  pf-registry log file://$HOME/.local/share/pf-registry/demo
  pf-registry log --json oci://localhost:5000 | jq '.nodes[] | select(.parents | length > 1)'`,
		Args: cobra.ExactArgs(1),
		RunE: o.runLog,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	return c
}

func (o *logOpts) runLog(cmd *cobra.Command, args []string) error {
	ctx, rootArg := cmd.Context(), args[0]
	reg, root, err := registry.ForRoot(rootArg, o.cfg)
	if err != nil {
		return err
	}
	images, err := lineage.Collect(ctx, reg, root, o.g.concurrency)
	if err != nil {
		return err
	}
	g := lineage.Build(images)
	if o.asJSON {
		if g.Problems == nil {
			g.Problems = []string{}
		}
		return o.printJSON(map[string]any{"root": root.Raw, "nodes": g.Nodes, "problems": g.Problems})
	}
	if len(g.Nodes) == 0 {
		fmt.Fprintf(o.stderr, "no images under %s\n", termtext.Line(root.Raw))
		return nil
	}
	fmt.Fprint(o.stdout, lineage.Text(g))
	return nil
}
