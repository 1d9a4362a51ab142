package cli

import (
	"context"

	"github.com/spf13/cobra"

	"pf-registry/ui"
)

func (e *env) uiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ui [ROOT...]",
		Short: "Open the terminal UI on the configured roots plus the given ones",
		Example: `  pf-registry ui
  pf-registry --readonly ui oci://localhost:5000 s3://bucket/agents`,
		RunE: e.runUICmd,
	}
}

func (e *env) runUICmd(cmd *cobra.Command, args []string) error {
	return e.runUI(cmd.Context(), args)
}

// runUI opens the terminal UI (also the root command without arguments).
func (e *env) runUI(ctx context.Context, roots []string) error {
	theme := e.g.theme
	if e.g.noColor {
		theme = "mono"
	}
	return ui.Run(ctx, ui.Options{
		Roots:       roots,
		StorePath:   e.g.storePath,
		ConfigPath:  e.g.config,
		ReadOnly:    e.g.readOnly,
		Theme:       theme,
		Registry:    e.cfg,
		Concurrency: e.g.concurrency,
	})
}
