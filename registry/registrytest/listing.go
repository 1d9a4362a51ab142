package registrytest

import (
	"context"
	"slices"
	"testing"

	"pf-registry/registry"
)

type listEntry struct {
	repo string
	tags []string
}

// listPlan is what the listing test pushes: repository → tags. Three
// entries on each level, more than a server page of 2.
var listPlan = []listEntry{{"a", []string{"t1", "t2", "t3"}}, {"b", []string{"t1"}}, {"c", []string{"t1"}}}

// listing pushes images to several repositories and tags of a namespace
// and lists them whole and one entry per page.
func (s *suite) listing(t *testing.T) {
	ns := s.h.Namespace(t)
	if ns.ServerPage >= len(listPlan) {
		t.Fatalf("the server pages by %d: the listing test needs fewer than %d", ns.ServerPage, len(listPlan))
	}
	plan := listPlan
	if ns.MaxRepos > 0 {
		plan = plan[:ns.MaxRepos]
	}
	reg := s.open(t)
	for _, p := range plan {
		for _, tag := range p.tags {
			if _, err := reg.Push(context.Background(), s.st, s.id, ns.Image(p.repo, tag), registry.TransferOptions{}); err != nil {
				t.Fatalf("push %s:%s: %v", p.repo, tag, err)
			}
		}
	}
	s.checkRepos(t, reg, ns, plan)
	s.checkTags(t, reg, ns.Repo(plan[0].repo), plan[0].tags)
	img := MustRoot(t, ns.Image(plan[0].repo, plan[0].tags[0]).Raw)
	if l, err := reg.List(context.Background(), img, registry.ListOptions{}); err != nil || !l.Image {
		t.Errorf("an image as listing root: %+v, %v; want it listed as an image", l, err)
	}
}

// checkRepos lists the root whole and one repository per page: the same
// repositories, in order, with their tags where the backend names them.
func (s *suite) checkRepos(t *testing.T, reg registry.Registry, ns Namespace, plan []listEntry) {
	t.Helper()
	ours := map[string][]string{}
	var want []string
	for _, p := range plan {
		ref := ns.Repo(p.repo).Raw
		ours[ref] = p.tags
		want = append(want, ref)
	}
	for _, limit := range []int{0, 1} {
		var got []string
		for _, e := range listAll(t, reg, ns.Root, limit) {
			tags, mine := ours[e.Ref]
			if !mine && ns.Shared {
				continue
			}
			got = append(got, e.Ref)
			if e.Tags != nil && !slices.Equal(e.Tags, tags) {
				t.Errorf("repository %s lists tags %v, want %v", e.Ref, e.Tags, tags)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("list %s by pages of %d: %v, want %v", ns.Root.Raw, limit, got, want)
		}
	}
}

// listAll follows a listing's pages to its end.
func listAll(t *testing.T, reg registry.Registry, root registry.Ref, limit int) []registry.RepoEntry {
	t.Helper()
	var out []registry.RepoEntry
	opt := registry.ListOptions{Limit: limit}
	for page := 0; ; page++ {
		l, err := reg.List(context.Background(), root, opt)
		if err != nil {
			t.Fatalf("list %s: %v", root.Raw, err)
		}
		// A shared root (one Kubo index for every run of -count) may hold
		// hundreds of repositories; the cap only catches a listing that
		// never ends.
		if l.Image || (limit > 0 && len(l.Repos) > limit) || page > 10000 {
			t.Fatalf("list %s, page %d of %d: %+v", root.Raw, page, limit, l)
		}
		out = append(out, l.Repos...)
		if l.Next == "" {
			return out
		}
		opt.After = l.Next
	}
}

// checkTags lists a repository's tags whole and one per page; every image
// tag inspects to the pushed image.
func (s *suite) checkTags(t *testing.T, reg registry.Registry, repo registry.Ref, want []string) {
	t.Helper()
	var all []string
	for _, limit := range []int{0, 1} {
		var names, images []string
		opt := registry.ListOptions{Limit: limit}
		for page := 0; page <= 100; page++ {
			tl, err := reg.Tags(context.Background(), repo, opt)
			if err != nil {
				t.Fatalf("tags of %s: %v", repo.Raw, err)
			}
			for _, tg := range tl.Tags {
				names = append(names, tg.Name)
				if !tg.Foreign {
					images = append(images, tg.Name)
					s.checkTagRef(t, reg, tg)
				}
			}
			if tl.Next == "" {
				break
			}
			opt.After = tl.Next
		}
		if !slices.Equal(images, want) || (limit > 0 && !slices.Equal(names, all)) {
			t.Errorf("tags of %s by pages of %d: %v (images %v), want images %v as in %v", repo.Raw, limit, names, images, want, all)
		}
		all = names
	}
	// Names only (tags --quick): the same tags.
	var names []string
	opt := registry.ListOptions{Names: true}
	for page := 0; page <= 100; page++ {
		tl, err := reg.Tags(context.Background(), repo, opt)
		if err != nil {
			t.Fatalf("tag names of %s: %v", repo.Raw, err)
		}
		for _, tg := range tl.Tags {
			names = append(names, tg.Name)
		}
		if tl.Next == "" {
			break
		}
		opt.After = tl.Next
	}
	if !slices.Equal(names, all) {
		t.Errorf("tag names of %s: %v, want %v", repo.Raw, names, all)
	}
}

func (s *suite) checkTagRef(t *testing.T, reg registry.Registry, tg registry.TagEntry) {
	t.Helper()
	r, err := registry.ParseRef(tg.Ref)
	if err != nil {
		t.Errorf("tag %s: %v", tg.Name, err)
		return
	}
	if in, err := reg.Inspect(context.Background(), r); err != nil || in.ImageID != s.id {
		t.Errorf("tag %s (%s): %v", tg.Name, tg.Ref, err)
	}
}
