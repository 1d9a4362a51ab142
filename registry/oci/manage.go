package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/regclient/regclient"
	"github.com/regclient/regclient/types/errs"
	"github.com/regclient/regclient/types/manifest"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
)

// Deleting and retagging images of a repository (or a layout). Blobs stay:
// they are shared by every manifest of the repository, and the registry's
// own garbage collection is what reclaims them.

// signaturePrefix starts the tags that hold signatures of a digest: the
// referrers fallback tag sha256-<hex> and cosign's sha256-<hex>.sig.
const signaturePrefix = "sha256-"

// SweepNote implements registry.SweepNoter.
func (b *Backend) SweepNote() string {
	if b.isLayout() {
		return "oci-layout: blobs stay in the layout's blobs/ until a tool collects them"
	}
	return "oci: blobs stay until the registry's garbage collection runs (distribution: `registry garbage-collect`)"
}

// DeleteImage implements registry.Deleter. A tag whose manifest another tag
// also names loses only the tag (a tag delete, or regclient's fallback
// where the registry has none); otherwise the manifest is deleted by
// digest (which removes every tag on it), then its signatures: referrers
// and the sha256-<hex> tags.
func (b *Backend) DeleteImage(ctx context.Context, r registry.Ref) error {
	l, err := b.locate(r)
	if err != nil {
		return err
	}
	m, err := l.rc.ManifestHead(ctx, l.ref, regclient.WithManifestRequireDigest())
	if err != nil {
		return classify(err, l.name, "image manifest")
	}
	dg := m.GetDescriptor().Digest.String()
	if l.ref.Tag != "" {
		shared, err := b.otherTagOn(ctx, l, dg)
		if err != nil {
			return err
		}
		if shared {
			return refusedDelete(l.rc.TagDelete(ctx, l.ref), l.name, "tag")
		}
	}
	sigs, err := b.signatures(ctx, l, dg)
	if err != nil {
		return err
	}
	if err := refusedDelete(l.rc.ManifestDelete(ctx, l.ref.SetDigest(dg)), l.name, "manifest"); err != nil {
		return err
	}
	for _, s := range sigs {
		err := l.rc.ManifestDelete(ctx, l.ref.SetDigest(s), regclient.WithManifestCheckReferrers())
		if err != nil && !errors.Is(err, errs.ErrNotFound) && httpStatus(err) != http.StatusNotFound {
			return refusedDelete(err, l.name, "signature")
		}
	}
	return nil
}

// otherTagOn reports whether a tag other than l's (signature tags aside)
// names manifest dg.
func (b *Backend) otherTagOn(ctx context.Context, l location, dg string) (bool, error) {
	names, err := b.allTagNames(ctx, l)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == l.ref.Tag || strings.HasPrefix(n, signaturePrefix) {
			continue
		}
		m, err := l.rc.ManifestHead(ctx, l.ref.SetTag(n), regclient.WithManifestRequireDigest())
		if errors.Is(err, errs.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return false, classify(err, l.name, "manifest of tag "+n)
		}
		if m.GetDescriptor().Digest.String() == dg {
			return true, nil
		}
	}
	return false, nil
}

// signatures lists the manifests that sign dg: its referrers and the
// manifests of the sha256-<hex>* tags, learnt before dg is deleted.
func (b *Backend) signatures(ctx context.Context, l location, dg string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(d string) {
		if !seen[d] && d != dg {
			seen[d] = true
			out = append(out, d)
		}
	}
	if rl, err := l.rc.ReferrerList(ctx, l.ref.SetDigest(dg)); err == nil {
		for _, d := range rl.Descriptors {
			add(d.Digest.String())
		}
	}
	names, err := b.allTagNames(ctx, l)
	if err != nil {
		return nil, err
	}
	prefix := signaturePrefix + strings.TrimPrefix(dg, "sha256:")
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		m, err := l.rc.ManifestHead(ctx, l.ref.SetTag(n), regclient.WithManifestRequireDigest())
		if err == nil {
			add(m.GetDescriptor().Digest.String())
		}
	}
	return out, nil
}

// allTagNames lists every tag of l's repository.
func (b *Backend) allTagNames(ctx context.Context, l location) ([]string, error) {
	var out []string
	opt := registry.ListOptions{}
	for {
		names, next, err := b.tagPage(ctx, l, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
		if next == "" || len(names) == 0 {
			return out, nil
		}
		opt.After = next
	}
}

// refusedDelete names a registry that does not allow deletes.
func refusedDelete(err error, where, what string) error {
	if err == nil {
		return nil
	}
	code := httpStatus(err)
	if code == http.StatusMethodNotAllowed || errors.Is(err, errs.ErrUnsupportedAPI) || strings.Contains(err.Error(), "UNSUPPORTED") {
		return fault.WithHint(fmt.Errorf("%s: the registry refuses to delete the %s (HTTP %d UNSUPPORTED: deletes are disabled)", where, what, code),
			"enable deletes on the registry (distribution: storage.delete.enabled: true) or delete it with the registry's own tools")
	}
	return classify(err, where, what+" delete")
}

// RetagImage implements registry.Retagger: the same OCI manifest bytes are
// put under the new tag of the same repository (or layout), so the digest,
// and with it every signature, stays the same and no blob moves.
func (b *Backend) RetagImage(ctx context.Context, src, dst registry.Ref, _ []model.Digest) error {
	ls, err := b.locate(src)
	if err != nil {
		return err
	}
	ld, err := b.locate(dst)
	if err != nil {
		return err
	}
	if ls.ref.Registry != ld.ref.Registry || ls.ref.Repository != ld.ref.Repository || ls.ref.Path != ld.ref.Path {
		return fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("retag stays in one repository: %s and %s differ", src.Raw, dst.Raw)),
			"use `pf-registry copy` to copy an image to another repository")
	}
	if ld.ref.Tag == "" {
		return fault.WithHint(fault.Classed(fault.ErrBadRef, fmt.Errorf("cannot retag to a digest reference %s", dst.Raw)), "name a tag")
	}
	raw, err := getManifest(ctx, ls)
	if err != nil {
		return err
	}
	m, err := manifest.New(manifest.WithRaw(raw), manifest.WithRef(ls.ref))
	if err != nil {
		return fmt.Errorf("%s: %w", src.Raw, err)
	}
	return writeErr(ld.rc.ManifestPut(ctx, ld.ref, m), ld.name, "manifest")
}
