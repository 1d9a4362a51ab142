package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
)

// previewText bounds the text a file preview keeps (the download is
// bounded by registry.MaxPreviewFetch).
const previewText = 64 << 10

// rowCursor is the selection of a pane whose lines are items (the files,
// an image's relatives): the move keys move it, enter acts on it.
type rowCursor struct {
	sel   int
	lines []int // the body line of each item, set as the pane renders
}

// selected reports whether item i is under the cursor.
func (c *rowCursor) selected(i int) bool { return i == c.sel }

// cursorKeys are the keys of a pane with a cursor; open acts on an item.
func (s *detailScreen) cursorKeys(c *rowCursor, open func(i int) tea.Cmd) []binding {
	k := s.sh.keys
	move := func(to func() int) func() tea.Cmd {
		return func() tea.Cmd {
			if len(c.lines) == 0 {
				return nil
			}
			c.sel = min(max(to(), 0), len(c.lines)-1)
			keep := s.vp.YOffset()
			s.redraw()
			s.vp.SetYOffset(keep)
			s.showLine(c.lines[c.sel])
			return nil
		}
	}
	page := func() int { return max(s.vp.Height()-1, 1) }
	return []binding{
		bind(&k.Up, groupMove, false, move(func() int { return c.sel - 1 })),
		bind(&k.Down, groupMove, false, move(func() int { return c.sel + 1 })),
		bind(&k.PageUp, groupMove, false, move(func() int { return c.sel - page() })),
		bind(&k.PageDown, groupMove, false, move(func() int { return c.sel + page() })),
		bind(&k.Top, groupMove, false, move(func() int { return 0 })),
		bind(&k.Bottom, groupMove, false, move(func() int { return len(c.lines) - 1 })),
		bind(&k.Open, groupView, true, func() tea.Cmd {
			if c.sel < 0 || c.sel >= len(c.lines) {
				return nil
			}
			return open(c.sel)
		}),
	}
}

// showLine scrolls the pane so that a body line is in view.
func (s *detailScreen) showLine(l int) {
	switch off, h := s.vp.YOffset(), s.vp.Height(); {
	case l < off:
		s.vp.SetYOffset(l)
	case l >= off+h:
		s.vp.SetYOffset(l - h + 1)
	}
}

// fileLines is the fs tree, one entry a line, the selected one
// highlighted.
func (s *detailScreen) fileLines(w int) []string {
	st := s.sh.st
	s.x.files.lines = nil
	if s.data.fsTree == nil {
		msg := "fs tree not available"
		if s.data.fsErr != "" {
			msg += ": " + s.data.fsErr
		}
		return []string{st.Muted.Render(msg)}
	}
	var out []string
	for i, e := range s.data.fsTree.Entries {
		s.x.files.lines = append(s.x.files.lines, len(out))
		p := safe(e.Path)
		depth := strings.Count(p, "/")
		name, tail := p[strings.LastIndex(p, "/")+1:], ""
		nameStyle := st.Row
		switch e.Kind {
		case "dir":
			name, nameStyle = name+"/", st.Info
		case "symlink":
			tail = " → " + safe(e.LinkTarget)
		default:
			tail = "  " + termtext.Bytes(int64(min(e.Size, 1<<62)))
		}
		lead := fit(safe(e.Mode), 6, false) + strings.Repeat("  ", depth)
		if s.x.files.selected(i) {
			out = append(out, st.Selected.Render(fit(lead+name+tail, w, false)))
			continue
		}
		out = append(out, st.Muted.Render(lead)+nameStyle.Render(name)+st.Muted.Render(tail))
	}
	if len(out) == 0 {
		out = append(out, st.Muted.Render("(empty tree)"))
	}
	return out
}

func (s *detailScreen) filesHeader(int) []string {
	if s.data.fsTree == nil {
		return nil
	}
	n := len(s.data.fsTree.Entries)
	return []string{s.sh.st.Muted.Render(fmt.Sprintf("%s · %s previews a file (text up to %s, binary described, links with their target)",
		count(n, "entry"), s.sh.keys.Open.Help().Key, termtext.Bytes(registry.MaxPreviewFetch)))}
}

// previewFile opens a page with one entry of the tree: a directory says
// how many entries it has, anything else is read in the background.
func (s *detailScreen) previewFile(i int) tea.Cmd {
	e := s.data.fsTree.Entries[i]
	if e.Kind == "dir" {
		n := 0
		for _, o := range s.data.fsTree.Entries {
			if strings.HasPrefix(o.Path, e.Path+"/") && !strings.Contains(o.Path[len(e.Path)+1:], "/") {
				n++
			}
		}
		s.sh.infof("%s/ is a directory with %s", safe(e.Path), count(n, "entry"))
		return nil
	}
	sh, h, ctx, path := s.sh, s.x.content, s.ctx, e.Path
	work := func() tea.Msg {
		c, err := h.get(ctx)
		if err != nil {
			return err
		}
		fp, err := c.Preview(ctx, path, registry.MaxPreviewFetch, previewText)
		if err != nil {
			return err
		}
		return fp
	}
	return waitFor(sh, "Reading "+safe(path)+"…", work, func(msg tea.Msg) tea.Cmd {
		switch v := msg.(type) {
		case error:
			sh.fail(v)
		case *registry.FilePreview:
			sh.open(newTextPage(sh, safe(path), previewLines(sh, v)))
		}
		return nil
	})
}

// previewLines is what the preview page shows: a line on the entry, then
// the text, or what the content is.
func previewLines(sh *shared, fp *registry.FilePreview) []string {
	st, w := sh.st, sh.width-2
	head := safe(fp.Kind) + " · " + safe(fp.Mode) + " · " + termtext.Bytes(int64(min(fp.Size, 1<<62)))
	if fp.Digest != "" {
		head += " · " + fp.Digest.Short()
	}
	out := []string{st.Muted.Render(head), ""}
	switch {
	case fp.Kind == "symlink":
		return append(out, st.Value.Render("symbolic link → "+safe(fp.LinkTarget)))
	case !fp.Fetched:
		return append(out, st.Value.Render(wrap(safe(fp.Description), w)), "", st.Muted.Render("pull the image to read it"))
	case fp.Binary:
		return append(out, st.Value.Render(wrap("binary content: "+safe(fp.Description)+" (not shown)", w)))
	}
	for _, l := range textLines(fp.Text, w) {
		out = append(out, st.Value.Render(l))
	}
	if fp.Truncated {
		out = append(out, "", st.Muted.Render(fmt.Sprintf("… cut at %s of %s", termtext.Bytes(previewText), termtext.Bytes(int64(min(fp.Size, 1<<62))))))
	}
	return out
}
