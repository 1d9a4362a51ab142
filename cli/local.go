package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// The local store's management: `images rm`, `gc` and `du`. The store
// keeps the layout the Rust `pf` reads: only markers and blob files go.

// localRmOpts are the options of `images rm`.
type localRmOpts struct {
	*env
	deleteFlags
}

func (e *env) imagesRmCmd() *cobra.Command {
	o := &localRmOpts{env: e}
	c := &cobra.Command{
		Use:   "rm IMAGE_ID...",
		Short: "Remove images from the local store, then the blobs no other image reaches",
		Long: `Remove images from the local store: each image's marker first (the image is
then gone for pf-registry and pf), then the blobs no remaining image reaches
and older than --grace (a pull in progress writes its blobs before its
marker). IMAGE_ID is a full ID or a unique hex prefix.`,
		Example: `  pf-registry images rm 3f2a9c1e
  pf-registry --store ./store images rm --dry-run sha256:3f2a9c1e…`,
		Args: cobra.MinimumNArgs(1),
		RunE: o.run,
	}
	o.register(c, true)
	return c
}

func (o *localRmOpts) run(cmd *cobra.Command, args []string) error {
	return o.runLocal(o.env, func(local *registry.Local, st *store.Store, opt registry.DeleteOptions) (*registry.DeleteReport, error) {
		var ids []model.Digest
		for _, a := range args {
			id, err := st.Resolve(a)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return local.Remove(cmd.Context(), ids, opt)
	})
}

// runLocal opens the store and runs one removal on it, reported as every
// deletion is.
func (f *deleteFlags) runLocal(e *env, remove func(*registry.Local, *store.Store, registry.DeleteOptions) (*registry.DeleteReport, error)) error {
	st, err := e.openStore()
	if err != nil {
		return err
	}
	opt, done, err := f.options(e)
	if err != nil {
		return err
	}
	rep, err := remove(registry.NewLocal(st, e.cfg), st, opt)
	done()
	if rep == nil {
		rep = &registry.DeleteReport{DryRun: opt.DryRun, Images: []registry.DeletedImage{}, Blobs: []registry.DeletedBlob{}}
	}
	return f.finish(e, rep, err)
}

// gcOpts are the options of `gc`.
type gcOpts struct {
	*env
	deleteFlags
}

func (e *env) gcCmd() *cobra.Command {
	o := &gcOpts{env: e}
	c := &cobra.Command{
		Use:   "gc",
		Short: "Remove the local store's blobs that no image marker reaches",
		Long: `Remove the blobs of the local store that no image reaches (the walk of every
image marker, the manifests themselves, and the ledgers merged effects
point at), except those younger than --grace. The store stays usable by the
Rust pf: same layout, nothing added. It refuses to run while an image
cannot be read, since removing blobs it might reach could break it.`,
		Example: `  pf-registry gc --dry-run
  pf-registry --store ./store gc --grace 0`,
		Args: cobra.NoArgs,
		RunE: o.run,
	}
	o.register(c, true)
	return c
}

func (o *gcOpts) run(cmd *cobra.Command, _ []string) error {
	return o.runLocal(o.env, func(local *registry.Local, _ *store.Store, opt registry.DeleteOptions) (*registry.DeleteReport, error) {
		return local.GC(cmd.Context(), opt)
	})
}

// duOpts are the options of `du`.
type duOpts struct {
	*env
	asJSON bool
}

func (e *env) duCmd() *cobra.Command {
	o := &duOpts{env: e}
	c := &cobra.Command{
		Use:   "du",
		Short: "Show what each local image occupies: unique and shared bytes, and what gc would free",
		Long: `Show, for every image of the local store, the stored bytes only it reaches
(freed by ` + "`images rm`" + `) and those it shares with other images, then the
store's total and the bytes no image reaches (freed by ` + "`gc`" + `).`,
		Example: `  pf-registry du
  pf-registry --store ./store du --json | jq .reclaimable`,
		Args: cobra.NoArgs,
		RunE: o.run,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	return c
}

func (o *duOpts) run(cmd *cobra.Command, _ []string) error {
	st, err := o.openStore()
	if err != nil {
		return err
	}
	u, err := registry.NewLocal(st, o.cfg).Usage(cmd.Context())
	if err != nil {
		return err
	}
	if o.asJSON {
		return o.printJSON(u)
	}
	tw := o.table()
	fmt.Fprintln(tw, "IMAGE ID\tCREATED\tBLOBS\tUNIQUE\tSHARED")
	for _, im := range u.Images {
		if im.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\tunreadable: %s\n", im.ImageID.Short(), termtext.Line(termtext.OneLine(im.Error, 80)))
			continue
		}
		missing := ""
		if im.Missing > 0 {
			missing = fmt.Sprintf("\t%d blob(s) missing", im.Missing)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s%s\n", im.ImageID.Short(), model.FormatTime(im.Created), im.Blobs,
			termtext.Bytes(im.Unique), termtext.Bytes(im.Shared), missing)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "total %s in %d blob(s); reclaimable by gc: %s in %d blob(s)\n",
		termtext.Bytes(u.Total), u.Blobs, termtext.Bytes(u.Reclaimable), u.ReclaimableBlobs)
	if u.Note != "" {
		fmt.Fprintln(o.stderr, "note: "+termtext.Line(u.Note))
	}
	return nil
}
