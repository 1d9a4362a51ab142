package oci

import (
	"encoding/json"
	"fmt"

	"pf-registry/internal/fault"
	"pf-registry/model"
)

// Media types and the annotation of spec §9.5.
const (
	MediaTypeManifest  = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig    = "application/vnd.processfork.image.v1+json"
	MediaTypeSignature = "application/vnd.processfork.signature.v1+json"
	MediaTypeLayer     = "application/vnd.processfork.layer.v1+zstd"
	AnnotationPath     = "org.processfork.path"
	// SignaturePath is the path annotation of the signature layer.
	SignaturePath = "manifest.json.sig"
)

// Descriptor is one OCI descriptor as this backend reads and writes it.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Size        int64             `json:"size"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Manifest is the part of an OCI image manifest the backend uses.
type Manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
}

// Layer is one blob layer with the logical digest its annotation names.
type Layer struct {
	Logical model.Digest
	Stored  Descriptor
}

// Image is a parsed ProcessFork OCI manifest.
type Image struct {
	Config    Descriptor
	Signature *Descriptor // nil when the manifest has no signature layer
	Layers    []Layer     // walk order, as stored
	byLogical map[model.Digest]int
}

// Layer returns the layer holding a logical blob.
func (im *Image) Layer(d model.Digest) (Layer, bool) {
	i, ok := im.byLogical[d]
	if !ok {
		return Layer{}, false
	}
	return im.Layers[i], true
}

// errNotProcessFork marks a manifest that is valid OCI but not an image of
// ours (a container image in the same repository): listings show it as
// foreign, pulls refuse it.
type errNotProcessFork struct{ configType string }

func (e *errNotProcessFork) Error() string {
	if e.configType == "" {
		return "not a ProcessFork image (an OCI index or a manifest without config)"
	}
	return fmt.Sprintf("not a ProcessFork image (config media type %q)", e.configType)
}

// ParseImage reads raw OCI manifest bytes strictly: schema version 2, the
// OCI manifest media type, the ProcessFork config type, valid digests, and
// blob layers whose path annotation is exactly blobs/sha256/<aa>/<hex>.zst.
// Layers of other media types are ignored (as Rust does); when several
// signature layers exist the last one wins (as Rust does).
func ParseImage(raw []byte) (*Image, error) {
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fault.Integrityf("OCI manifest is not valid JSON: %v", err)
	}
	if m.Config.MediaType != MediaTypeConfig {
		return nil, &errNotProcessFork{configType: m.Config.MediaType}
	}
	if m.SchemaVersion != 2 {
		return nil, fault.Integrityf("OCI manifest has schemaVersion %d, expected 2", m.SchemaVersion)
	}
	// An absent mediaType is accepted (some tools omit it; the registry
	// served it as an OCI manifest); Rust itself always writes it.
	if m.MediaType != MediaTypeManifest && m.MediaType != "" {
		return nil, fault.Integrityf("OCI manifest has mediaType %q, expected %q", m.MediaType, MediaTypeManifest)
	}
	if err := checkDescriptor("config", m.Config); err != nil {
		return nil, err
	}
	im := &Image{Config: m.Config, byLogical: map[model.Digest]int{}}
	for i, l := range m.Layers {
		switch l.MediaType {
		case MediaTypeSignature:
			if err := checkDescriptor("signature layer", l); err != nil {
				return nil, err
			}
			sig := l
			im.Signature = &sig
		case MediaTypeLayer:
			if err := checkDescriptor(fmt.Sprintf("layer %d", i), l); err != nil {
				return nil, err
			}
			p := l.Annotations[AnnotationPath]
			d, err := model.DigestFromShardPath(p)
			if err != nil {
				return nil, fault.Integrityf("layer %d (%s): %v", i, l.Digest, err)
			}
			if _, dup := im.byLogical[d]; !dup {
				im.byLogical[d] = len(im.Layers)
			}
			im.Layers = append(im.Layers, Layer{Logical: d, Stored: l})
		}
	}
	return im, nil
}

func checkDescriptor(what string, d Descriptor) error {
	pd, err := model.ParseDigest(d.Digest)
	if err != nil || !pd.IsLower() {
		return fault.Integrityf("OCI %s has an invalid digest %q", what, d.Digest)
	}
	if d.Size < 0 {
		return fault.Integrityf("OCI %s has a negative size", what)
	}
	return nil
}

// BuildManifest renders the OCI manifest exactly as the Rust tool writes it
// (spec §9.5): compact, struct order, descriptor keys mediaType, size,
// digest, annotations, config without annotations.
func BuildManifest(config, signature Descriptor, layers []Layer) []byte {
	b := make([]byte, 0, 256+len(layers)*230)
	b = append(b, `{"schemaVersion":2,"mediaType":`...)
	b = model.AppendJSONString(b, MediaTypeManifest)
	b = append(b, `,"config":`...)
	b = appendDescriptor(b, config.MediaType, config.Size, config.Digest, "")
	b = append(b, `,"layers":[`...)
	b = appendDescriptor(b, signature.MediaType, signature.Size, signature.Digest, SignaturePath)
	for _, l := range layers {
		b = append(b, ',')
		b = appendDescriptor(b, MediaTypeLayer, l.Stored.Size, l.Stored.Digest, l.Logical.ShardPath())
	}
	return append(b, "]}"...)
}

func appendDescriptor(b []byte, mediaType string, size int64, digest, path string) []byte {
	b = append(b, `{"mediaType":`...)
	b = model.AppendJSONString(b, mediaType)
	b = append(b, `,"size":`...)
	b = model.AppendUint(b, uint64(size))
	b = append(b, `,"digest":`...)
	b = model.AppendJSONString(b, digest)
	if path != "" {
		b = append(b, `,"annotations":{`...)
		b = model.AppendJSONString(b, AnnotationPath)
		b = append(b, ':')
		b = model.AppendJSONString(b, path)
		b = append(b, '}')
	}
	return append(b, '}')
}
