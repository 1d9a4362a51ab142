package ui

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// imageAction handles the keys that act on one image (tags list and
// detail): verify, pull, copy, and the clipboard. handled is false when the
// key is not one of them.
func imageAction(sh *shared, msg tea.KeyPressMsg, ref, status string, id model.Digest) (tea.Cmd, bool) {
	k := sh.keys
	switch {
	case key.Matches(msg, k.Verify):
		return emit(startJobMsg{verifySpec(sh, ref)}), true
	case key.Matches(msg, k.Pull):
		return pullFlow(sh, ref, status), true
	case key.Matches(msg, k.Copy):
		return copyFlow(sh, ref), true
	case key.Matches(msg, k.YankRef):
		return tea.Batch(tea.SetClipboard(ref), statusf("copied reference %s", ref)), true
	case key.Matches(msg, k.YankDigest):
		if id == "" {
			return statusf("image ID not known yet (still inspecting)"), true
		}
		return tea.Batch(tea.SetClipboard(string(id)), statusf("copied image ID %s", id.Short())), true
	case key.Matches(msg, k.YankCmd):
		c := "pf-registry pull " + shellQuote(ref)
		return tea.Batch(tea.SetClipboard(c), statusf("copied: %s", c)), true
	}
	return nil, false
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$`\\!*?&;|<>(){}[]#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

func verifySpec(sh *shared, ref string) jobSpec {
	return jobSpec{op: "verify", src: ref, run: func(ctx context.Context, p func(registry.Event)) (*registry.Report, error) {
		reg, r, err := sh.openRef(ref)
		if err != nil {
			return nil, err
		}
		return reg.Verify(ctx, r, registry.VerifyOptions{Deep: true, Concurrency: sh.xferOpt.Concurrency, Progress: p})
	}}
}

func pullSpec(sh *shared, ref string) jobSpec {
	return jobSpec{op: "pull", src: ref, dst: "local store",
		run: func(ctx context.Context, p func(registry.Event)) (*registry.Report, error) {
			reg, r, err := sh.openRef(ref)
			if err != nil {
				return nil, err
			}
			st, err := sh.openStore()
			if err != nil {
				return nil, err
			}
			return reg.Pull(ctx, r, st, sh.transferOptions(p))
		}}
}

// pullFlow asks first unless the signature is valid under a configured key.
func pullFlow(sh *shared, ref, status string) tea.Cmd {
	if refused := sh.refuseWrite("the local store"); refused != nil {
		return refused
	}
	start := emit(startJobMsg{pullSpec(sh, ref)})
	if status == termtext.VerdictValid {
		return start
	}
	why := map[string]string{
		termtext.VerdictDefaultKey: "it is signed with the public default key, so anyone could have made it.",
		termtext.VerdictInvalid:    "its signature does NOT verify; the pull will be refused unless the image is re-signed.",
		termtext.VerdictMissing:    "it has no signature at all.",
		termtext.VerdictPending:    "its signature has not been checked yet.",
		termtext.VerdictError:      "it could not be inspected.",
	}[status]
	if why == "" {
		why = "its signature is " + status + "."
	}
	return emit(dialogMsg{&confirmDialog{
		title: "Pull an image that is not validly signed?",
		body:  fmt.Sprintf("%s\n\nSignature: %s %s — %s", ref, termtext.VerdictSymbol(status), status, why),
		yes:   start,
	}})
}

// allRoots lists command-line and configured roots.
func (sh *shared) allRoots() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range append(append([]string{}, sh.cliRoots...), sh.cfg.Roots...) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// copyFlow: choose a root, confirm the destination reference, start.
func copyFlow(sh *shared, ref string) tea.Cmd {
	if refused := sh.refuseWrite("a copy destination"); refused != nil {
		return refused
	}
	roots := sh.allRoots()
	if len(roots) == 0 {
		return statusf("no other root configured: add one on the registries screen (a)")
	}
	return emit(dialogMsg{&pickDialog{title: "Copy " + ref + " to which root?", items: roots,
		pick: func(i int) tea.Cmd {
			return emit(dialogMsg{newInputDialog(sh, "Destination reference", "the image is written here",
				suggestRef(roots[i], ref), func(dst string) tea.Cmd {
					return guardOverwrite(sh, dst, copySpec(sh, ref, dst))
				})})
		}}})
}

func copySpec(sh *shared, src, dst string) jobSpec {
	return jobSpec{op: "copy", src: src, dst: dst,
		run: func(ctx context.Context, p func(registry.Event)) (*registry.Report, error) {
			sreg, sref, err := sh.openRef(src)
			if err != nil {
				return nil, err
			}
			dreg, dref, err := sh.openRef(dst)
			if err != nil {
				return nil, err
			}
			return registry.Copy(ctx, sreg, sref, dreg, dref, sh.transferOptions(p))
		}}
}

// localImagesMsg carries the local store's images to a picker.
type localImagesMsg struct {
	dest   string
	repo   bool // dest is a repository (tags go under it), not a root
	images []store.Image
	err    error
}

// pushFlow: choose a local image, confirm the destination, start. dest is
// a root, or a repository when repo is set.
func pushFlow(sh *shared, dest string, repo bool) tea.Cmd {
	if refused := sh.refuseWrite(dest); refused != nil {
		return refused
	}
	return func() tea.Msg {
		st, err := sh.openStore()
		if err != nil {
			return localImagesMsg{dest: dest, repo: repo, err: err}
		}
		imgs, err := st.Images()
		return localImagesMsg{dest: dest, repo: repo, images: imgs, err: err}
	}
}

// pushPicker turns the loaded local images into the picker dialog.
func pushPicker(sh *shared, m localImagesMsg) tea.Cmd {
	if m.err != nil {
		return statusErr(m.err)
	}
	if len(m.images) == 0 {
		return statusf("the local store %s has no images to push", tildePath(sh.storePath))
	}
	items := make([]string, len(m.images))
	for i, im := range m.images {
		items[i] = localImageLabel(im)
	}
	return emit(dialogMsg{&pickDialog{title: "Push which local image to " + m.dest + "?", items: items,
		pick: func(i int) tea.Cmd {
			im := m.images[i]
			if m.repo {
				return pushDestInput(sh, im, tagInRepo(m.dest, im.ID.Short()))
			}
			return pushDestDialog(sh, m.dest, im)
		}}})
}

func pushDestDialog(sh *shared, root string, im store.Image) tea.Cmd {
	name := "image"
	if im.Manifest != nil && im.Manifest.Agent.Kind != "" {
		name = im.Manifest.Agent.Kind
	}
	return pushDestInput(sh, im, suggestRef(root, "file://x/"+name+"/"+im.ID.Short()))
}

func pushDestInput(sh *shared, im store.Image, sugg string) tea.Cmd {
	return emit(dialogMsg{newInputDialog(sh, "Push "+im.ID.Short()+" to", "signed with the destination's key",
		sugg, func(dst string) tea.Cmd {
			return guardOverwrite(sh, dst, pushSpec(sh, im.ID, dst))
		})})
}

// guardOverwrite starts a write job, asking first when the destination
// already holds an image (its manifest would be replaced).
func guardOverwrite(sh *shared, dst string, spec jobSpec) tea.Cmd {
	return func() tea.Msg {
		reg, r, err := sh.openRef(dst)
		if err != nil {
			return statusMsg{text: errLine(err), err: true}
		}
		ctx, cancel := context.WithTimeout(sh.ctx, 15*time.Second)
		defer cancel()
		if ok, err := reg.Exists(ctx, r); err == nil && ok {
			return dialogMsg{&confirmDialog{
				title: "Replace an existing image?",
				body:  dst + " already holds an image. Replace it with " + spec.src + "?",
				yes:   emit(startJobMsg{spec}),
			}}
		}
		return startJobMsg{spec}
	}
}

// tagInRepo names a tag inside a repository reference, in its syntax.
func tagInRepo(repo, tag string) string {
	repo = strings.TrimRight(repo, "/")
	if strings.HasPrefix(repo, "oci://") || strings.HasPrefix(repo, "hf://") {
		return repo + ":" + tag
	}
	if strings.HasPrefix(repo, "oci-layout:") {
		return repo + "#" + tag
	}
	return repo + "/" + tag
}

// openRefDialog asks for a reference and opens it: an image shows its
// detail, anything else is listed as a repository. It is how repositories
// are reached on registries that refuse to list them.
func openRefDialog(sh *shared, prefill string) tea.Cmd {
	return emit(dialogMsg{newInputDialog(sh, "Open a reference", "an image or a repository",
		prefill, func(ref string) tea.Cmd {
			return func() tea.Msg {
				reg, r, err := sh.openRoot(ref)
				if err != nil {
					return statusMsg{text: errLine(err), err: true}
				}
				if ok, err := reg.Exists(sh.ctx, r); err == nil && ok {
					return pushScreenMsg{newDetailScreen(sh, ref, ref)}
				}
				return pushScreenMsg{newTagsScreen(sh, ref, ref)}
			}
		})})
}

func localImageLabel(im store.Image) string {
	s := im.ID.Short()
	if im.Manifest != nil {
		s += "  " + im.Manifest.Agent.Kind + "  " + shortTime(im.Manifest.CreatedAt)
	}
	return s
}

func pushSpec(sh *shared, id model.Digest, dst string) jobSpec {
	return jobSpec{op: "push", src: "local " + id.Short(), dst: dst,
		run: func(ctx context.Context, p func(registry.Event)) (*registry.Report, error) {
			reg, r, err := sh.openRef(dst)
			if err != nil {
				return nil, err
			}
			st, err := sh.openStore()
			if err != nil {
				return nil, err
			}
			return reg.Push(ctx, st, id, r, sh.transferOptions(p))
		}}
}

// suggestRef proposes a destination under root for an image known as src:
// the same repository and tag names, in the root's own syntax.
func suggestRef(root, src string) string {
	repo, tag := "image", "latest"
	if r, err := registry.ParseRef(src); err == nil {
		switch r.Scheme {
		case "file", "oci-layout":
			p := strings.TrimRight(r.Path, "/")
			tag = path.Base(p)
			if d := path.Base(path.Dir(p)); d != "." && d != "/" {
				repo = d
			}
			if r.HasTag {
				tag = r.Tag
			}
		case "oci", "hf":
			repo = path.Base(r.Repo)
			if r.HasTag {
				tag = r.Tag
			}
		case "s3":
			p := strings.TrimRight(r.Prefix, "/")
			tag = path.Base(p)
			if d := path.Base(path.Dir(p)); d != "." {
				repo = d
			}
		}
	}
	root = strings.TrimRight(root, "/")
	switch {
	case strings.HasPrefix(root, "oci://"), strings.HasPrefix(root, "hf://"):
		return root + "/" + repo + ":" + tag
	case strings.HasPrefix(root, "ipfs:"):
		return "ipfs://"
	case strings.HasPrefix(root, "oci-layout:"):
		return root + "#" + tag
	}
	return root + "/" + repo + "/" + tag
}
