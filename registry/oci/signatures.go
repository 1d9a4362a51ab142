package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/regclient/regclient/types/manifest"

	"pf-registry/internal/crashpoint"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// Signatures follow cosign's convention on the image's OCI manifest
// digest: a Sigstore bundle (a DSSE envelope around an in-toto statement
// naming the digest) in the single layer of an OCI 1.1 referrer manifest,
// listed by the referrers API or, where a registry has none, in the index
// at the tag sha256-<hex> (regclient maintains it when a referrer is
// pushed); and cosign's older simple-signing layers at sha256-<hex>.sig.
// The ProcessFork manifest (the config blob) is reached through the OCI
// manifest, so these cover it too.

// Media types and annotations of a signature referrer.
const (
	MediaTypeEmpty       = "application/vnd.oci.empty.v1+json"
	bundleLayerPrefix    = "application/vnd.dev.sigstore.bundle"
	annotBundleContent   = "dev.sigstore.bundle.content"
	annotBundlePredicate = "dev.sigstore.bundle.predicateType"
	// AnnotationSigner names the signing key's fingerprint on referrers
	// written here (display only; the bundle decides).
	AnnotationSigner = "org.processfork.signer"
)

// maxReferrerManifest bounds a referrer manifest read from a registry.
const maxReferrerManifest = 64 << 10

// signatureTag matches the tags that belong to the image whose digest
// they name: the referrers fallback index and cosign's .sig tag.
var signatureTag = regexp.MustCompile(`^sha256-([0-9a-f]{64})(\.sig)?$`)

// SignatureTagOf returns the image digest a signature tag belongs to.
func SignatureTagOf(tag string) (model.Digest, bool) {
	m := signatureTag.FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return model.Digest("sha256:" + m[1]), true
}

// splitSignatureTags takes the signature tags out of a page of tag names
// and groups them by the digest of the image they belong to.
func splitSignatureTags(names []string) ([]string, map[string][]string) {
	images := names[:0:0]
	sigs := map[string][]string{}
	for _, n := range names {
		if d, ok := SignatureTagOf(n); ok {
			sigs[string(d)] = append(sigs[string(d)], n)
		} else {
			images = append(images, n)
		}
	}
	return images, sigs
}

