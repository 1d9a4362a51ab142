package hf

import (
	"testing"

	"pf-registry/internal/faultproxy"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// The harness reaches the test hub through a fault proxy too
// (registrytest's bad-network checks); downloads go through the Hub's
// redirects to its storage, which the proxy serves as well.

func (h *harness) Upstream() string { return h.hub.URL() }

func (h *harness) OpenVia(t testing.TB, base string, cfg registry.Config) registry.Registry {
	b, err := newAt(cfg, base)
	if err != nil {
		t.Fatal(err)
	}
	return registry.New(b, cfg)
}

func (h *harness) Via(_ testing.TB, ref registry.Ref, _ string) registry.Ref { return ref }

func (h *harness) Traffic() registrytest.Traffic {
	return registrytest.Traffic{
		Download: faultproxy.Rule{Method: "GET"},
		Upload:   faultproxy.Rule{Method: "PUT", Path: "/lfs-upload/"},
		Resumed:  func(q faultproxy.Request) bool { return q.Range != "" },
	}
}
