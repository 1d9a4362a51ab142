package registry_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
)

func TestImageRefVectors(t *testing.T) {
	var cases []struct {
		Input   string            `json:"input"`
		Result  map[string]any    `json:"result"`
		Derived map[string]string `json:"derived"`
	}
	vectors.Load(t, "image_refs", &cases)
	if len(cases) < 40 {
		t.Fatalf("only %d ref vectors", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Input, func(t *testing.T) {
			r, err := registry.ParseRef(c.Input)
			if e, ok := c.Result["error"]; ok {
				if err == nil || !errors.Is(err, fault.ErrBadRef) {
					t.Fatalf("want %v error, got %+v, %v", e, r, err)
				}
				if reason, ok := c.Result["reason"].(string); ok && !strings.Contains(err.Error(), reason) {
					t.Fatalf("error %q lacks reason %q", err, reason)
				}
				if e == "bad_scheme" && !strings.Contains(err.Error(), "unrecognised URL scheme") {
					t.Fatalf("error %q is not the bad-scheme message", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := c.Result
			check := func(key string, got any) {
				t.Helper()
				w, ok := want[key]
				if !ok {
					return
				}
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(w)
				if string(gj) != string(wj) {
					t.Errorf("%s = %s, want %s", key, gj, wj)
				}
			}
			check("scheme", r.Scheme)
			check("path", r.Path)
			check("user", r.User)
			check("repo", r.Repo)
			check("bucket", r.Bucket)
			check("prefix", r.Prefix)
			check("cid", r.CID)
			check("host", r.Host)
			var tag any
			if r.HasTag {
				tag = r.Tag
			}
			check("tag", tag)
			var port any
			if r.HasPort {
				port = r.Port
			}
			check("port", port)
			for k, v := range c.Derived {
				var got string
				switch k {
				case "root_dir":
					got = r.Path
				case "revision":
					got = r.HFRevision()
				case "key_prefix":
					got = r.S3KeyPrefix()
				case "manifest_key":
					got = r.S3Key("manifest.json")
				case "sig_key":
					got = r.S3Key("manifest.json.sig")
				case "list_prefix":
					got = r.S3Key("blobs/sha256/")
				case "ls_arg":
					got = r.CID
				case "base_url":
					got = r.RustOCIBaseURL()
				case "reference":
					got = r.OCIReference()
				case "manifest_url":
					got = r.RustOCIBaseURL() + "/v2/" + r.Repo + "/manifests/" + r.OCIReference()
				default:
					t.Fatalf("unknown derived key %s", k)
				}
				if got != v {
					t.Errorf("derived %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestRefExtensions(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	r, err := registry.ParseRef("oci://localhost:5000/team/img@" + d)
	if err != nil || r.Digest != model.Digest(d) || r.Repo != "team/img" || r.HasTag || r.OCIReference() != d {
		t.Fatalf("digest ref: %+v, %v", r, err)
	}
	r, err = registry.ParseRef("oci-layout:./out/layout#v2")
	if err != nil || r.Scheme != registry.LayoutScheme || r.Path != "./out/layout" || r.Tag != "v2" {
		t.Fatalf("layout ref: %+v, %v", r, err)
	}
	if _, err := registry.ParseRef("oci-layout:"); err == nil {
		t.Fatal("empty layout path accepted")
	}
	roots := map[string]registry.Ref{
		"oci://localhost:5000":   {Scheme: "oci", Host: "localhost", Port: 5000, HasPort: true},
		"oci://registry.example": {Scheme: "oci", Host: "registry.example"},
		"hf://alice":             {Scheme: "hf", User: "alice"},
		"ipfs://":                {Scheme: "ipfs"},
		"s3://bucket":            {Scheme: "s3", Bucket: "bucket"},
		"file://reg":             {Scheme: "file", Path: "reg"},
	}
	for in, want := range roots {
		got, err := registry.ParseRoot(in)
		want.Raw = in
		if err != nil || got != want {
			t.Errorf("ParseRoot(%s) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "localhost": true, "::1": true, "[::1]": true,
		"registry.example.com": false, "127.example.com": false, "127.0.0.1.nip.io": false, "10.0.0.1": false, "": false,
	} {
		if got := (registry.Ref{Host: host}).IsLoopbackHost(); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestUnsupportedScheme(t *testing.T) {
	// No backend is linked into this test binary.
	_, _, err := registry.ForRef("s3://bucket/prefix", registry.Config{})
	if !errors.Is(err, fault.ErrUnsupportedScheme) || fault.Hint(err) == "" {
		t.Fatalf("ForRef without a backend: %v", err)
	}
}