// referrer is the OCI manifest of one attached bundle.
type referrer struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        Descriptor        `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Subject       *Descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// Signatures implements registry.SignatureSource: the bundle referrers of
// the OCI manifest and the layers of its .sig tag. Referrers that are not
// signature bundles (SBOMs, attestations of other tools) are skipped, as
// cosign does.
func (s *source) Signatures(ctx context.Context) ([]registry.Attached, error) {
	raw, err := s.manifestBytes(ctx)
	if err != nil {
		return nil, err
	}
	digest := string(model.FromBytes(raw))
	rl, err := s.rc.ReferrerList(ctx, s.ref.SetDigest(digest))
	if err != nil && !errors.Is(classify(err, s.name, "referrers"), fault.ErrNotFound) {
		return nil, classify(err, s.name, "referrers of the image")
	}
	var out []registry.Attached
	for i, d := range rl.Descriptors {
		// Other referrers (SBOMs…) are read to be told apart: bounded too.
		if len(out) >= registry.MaxSignatures || i >= 4*registry.MaxSignatures {
			break
		}
		a, ok, err := s.bundleReferrer(ctx, d.Digest.String(), d.Size)
		if err != nil {
			return nil, err
		}
		if ok {
			a.Subject = raw
			out = append(out, a)
		}
	}
	sigs, err := s.simpleSignatures(ctx, digest, registry.MaxSignatures-len(out))
	if err != nil {
		return nil, err
	}
	for _, a := range sigs {
		a.Subject = raw
		out = append(out, a)
	}
	return out, nil
}

// bundleReferrer reads one referrer: a bundle when its manifest has
// exactly one layer of a bundle media type. A manifest missing meanwhile
// is skipped.
func (s *source) bundleReferrer(ctx context.Context, digest string, size int64) (registry.Attached, bool, error) {
	a := registry.Attached{Where: "referrer " + model.Digest(digest).Short()}
	if d, err := model.ParseDigest(digest); err != nil || !d.IsLower() || size > maxReferrerManifest {
		return a, false, nil // not a manifest this tool reads: skipped, as cosign does
	}
	l := s.location
	l.ref = s.ref.SetDigest(digest)
	raw, err := getManifest(ctx, l)
	if errors.Is(err, fault.ErrNotFound) {
		return a, false, nil
	}
	if err != nil {
		return a, false, err
	}
	var m referrer
	if json.Unmarshal(raw, &m) != nil || len(m.Layers) != 1 || !strings.HasPrefix(m.Layers[0].MediaType, bundleLayerPrefix) {
		return a, false, nil
	}
	layer := m.Layers[0]
	if checkDescriptor("bundle layer", layer) != nil {
		a.Problem = "the referrer's bundle layer has an invalid descriptor"
		return a, true, nil
	}
	if layer.Size > signing.MaxBundleSize {
		a.Problem = fmt.Sprintf("bundle is larger than %d bytes", signing.MaxBundleSize)
		return a, true, nil
	}
	a.Bundle, err = readSmallBlob(ctx, l, layer, signing.MaxBundleSize, "signature bundle")
	if errors.Is(err, fault.ErrIntegrity) {
		a.Bundle, a.Problem = nil, "the bundle layer does not match its digest"
		return a, true, nil
	}
	return a, err == nil, err
}

// simpleSignatures reads cosign's older signatures: the layers of the
// sha256-<hex>.sig tag, each a simple-signing payload with its signature
// in an annotation.
func (s *source) simpleSignatures(ctx context.Context, digest string, max int) ([]registry.Attached, error) {
	tag := strings.Replace(digest, ":", "-", 1) + ".sig"
	l := s.location
	l.ref = s.ref.SetTag(tag)
	raw, err := getManifest(ctx, l)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if len(raw) > maxReferrerManifest || json.Unmarshal(raw, &m) != nil {
		return []registry.Attached{{Where: tag, Problem: "the .sig tag is not an image manifest"}}, nil
	}
	var out []registry.Attached
	for i, layer := range m.Layers {
		if len(out) >= max {
			break
		}
		if layer.MediaType != signing.SimpleSigningMediaType {
			continue
		}
		a := registry.Attached{Where: fmt.Sprintf("%s layer %d", tag, i), SignatureB64: layer.Annotations[signing.SimpleSigningSigAnnot]}
		if err := checkDescriptor("signature payload", layer); err != nil || layer.Size > maxSignatureSize {
			a.Problem = "the signature payload layer has an invalid descriptor or is too large"
		} else if a.Payload, err = readSmallBlob(ctx, l, layer, maxSignatureSize, "signature payload"); errors.Is(err, fault.ErrIntegrity) {
			a.Payload, a.Problem = nil, "the signature payload does not match its digest"
		} else if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// attach pushes one bundle as a referrer of the OCI manifest raw: the empty
// config, the bundle layer, then the referrer manifest by digest (regclient
// then adds it to the sha256-<hex> index where the registry has no
// referrers API).
func (s *sink) attach(ctx context.Context, raw, bundle []byte, signer string) error {
	cfg, err := s.putBytes(ctx, MediaTypeEmpty, []byte("{}"), "empty config of a signature")
	if err != nil {
		return err
	}
	layer, err := s.putBytes(ctx, signing.BundleMediaType, bundle, "signature bundle")
	if err != nil {
		return err
	}
	body, err := json.Marshal(referrer{
		SchemaVersion: 2, MediaType: MediaTypeManifest, ArtifactType: signing.BundleMediaType,
		Config:  cfg,
		Layers:  []Descriptor{layer},
		Subject: &Descriptor{MediaType: MediaTypeManifest, Size: int64(len(raw)), Digest: string(model.FromBytes(raw))},
		Annotations: map[string]string{annotBundleContent: "dsse-envelope", annotBundlePredicate: signing.CosignSignPredicate,
			AnnotationSigner: signer},
	})
	if err != nil {
		return err
	}
	m, err := manifest.New(manifest.WithRaw(body))
	if err != nil {
		return fmt.Errorf("%s: building the signature referrer: %w", s.name, err)
	}
	if err := s.rc.ManifestPut(ctx, s.ref.SetDigest(string(model.FromBytes(body))), m); err != nil {
		return writeErr(err, s.name, "signature referrer upload")
	}
	crashpoint.Step("oci.referrer")
	return nil
}

// CommitSigned implements registry.SignedSink: the new OCI manifest by
// digest (untagged), a cosign signature by each key on it and each carried
// bundle that verifies over it (one by the same key signed the same OCI
// manifest bytes), then the manifest by tag. The tag moves last, to an
// image whose signatures are already there; a push killed before leaves
// the old image, whose signatures stay with its digest.
func (s *sink) CommitSigned(ctx context.Context, manifestBytes, sig []byte, b registry.Bundles) ([]signing.Check, error) {
	om, err := s.build(ctx, manifestBytes, sig)
	if err != nil {
		return nil, err
	}
	if b.Empty() {
		return nil, s.putManifest(ctx, om, true)
	}
	raw, err := om.RawBody()
	if err != nil {
		return nil, err
	}
	if err := s.putManifest(ctx, om, false); err != nil {
		return nil, err
	}
	checks, err := s.sign(ctx, raw, b)
	if err != nil {
		return nil, err
	}
	return checks, s.putManifest(ctx, om, true)
}

// AddSignatures implements registry.SignedSink: a cosign signature by each
// key on the OCI manifest at the tag, whose config must be manifest.
func (s *sink) AddSignatures(ctx context.Context, manifestBytes []byte, b registry.Bundles) ([]signing.Check, error) {
	raw, err := getManifest(ctx, s.location)
	if err != nil {
		return nil, err
	}
	img, err := ParseImage(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	if img.Config.Digest != string(model.FromBytes(manifestBytes)) {
		return nil, registry.Changed(s.name)
	}
	return s.sign(ctx, raw, registry.Bundles{Keys: b.Keys, Ring: b.Ring})
}

// sign attaches the bundles of b to the OCI manifest raw and returns their
// checks.
func (s *sink) sign(ctx context.Context, raw []byte, b registry.Bundles) ([]signing.Check, error) {
	ring := b.Keyring()
	digest := string(model.FromBytes(raw))
	var checks []signing.Check
	seen := map[string]bool{}
	add := func(bundle []byte) error {
		c := registry.Attached{Bundle: bundle, Subject: raw}.Check(raw, ring)
		if !c.Status.Verifies() || seen[c.Fingerprint] {
			return nil
		}
		seen[c.Fingerprint] = true
		if err := s.attach(ctx, raw, bundle, c.Fingerprint); err != nil {
			return err
		}
		c.Where = "referrer of " + model.Digest(digest).Short()
		checks = append(checks, c)
		return nil
	}
	for _, k := range b.Keys {
		bundle, err := signing.SignDigestBundle(digest, k)
		if err == nil {
			err = add(bundle)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, a := range b.Carried {
		if a.Bundle != nil && a.Subject != nil {
			if err := add(a.Bundle); err != nil {
				return nil, err
			}
		}
	}
	return checks, nil
}
