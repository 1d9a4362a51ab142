// Package cli is the command line: the plain commands for scripts (ls, tags,
// inspect, verify, pull, push, copy, images, demo; rm, prune, tag, sync,
// gc, du to manage registries and the local store) and the entry into the
// terminal UI. Data goes to stdout, progress and errors to stderr.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/spool"
	"pf-registry/internal/termtext"
	"pf-registry/registry"
	"pf-registry/signing"
	"pf-registry/store"
	"pf-registry/ui"
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
	require     string
	timeout     time.Duration
	retries     int
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
	cfg            registry.Config // from the global flags, set by setup
}

// Main runs the command line and returns the exit code.
func Main(args []string) int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(blob.SoftMemoryLimit) // GOMEMLIMIT overrides it
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, _ = spool.Sweep() // what killed pushes left; best effort
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
	fmt.Fprintln(stderr, "pf-registry: error: "+termtext.ErrorLine(err, "; "))
	return code
}

// usageError marks cobra's own argument and flag errors.
type usageError struct{ error }

func (u usageError) Unwrap() error { return fault.ErrUsage }

func exitCode(err error) int {
	switch {
	case errors.Is(err, fault.ErrIntegrity):
		return ExitIntegrity
	case errors.Is(err, fault.ErrUsage), errors.Is(err, fault.ErrUnsupportedScheme):
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
		Version:           Version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Args:              cobra.NoArgs,
		PersistentPreRunE: e.setup,
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
	pf.BoolVar(&g.readOnly, "readonly", false, "refuse every write (push, copy, pull into the store, rm, prune, tag, sync, images rm, gc, sign)")
	pf.BoolVar(&g.strict, "strict", false, "same as --require signed")
	pf.StringVar(&g.require, "require", "any", "weakest signature pulled, copied, opened or verified: trusted, signed or any (config require: may tighten it per root)")
	pf.DurationVar(&g.timeout, "timeout", registry.DefaultTimeout, "stall window of network requests: no answer, or under 1 KiB moved, within it is a stall (retried)")
	pf.IntVar(&g.retries, "retries", registry.DefaultAttempts-1, "tries again after a stall, a broken connection or a 5xx/429 answer")
	pf.Int64Var(&g.maxBlob, "max-blob-size", 0, "largest decompressed blob accepted, in bytes (0: what the image declares for files and KV pages, and never over 256× the stored size)")
	pf.BoolVar(&g.noColor, "no-color", false, "disable colour (also NO_COLOR)")
	pf.StringVar(&g.theme, "theme", "", "UI theme: dark, light, high-contrast or mono (default: detect)")
	pf.StringVar(&g.config, "config", "", "UI config file (default $XDG_CONFIG_HOME/pf-registry/config.yaml)")

	root.AddCommand(e.lsCmd(), e.tagsCmd(), e.inspectCmd(), e.verifyCmd(), e.pullCmd(),
		e.pushCmd(), e.copyCmd(), e.imagesCmd(), e.demoCmd(), e.uiCmd(), e.keysCmd(), e.signCmd())
	root.AddCommand(e.showCmd())
	root.AddCommand(e.diffCmd())
	root.AddCommand(e.logCmd())
	root.AddCommand(e.rmCmd(), e.pruneCmd(), e.tagCmd(), e.syncCmd(), e.gcCmd(), e.duCmd())
	wrapAllArgs(root)
	return root
}

// wrapAllArgs makes every command's argument errors usage errors.
func wrapAllArgs(parent *cobra.Command) {
	for _, c := range parent.Commands() {
		if c.Args != nil {
			c.Args = wrapArgs(c.Args)
		}
		wrapAllArgs(c)
	}
}

func wrapArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{fmt.Errorf("%s: %w (see `pf-registry %s --help`)", cmd.Name(), err, cmd.Name())}
		}
		return nil
	}
}

