package hf

import (
	"testing"

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

func (h *harness) Traffic() registrytest.Traffic { return registrytest.HTTPTraffic("/lfs-upload/") }
