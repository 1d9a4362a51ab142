package ipfs

import (
	"strings"
	"testing"

	"pf-registry/internal/faultproxy"
	"pf-registry/registry"
	"pf-registry/registry/faulttest"
)

// TestFaults runs the bad-network checks through a fault proxy in front
// of Kubo's RPC API.
func TestFaults(t *testing.T) {
	k := needDaemon(t)
	faulttest.Run(t, faulttest.Harness{
		Upstream: k.api,
		Open: func(t testing.TB, base string, cfg registry.Config) registry.Registry {
			t.Setenv("IPFS_API", base)
			return openIPFS(t, cfg)
		},
		Ref: func(t testing.TB, _, name string) registry.Ref {
			return mustRef(t, "ipfs://"+strings.ReplaceAll(name, "/", "-"))
		},
		Download: faultproxy.Rule{Method: "POST", Path: "/api/v0/cat"},
		Upload:   faultproxy.Rule{Method: "POST", Path: "/api/v0/add"},
		Resumed:  func(q faultproxy.Request) bool { return strings.Contains(q.Query, "offset=") },
	})
}
