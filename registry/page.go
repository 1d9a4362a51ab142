package registry

import (
	"maps"
	"slices"
	"sort"
)

// Page applies ListOptions to a slice sorted by name: entries after
// opt.After, at most opt.Limit of them, and the token for the next page.
func Page[T any](all []T, opt ListOptions, name func(T) string) ([]T, string) {
	start := 0
	if opt.After != "" {
		start = sort.Search(len(all), func(i int) bool { return name(all[i]) > opt.After })
	}
	all = all[start:]
	if opt.Limit > 0 && len(all) > opt.Limit {
		return all[:opt.Limit], name(all[opt.Limit-1])
	}
	if all == nil {
		all = []T{}
	}
	return all, ""
}

// PageNames is Page for plain names.
func PageNames(names []string, opt ListOptions) ([]string, string) {
	return Page(names, opt, func(s string) string { return s })
}

// RepoPage turns images grouped by repository (repository name → tag
// names), as the directory-like backends find them, into one sorted page of
// repositories. ref gives a repository's reference from its name.
func RepoPage(groups map[string][]string, opt ListOptions, ref func(name string) string) ([]RepoEntry, string) {
	names, next := PageNames(slices.Sorted(maps.Keys(groups)), opt)
	out := make([]RepoEntry, 0, len(names))
	for _, n := range names {
		out = append(out, RepoEntry{Name: n, Ref: ref(n), Tags: slices.Sorted(slices.Values(groups[n]))})
	}
	return out, next
}
