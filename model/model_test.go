package model_test

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
)

func TestDigestVectors(t *testing.T) {
	var cases []struct {
		InputHex string `json:"input_hex"`
		Digest   string `json:"digest"`
	}
	vectors.Load(t, "digests", &cases)
	if len(cases) == 0 {
		t.Fatal("no digest vectors")
	}
	for _, c := range cases {
		in, err := hex.DecodeString(c.InputHex)
		if err != nil {
			t.Fatal(err)
		}
		if got := model.FromBytes(in); string(got) != c.Digest {
			t.Errorf("FromBytes(%q) = %s, want %s", c.InputHex, got, c.Digest)
		}
	}
}

func TestDigestParseVectors(t *testing.T) {
	var cases []struct {
		Input string `json:"input"`
		Valid bool   `json:"valid"`
		Error string `json:"error"`
	}
	vectors.Load(t, "digest_parse", &cases)
	for _, c := range cases {
		_, err := model.ParseDigest(c.Input)
		if c.Valid {
			if err != nil {
				t.Errorf("ParseDigest(%q): %v, want valid", c.Input, err)
			}
			continue
		}
		want := map[string]error{"missing_prefix": model.ErrMissingPrefix, "not_64_hex": model.ErrNot64Hex}[c.Error]
		if want == nil {
			t.Fatalf("unknown error class %q", c.Error)
		}
		if !errors.Is(err, want) || !errors.Is(err, model.ErrInvalidDigest) {
			t.Errorf("ParseDigest(%q) = %v, want %v", c.Input, err, want)
		}
	}
}

func TestShardPath(t *testing.T) {
	d := model.FromBytes([]byte("hi"))
	p := d.ShardPath()
	if p != "blobs/sha256/8f/8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4.zst" {
		t.Fatalf("ShardPath = %s", p)
	}
	back, err := model.DigestFromShardPath(p)
	if err != nil || back != d {
		t.Fatalf("DigestFromShardPath(%s) = %s, %v", p, back, err)
	}
	for _, bad := range []string{
		"blobs/sha256/00/8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4.zst", // wrong shard
		"blobs/sha256/8f/../8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa.zst",
		"blobs/sha256/8F/8F434346648F6B96DF89DDA901C5176B10A6D83961DD3C1AC88B59B2DC327AA4.zst", // uppercase
		"../blobs/sha256/8f/8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4.zst",
		"blobs/sha256/8f/8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
		"/etc/passwd",
	} {
		if _, err := model.DigestFromShardPath(bad); err == nil {
			t.Errorf("DigestFromShardPath(%q) accepted", bad)
		}
	}
}

func TestJSONStringEscaping(t *testing.T) {
	var v struct {
		Codepoints []rune `json:"input_codepoints"`
		OutputHex  string `json:"serde_json_output_hex"`
	}
	vectors.Load(t, "json_string_escaping", &v)
	want, _ := hex.DecodeString(v.OutputHex)
	got := model.AppendJSONString(nil, string(v.Codepoints))
	if string(got) != string(want) {
		t.Fatalf("AppendJSONString:\n got %q\nwant %q", got, want)
	}
}

func TestCreatedAtRendering(t *testing.T) {
	var cases []struct {
		Nanos    int    `json:"nanos"`
		Rendered string `json:"rendered"`
	}
	vectors.Load(t, "created_at_rendering", &cases)
	for _, c := range cases {
		ts := time.Date(2026, 5, 6, 12, 34, 56, c.Nanos, time.UTC)
		if got := model.FormatTime(ts); got != c.Rendered {
			t.Errorf("FormatTime(%d ns) = %s, want %s", c.Nanos, got, c.Rendered)
		}
		back, err := model.ParseTime(c.Rendered)
		if err != nil || !back.Equal(ts) {
			t.Errorf("ParseTime(%s) = %v, %v", c.Rendered, back, err)
		}
	}
	// Rust accepts other RFC 3339 spellings and normalises to UTC.
	for in, want := range map[string]string{
		"2026-05-06t14:34:56.5+02:00": "2026-05-06T12:34:56.500Z",
		"2026-05-06 12:34:56z":        "2026-05-06T12:34:56Z",
	} {
		ts, err := model.ParseTime(in)
		if err != nil || model.FormatTime(ts) != want {
			t.Errorf("ParseTime(%s) → %s, %v; want %s", in, model.FormatTime(ts), err, want)
		}
	}
}

