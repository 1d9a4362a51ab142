package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"pf-registry/registry"
	"pf-registry/signing"
)

// Signatures implements registry.SignatureSource: the Sigstore bundles
// beside manifest.json, by name, at most registry.MaxSignatures.
func (d *dirImage) Signatures(context.Context) ([]registry.Attached, error) {
	ents, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if registry.IsBundleFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) > registry.MaxSignatures {
		names = names[:registry.MaxSignatures]
	}
	out := make([]registry.Attached, 0, len(names))
	for _, n := range names {
		b, err := readBundle(filepath.Join(d.dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile by a switch
		}
		if err != nil {
			return nil, err
		}
		a := registry.Attached{Where: n, Bundle: b}
		if len(b) > signing.MaxBundleSize {
			a.Bundle, a.Problem = nil, fmt.Sprintf("bundle is larger than %d bytes", signing.MaxBundleSize)
		}
		out = append(out, a)
	}
	return out, nil
}

// readBundle reads a bundle file, at most one byte more than
// signing.MaxBundleSize: verification refuses an oversized bundle, the
// other signatures standing.
func readBundle(p string) ([]byte, error) {
	f, _, err := openRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, signing.MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return b, nil
}
