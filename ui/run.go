package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/signing"
	"pf-registry/store"
	"pf-registry/themes"
)

// Options configure the UI.
type Options struct {
	// Roots given on the command line, shown before the configured ones.
	Roots []string
	// StorePath is the local pf store ("" = store.DefaultRoot()).
	StorePath string
	// ConfigPath is the config file ("" = DefaultConfigPath()).
	ConfigPath string
	// ReadOnly disables every write (pull, push, copy); the config file
	// can also set it.
	ReadOnly bool
	// Theme: auto, dark, light, high-contrast or mono ("" = config, then
	// auto). NO_COLOR forces mono.
	Theme string
	// Registry is handed to every backend.
	Registry registry.Config
	// Concurrency bounds parallel blob transfers of each job (0: engine
	// default); Strict also refuses default-key signatures on pull/copy
	// (the signature policy itself is Registry.Policy, with the config
	// file's require: added).
	Concurrency int
	Strict      bool

	// Now is the clock (tests pin it); nil = time.Now.
	Now func() time.Time
	// Input and Output replace the terminal (tests); nil = the terminal.
	Input  io.Reader
	Output io.Writer
	// ProgramOptions are extra Bubble Tea options (tests).
	ProgramOptions []tea.ProgramOption
}

// New builds the root model without running it. ctx bounds every
// background call.
func New(ctx context.Context, opt Options) (*App, error) {
	cfgPath := opt.ConfigPath
	if cfgPath == "" {
		cfgPath = DefaultConfigPath()
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	for _, r := range opt.Roots {
		if _, err := registry.ParseRoot(r); err != nil {
			return nil, fault.Classed(fault.ErrUsage, fault.WithHint(err,
				"give roots such as file:///dir, oci://host:port, s3://bucket, hf://user"))
		}
	}
	keys := DefaultKeyMap()
	if err := keys.Rebind(cfg.Keys); err != nil {
		return nil, fault.WithHint(err, "fix the keys section of "+cfgPath)
	}
	themeName := opt.Theme
	if themeName == "" {
		themeName = cfg.Theme
	}
	t, err := themes.Resolve(themeName, true)
	if err != nil {
		return nil, fault.Classed(fault.ErrUsage, fault.WithHint(err, "pick a theme with --theme"))
	}
	storePath := opt.StorePath
	if storePath == "" {
		storePath = store.DefaultRoot()
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	regCfg := opt.Registry
	regCfg.ReadOnly = regCfg.ReadOnly || opt.ReadOnly || cfg.ReadOnly
	levels, _ := cfg.RequireLevels() // checked by LoadConfig
	regCfg.Policy = regCfg.Policy.WithRoots(levels)
	if opt.Strict {
		regCfg.Policy.Require = regCfg.Policy.Require.Stronger(signing.RequireSigned)
	}
	sh := &shared{
		keys: keys, now: now, storePath: storePath,
		regCfg: regCfg, cfg: cfg, cfgPath: cfgPath, cliRoots: opt.Roots, ctx: ctx,
		xferOpt: registry.TransferOptions{Concurrency: opt.Concurrency},
		width:   80, height: 24 - chromeLines,
	}
	m := &App{sh: sh, xfers: newTransfers(sh), themeName: themeName,
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
	m.setStyles(themes.NewStyles(t))
	m.stack = []screen{newRegistriesScreen(sh)}
	return m, nil
}

// Run opens the UI and returns when the user quits. Background work is
// cancelled on return.
func Run(ctx context.Context, opt Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m, err := New(ctx, opt)
	if err != nil {
		return err
	}
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opt.Input != nil {
		popts = append(popts, tea.WithInput(opt.Input))
	}
	if opt.Output != nil {
		popts = append(popts, tea.WithOutput(opt.Output))
	}
	popts = append(popts, opt.ProgramOptions...)
	_, err = tea.NewProgram(m, popts...).Run()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() == nil {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}
