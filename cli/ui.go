package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"pf-registry/model"
)

func (e *env) uiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ui [ROOT...]",
		Short: "Open the terminal UI on the configured roots plus the given ones",
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.runUI(cmd.Context(), args)
		},
	}
}

func (e *env) runUI(ctx context.Context, roots []string) error {
	_ = ctx
	_ = roots
	return model.WithHint(model.Classed(model.ErrUsage, errors.New("the terminal UI is not part of this build")),
		"use the plain commands: pf-registry --help")
}
