package ui

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// image is one image as the screens know it: where it is and what its
// inspection said so far.
type image struct {
	ref    string
	root   string // the root it was listed under ("" when unknown)
	repo   string // repository name under the root ("" when unknown)
	tag    string
	status string // verdict status
	reason string
	id     model.Digest
}

// name is the short label of an image in messages.
func (im image) name() string {
	if im.repo != "" && im.tag != "" {
		return im.repo + ":" + im.tag
	}
	return im.ref
}

// imageBindings are the keys that act on the images a screen selects
// (the marked rows of a list, or the one under the cursor).
func imageBindings(sh *shared, sel func() []image) []binding {
	k := sh.keys
	one := func(f func(image) tea.Cmd) func() tea.Cmd {
		return func() tea.Cmd {
			ims := sel()
			if len(ims) == 0 {
				return nil
			}
			return f(ims[0])
		}
	}
	many := func(f func(*shared, []image) tea.Cmd) func() tea.Cmd {
		return func() tea.Cmd {
			if ims := sel(); len(ims) > 0 {
				return f(sh, ims)
			}
			return nil
		}
	}
	return []binding{
		bind(&k.Pull, groupImage, true, many(pullImages)).unless(sh.writeOff("the local store")),
		bind(&k.Verify, groupImage, true, many(verifyImages)),
		bind(&k.Copy, groupImage, false, many(copyImages)).unless(sh.writeOff("a copy destination")),
		bind(&k.YankRef, groupCopy, true, one(func(im image) tea.Cmd {
			sh.infof("copied reference %s", im.ref)
			return tea.SetClipboard(im.ref)
		})),
		bind(&k.YankDigest, groupCopy, false, one(func(im image) tea.Cmd {
			if im.id == "" {
				sh.infof("image ID not known yet (still inspecting)")
				return nil
			}
			sh.infof("copied image ID %s", im.id.Short())
			return tea.SetClipboard(string(im.id))
		})),
		bind(&k.YankCmd, groupCopy, false, one(func(im image) tea.Cmd {
			c := "pf-registry pull " + shellQuote(im.ref)
			sh.infof("copied: %s", c)
			return tea.SetClipboard(c)
		})),
	}
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$`\\!*?&;|<>(){}[]#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// start starts jobs at once: the root model takes them before the next
// key, so a failure that follows cannot be overwritten by "started".
func start(sh *shared, specs ...jobSpec) tea.Cmd {
	sh.jobs = append(sh.jobs, specs...)
	return nil
}

func verifyImages(sh *shared, ims []image) tea.Cmd {
	specs := make([]jobSpec, len(ims))
	for i, im := range ims {
		specs[i] = verifySpec(sh, im.ref)
	}
	return start(sh, specs...)
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

// gated splits images by transferGate: those to start, those to ask about
// (with the first reason) and the refusals as one message.
func gated(sh *shared, verb string, ims []image) (run, asked []image, why, refused string) {
	var refusals []string
	for _, im := range ims {
		g, reason := transferGate(im.status, im.reason, sh.requireFor(im.ref))
		switch g {
		case gateGo:
			run = append(run, im)
		case gateAsk:
			asked = append(asked, im)
			if why == "" {
				why = reason
			}
		default:
			refusals = append(refusals, im.name()+" not "+verb+": "+reason)
		}
	}
	return run, asked, why, strings.Join(refusals, "; ")
}

// pullImages pulls what can be pulled: refused images are named with the
// reason at once, weakly signed ones are asked about (No by default).
func pullImages(sh *shared, ims []image) tea.Cmd {
	run, asked, why, refused := gated(sh, "pulled", ims)
	if refused != "" {
		sh.notify(refused, true)
	}
	specs := func(list []image) []jobSpec {
		out := make([]jobSpec, len(list))
		for i, im := range list {
			out[i] = pullSpec(sh, im.ref)
		}
		return out
	}
	if len(asked) == 0 {
		return start(sh, specs(run)...)
	}
	body := fmt.Sprintf("%s\n\nSignature: %s — %s", asked[0].ref, asked[0].status, why)
	title := "Pull an image that is not validly signed?"
	if len(asked) > 1 {
		body = fmt.Sprintf("%d of the marked images are not validly signed: %s", len(asked), why)
		title = "Pull images that are not validly signed?"
	}
	return tea.Batch(start(sh, specs(run)...), confirm(sh, title, body, "Pull", func() tea.Cmd { return start(sh, specs(asked)...) }))
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

// otherRoots are the roots an image could be copied to: all but its own.
func (sh *shared) otherRoots(src string) []string {
	var out []string
	for _, r := range sh.allRoots() {
		if src == "" || strings.TrimRight(r, "/") != strings.TrimRight(src, "/") {
			out = append(out, r)
		}
	}
	return out
}

// copyImages: choose a root, then the destination (one image) or confirm
// the whole set (marked images), then start.
func copyImages(sh *shared, ims []image) tea.Cmd {
	run, asked, why, refused := gated(sh, "copied", ims)
	if refused != "" {
		sh.notify(refused, true)
	}
	ims = append(run, asked...)
	if len(ims) == 0 {
		return nil
	}
	roots := sh.otherRoots(ims[0].root)
	if len(roots) == 0 {
		sh.infof("no other root to copy to: add one on the registries screen (%s)", sh.keys.AddRoot.Help().Key)
		return nil
	}
	title := "Copy " + ims[0].name() + " to which root?"
	if len(ims) > 1 {
		title = fmt.Sprintf("Copy %d images to which root?", len(ims))
	}
	if len(asked) > 0 {
		title += " (" + itoa(len(asked)) + " not validly signed: " + why + ")"
	}
	return pick(sh, title, roots, func(i int) tea.Cmd {
		if len(ims) == 1 {
			return copyDestDialog(sh, ims[0], roots[i])
		}
		specs := make([]jobSpec, len(ims))
		for k, im := range ims {
			specs[k] = copySpec(sh, im.ref, suggestRef(roots[i], im))
		}
		return confirm(sh, "Copy "+itoa(len(ims))+" images?",
			fmt.Sprintf("Each goes to %s under its repository and tag name; an image already there is replaced.", roots[i]),
			"Copy", func() tea.Cmd { return start(sh, specs...) })
	})
}

func copyDestDialog(sh *shared, im image, root string) tea.Cmd {
	ask(sh, "Copy "+im.name()+" to", "the destination reference (signed with the destination's key)",
		suggestRef(root, im), func(dst string) (tea.Cmd, error) {
			if _, err := registry.ParseRef(dst); err != nil {
				return nil, err
			}
			if dst == im.ref {
				return nil, fmt.Errorf("that is the image itself: give another destination")
			}
			return guardOverwrite(sh, dst, copySpec(sh, im.ref, dst)), nil
		})
	return nil
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

// existsMsg is the answer of a destination check.
type existsMsg struct {
	exists bool
	err    error
}

// guardOverwrite starts a write job, asking first (No by default) when the
// destination already holds an image.
func guardOverwrite(sh *shared, dst string, spec jobSpec) tea.Cmd {
	return guardThen(sh, dst, spec.src, func() tea.Cmd { return start(sh, spec) })
}

// guardThen runs write, asking first (No by default) when dst already holds
// an image that src would replace. The check holds the keys meanwhile.
func guardThen(sh *shared, dst, src string, write func() tea.Cmd) tea.Cmd {
	return waitFor(sh, "Checking "+safe(dst)+"…", func() tea.Msg {
		reg, r, err := sh.openRef(dst)
		if err != nil {
			return existsMsg{err: err}
		}
		ctx, cancel := context.WithTimeout(sh.ctx, 15*time.Second)
		defer cancel()
		ok, err := reg.Exists(ctx, r)
		return existsMsg{exists: ok, err: err}
	}, func(msg tea.Msg) tea.Cmd {
		m := msg.(existsMsg)
		switch {
		case m.err != nil:
			sh.fail(m.err)
			return nil
		case m.exists:
			return confirm(sh, "Replace an existing image?",
				safe(dst)+" already holds an image. Replace it with "+safe(src)+"?", "Replace", write)
		}
		return write()
	})
}

// localImagesMsg carries the local store's images to a picker.
type localImagesMsg struct {
	images []store.Image
	err    error
}

// pushFlow: choose a local image, confirm the destination, start. dest is
// a root, or a repository (tags go under it) when repo is set.
func pushFlow(sh *shared, dest string, repo bool) tea.Cmd {
	return waitFor(sh, "Reading the local store…", readLocalImages(sh), func(msg tea.Msg) tea.Cmd {
		m := msg.(localImagesMsg)
		if m.err != nil {
			sh.fail(m.err)
			return nil
		}
		if len(m.images) == 0 {
			sh.infof("the local store %s has no images to push", tildePath(sh.storePath))
			return nil
		}
		items := make([]string, len(m.images))
		for i, im := range m.images {
			items[i] = localImageLabel(im)
		}
		return pick(sh, "Push which local image to "+dest+"?", items, func(i int) tea.Cmd {
			im := m.images[i]
			if repo {
				return pushDestInput(sh, im, tagInRepo(dest, im.ID.Short()))
			}
			return pushDestDialog(sh, dest, im)
		})
	})
}

// readLocalImages lists the local store's images (in a tea.Cmd).
func readLocalImages(sh *shared) func() tea.Msg {
	return func() tea.Msg {
		st, err := sh.openStore()
		if err != nil {
			return localImagesMsg{err: err}
		}
		imgs, err := st.Images()
		return localImagesMsg{images: imgs, err: err}
	}
}

// pushImageFlow: choose a root, then the destination, for one local image.
func pushImageFlow(sh *shared, im store.Image) tea.Cmd {
	roots := sh.allRoots()
	if len(roots) == 0 {
		sh.infof("no registry root configured: add one on the registries screen (%s)", sh.keys.AddRoot.Help().Key)
		return nil
	}
	return pick(sh, "Push "+im.ID.Short()+" to which root?", roots,
		func(i int) tea.Cmd { return pushDestDialog(sh, roots[i], im) })
}

func pushDestDialog(sh *shared, root string, im store.Image) tea.Cmd {
	name := "image"
	if im.Manifest != nil && im.Manifest.Agent.Kind != "" {
		name = safe(im.Manifest.Agent.Kind)
	}
	return pushDestInput(sh, im, suggestRef(root, image{repo: name, tag: im.ID.Short()}))
}

func pushDestInput(sh *shared, im store.Image, sugg string) tea.Cmd {
	ask(sh, "Push "+im.ID.Short()+" to", "the destination reference (signed with the destination's key)",
		sugg, func(dst string) (tea.Cmd, error) {
			if _, err := registry.ParseRef(dst); err != nil {
				return nil, err
			}
			return guardOverwrite(sh, dst, pushSpec(sh, im.ID, dst)), nil
		})
	return nil
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

func localImageLabel(im store.Image) string {
	s := im.ID.Short()
	if im.Manifest != nil {
		s += "  " + safe(im.Manifest.Agent.Kind) + "  " + shortTime(im.Manifest.CreatedAt)
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

// suggestRef proposes a destination under root for an image: the same
// repository path (owner included) and tag, in the root's own syntax.
func suggestRef(root string, im image) string {
	repo, tag := im.repo, im.tag
	if repo == "" || tag == "" {
		repo, tag = repoAndTag(im.ref)
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

// repoAndTag guesses the repository and tag of a bare reference: the last
// path element is the tag, the two before it the repository.
func repoAndTag(ref string) (repo, tag string) {
	repo, tag = "image", "latest"
	r, err := registry.ParseRef(ref)
	if err != nil {
		return repo, tag
	}
	p := ""
	switch r.Scheme {
	case "file", "oci-layout":
		p = strings.TrimRight(r.Path, "/")
	case "oci":
		p = r.Repo
	case "hf":
		p = r.User + "/" + r.Repo
	case "s3":
		p = strings.TrimRight(r.Prefix, "/")
	}
	if r.HasTag {
		tag = r.Tag
	} else if p != "" {
		tag, p = path.Base(p), path.Dir(p)
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if n := len(parts); n >= 2 {
		repo = parts[n-2] + "/" + parts[n-1]
	} else if n == 1 && parts[0] != "" && parts[0] != "." {
		repo = parts[0]
	}
	return repo, tag
}
