package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"pf-registry/demo"
	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (e *env) table() *tabwriter.Writer {
	return tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
}

func (e *env) lsCmd() *cobra.Command {
	var asJSON bool
	var limit int
	c := &cobra.Command{
		Use:   "ls ROOT",
		Short: "List the repositories under a registry root",
		Long: `List the repositories under a registry root, e.g.
  pf-registry ls file://./registry
  pf-registry ls oci://localhost:5000
  pf-registry ls s3://bucket/prefix
  pf-registry ls hf://alice
A root that is itself an image is reported as such.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, root, err := registry.ForRoot(args[0], e.config())
			if err != nil {
				return err
			}
			out := &registry.Listing{Root: root.Raw}
			opt := registry.ListOptions{Limit: limit}
			for {
				page, err := reg.List(cmd.Context(), root, opt)
				if err != nil {
					return err
				}
				out.Image = out.Image || page.Image
				out.Repos = append(out.Repos, page.Repos...)
				if page.Note != "" {
					out.Note = page.Note
				}
				if page.Next == "" || limit > 0 {
					out.Next = page.Next
					break
				}
				opt.After = page.Next
			}
			if out.Repos == nil {
				out.Repos = []registry.RepoEntry{}
			}
			if asJSON {
				return e.printJSON(out)
			}
			if out.Note != "" {
				fmt.Fprintln(e.stderr, "note: "+out.Note)
			}
			if out.Image {
				fmt.Fprintf(e.stdout, "%s is an image; inspect it with `pf-registry inspect %s`\n", root.Raw, root.Raw)
				return nil
			}
			if len(out.Repos) == 0 {
				fmt.Fprintf(e.stderr, "no images under %s\n", root.Raw)
				return nil
			}
			tw := e.table()
			fmt.Fprintln(tw, "REPOSITORY\tTAGS\tREFERENCE")
			for _, r := range out.Repos {
				tags := strings.Join(r.Tags, ", ")
				if r.Tags == nil {
					tags = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, tags, r.Ref)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	c.Flags().IntVar(&limit, "limit", 0, "return at most this many repositories (one page)")
	return c
}

func (e *env) tagsCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "tags REPO",
		Short: "List the images (tags) of a repository",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, repo, err := registry.ForRoot(args[0], e.config())
			if err != nil {
				return err
			}
			out := &registry.TagList{Repo: repo.Raw, Tags: []registry.TagEntry{}}
			opt := registry.ListOptions{}
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
			if asJSON {
				return e.printJSON(out)
			}
			if len(out.Tags) == 0 {
				fmt.Fprintf(e.stderr, "no images in %s\n", repo.Raw)
				return nil
			}
			tw := e.table()
			fmt.Fprintln(tw, "TAG\tUPDATED\tREFERENCE")
			for _, t := range out.Tags {
				upd := "-"
				if !t.Updated.IsZero() {
					upd = t.Updated.UTC().Format("2006-01-02 15:04")
				}
				name := t.Name
				if t.Foreign {
					name += " (not a ProcessFork image)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", name, upd, t.Ref)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return c
}

// inspectJSON is the document `inspect --json` prints.
type inspectJSON struct {
	Ref           string                `json:"ref"`
	ImageID       model.Digest          `json:"image_id"`
	Manifest      json.RawMessage       `json:"manifest"`
	Signature     signing.Verdict       `json:"signature"`
	Canonical     bool                  `json:"canonical"`
	Warnings      []string              `json:"warnings"`
	ManifestError string                `json:"manifest_error,omitempty"`
	Blobs         []registry.BlobStatus `json:"blobs"`
}

func toInspectJSON(in *registry.Inspection, blobs []registry.BlobStatus) inspectJSON {
	out := inspectJSON{Ref: in.Ref, ImageID: in.ImageID, Signature: in.Signature, Canonical: in.Canonical,
		Warnings: in.Warnings, ManifestError: in.ManifestError, Blobs: blobs}
	if json.Valid(in.Raw) {
		out.Manifest = json.RawMessage(in.Raw)
	} else {
		s, _ := json.Marshal(string(in.Raw))
		out.Manifest = s
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	if out.Blobs == nil {
		out.Blobs = []registry.BlobStatus{}
	}
	return out
}

func (e *env) inspectCmd() *cobra.Command {
	var asJSON, walk bool
	c := &cobra.Command{
		Use:   "inspect REF",
		Short: "Show an image's manifest, signature verdict and blobs (no blob download)",
		Long: `Show an image's manifest, signature verdict and blobs. Only the manifest and
its signature are fetched; with --walk the fs tree and page manifest are
fetched too, to list every blob. Exits 4 when the signature is invalid or
missing or the manifest is malformed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, ref, err := registry.ForRef(args[0], e.config())
			if err != nil {
				return err
			}
			var in *registry.Inspection
			blobs := []registry.BlobStatus(nil)
			if walk {
				rep, verr := reg.Verify(cmd.Context(), ref, registry.VerifyOptions{})
				if rep == nil || rep.Inspection == nil {
					return verr
				}
				in, blobs = rep.Inspection, rep.Blobs
			} else {
				in, err = reg.Inspect(cmd.Context(), ref)
				if err != nil {
					return err
				}
				blobs = in.Blobs
			}
			if asJSON {
				if err := e.printJSON(toInspectJSON(in, blobs)); err != nil {
					return err
				}
			} else {
				e.printInspection(in, blobs)
			}
			return in.Problem(e.g.strict)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	c.Flags().BoolVar(&walk, "walk", false, "also fetch the fs tree and page manifest to list (and check) every blob")
	return c
}

func verdictLine(v signing.Verdict) string {
	s := termtext.VerdictSymbol(string(v.Status)) + " " + string(v.Status)
	if v.Reason != "" {
		s += " — " + v.Reason
	}
	return s
}

func (e *env) printInspection(in *registry.Inspection, blobs []registry.BlobStatus) {
	tw := e.table()
	fmt.Fprintf(tw, "Image\t%s\n", in.ImageID)
	fmt.Fprintf(tw, "Reference\t%s\n", in.Ref)
	fmt.Fprintf(tw, "Signature\t%s\n", verdictLine(in.Signature))
	if m := in.Manifest; m != nil {
		fmt.Fprintf(tw, "Agent\t%s %s (%s)\n", m.Agent.Kind, m.Agent.Version, m.Agent.Fingerprint)
		fmt.Fprintf(tw, "Created\t%s\n", model.FormatTime(m.CreatedAt))
		parents := "none (root image)"
		if len(m.Parents) > 0 {
			ps := make([]string, len(m.Parents))
			for i, p := range m.Parents {
				ps[i] = string(p)
			}
			parents = strings.Join(ps, ", ")
		}
		fmt.Fprintf(tw, "Parents\t%s\n", parents)
		fmt.Fprintf(tw, "Cache\t%s\n", m.Cache.Layout)
		fmt.Fprintf(tw, "Canonical\t%v\n", in.Canonical)
	}
	if in.ManifestError != "" {
		fmt.Fprintf(tw, "Manifest\t✗ %s\n", in.ManifestError)
	}
	for _, w := range in.Warnings {
		fmt.Fprintf(tw, "Warning\t%s\n", w)
	}
	tw.Flush()
	if len(blobs) > 0 {
		fmt.Fprintf(e.stdout, "\nBlobs (%d)\n", len(blobs))
		tw = e.table()
		for _, b := range blobs {
			size := ""
			if b.StoredSize > 0 {
				size = termtext.Bytes(b.StoredSize)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", b.Role, b.Digest, size, b.Status)
		}
		tw.Flush()
	}
}

func (e *env) verifyCmd() *cobra.Command {
	var asJSON, deep bool
	c := &cobra.Command{
		Use:   "verify REF",
		Short: "Verify an image: signature, manifest, and that every reachable blob is there",
		Long: `Verify an image in a registry: the signature (before anything else), the
manifest's digests, and the presence of every blob the image reaches. With
--deep every blob is downloaded, decompressed and re-hashed (nothing is
stored). Exits 4 on any integrity failure.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, ref, err := registry.ForRef(args[0], e.config())
			if err != nil {
				return err
			}
			p := e.newProgress("verify")
			if !deep {
				p = e.quietProgress()
			}
			rep, err := reg.Verify(cmd.Context(), ref, registry.VerifyOptions{Deep: deep, Concurrency: e.g.concurrency, Progress: p.event})
			p.finish()
			if err == nil && rep != nil && rep.Inspection != nil {
				err = rep.Inspection.Problem(e.g.strict)
			}
			if asJSON && rep != nil {
				if jerr := e.printJSON(verifyJSON(rep, err, deep)); jerr != nil {
					return jerr
				}
			}
			if err != nil {
				return err
			}
			if !asJSON {
				how := "present"
				if deep {
					how = "re-hashed"
				}
				fmt.Fprintf(e.stdout, "✓ %s verified: signature %s, %d blobs %s\n", rep.Inspection.ImageID, rep.Inspection.Signature.Status, len(rep.Blobs), how)
				if rep.Inspection.Signature.Status == signing.DefaultKey {
					fmt.Fprintln(e.stderr, "warning: "+rep.Inspection.Signature.Reason)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	c.Flags().BoolVar(&deep, "deep", false, "download and re-hash every blob")
	return c
}

type verifyReport struct {
	OK        bool                  `json:"ok"`
	Error     string                `json:"error,omitempty"`
	Deep      bool                  `json:"deep"`
	Complete  bool                  `json:"complete"`
	Inspect   *inspectJSON          `json:"image,omitempty"`
	Blobs     []registry.BlobStatus `json:"blobs"`
	ElapsedMS int64                 `json:"elapsed_ms"`
}

func verifyJSON(rep *registry.Report, err error, deep bool) verifyReport {
	out := verifyReport{OK: err == nil, Deep: deep, Complete: rep.Complete,
		Blobs: rep.Blobs, ElapsedMS: rep.Elapsed.Milliseconds()}
	if err != nil {
		out.Error = termtext.OneLine(err.Error(), 0)
	}
	if rep.Inspection != nil {
		ij := toInspectJSON(rep.Inspection, nil)
		ij.Blobs = nil
		out.Inspect = &ij
	}
	if out.Blobs == nil {
		out.Blobs = []registry.BlobStatus{}
	}
	return out
}

func (e *env) pullCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "pull REF",
		Short: "Verify an image and pull it into the local store; prints the image ID",
		Long: `Verify an image's signature, then pull every blob it reaches into the local
store (--store, $PF_STORE, ~/.processfork), each one re-hashed before it is
kept. Blobs already in the store are skipped, so an interrupted pull resumes.
Prints the image ID on stdout.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, ref, err := registry.ForRef(args[0], e.config())
			if err != nil {
				return err
			}
			st, err := e.openStore()
			if err != nil {
				return err
			}
			opt, done := e.transferOptions("pull")
			rep, err := reg.Pull(cmd.Context(), ref, st, opt)
			done()
			return e.finishTransfer(rep, err, asJSON, func() {
				fmt.Fprintln(e.stdout, rep.Inspection.ImageID)
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the transfer report as JSON instead of the image ID")
	return c
}

func (e *env) finishTransfer(rep *registry.Report, err error, asJSON bool, human func()) error {
	if asJSON && rep != nil {
		if jerr := e.printJSON(transferJSON(rep, err)); jerr != nil {
			return jerr
		}
	}
	if err != nil {
		return err
	}
	if !asJSON {
		human()
	}
	if v := rep.Inspection.Signature; v.Status == signing.DefaultKey && rep.Op != "push" {
		fmt.Fprintln(e.stderr, "warning: "+v.Reason)
	}
	for _, w := range rep.Inspection.Warnings {
		fmt.Fprintln(e.stderr, "warning: "+w)
	}
	return nil
}

type transferReport struct {
	OK          bool                  `json:"ok"`
	Error       string                `json:"error,omitempty"`
	Op          registry.Op           `json:"op"`
	ImageID     model.Digest          `json:"image_id,omitempty"`
	Source      string                `json:"source"`
	Destination string                `json:"destination"`
	Signature   signing.Verdict       `json:"signature"`
	Transferred int                   `json:"transferred"`
	Skipped     int                   `json:"skipped"`
	Bytes       int64                 `json:"bytes"`
	ElapsedMS   int64                 `json:"elapsed_ms"`
	Blobs       []registry.BlobStatus `json:"blobs"`
}

func transferJSON(rep *registry.Report, err error) transferReport {
	out := transferReport{OK: err == nil, Op: rep.Op, Source: rep.Source, Destination: rep.Destination,
		Transferred: rep.Transferred, Skipped: rep.Skipped, Bytes: rep.Bytes, ElapsedMS: rep.Elapsed.Milliseconds(), Blobs: rep.Blobs}
	if rep.Inspection != nil {
		out.ImageID, out.Signature = rep.Inspection.ImageID, rep.Inspection.Signature
	}
	if err != nil {
		out.Error = termtext.OneLine(err.Error(), 0)
	}
	if out.Blobs == nil {
		out.Blobs = []registry.BlobStatus{}
	}
	return out
}

func (e *env) pushCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "push IMAGE_ID REF",
		Short: "Push a local image to a registry, signed with the backend's key",
		Long: `Push an image of the local store to a registry. IMAGE_ID is the full
sha256:… ID or a unique hex prefix (see ` + "`pf-registry images`" + `). Blobs the
destination already has are skipped without being read; the manifest and
its signature are written last. The signature uses PF_<BACKEND>_REG_SIGN_KEY
or, without it, the public default key.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := e.openStore()
			if err != nil {
				return err
			}
			id, err := st.Resolve(args[0])
			if err != nil {
				return err
			}
			reg, ref, err := registry.ForRef(args[1], e.config())
			if err != nil {
				return err
			}
			opt, done := e.transferOptions("push")
			rep, err := reg.Push(cmd.Context(), st, id, ref, opt)
			done()
			return e.finishTransfer(rep, err, asJSON, func() {
				fmt.Fprintf(e.stdout, "✓ pushed %s → %s\n", id, rep.Destination)
				if rep.Inspection.Signature.Status == signing.DefaultKey {
					fmt.Fprintf(e.stderr, "note: signed with the public default key; set %s to sign with your own\n", signing.EnvVar(ref.Scheme))
				}
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the transfer report as JSON")
	return c
}

func (e *env) copyCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy an image between registries, verified, without the local store",
		Long: `Copy an image from one registry to another. The source signature is
verified with the source backend's key before any blob moves; every blob is
re-hashed in flight; the destination gets a signature under its own key.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcReg, srcRef, err := registry.ForRef(args[0], e.config())
			if err != nil {
				return err
			}
			dstReg, dstRef, err := registry.ForRef(args[1], e.config())
			if err != nil {
				return err
			}
			opt, done := e.transferOptions("copy")
			rep, err := registry.Copy(cmd.Context(), srcReg, srcRef, dstReg, dstRef, opt)
			done()
			return e.finishTransfer(rep, err, asJSON, func() {
				fmt.Fprintf(e.stdout, "✓ copied %s → %s\n", rep.Inspection.ImageID, rep.Destination)
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the transfer report as JSON")
	return c
}

func (e *env) imagesCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "images",
		Short: "List the images in the local store (newest first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := e.openStore()
			if err != nil {
				return err
			}
			imgs, err := st.Images()
			if err != nil {
				return err
			}
			type row struct {
				ImageID model.Digest   `json:"image_id"`
				Agent   string         `json:"agent,omitempty"`
				Created string         `json:"created_at,omitempty"`
				Parents []model.Digest `json:"parents"`
				Error   string         `json:"error,omitempty"`
			}
			rows := []row{}
			for _, im := range imgs {
				r := row{ImageID: im.ID, Parents: []model.Digest{}}
				if im.Manifest != nil {
					r.Agent = im.Manifest.Agent.Kind + "@" + im.Manifest.Agent.Version
					r.Created = model.FormatTime(im.Manifest.CreatedAt)
					r.Parents = im.Manifest.Parents
				} else if im.Err != nil {
					r.Error = im.Err.Error()
				}
				rows = append(rows, r)
			}
			if asJSON {
				return e.printJSON(map[string]any{"store": st.Root(), "images": rows})
			}
			if len(rows) == 0 {
				fmt.Fprintf(e.stderr, "no images in %s; pull one with `pf-registry pull REF`\n", st.Root())
				return nil
			}
			tw := e.table()
			fmt.Fprintln(tw, "IMAGE ID\tAGENT\tCREATED\tPARENTS")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", r.ImageID.Short(), r.Agent, r.Created, len(r.Parents))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return c
}

func (e *env) demoCmd() *cobra.Command {
	var noUI bool
	c := &cobra.Command{
		Use:   "demo [DIR]",
		Short: "Create a demo registry (several repos, forks, a tampered image) and open it",
		Long: `Create a demo file:// registry with realistic synthetic images (fs trees, KV
cache pages of a few MB, effects ledgers, traces): forks that share pages, a
merge, one image whose signature does not verify and one without a
signature. Prints its root, then opens it in the UI (--no-ui only creates
it). DIR defaults to $XDG_DATA_HOME/pf-registry/demo.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := demo.DefaultDir()
			if len(args) == 1 {
				dir = args[0]
			}
			start := time.Now()
			res, err := demo.Generate(dir)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, res.Root)
			fmt.Fprintf(e.stderr, "demo registry with %d images in %s (%.1fs); tampered image: %s\n",
				len(res.Images), dir, time.Since(start).Seconds(), res.Tampered)
			if noUI || !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
				return nil
			}
			return e.runUI(cmd.Context(), []string{res.Root})
		},
	}
	c.Flags().BoolVar(&noUI, "no-ui", false, "only create the registry and print its root")
	return c
}
