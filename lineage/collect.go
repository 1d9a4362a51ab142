package lineage

import (
	"context"
	"fmt"
	"sync"

	"pf-registry/registry"
)

// MaxImages bounds how many images Collect inspects under one root.
const MaxImages = 2000

// Collect lists every tagged image under a root (all its repositories, or
// the root's own tags, or the root itself when it is an image) and
// inspects each one: manifest and signature only, no blob. Images that
// cannot be inspected come back with Err set.
func Collect(ctx context.Context, reg registry.Registry, root registry.Ref, concurrency int) ([]Image, error) {
	images, err := listImages(ctx, reg, root)
	if err != nil {
		return nil, err
	}
	if concurrency <= 0 {
		concurrency = registry.DefaultConcurrency
	}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range images {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			im := &images[i]
			ref, err := registry.ParseRef(im.Ref)
			if err == nil {
				im.In, err = reg.Inspect(ctx, ref)
			}
			im.Err = err
		}()
	}
	wg.Wait()
	return images, ctx.Err()
}

func listImages(ctx context.Context, reg registry.Registry, root registry.Ref) ([]Image, error) {
	var images []Image
	opt := registry.ListOptions{}
	for {
		page, err := reg.List(ctx, root, opt)
		if err != nil {
			return nil, err
		}
		if page.Image {
			return []Image{{Name: root.Raw, Ref: root.Raw}}, nil
		}
		for _, repo := range page.Repos {
			ref, err := registry.ParseRoot(repo.Ref)
			if err != nil {
				return nil, err
			}
			tags, err := repoImages(ctx, reg, ref, repo.Name)
			if err != nil {
				return nil, err
			}
			images = append(images, tags...)
			if len(images) > MaxImages {
				return nil, fmt.Errorf("more than %d images under %s; give a repository instead of the whole root", MaxImages, root.Raw)
			}
		}
		if page.Next == "" {
			break
		}
		opt.After = page.Next
	}
	if len(images) == 0 {
		// The root may be a repository itself.
		return repoImages(ctx, reg, root, "")
	}
	return images, nil
}

func repoImages(ctx context.Context, reg registry.Registry, repo registry.Ref, name string) ([]Image, error) {
	var out []Image
	opt := registry.ListOptions{}
	for {
		page, err := reg.Tags(ctx, repo, opt)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Tags {
			if t.Foreign {
				continue
			}
			n := t.Name
			if name != "" && name != "." {
				n = name + ":" + t.Name
			}
			out = append(out, Image{Name: n, Ref: t.Ref})
		}
		if page.Next == "" || len(out) > MaxImages {
			return out, nil
		}
		opt.After = page.Next
	}
}
