package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pf-registry/internal/termtext"
	"pf-registry/model"
)

// imagesOpts are the options of `images`.
type imagesOpts struct {
	*env
	asJSON bool
}

func (e *env) imagesCmd() *cobra.Command {
	o := &imagesOpts{env: e}
	c := &cobra.Command{
		Use:   "images",
		Short: "List the images in the local store (newest first)",
		Example: `  pf-registry images
  pf-registry --store ./store images --json`,
		Args: cobra.NoArgs,
		RunE: o.runImages,
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	c.AddCommand(e.imagesRmCmd())
	return c
}

// imageRow is one image of `images`.
type imageRow struct {
	ImageID model.Digest   `json:"image_id"`
	Agent   string         `json:"agent,omitempty"`
	Created string         `json:"created_at,omitempty"`
	Parents []model.Digest `json:"parents"`
	Error   string         `json:"error,omitempty"`
}

func (o *imagesOpts) runImages(*cobra.Command, []string) error {
	st, err := o.openStore()
	if err != nil {
		return err
	}
	imgs, err := st.Images()
	if err != nil {
		return err
	}
	rows := []imageRow{}
	for _, im := range imgs {
		r := imageRow{ImageID: im.ID, Parents: []model.Digest{}}
		if im.Manifest != nil {
			r.Agent = im.Manifest.Agent.Kind + "@" + im.Manifest.Agent.Version
			r.Created = model.FormatTime(im.Manifest.CreatedAt)
			r.Parents = im.Manifest.Parents
		} else if im.Err != nil {
			r.Error = im.Err.Error()
		}
		rows = append(rows, r)
	}
	if o.asJSON {
		return o.printJSON(map[string]any{"store": st.Root(), "images": rows})
	}
	if len(rows) == 0 {
		fmt.Fprintf(o.stderr, "no images in %s; pull one with `pf-registry pull REF`\n", st.Root())
		return nil
	}
	tw := o.table()
	fmt.Fprintln(tw, "IMAGE ID\tAGENT\tCREATED\tPARENTS")
	for _, r := range rows {
		agent := termtext.Line(r.Agent)
		if r.Error != "" {
			agent = "✗ " + termtext.Line(termtext.OneLine(r.Error, 120))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", r.ImageID.Short(), agent, r.Created, len(r.Parents))
	}
	return tw.Flush()
}
