package oci

import (
	"strings"
	"testing"

	"pf-registry/internal/faultproxy"
	"pf-registry/registry"
	"pf-registry/registry/faulttest"
)

// TestFaults runs the bad-network checks through a fault proxy in front
// of distribution.
func TestFaults(t *testing.T) {
	host := startDistribution(t)
	faulttest.Run(t, faulttest.Harness{
		Upstream: "http://" + host,
		Open: func(_ testing.TB, _ string, cfg registry.Config) registry.Registry {
			return registry.New(New(cfg), cfg)
		},
		Ref: func(t testing.TB, base, name string) registry.Ref {
			r, err := registry.ParseRef("oci://" + strings.TrimPrefix(base, "http://") + "/" + name + ":v1")
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		Download: faultproxy.Rule{Method: "GET", Path: "/blobs/"},
		Upload:   faultproxy.Rule{Method: "PUT", Path: "/blobs/uploads/"},
		Resumed:  func(q faultproxy.Request) bool { return q.Range != "" },
	})
}