// setup runs before every command (the root's PersistentPreRunE): it
// checks the global flags and derives the configuration that commands pass
// down to the engine, the backends and the store.
func (e *env) setup(*cobra.Command, []string) error {
	g := e.g
	var bad error
	switch {
	case !slices.Contains(progressModes, g.progress):
		bad = fmt.Errorf("--progress %q: use auto, plain, json or none", g.progress)
	case g.concurrency < 1:
		bad = fmt.Errorf("--concurrency %d: give at least 1", g.concurrency)
	case g.zstdLevel < 1 || g.zstdLevel > 22:
		bad = fmt.Errorf("--zstd-level %d: give a level from 1 to 22", g.zstdLevel)
	case g.maxBlob < 0:
		bad = fmt.Errorf("--max-blob-size %d: give a size in bytes (0: automatic caps)", g.maxBlob)
	case g.retries < 0:
		bad = fmt.Errorf("--retries %d: give 0 or more", g.retries)
	case g.timeout < 0:
		bad = fmt.Errorf("--timeout %s: give a duration such as 30s (0 is the default, %s)", g.timeout, registry.DefaultTimeout)
	}
	level, err := signing.ParseLevel(g.require)
	if bad == nil && err != nil {
		bad = fmt.Errorf("--require: %w", err)
	}
	if bad != nil {
		return usageError{bad}
	}
	if g.strict {
		level = level.Stronger(signing.RequireSigned)
	}
	policy, keys, err := e.trustConfig()
	if err != nil {
		return err
	}
	policy.Require = level
	e.cfg = registry.Config{
		Insecure:    g.insecure,
		ReadOnly:    g.readOnly,
		Timeout:     g.timeout,
		Retry:       registry.RetryPolicy{Attempts: g.retries + 1},
		UserAgent:   "pf-registry/" + Version,
		MaxBlobSize: g.maxBlob,
		Keys:        keys,
		Policy:      policy,
	}
	return nil
}

// trustConfig reads what signatures are judged with: the per-root levels
// of the config file (require:) and the key store's keyring.
func (e *env) trustConfig() (registry.Policy, *signing.Keyring, error) {
	cfg, err := ui.LoadConfig(e.configPath())
	if err != nil {
		return registry.Policy{}, nil, err
	}
	levels, err := cfg.RequireLevels()
	if err != nil {
		return registry.Policy{}, nil, err
	}
	keys, err := e.keyStore().Keyring()
	if err != nil {
		return registry.Policy{}, nil, err
	}
	return registry.Policy{}.WithRoots(levels), keys, nil
}

// levelFor is the signature requirement that applies to ref.
func (e *env) levelFor(ref registry.Ref) signing.Level {
	level, _ := e.cfg.Policy.For(ref)
	return level
}

// warnSignatures tells on stderr what is weak about an image's signatures
// that were accepted: the public default key, and every signature that
// fails beside the one that decides.
func (e *env) warnSignatures(r signing.Result) {
	if best := r.Strongest(); best.Status == signing.DefaultKey {
		fmt.Fprintln(e.stderr, "warning: "+termtext.Line(best.Reason))
	}
	if !r.OK() {
		return
	}
	for _, c := range r.Failed() {
		fmt.Fprintf(e.stderr, "warning: signature %s does not verify: %s\n", termtext.Line(c.Where), termtext.Line(c.Reason))
	}
}

var progressModes = []string{"auto", "plain", "json", "none"}

func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (e *env) table() *tabwriter.Writer {
	return tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
}

func (e *env) openStore() (*store.Store, error) {
	root := e.g.storePath
	if root == "" {
		root = store.DefaultRoot()
	}
	return store.Open(root, store.WithLevel(e.g.zstdLevel))
}

func (e *env) transferOptions(op registry.Op) (registry.TransferOptions, func()) {
	p := e.newProgress(op)
	return registry.TransferOptions{
		Concurrency: e.g.concurrency,
		Progress:    p.event,
	}, p.finish
}
