package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"pf-registry/demo"
	"pf-registry/ui"
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
merge, and every signature verdict: images signed by the demo key (trusted),
by a colleague's key (untrusted-key), only with the public default key
(default-key), one whose signature does not verify and one without a
signature. The demo keys are made on first use in
$XDG_DATA_HOME/pf-registry/demo-keys (private, 0600); the demo key is trusted
in your key store as "demo" (` + "`pf-registry keys untrust demo`" + ` undoes it), the
colleague's key known as "demo-colleague". Prints the root, then opens it in
the UI (--no-ui only creates it). DIR defaults to
$XDG_DATA_HOME/pf-registry/demo; that default demo's root is also added to
the roots of the config file, so that ` + "`pf-registry`" + ` alone lists it.`,
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
	res, err := demo.GenerateWith(dir, demo.Options{KeyDir: demo.DefaultKeyDir(), Trust: o.keyStore()})
	if err != nil {
		return err
	}
	fmt.Fprintln(o.stdout, res.Root)
	fmt.Fprintf(o.stderr, "demo registry with %d images in %s (%.1fs); tampered image: %s\n",
		len(res.Images), dir, time.Since(start).Seconds(), res.Tampered)
	fmt.Fprintf(o.stderr, "signed by the demo key %s (%s, trusted in your key store) and %s (%s, known, not trusted); keys in %s\n",
		demo.KeyDemo, res.Keys[demo.KeyDemo], demo.KeyColleague, res.Keys[demo.KeyColleague], demo.DefaultKeyDir())
	for _, n := range res.Notes {
		fmt.Fprintln(o.stderr, "note: "+n)
	}
	if len(args) == 0 {
		// The default demo is remembered, so that `pf-registry` alone lists
		// it next time; a demo in a directory of the caller's is not.
		if err := o.rememberRoot(res.Root); err != nil {
			return err
		}
	}
	// The keyring was read before the demo key was trusted.
	if o.cfg.Keys, err = o.keyStore().Keyring(); err != nil {
		return err
	}
	if o.noUI || !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
		return nil
	}
	return o.runUI(cmd.Context(), []string{res.Root})
}

// rememberRoot adds root to the roots of the config file (a no-op when it
// is there).
func (o *demoOpts) rememberRoot(root string) error {
	path := o.configPath()
	cfg, err := ui.LoadConfig(path)
	if err != nil {
		return err
	}
	known := len(cfg.Roots)
	if err := cfg.AddRoot(root); err != nil || len(cfg.Roots) == known {
		return err // AddRoot leaves a root it has alone
	}
	if err := cfg.Save(path); err != nil {
		return fmt.Errorf("remembering the demo root in %s: %w", path, err)
	}
	fmt.Fprintf(o.stderr, "added the demo root to the roots in %s (d on the registries screen removes it)\n", path)
	return nil
}