func TestFixtureManifestIsCanonical(t *testing.T) {
	fx := vectors.LoadFixture(t)
	raw, err := os.ReadFile(filepath.Join(vectors.FixtureDir(), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != fx.ManifestJSON {
		t.Fatal("fixture manifest.json differs from the vectors")
	}
	if id := model.FromBytes(raw); string(id) != fx.ImageCID {
		t.Fatalf("image ID %s, want %s", id, fx.ImageCID)
	}
	m, err := model.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Encode(); string(got) != string(raw) {
		t.Fatalf("re-encoding differs:\n got %s\nwant %s", got, raw)
	}
	if !model.IsCanonical(raw) {
		t.Fatal("fixture manifest not reported canonical")
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Agent.Kind != "claude-code" || m.CreatedAt.Nanosecond() != 123456789 || len(m.Parents) != 0 {
		t.Fatalf("parsed fields wrong: %+v", m)
	}
}

func TestManifestParseAndValidate(t *testing.T) {
	fx := vectors.LoadFixture(t)
	good := fx.ManifestJSON
	tests := []struct {
		name          string
		raw           string
		parseErr      bool
		validateErr   bool
		canonical     bool
		wantWarnCount int
	}{
		{name: "fixture", raw: good, canonical: true},
		{name: "pretty printed", raw: strings.ReplaceAll(good, ",", ", "), canonical: false},
		{name: "trailing whitespace", raw: good + "\n", canonical: false},
		{name: "unknown key ignored", raw: strings.Replace(good, `"parents":[]`, `"parents":[],"extra":1`, 1), canonical: false},
		{name: "parents missing defaults", raw: strings.Replace(good, `,"parents":[]`, ``, 1), canonical: false, wantWarnCount: 1},
		{name: "missing agent", raw: strings.Replace(good, `"agent":{"kind":"claude-code","version":"1.0.15","fingerprint":"pf-cli"},`, ``, 1), parseErr: true},
		{name: "missing nested field", raw: strings.Replace(good, `"fingerprint":"pf-cli"`, `"x":"y"`, 1), parseErr: true},
		{name: "bad created_at", raw: strings.Replace(good, `2026-05-06T12:34:56.123456789Z`, `yesterday`, 1), parseErr: true},
		{name: "not json", raw: "nope", parseErr: true},
		{name: "short digest", raw: strings.Replace(good, `"sha256:a82aac96d31e5af0f2e481c1f98d16a2a448c2db1fc06ffcccd373e52ec5d4cf"`, `"sha256:a8"`, 1), validateErr: true, canonical: true},
		{name: "uppercase digest", raw: strings.Replace(good, `a82aac96d31e5af0f2e481c1f98d16a2a448c2db1fc06ffcccd373e52ec5d4cf`, `A82AAC96D31E5AF0F2E481C1F98D16A2A448C2DB1FC06FFCCCD373E52EC5D4CF`, 1), validateErr: true, canonical: true},
		{name: "schema 2 warns", raw: strings.Replace(good, `"schema_version":1`, `"schema_version":2`, 1), canonical: true, wantWarnCount: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := model.ParseManifest([]byte(tc.raw))
			if tc.parseErr {
				if err == nil || !errors.Is(err, model.ErrManifest) {
					t.Fatalf("want a manifest parse error, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if verr := m.Validate(); (verr != nil) != tc.validateErr {
				t.Fatalf("Validate = %v, want error %v", verr, tc.validateErr)
			}
			if got := model.IsCanonical([]byte(tc.raw)); got != tc.canonical {
				t.Fatalf("IsCanonical = %v, want %v", got, tc.canonical)
			}
			if got := len(m.Warnings()); got != tc.wantWarnCount {
				t.Fatalf("warnings %v, want %d", m.Warnings(), tc.wantWarnCount)
			}
		})
	}
}

func TestWalkSynthetic(t *testing.T) {
	var v struct {
		Blobs  map[string]string `json:"store_blobs_utf8"`
		Layers struct {
			Model   struct{ Base, Diff model.Digest }     `json:"model"`
			Cache   struct{ Manifest model.Digest }       `json:"cache"`
			World   struct{ FS, Env, Procs model.Digest } `json:"world"`
			Effects struct{ Ledger model.Digest }         `json:"effects"`
			Trace   struct{ Messages model.Digest }       `json:"trace"`
		} `json:"manifest_layer_digests"`
		Expected []model.BlobRef `json:"expected_order"`
	}
	vectors.Load(t, "walk_synthetic", &v)
	m := &model.Manifest{}
	m.Model.Base, m.Model.Diff = v.Layers.Model.Base, v.Layers.Model.Diff
	m.Cache.Manifest = v.Layers.Cache.Manifest
	m.World.FS, m.World.Env, m.World.Procs = v.Layers.World.FS, v.Layers.World.Env, v.Layers.World.Procs
	m.Effects.Ledger, m.Trace.Messages = v.Layers.Effects.Ledger, v.Layers.Trace.Messages
	got := model.Walk(m, func(d model.Digest) ([]byte, error) {
		if b, ok := v.Blobs[string(d)]; ok {
			return []byte(b), nil
		}
		return nil, fault.ErrNotFound
	})
	if len(got) != len(v.Expected) {
		t.Fatalf("walk = %v\nwant %v", got, v.Expected)
	}
	for i := range got {
		if got[i] != v.Expected[i] {
			t.Errorf("walk[%d] = %v, want %v", i, got[i], v.Expected[i])
		}
	}
}

func TestWalkFixture(t *testing.T) {
	fx := vectors.LoadFixture(t)
	m, err := model.ParseManifest([]byte(fx.ManifestJSON))
	if err != nil {
		t.Fatal(err)
	}
	load := func(d model.Digest) ([]byte, error) {
		stored, err := os.ReadFile(filepath.Join(vectors.FixtureDir(), d.ShardPath()))
		if err != nil {
			return nil, err
		}
		return blob.DecodeVerified(stored, d, 1<<20)
	}
	got := model.Walk(m, load)
	if len(got) != len(fx.WalkOrder) || len(got) != 13 {
		t.Fatalf("walk has %d blobs, want %d (13)", len(got), len(fx.WalkOrder))
	}
	for i, w := range fx.WalkOrder {
		if string(got[i].Digest) != w.Digest || got[i].Role != w.Role {
			t.Errorf("walk[%d] = %v, want %s %s", i, got[i], w.Digest, w.Role)
		}
		if got[i].Digest.ShardPath() != w.Path {
			t.Errorf("path %s, want %s", got[i].Digest.ShardPath(), w.Path)
		}
	}
	// A missing fs tree just yields fewer digests.
	short := model.Walk(m, func(d model.Digest) ([]byte, error) {
		if d == m.World.FS {
			return nil, fault.ErrNotFound
		}
		return load(d)
	})
	if len(short) != 10 {
		t.Fatalf("walk without fs tree has %d blobs, want 10", len(short))
	}
}

func TestFsTreeAndPageManifestRoundTrip(t *testing.T) {
	fx := vectors.LoadFixture(t)
	m, _ := model.ParseManifest([]byte(fx.ManifestJSON))
	for _, d := range []model.Digest{m.World.FS, m.Cache.Manifest} {
		stored, err := os.ReadFile(filepath.Join(vectors.FixtureDir(), d.ShardPath()))
		if err != nil {
			t.Fatal(err)
		}
		logical, err := blob.DecodeVerified(stored, d, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var enc []byte
		if d == m.World.FS {
			tree, err := model.ParseFsTree(logical)
			if err != nil {
				t.Fatal(err)
			}
			enc = tree.Encode()
		} else {
			pm, err := model.ParsePageManifest(logical)
			if err != nil {
				t.Fatal(err)
			}
			if pm.Dtype != "bf16" || model.DtypeBytes(pm.Dtype) != 2 || len(pm.Pages) != 1 {
				t.Fatalf("page manifest parsed wrong: %+v", pm)
			}
			enc = pm.Encode()
		}
		if string(enc) != string(logical) {
			t.Errorf("re-encoding %s differs:\n got %s\nwant %s", d.Short(), enc, logical)
		}
	}
}
