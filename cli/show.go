package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"pf-registry/internal/fault"
	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
)

// panes are what `show` can display, in help order.
var panes = []string{"trace", "effects", "env", "cache", "model", "procs", "file", "cost"}

// showOpts are the flags of `show`.
type showOpts struct {
	*env
	asJSON   bool
	fold     int
	maxBytes int64
}

func (e *env) showCmd() *cobra.Command {
	o := &showOpts{env: e}
	c := &cobra.Command{
		Use:   "show REF trace|effects|env|cache|model|procs|file [PATH]|cost",
		Short: "Show what an image holds without pulling it (conversation, effects, environment, KV cache, model, files)",
		Long: `Show one part of an image, read from the registry without pulling it: only
the small blob behind that part is downloaded (verified against its digest,
size-capped); KV cache pages never are. The signature is checked first, as
for a pull: an image whose signature does not verify is not opened (exit 4).

  trace    the conversation, message by message
  effects  the effects ledger; irreversible and network-only effects are
           marked with !; session secrets and HMACs are never shown
  env      working directory and variables; secret-looking values masked
  cache    KV cache geometry, pages, tokens and size
  model    base model and model diff (kind, adapters)
  procs    process capture kind
  file     the fs tree; with PATH a preview of that file (text up to
           --max-bytes, binary described, symlinks with their target)
  cost     bytes a pull would still download, given the local store`,
		Example: `  pf-registry show file://$HOME/.local/share/pf-registry/demo/alice/refactor-agent/v3 trace --fold 8
  pf-registry show oci://localhost:5000/alice/agent:v1 effects --json | jq '.effects.entries[] | select(.side_effect_class == "irreversible")'
  pf-registry show hf://alice/agent-snapshots:v2 file src/agent/planner.py`,
		Args: cobra.RangeArgs(2, 3),
		RunE: o.runShow,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	c.Flags().IntVar(&o.fold, "fold", 0, "trace: show at most this many lines of each message (0: all)")
	c.Flags().Int64Var(&o.maxBytes, "max-bytes", registry.MaxPreviewFetch, "file: largest file to download for a preview")
	return c
}

func (o *showOpts) runShow(cmd *cobra.Command, args []string) error {
	ctx := cmd.Context()
	pane := args[1]
	if !slices.Contains(panes, pane) || (len(args) == 3 && pane != "file") {
		return fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("show: %q is not a pane (with an argument only `file PATH` is)", strings.Join(args[1:], " "))),
			"choose one of "+strings.Join(panes, ", "))
	}
	reg, ref, err := registry.ForRef(args[0], o.cfg)
	if err != nil {
		return err
	}
	c, err := registry.OpenContent(ctx, reg, ref)
	if err != nil {
		return err
	}
	path := ""
	if len(args) == 3 {
		path = args[2]
	}
	v, text, err := o.pane(ctx, c, pane, path)
	if err != nil {
		return err
	}
	if o.asJSON {
		key := pane
		if pane == "file" && path == "" {
			key = "files"
		}
		return o.printJSON(map[string]any{"ref": ref.Raw, "image_id": c.Inspection().ImageID, key: v})
	}
	text()
	return nil
}

// pane loads one pane and returns its JSON value and its text printer.
func (o *showOpts) pane(ctx context.Context, c *registry.Content, pane, path string) (any, func(), error) {
	switch pane {
	case "trace":
		t, err := c.Trace(ctx)
		return t, func() { o.printTrace(t) }, err
	case "effects":
		l, err := c.Effects(ctx)
		return l, func() { o.printEffects(ctx, c, l) }, err
	case "env":
		env, err := c.Env(ctx)
		return env, func() { o.printEnv(env) }, err
	case "cache":
		s, err := c.Cache(ctx)
		return s, func() { o.printCache(s) }, err
	case "model":
		mi, err := c.Model(ctx)
		return mi, func() { o.printModel(mi) }, err
	case "procs":
		p, err := c.Procs(ctx)
		return p, func() { o.printProcs(p) }, err
	case "cost":
		st, err := o.existingStore()
		if err != nil {
			return nil, nil, err
		}
		pc, err := c.PullCost(ctx, st)
		return pc, func() { o.printCost(pc, st != nil) }, err
	}
	if path == "" {
		t, err := c.FsTree(ctx)
		if err != nil {
			return nil, nil, err
		}
		return t.Entries, func() { o.printTree(t) }, nil
	}
	fp, err := c.Preview(ctx, path, o.maxBytes, 0)
	return fp, func() { o.printPreview(fp) }, err
}

