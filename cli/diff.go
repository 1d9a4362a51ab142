package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
	"pf-registry/snapdiff"
	"pf-registry/store"
)

// diffOpts are the flags of `diff`.
type diffOpts struct {
	*env
	asJSON bool
	fold   int
}

func (e *env) diffCmd() *cobra.Command {
	o := &diffOpts{env: e}
	c := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two images without pulling them: files, KV pages, trace, effects, env, model, shared bytes",
		Long: `Compare image B with image A, reading only their small blobs (never a KV
page): files added, removed and changed (size, mode); KV pages shared,
changed and new; the conversation's common prefix and B's new messages;
effects B adds; environment and model changes; how many stored bytes B
shares with A, and what pulling B downloads when A is already in the local
store (and into the local store as it is now). Both signatures are checked
first (exit 4 if either does not verify). The JSON shape is in the README.`,
		Example: `  pf-registry diff file://./demo/alice/refactor-agent/v1 file://./demo/alice/refactor-agent/v2
  pf-registry diff --json oci://localhost:5000/alice/agent:v1 oci://localhost:5000/alice/agent:v2 | jq .bytes`,
		Args: cobra.ExactArgs(2),
		RunE: o.runDiff,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	c.Flags().IntVar(&o.fold, "fold", 2, "lines shown of each new message (0: all)")
	return c
}

func (o *diffOpts) runDiff(cmd *cobra.Command, args []string) error {
	ctx := cmd.Context()
	var cs [2]*registry.Content
	for i, a := range args {
		reg, ref, err := registry.ForRef(a, o.cfg)
		if err != nil {
			return err
		}
		if cs[i], err = registry.OpenContent(ctx, reg, ref); err != nil {
			return err
		}
	}
	st, err := o.existingStore()
	if err != nil {
		return err
	}
	d, err := snapdiff.Compute(ctx, cs[0], cs[1], args[0], args[1], st)
	if err != nil {
		return err
	}
	if o.asJSON {
		return o.printJSON(d)
	}
	o.print(d)
	return nil
}

// existingStore opens the local store if there is one: reading commands
// do not create it.
func (e *env) existingStore() (*store.Store, error) {
	root := e.g.storePath
	if root == "" {
		root = store.DefaultRoot()
	}
	if _, err := os.Stat(filepath.Join(root, "images")); err != nil {
		return nil, nil
	}
	return e.openStore()
}

