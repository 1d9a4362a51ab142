package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
	"pf-registry/signing"
)

// lsOpts are the options of `ls`.
type lsOpts struct {
	*env
	asJSON bool
	limit  int
}

func (e *env) lsCmd() *cobra.Command {
	o := &lsOpts{env: e}
	c := &cobra.Command{
		Use:   "ls ROOT",
		Short: "List the repositories under a registry root",
		Long: `List the repositories under a registry root. A root that is itself an
image is reported as such.`,
		Example: `  pf-registry ls file://./registry
  pf-registry ls oci://localhost:5000
  pf-registry ls s3://bucket/prefix
  pf-registry ls hf://alice --json`,
		Args: cobra.ExactArgs(1),
		RunE: o.runLs,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	c.Flags().IntVar(&o.limit, "limit", 0, "return at most this many repositories (one page)")
	return c
}

func (o *lsOpts) runLs(cmd *cobra.Command, args []string) error {
	reg, root, err := registry.ForRoot(args[0], o.cfg)
	if err != nil {
		return err
	}
	out, err := o.list(cmd, reg, root)
	if err != nil {
		return err
	}
	if o.asJSON {
		return o.printJSON(out)
	}
	name := termtext.Line(root.Raw)
	if out.Note != "" {
		fmt.Fprintln(o.stderr, "note: "+termtext.Line(out.Note))
	}
	if out.Image {
		fmt.Fprintf(o.stdout, "%s is an image; inspect it with `pf-registry inspect %s`\n", name, name)
		return nil
	}
	if len(out.Repos) == 0 {
		fmt.Fprintf(o.stderr, "no images under %s\n", name)
		return nil
	}
	tw := o.table()
	fmt.Fprintln(tw, "REPOSITORY\tTAGS\tREFERENCE")
	for _, r := range out.Repos {
		tags := strings.Join(r.Tags, ", ")
		if r.Tags == nil {
			tags = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", termtext.Line(r.Name), termtext.Line(tags), termtext.Line(r.Ref))
	}
	return tw.Flush()
}

// list gathers every page, or only the first with --limit.
func (o *lsOpts) list(cmd *cobra.Command, reg registry.Registry, root registry.Ref) (*registry.Listing, error) {
	out := &registry.Listing{Root: root.Raw, Repos: []registry.RepoEntry{}}
	opt := registry.ListOptions{Limit: o.limit}
	for {
		page, err := reg.List(cmd.Context(), root, opt)
		if err != nil {
			return nil, err
		}
		out.Image = out.Image || page.Image
		out.Repos = append(out.Repos, page.Repos...)
		if page.Note != "" {
			out.Note = page.Note
		}
		if page.Next == "" || o.limit > 0 {
			out.Next = page.Next
			return out, nil
		}
		opt.After = page.Next
	}
}

// tagsOpts are the options of `tags`.
type tagsOpts struct {
	*env
	asJSON bool
	quick  bool
}

// tagRow is one image of `tags`: the listing entry and its signature
// verdict.
type tagRow struct {
	registry.TagEntry
	Signature *signing.Result `json:"signature,omitempty"`
	Error     string          `json:"error,omitempty"`
}

func (e *env) tagsCmd() *cobra.Command {
	o := &tagsOpts{env: e}
	c := &cobra.Command{
		Use:   "tags REPO",
		Short: "List the images (tags) of a repository",
		Example: `  pf-registry tags file://./registry/alice/refactor-agent
  pf-registry tags oci://localhost:5000/alice/agent --json`,
		Args: cobra.ExactArgs(1),
		RunE: o.runTags,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	c.Flags().BoolVar(&o.quick, "quick", false, "list names only, without reading each tag or checking its signatures (for repositories of many thousands of tags)")
	return c
}

func (o *tagsOpts) runTags(cmd *cobra.Command, args []string) error {
	reg, repo, err := registry.ForRoot(args[0], o.cfg)
	if err != nil {
		return err
	}
	out := &registry.TagList{Repo: repo.Raw, Tags: []registry.TagEntry{}}
	opt := registry.ListOptions{Names: o.quick}
	for {
		page, err := reg.Tags(cmd.Context(), repo, opt)
		if err != nil {
			return err
		}
		out.Tags = append(out.Tags, page.Tags...)
		if page.Next == "" {
			break
		}
		opt.After = page.Next
	}
	rows := o.judge(cmd.Context(), reg, out.Tags)
	if o.asJSON {
		return o.printJSON(struct {
			Repo string   `json:"repo"`
			Tags []tagRow `json:"tags"`
		}{out.Repo, rows})
	}
	if len(rows) == 0 {
		fmt.Fprintf(o.stderr, "no images in %s\n", termtext.Line(repo.Raw))
		return nil
	}
	tw, flush := o.longTable()
	fmt.Fprintln(tw, "TAG\tSIGNATURE\tUPDATED\tREFERENCE")
	for _, t := range rows {
		upd := "-"
		if !t.Updated.IsZero() {
			upd = t.Updated.UTC().Format("2006-01-02 15:04")
		}
		name := termtext.Line(t.Name)
		if t.Foreign {
			name += " (not a ProcessFork image)"
		}
		if n := len(t.SignatureTags); n > 0 {
			name += fmt.Sprintf(" (+%d signature tag%s)", n, plural(n))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, t.verdict(), upd, termtext.Line(t.Ref))
	}
	return flush()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// verdict is the SIGNATURE column: the strongest status, with the key.
func (t tagRow) verdict() string {
	switch {
	case t.Error != "":
		return termtext.VerdictSymbol(termtext.VerdictError) + " error"
	case t.Signature == nil:
		return "-"
	}
	best := t.Signature.Strongest()
	s := termtext.VerdictSymbol(string(best.Status)) + " " + string(best.Status)
	if best.Kind == signing.KindBundle || best.Kind == signing.KindSimpleSigning {
		s += " (" + termtext.Line(best.Key) + ")"
	}
	return s
}

// judge inspects every ProcessFork image of the list, at most
// --concurrency at a time and once per image digest (tags naming the same
// OCI manifest share its verdict), unless --quick.
func (o *tagsOpts) judge(ctx context.Context, reg registry.Registry, tags []registry.TagEntry) []tagRow {
	rows := make([]tagRow, len(tags))
	same := map[string][]int{} // image digest (or reference) → rows
	var order []string
	for i, t := range tags {
		rows[i].TagEntry = t
		if o.quick || t.Foreign {
			continue
		}
		key := t.Digest
		if key == "" {
			key = "ref:" + t.Ref
		}
		if same[key] == nil {
			order = append(order, key)
		}
		same[key] = append(same[key], i)
	}
	var g errgroup.Group
	g.SetLimit(o.g.concurrency)
	for _, key := range order {
		g.Go(func() error {
			first := &rows[same[key][0]]
			ref, err := registry.ParseRef(first.Ref)
			var in *registry.Inspection
			if err == nil {
				in, err = reg.Inspect(ctx, ref)
			}
			var sig *signing.Result
			if err == nil {
				// Only the verdict stays: the rest of the inspection (the
				// manifest, its bytes) is not kept for every row of a long
				// listing.
				sig = &signing.Result{Checks: in.Signature.Checks}
			}
			for _, i := range same[key] {
				if err != nil {
					rows[i].Error = termtext.OneLine(err.Error(), 200)
				} else {
					rows[i].Signature = sig
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	return rows
}
