package ipfs

import (
	"errors"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/registry"
)

func TestEndpointURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://127.0.0.1:5001", "http://127.0.0.1:5001"},
		{"http://127.0.0.1:5001/", "http://127.0.0.1:5001"},
		{"https://ipfs.example:443/api/v0", "https://ipfs.example:443"},
		{"/ip4/127.0.0.1/tcp/45123", "http://127.0.0.1:45123"},
		{"/ip4/10.0.0.2/tcp/5001/https", "https://10.0.0.2:5001"},
		{"/ip6/::1/tcp/5001", "http://[::1]:5001"},
		{"/dns4/kubo.local/tcp/5001/http", "http://kubo.local:5001"},
		{"/unix/run/ipfs.sock", ""},
		{"/ip4/127.0.0.1/udp/5001", ""},
		{"127.0.0.1:5001", ""},
		{"http://", ""},
	} {
		got, err := endpointURL(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("endpointURL(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("endpointURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestEncodeQuery(t *testing.T) {
	// Spec §9.4: A-Z a-z 0-9 - _ . ~ / stay, the rest is %XX uppercase.
	got := encodeQuery(args("arg", "/processfork/a b:c?d&e=ü", "arg", "Qm~x_y-z.0"))
	want := "arg=/processfork/a%20b%3Ac%3Fd%26e%3D%C3%BC&arg=Qm~x_y-z.0"
	if got != want {
		t.Fatalf("encodeQuery = %q, want %q", got, want)
	}
}

func TestParseTarget(t *testing.T) {
	cid := "QmPG6W2L6vvKj1Ye3GFCzFeP6GzNx6EEtxhJV8x4RnXh5Y"
	for _, c := range []struct {
		in              string
		path, repo, tag string
		bad             bool
	}{
		{in: cid, path: cid},
		{in: cid + "/sub/dir", path: cid + "/sub/dir"},
		{in: "/ipfs/" + cid, path: "/ipfs/" + cid},
		{in: "agent", repo: "agent", tag: "latest"},
		{in: "agent:v1.2_rc-3", repo: "agent", tag: "v1.2_rc-3"},
		{in: "new", repo: "new", tag: "latest"},
		{in: "0123456789012345678901234567890123456789", repo: "0123456789012345678901234567890123456789", tag: "latest"},
		{in: "01234567890123456789012345678901234567890", path: "01234567890123456789012345678901234567890"},
		{in: "agent:", bad: true},
		{in: ":v1", bad: true},
		{in: ".hidden:v1", bad: true},
		{in: "a/b:v1", bad: true},
		{in: "agent:v1:x", bad: true},
	} {
		ref, err := registry.ParseRef("ipfs://" + c.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseTarget(ref)
		if c.bad {
			if err == nil || !errors.Is(err, fault.ErrBadRef) || fault.Hint(err) == "" {
				t.Errorf("%q: got %+v, %v; want a bad-reference error with a hint", c.in, got, err)
			}
			continue
		}
		if err != nil || got.path != c.path || got.repo != c.repo || got.tag != c.tag {
			t.Errorf("%q: got path %q repo %q tag %q (%v); want %q %q %q", c.in, got.path, got.repo, got.tag, err, c.path, c.repo, c.tag)
		}
	}
}
