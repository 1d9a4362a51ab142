package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"pf-registry/lineage"
	"pf-registry/registry"
)

// logOptions are the flags of `log`.
type logOptions struct {
	e      *env
	asJSON bool
}

func (e *env) logCmd() *cobra.Command {
	o := &logOptions{e: e}
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
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args[0]) },
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	return c
}

func (o *logOptions) run(ctx context.Context, rootArg string) error {
	o.e.prepare()
	reg, root, err := registry.ForRoot(rootArg, o.e.config())
	if err != nil {
		return err
	}
	images, err := lineage.Collect(ctx, reg, root, o.e.g.concurrency)
	if err != nil {
		return err
	}
	g := lineage.Build(images)
	if o.asJSON {
		if g.Problems == nil {
			g.Problems = []string{}
		}
		return o.e.printJSON(map[string]any{"root": root.Raw, "nodes": g.Nodes, "problems": g.Problems})
	}
	if len(g.Nodes) == 0 {
		fmt.Fprintf(o.e.stderr, "no images under %s\n", root.Raw)
		return nil
	}
	fmt.Fprint(o.e.stdout, lineage.Text(g))
	return nil
}