func (o *showOpts) printTrace(t *model.Trace) {
	w := o.stdout
	if len(t.Messages) == 0 {
		fmt.Fprintln(w, "no messages recorded")
		return
	}
	for i, m := range t.Messages {
		head := fmt.Sprintf("── %d · %s", i+1, termtext.Line(m.Role))
		if m.Name != "" {
			head += " (" + termtext.Line(m.Name) + ")"
		}
		fmt.Fprintln(w, head+" ──")
		lines := strings.Split(termtext.Block(m.Content), "\n")
		if o.fold > 0 && len(lines) > o.fold {
			lines = append(lines[:o.fold], "… "+moreLines(len(lines)-o.fold)+" (--fold 0 shows all)")
		}
		fmt.Fprintln(w, strings.Join(lines, "\n"))
		fmt.Fprintln(w)
	}
}

func (o *showOpts) printEffects(ctx context.Context, c *registry.Content, l *model.Ledger) {
	tw := o.table()
	defer tw.Flush()
	if l.Merged != nil {
		fmt.Fprintf(tw, "Ledger\t%s (merge result)\n", l.Kind)
		for _, p := range []struct {
			name string
			d    model.Digest
		}{{"Parent A", l.Merged.ParentA}, {"Parent B", l.Merged.ParentB}, {"Ancestor", l.Merged.Ancestor}} {
			what := "not stored with this image (the image walk does not carry it)"
			if pl, err := c.Ledger(ctx, p.d); err == nil {
				what = pl.Summary()
			} else if !errors.Is(err, fault.ErrNotFound) {
				what = "unreadable: " + termtext.ErrorLine(err, "; ")
			}
			fmt.Fprintf(tw, "%s\t%s  %s\n", p.name, p.d, termtext.Line(what))
		}
		return
	}
	h := l.Header
	secret := "none"
	if h.SessionSecret {
		secret = "present (never shown)"
	}
	fmt.Fprintf(tw, "Ledger\t%s · %d entries · verification %s · session secret %s\n", l.Kind, len(l.Entries), termtext.Line(orDash(h.VerificationMode)), secret)
	fmt.Fprintf(tw, "Summary\t%s\n", l.Summary())
	for _, w := range l.Warnings {
		fmt.Fprintf(tw, "Warning\t%s\n", termtext.Line(w))
	}
	if len(l.Entries) == 0 {
		return
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "TIME\tTOOL\tCLASS\tIDEMPOTENCY KEY")
	for _, x := range l.Entries {
		class := string(x.Class)
		if x.Class.Outward() {
			class = "! " + class
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", termtext.Line(x.TS), termtext.Line(x.ToolID), termtext.Line(class), termtext.Line(orDash(x.IdempotencyKey)))
	}
}

// count is "1 thing" or "n things".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func moreLines(n int) string { return count(n, "more line") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (o *showOpts) printEnv(env *model.Env) {
	tw := o.table()
	defer tw.Flush()
	fmt.Fprintf(tw, "Cwd\t%s\n\n", termtext.Line(env.Cwd))
	fmt.Fprintln(tw, "NAME\tVALUE")
	for _, v := range env.Vars {
		val := termtext.Line(v.Value)
		if v.Masked {
			val += "  (masked: the name looks secret)"
		}
		fmt.Fprintf(tw, "%s\t%s\n", termtext.Line(v.Name), val)
	}
}

func (o *showOpts) printCache(s *model.CacheSummary) {
	tw := o.table()
	defer tw.Flush()
	fmt.Fprintf(tw, "Layout\t%s\n", termtext.Line(s.Layout))
	if s.Empty {
		fmt.Fprintln(tw, "Cache\tno KV cache captured")
		if s.Note != "" {
			fmt.Fprintf(tw, "Note\t%s\n", termtext.Line(s.Note))
		}
		return
	}
	size := func(n int64) string {
		if n < 0 {
			return "unknown size"
		}
		return termtext.Bytes(n)
	}
	fmt.Fprintf(tw, "Geometry\t%d layers × %d heads × %d head dim, %s\n", s.Layers, s.Heads, s.HeadDim, termtext.Line(s.Dtype))
	fmt.Fprintf(tw, "Page size\t%d tokens, %s per K or V page\n", s.PageSizeTokens, size(s.PageBytes))
	fmt.Fprintf(tw, "Pages\t%d (%s)\n", s.Pages, size(s.Bytes))
	fmt.Fprintf(tw, "Tokens held\t%d\n", s.TokensHeld)
	for _, q := range s.Sequences {
		fmt.Fprintf(tw, "Sequence\t%s: %d pages, %d tokens\n", termtext.Line(q.ID), q.Pages, q.Tokens)
	}
}

