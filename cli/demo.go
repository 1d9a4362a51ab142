package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"pf-registry/demo"
)

// demoOpts are the options of `demo`.
type demoOpts struct {
	*env
	noUI bool
}

func (e *env) demoCmd() *cobra.Command {
	o := &demoOpts{env: e}
	c := &cobra.Command{
		Use:   "demo [DIR]",
		Short: "Create a demo registry (several repos, forks, a tampered image) and open it",
		Long: `Create a demo file:// registry with realistic synthetic images (fs trees, KV
cache pages of a few MB, effects ledgers, traces): forks that share pages, a
merge, one image whose signature does not verify and one without a
signature. Prints its root, then opens it in the UI (--no-ui only creates
it). DIR defaults to $XDG_DATA_HOME/pf-registry/demo.`,
		Example: `  pf-registry demo
  root=$(pf-registry demo --no-ui ./demo-registry) && pf-registry ls "$root"`,
		Args: cobra.MaximumNArgs(1),
		RunE: o.runDemo,
	}
	c.Flags().BoolVar(&o.noUI, "no-ui", false, "only create the registry and print its root")
	return c
}

func (o *demoOpts) runDemo(cmd *cobra.Command, args []string) error {
	dir := demo.DefaultDir()
	if len(args) == 1 {
		dir = args[0]
	}
	start := time.Now()
	res, err := demo.Generate(dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(o.stdout, res.Root)
	fmt.Fprintf(o.stderr, "demo registry with %d images in %s (%.1fs); tampered image: %s\n",
		len(res.Images), dir, time.Since(start).Seconds(), res.Tampered)
	if o.noUI || !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
		return nil
	}
	return o.runUI(cmd.Context(), []string{res.Root})
}
