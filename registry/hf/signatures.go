package hf

import (
	"context"
	"fmt"
	"sort"

	"pf-registry/registry"
	"pf-registry/signing"
)

// Signatures implements registry.SignatureSource: the bundle files at the
// top of the commit manifest.json came from, at most
// registry.MaxSignatures.
func (s *source) Signatures(ctx context.Context) ([]registry.Attached, error) {
	rev := s.rev()
	items, err := s.b.listTree(ctx, s.r, rev, "", false, false)
	if err != nil {
		return nil, err
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	var out []registry.Attached
	for _, it := range items {
		if it.Type != "file" || !registry.IsBundleFile(it.Path) {
			continue
		}
		if len(out) >= registry.MaxSignatures {
			break
		}
		a := registry.Attached{Where: it.Path}
		if it.Size > signing.MaxBundleSize {
			a.Problem = fmt.Sprintf("bundle is larger than %d bytes", signing.MaxBundleSize)
		} else if a.Bundle, _, err = s.small(ctx, rev, it.Path); err != nil {
			return nil, err
		} else if a.Bundle == nil {
			continue
		} else if len(a.Bundle) > signing.MaxBundleSize {
			a.Bundle, a.Problem = nil, fmt.Sprintf("bundle is larger than %d bytes", signing.MaxBundleSize)
		}
		out = append(out, a)
	}
	return out, nil
}