func (o *showOpts) printModel(mi *registry.ModelInfo) {
	tw := o.table()
	defer tw.Flush()
	fmt.Fprintf(tw, "Base\t%s  (%s)\n", termtext.Line(mi.BaseText), mi.Base.Short())
	if mi.Diff == nil {
		fmt.Fprintf(tw, "Diff\t%s\n", termtext.Line(mi.DiffError))
		return
	}
	fmt.Fprintf(tw, "Diff\t%s (%s), %s\n", termtext.Line(orDash(mi.Diff.Kind)), termtext.Line(mi.Diff.Layout), count(len(mi.Diff.Adapters), "adapter"))
	for _, a := range mi.Diff.Adapters {
		fmt.Fprintf(tw, "Adapter\t%s  %s\n", termtext.Line(a.Name), termtext.Line(a.Detail))
	}
}

func (o *showOpts) printProcs(p *model.Procs) {
	tw := o.table()
	defer tw.Flush()
	fmt.Fprintf(tw, "Kind\t%s\n", termtext.Line(orDash(p.Kind)))
	fmt.Fprintf(tw, "Capture\t%s\n", termtext.Line(p.Description))
	if p.Note != "" {
		fmt.Fprintf(tw, "Note\t%s\n", termtext.Line(p.Note))
	}
	for _, c := range p.Commands {
		fmt.Fprintf(tw, "Command\t%s\n", termtext.Line(c))
	}
}

func (o *showOpts) printCost(pc *registry.PullCost, haveStore bool) {
	tw := o.table()
	defer tw.Flush()
	fmt.Fprintf(tw, "Image\t%d blobs, %s stored\n", pc.Blobs, termtext.Bytes(pc.Bytes))
	if !haveStore {
		fmt.Fprintf(tw, "Pull\t%s (no local store yet)\n", termtext.Bytes(pc.FetchBytes))
	} else {
		fmt.Fprintf(tw, "Local\t%d blobs, %s already in the local store\n", pc.LocalBlobs, termtext.Bytes(pc.LocalBytes))
		fmt.Fprintf(tw, "Pull\t%d blobs, %s to download\n", pc.FetchBlobs, termtext.Bytes(pc.FetchBytes))
	}
	if pc.UnknownSizes > 0 {
		fmt.Fprintf(tw, "Note\t%d blob sizes unknown to this backend (not counted)\n", pc.UnknownSizes)
	}
}

func (o *showOpts) printTree(t *model.FsTree) {
	tw := o.table()
	defer tw.Flush()
	fmt.Fprintln(tw, "MODE\tSIZE\tPATH")
	for _, e := range t.Entries {
		p, size := termtext.Line(e.Path), termtext.Bytes(int64(min(e.Size, 1<<62)))
		switch e.Kind {
		case "dir":
			p, size = p+"/", "-"
		case "symlink":
			p += " -> " + termtext.Line(e.LinkTarget)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", termtext.Line(e.Mode), size, p)
	}
}

func (o *showOpts) printPreview(fp *registry.FilePreview) {
	w := o.stdout
	head := fmt.Sprintf("%s  %s  %s  %s", termtext.Line(fp.Path), fp.Kind, termtext.Line(fp.Mode), termtext.Bytes(int64(min(fp.Size, 1<<62))))
	switch {
	case fp.Kind == "symlink":
		fmt.Fprintf(w, "%s -> %s\n", termtext.Line(fp.Path), termtext.Line(fp.LinkTarget))
	case fp.Text != "" || (fp.Fetched && !fp.Binary):
		fmt.Fprintln(o.stderr, head)
		fmt.Fprint(w, termtext.Block(fp.Text))
		if !strings.HasSuffix(fp.Text, "\n") {
			fmt.Fprintln(w)
		}
	default:
		fmt.Fprintf(w, "%s: %s\n", head, termtext.Line(fp.Description))
	}
}
