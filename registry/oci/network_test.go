package oci

import (
	"strings"
	"testing"

	"pf-registry/internal/faultproxy"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// network is the harness of a registry (not a layout) that is also
// reached through a fault proxy (registrytest's bad-network checks).
type network struct{ *harness }

func (h network) Upstream() string { return "http://" + h.host }

func (h network) OpenVia(_ testing.TB, _ string, cfg registry.Config) registry.Registry {
	return registry.New(New(cfg), cfg)
}

// Via names the proxy as the registry host.
func (h network) Via(t testing.TB, ref registry.Ref, base string) registry.Ref {
	return registrytest.MustRef(t, strings.Replace(ref.Raw, h.host, strings.TrimPrefix(base, "http://"), 1))
}

func (h network) Traffic() registrytest.Traffic {
	return registrytest.Traffic{
		Download: faultproxy.Rule{Method: "GET", Path: "/blobs/"},
		Upload:   faultproxy.Rule{Method: "PUT", Path: "/blobs/uploads/"},
		Resumed:  func(q faultproxy.Request) bool { return q.Range != "" },
	}
}
