package registry_test

import (
	"errors"
	"strings"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/registry"
)

// rebuild writes the reference a parse describes; parsing it again must
// give the same fields.
func rebuild(r registry.Ref) string {
	switch r.Scheme {
	case "hf":
		s := "hf://" + r.User + "/" + r.Repo
		if r.HasTag {
			s += ":" + r.Tag
		}
		return s
	case "oci":
		s := "oci://" + r.OCIHostPort() + "/" + r.Repo
		switch {
		case r.Digest != "":
			s += "@" + string(r.Digest)
		case r.HasTag:
			s += ":" + r.Tag
		}
		return s
	}
	return r.Raw
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"file://./reg/a/v1", "file://", "hf://alice/foo:bar", "hf://alice/foo:bar/baz", "s3://b/p/", "ipfs://bafy",
		"oci://localhost:5000/a/b:v1", "oci://h:+05000/r", "oci://h/r@sha256:" + strings.Repeat("a", 64),
		"oci://[::1]:5000/x", "oci:///x", "oci-layout:./l#v1", "OCI://h/r", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := registry.ParseRef(s)
		if _, rerr := registry.ParseRoot(s); rerr != nil && err == nil {
			t.Fatalf("%q: a reference that is not a root: %v", s, rerr)
		}
		if err != nil {
			if !errors.Is(err, fault.ErrBadRef) || strings.ContainsAny(err.Error(), "\n\r") && !strings.ContainsAny(s, "\n\r") {
				t.Fatalf("%q: error %v is not a one-line bad-reference error", s, err)
			}
			return
		}
		if r.Raw != s {
			t.Fatalf("%q: Raw %q", s, r.Raw)
		}
		switch r.Scheme {
		case "file":
			if "file://"+r.Path != s {
				t.Fatalf("%q: path %q", s, r.Path)
			}
		case "oci":
			hostPart, _, _ := strings.Cut(strings.TrimPrefix(s, "oci://"), "/")
			if r.HasPort != strings.Contains(hostPart, ":") || r.Port > 65535 {
				t.Fatalf("%q: port %d (has %v)", s, r.Port, r.HasPort)
			}
			if r.Digest != "" && r.Digest.Validate() != nil {
				t.Fatalf("%q: digest %q", s, r.Digest)
			}
		case "hf", "s3", "ipfs", registry.LayoutScheme:
		default:
			t.Fatalf("%q: scheme %q", s, r.Scheme)
		}
		again, err := registry.ParseRef(rebuild(r))
		if err != nil {
			t.Fatalf("%q rebuilt as %q: %v", s, rebuild(r), err)
		}
		again.Raw = r.Raw
		if again != r {
			t.Fatalf("%q rebuilt as %q parses to %+v, not %+v", s, rebuild(r), again, r)
		}
	})
}
