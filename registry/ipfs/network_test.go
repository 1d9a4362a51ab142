package ipfs

import (
	"strings"
	"testing"

	"pf-registry/internal/faultproxy"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// The harness reaches Kubo's RPC API through a fault proxy too
// (registrytest's bad-network checks).

func (h *harness) Upstream() string { return h.k.api }

func (h *harness) OpenVia(_ testing.TB, base string, cfg registry.Config) registry.Registry {
	return registry.New(newAt(cfg, base, "the test's proxy"), cfg)
}

func (h *harness) Traffic() registrytest.Traffic {
	return registrytest.Traffic{
		Download: faultproxy.Rule{Method: "POST", Path: "/api/v0/cat"},
		Upload:   faultproxy.Rule{Method: "POST", Path: "/api/v0/add"},
		Resumed:  func(q faultproxy.Request) bool { return strings.Contains(q.Query, "offset=") },
	}
}