func (o *diffOpts) print(d *snapdiff.Diff) {
	tw := o.table()
	for _, s := range []struct {
		name string
		side snapdiff.Side
	}{{"A", d.A}, {"B", d.B}} {
		fmt.Fprintf(tw, "%s\t%s  %s  %s  %s\n", s.name, termtext.Line(s.side.Ref), s.side.ImageID.Short(),
			termtext.Line(s.side.Agent), s.side.Created.UTC().Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(tw)
	o.printFiles(tw, d.Files)
	p := d.Pages
	fmt.Fprintf(tw, "Pages\t%d shared, %d changed, %d new, %d removed (%d → %d pages)\n", p.Shared, p.Changed, p.New, p.Removed, p.APages, p.BPages)
	o.printTrace(tw, d.Trace)
	o.printEffects(tw, d.Effects)
	o.printEnvModel(tw, d.Env, d.Model)
	o.printBytes(tw, d.Bytes)
	for _, n := range d.Notes {
		fmt.Fprintf(tw, "Note\t%s\n", n)
	}
	tw.Flush()
}

func (o *diffOpts) printFiles(tw *tabwriter.Writer, f snapdiff.Files) {
	fmt.Fprintf(tw, "Files\t+%d −%d ~%d, %d unchanged\n", len(f.Added), len(f.Removed), len(f.Changed), f.Unchanged)
	entry := func(sign string, x snapdiff.File) {
		fmt.Fprintf(tw, "\t%s %s  %s %s\n", sign, termtext.Line(x.Path), termtext.Line(x.Mode), fileSize(x.Kind, x.Size))
	}
	for _, x := range f.Added {
		entry("+", x)
	}
	for _, x := range f.Removed {
		entry("−", x)
	}
	for _, x := range f.Changed {
		var what []string
		if x.KindA != x.KindB {
			what = append(what, x.KindA+" → "+x.KindB)
		}
		if x.ModeA != x.ModeB {
			what = append(what, "mode "+termtext.Line(x.ModeA)+" → "+termtext.Line(x.ModeB))
		}
		if x.SizeA != x.SizeB {
			what = append(what, fileSize(x.KindA, x.SizeA)+" → "+fileSize(x.KindB, x.SizeB))
		} else if x.Content {
			what = append(what, "content")
		}
		fmt.Fprintf(tw, "\t~ %s  %s\n", termtext.Line(x.Path), strings.Join(what, ", "))
	}
}

func fileSize(kind string, n uint64) string {
	if kind == "dir" {
		return "dir"
	}
	return termtext.Bytes(int64(min(n, 1<<62)))
}

func (o *diffOpts) printTrace(tw *tabwriter.Writer, t snapdiff.Trace) {
	fmt.Fprintf(tw, "Trace\t%d messages in common; B adds %d", t.CommonPrefix, len(t.New))
	if t.Dropped > 0 {
		fmt.Fprintf(tw, " and does not have A's last %d", t.Dropped)
	}
	fmt.Fprintln(tw)
	for _, m := range t.New {
		lines := strings.Split(termtext.Block(m.Content), "\n")
		if o.fold > 0 && len(lines) > o.fold {
			lines = append(lines[:o.fold], "… "+moreLines(len(lines)-o.fold))
		}
		for i, l := range lines {
			prefix := "  "
			if i == 0 {
				prefix = "+ [" + termtext.Line(m.Role) + "] "
			}
			fmt.Fprintf(tw, "\t%s%s\n", prefix, strings.ReplaceAll(l, "\t", " "))
		}
	}
}

func (o *diffOpts) printEffects(tw *tabwriter.Writer, e snapdiff.Effects) {
	fmt.Fprintf(tw, "Effects\t+%d (%d irreversible, %d network-only), −%d\n", len(e.Added), e.AddedIrreversible, e.AddedNetworkOnly, e.Removed)
	for _, x := range e.Added {
		mark := " "
		if x.Class.Outward() {
			mark = "!"
		}
		fmt.Fprintf(tw, "\t%s %s  %s  %s\n", mark, termtext.Line(x.TS), termtext.Line(x.ToolID), termtext.Line(string(x.Class)))
	}
}

func (o *diffOpts) printEnvModel(tw *tabwriter.Writer, e snapdiff.Env, m snapdiff.Model) {
	var env []string
	if e.CwdA != e.CwdB {
		env = append(env, "cwd "+termtext.Line(e.CwdA)+" → "+termtext.Line(e.CwdB))
	}
	for _, v := range e.Added {
		env = append(env, "+"+termtext.Line(v.Name)+"="+termtext.Line(v.Value))
	}
	for _, v := range e.Removed {
		env = append(env, "−"+termtext.Line(v.Name))
	}
	for _, v := range e.Changed {
		env = append(env, termtext.Line(v.Name)+": "+termtext.Line(v.A)+" → "+termtext.Line(v.B))
	}
	if len(env) == 0 {
		env = []string{"unchanged"}
	}
	fmt.Fprintf(tw, "Env\t%s\n", strings.Join(env, "; "))
	var mod []string
	if m.BaseChanged {
		mod = append(mod, "base "+termtext.Line(m.BaseA)+" → "+termtext.Line(m.BaseB))
	}
	if m.DiffChanged {
		mod = append(mod, fmt.Sprintf("diff %s [%s] → %s [%s]", termtext.Line(m.KindA), termtext.Line(strings.Join(m.AdaptersA, ", ")),
			termtext.Line(m.KindB), termtext.Line(strings.Join(m.AdaptersB, ", "))))
	}
	if len(mod) == 0 {
		mod = []string{"unchanged"}
	}
	fmt.Fprintf(tw, "Model\t%s\n", strings.Join(mod, "; "))
}

func (o *diffOpts) printBytes(tw *tabwriter.Writer, b snapdiff.Bytes) {
	fmt.Fprintf(tw, "Bytes\tB stores %s; %s of it (%d blobs) shared with A\n", termtext.Bytes(b.BStored), termtext.Bytes(b.SharedBytes), b.SharedBlobs)
	pull := fmt.Sprintf("pulling B downloads %s with A in the local store", termtext.Bytes(b.PullBAfterA))
	if b.PullBNow != nil {
		pull += fmt.Sprintf(", %s into the local store as it is", termtext.Bytes(*b.PullBNow))
	}
	fmt.Fprintf(tw, "\t%s\n", pull)
	if b.UnknownSizes > 0 {
		fmt.Fprintf(tw, "\t%d blob sizes unknown to the backend (not counted)\n", b.UnknownSizes)
	}
}
