// Package cli is the command line: the plain commands for scripts (ls, tags,
// inspect, verify, pull, push, copy, images, demo) and the entry into the
// terminal UI. Data goes to stdout, progress and errors to stderr.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"pf-registry/blob"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// Exit codes (spec §11.4, stricter: every integrity failure is 4).
const (
	ExitOK        = 0
	ExitFailure   = 1 // bad reference, transport or backend failure
	ExitUsage     = 2 // usage error or unsupported scheme
	ExitIntegrity = 4 // signature invalid or missing, blob mismatch, incomplete image
)

// Version is set at build time with -ldflags "-X pf-registry/cli.Version=…".
var Version = "0.1.0-dev"

// globals are the flags every command shares.
type globals struct {
	storePath   string
	progress    string
	concurrency int
	zstdLevel   int
	insecure    bool
	readOnly    bool
	strict      bool
	timeout     time.Duration
	maxBlob     int64
	noColor     bool
	theme       string
	config      string
}

// env carries the process streams, so tests can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	stderrTTY      bool
	g              *globals
}

// Main runs the command line and returns the exit code.
func Main(args []string) int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(blob.SoftMemoryLimit) // GOMEMLIMIT overrides it
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, os.Stdout, os.Stderr)
}

// Run executes args with the given streams and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, g: &globals{}}
	if f, ok := stderr.(*os.File); ok {
		e.stderrTTY = isTerminal(f)
	}
	root := e.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	msg := err.Error()
	if h := model.Hint(err); h != "" {
		msg += "; " + h
	}
	fmt.Fprintln(stderr, "pf-registry: error: "+oneLine(msg))
	return code
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// usageError marks cobra's own argument and flag errors.
type usageError struct{ error }

func (u usageError) Unwrap() error { return model.ErrUsage }

func exitCode(err error) int {
	switch {
	case errors.Is(err, model.ErrIntegrity):
		return ExitIntegrity
	case errors.Is(err, model.ErrUsage), errors.Is(err, model.ErrUnsupportedScheme):
		return ExitUsage
	}
	var u usageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitFailure
}

func (e *env) rootCmd() *cobra.Command {
	g := e.g
	root := &cobra.Command{
		Use:   "pf-registry",
		Short: "Browse, verify, pull and push ProcessFork images in file, HF, S3, IPFS and OCI registries",
		Long: `pf-registry browses ProcessFork snapshot registries, shows whether an
image's signature and blobs are valid, and moves images between registries
and the local pf store with per-layer progress.

Without a command it opens the terminal UI.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.runUI(cmd.Context(), nil)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.storePath, "store", "", "local store directory (default $PF_STORE or ~/.processfork)")
	pf.StringVar(&g.progress, "progress", "auto", "progress output on stderr: auto, plain, json or none")
	pf.IntVar(&g.concurrency, "concurrency", registry.DefaultConcurrency, "parallel blob transfers")
	pf.IntVar(&g.zstdLevel, "zstd-level", blob.DefaultLevel, "zstd level (1-22) when content is compressed")
	pf.BoolVar(&g.insecure, "insecure", false, "allow plain HTTP and unverified TLS to non-loopback hosts")
	pf.BoolVar(&g.readOnly, "readonly", false, "refuse every write (push, copy, pull into the store)")
	pf.BoolVar(&g.strict, "strict", false, "also reject images signed with the public default key")
	pf.DurationVar(&g.timeout, "timeout", 0, "per-request timeout of network backends (default: backend's)")
	pf.Int64Var(&g.maxBlob, "max-blob-size", blob.MaxLogicalSize, "largest decompressed blob accepted, in bytes")
	pf.BoolVar(&g.noColor, "no-color", false, "disable colour (also NO_COLOR)")
	pf.StringVar(&g.theme, "theme", "", "UI theme: dark, light, high-contrast or mono (default: detect)")
	pf.StringVar(&g.config, "config", "", "UI config file (default $XDG_CONFIG_HOME/pf-registry/config.yaml)")

	root.AddCommand(e.lsCmd(), e.tagsCmd(), e.inspectCmd(), e.verifyCmd(), e.pullCmd(),
		e.pushCmd(), e.copyCmd(), e.imagesCmd(), e.demoCmd(), e.uiCmd())
	root.AddCommand(e.showCmd())
	root.AddCommand(e.diffCmd())
	root.AddCommand(e.logCmd())
	for _, c := range root.Commands() {
		if c.Args != nil {
			c.Args = wrapArgs(c.Args)
		}
	}
	return root
}

func wrapArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{fmt.Errorf("%s: %w (see `pf-registry %s --help`)", cmd.Name(), err, cmd.Name())}
		}
		return nil
	}
}

// prepare applies global flags that affect packages.
func (e *env) prepare() {
	if e.g.maxBlob > 0 {
		blob.MaxLogicalSize = e.g.maxBlob
	}
}

func (e *env) config() registry.Config {
	return registry.Config{
		Insecure:  e.g.insecure,
		ReadOnly:  e.g.readOnly,
		Timeout:   e.g.timeout,
		UserAgent: "pf-registry/" + Version,
	}
}

func (e *env) openStore() (*store.Store, error) {
	root := e.g.storePath
	if root == "" {
		root = store.DefaultRoot()
	}
	return store.Open(root, store.WithLevel(e.g.zstdLevel))
}

func (e *env) transferOptions(op string) (registry.TransferOptions, func()) {
	p := e.newProgress(op)
	return registry.TransferOptions{
		Concurrency: e.g.concurrency,
		Progress:    p.event,
		Strict:      e.g.strict,
	}, p.finish
}
