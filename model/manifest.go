package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"pf-registry/internal/fault"
)

// Media type and schema of v1 images.
const (
	ManifestMediaType = "application/vnd.processfork.image.v1+json"
	SchemaVersion     = 1
	CacheLayoutV1     = "paged-batchinvariant-v1"
)

// Manifest is the image manifest (spec §3), fields in wire order.
type Manifest struct {
	SchemaVersion uint32
	MediaType     string
	Agent         Agent
	Model         ModelRefs
	Cache         CacheRefs
	World         WorldRefs
	Effects       EffectsRefs
	Trace         TraceRefs
	CreatedAt     time.Time
	Parents       []Digest
	// parentsMissing records an input without "parents" (non-canonical).
	parentsMissing bool
}

// Agent identifies what was snapshotted.
type Agent struct{ Kind, Version, Fingerprint string }

// ModelRefs point at the model blobs.
type ModelRefs struct{ Base, Diff Digest }

// CacheRefs point at the KV cache page manifest.
type CacheRefs struct {
	Layout   string
	Manifest Digest
}

// WorldRefs point at the captured world.
type WorldRefs struct{ FS, Env, Procs Digest }

// EffectsRefs point at the effects ledger.
type EffectsRefs struct{ Ledger Digest }

// TraceRefs point at the message trace.
type TraceRefs struct{ Messages Digest }

// ErrManifest classes manifest parse and validation failures.
var ErrManifest = errors.New("manifest error")

func manifestErr(format string, a ...any) error {
	return fault.Classed(ErrManifest, fmt.Errorf("manifest: "+format, a...))
}

// ParseManifest decodes manifest bytes as Rust does: unknown keys ignored,
// every field but parents required, created_at any RFC 3339 form; and it
// refuses what Rust refuses but encoding/json would accept (duplicate keys,
// invalid UTF-8, null fields; see CheckTyped). Digest fields are not
// validated here (see Validate).
func ParseManifest(raw []byte) (*Manifest, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, manifestErr("not a JSON object: %v", err)
	}
	if err := CheckTyped(raw); err != nil {
		return nil, manifestErr("%v", err)
	}
	m := &Manifest{}
	get := func(obj map[string]json.RawMessage, path, key string, dst any) error {
		v, ok := obj[key]
		if !ok {
			return manifestErr("missing field %s%s", path, key)
		}
		if bytes.Equal(v, []byte("null")) {
			// Go would leave the zero value; Rust has no optional field here.
			return manifestErr("field %s%s is null", path, key)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return manifestErr("field %s%s: %v", path, key, err)
		}
		return nil
	}
	sub := func(key string, fields map[string]any) error {
		var obj map[string]json.RawMessage
		if err := get(top, "", key, &obj); err != nil {
			return err
		}
		if obj == nil {
			return manifestErr("field %s is not an object", key)
		}
		for k, dst := range fields {
			if err := get(obj, key+".", k, dst); err != nil {
				return err
			}
		}
		return nil
	}
	var created string
	steps := []error{
		get(top, "", "schema_version", &m.SchemaVersion),
		get(top, "", "media_type", &m.MediaType),
		sub("agent", map[string]any{"kind": &m.Agent.Kind, "version": &m.Agent.Version, "fingerprint": &m.Agent.Fingerprint}),
		sub("model", map[string]any{"base": &m.Model.Base, "diff": &m.Model.Diff}),
		sub("cache", map[string]any{"layout": &m.Cache.Layout, "manifest": &m.Cache.Manifest}),
		sub("world", map[string]any{"fs": &m.World.FS, "env": &m.World.Env, "procs": &m.World.Procs}),
		sub("effects", map[string]any{"ledger": &m.Effects.Ledger}),
		sub("trace", map[string]any{"messages": &m.Trace.Messages}),
		get(top, "", "created_at", &created),
	}
	for _, err := range steps {
		if err != nil {
			return nil, err
		}
	}
	t, err := ParseTime(created)
	if err != nil {
		return nil, manifestErr("created_at %q: %v", created, err)
	}
	m.CreatedAt = t
	if _, ok := top["parents"]; ok {
		if err := get(top, "", "parents", &m.Parents); err != nil {
			return nil, err
		}
	} else {
		m.parentsMissing = true
	}
	if m.Parents == nil {
		m.Parents = []Digest{}
	}
	return m, nil
}

// ParseTime accepts any RFC 3339 date-time ('T', 't' or space separator,
// any offset, any number of fraction digits) and returns it in UTC.
func ParseTime(s string) (time.Time, error) {
	if len(s) > 10 && (s[10] == 't' || s[10] == ' ') {
		s = s[:10] + "T" + s[11:]
	}
	s = strings.Replace(s, "z", "Z", 1)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// Encode renders the canonical bytes (spec §2): compact, struct order,
// parents always present.
func (m *Manifest) Encode() []byte {
	b := make([]byte, 0, 1024)
	b = append(b, `{"schema_version":`...)
	b = AppendUint(b, uint64(m.SchemaVersion))
	b = append(b, `,"media_type":`...)
	b = AppendJSONString(b, m.MediaType)
	b = append(b, `,"agent":{"kind":`...)
	b = AppendJSONString(b, m.Agent.Kind)
	b = append(b, `,"version":`...)
	b = AppendJSONString(b, m.Agent.Version)
	b = append(b, `,"fingerprint":`...)
	b = AppendJSONString(b, m.Agent.Fingerprint)
	b = append(b, `},"model":{"base":`...)
	b = AppendJSONString(b, string(m.Model.Base))
	b = append(b, `,"diff":`...)
	b = AppendJSONString(b, string(m.Model.Diff))
	b = append(b, `},"cache":{"layout":`...)
	b = AppendJSONString(b, m.Cache.Layout)
	b = append(b, `,"manifest":`...)
	b = AppendJSONString(b, string(m.Cache.Manifest))
	b = append(b, `},"world":{"fs":`...)
	b = AppendJSONString(b, string(m.World.FS))
	b = append(b, `,"env":`...)
	b = AppendJSONString(b, string(m.World.Env))
	b = append(b, `,"procs":`...)
	b = AppendJSONString(b, string(m.World.Procs))
	b = append(b, `},"effects":{"ledger":`...)
	b = AppendJSONString(b, string(m.Effects.Ledger))
	b = append(b, `},"trace":{"messages":`...)
	b = AppendJSONString(b, string(m.Trace.Messages))
	b = append(b, `},"created_at":`...)
	b = AppendJSONString(b, FormatTime(m.CreatedAt))
	b = append(b, `,"parents":[`...)
	for i, p := range m.Parents {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, string(p))
	}
	return append(b, "]}"...)
}

// IsCanonical reports whether raw is exactly the canonical encoding of its
// own parse: only then does the Rust CLI record the same image ID after
// pulling it (it re-serializes).
func IsCanonical(raw []byte) bool {
	m, err := ParseManifest(raw)
	return err == nil && !m.parentsMissing && bytes.Equal(m.Encode(), raw)
}

// TopLevel is the eight top-level blob references in walk order.
func (m *Manifest) TopLevel() []BlobRef {
	return []BlobRef{
		{m.Model.Base, "model.base"},
		{m.Model.Diff, "model.diff"},
		{m.Cache.Manifest, "cache.manifest"},
		{m.World.FS, "world.fs"},
		{m.World.Env, "world.env"},
		{m.World.Procs, "world.procs"},
		{m.Effects.Ledger, "effects.ledger"},
		{m.Trace.Messages, "trace.messages"},
	}
}

// Validate checks every digest of the manifest (spec §1.3: Rust does not,
// and can panic later). Uppercase digests are rejected too: they can never
// match a computed digest.
func (m *Manifest) Validate() error {
	for _, r := range m.TopLevel() {
		if err := r.Digest.Validate(); err != nil {
			return manifestErr("%s: %v", r.Role, err)
		}
		if !r.Digest.IsLower() {
			return manifestErr("%s: digest %s has uppercase hex and can never verify", r.Role, r.Digest)
		}
	}
	for i, p := range m.Parents {
		if err := p.Validate(); err != nil {
			return manifestErr("parents[%d]: %v", i, err)
		}
	}
	return nil
}

// Warnings lists things worth showing that do not stop a transfer.
func (m *Manifest) Warnings() []string {
	var w []string
	if m.SchemaVersion != SchemaVersion {
		w = append(w, fmt.Sprintf("schema_version is %d, this tool knows 1", m.SchemaVersion))
	}
	if m.MediaType != ManifestMediaType {
		w = append(w, fmt.Sprintf("media_type is %q, expected %s", m.MediaType, ManifestMediaType))
	}
	if m.parentsMissing {
		w = append(w, "parents is missing (defaults to [])")
	}
	return w
}
