package hf

import (
	"strings"
	"testing"

	"pf-registry/internal/faultproxy"
	"pf-registry/registry"
	"pf-registry/registry/faulttest"
	"pf-registry/registry/hf/hubtest"
)

// TestFaults runs the bad-network checks through a fault proxy in front
// of the test hub (downloads go through the Hub's redirects to storage).
func TestFaults(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	t.Setenv("HF_HOME", t.TempDir())
	t.Setenv("HF_TOKEN_PATH", "")
	t.Setenv("HF_TOKEN", aliceToken)
	faulttest.Run(t, faulttest.Harness{
		Upstream: h.URL(),
		Open: func(t testing.TB, base string, cfg registry.Config) registry.Registry {
			t.Setenv("HF_ENDPOINT", base)
			reg, err := registry.Open("hf", cfg)
			if err != nil {
				t.Fatal(err)
			}
			return reg
		},
		Ref: func(t testing.TB, _, name string) registry.Ref {
			return ref(t, "hf://alice/"+strings.ReplaceAll(name, "/", "-"))
		},
		Download: faultproxy.Rule{Method: "GET"},
		Upload:   faultproxy.Rule{Method: "PUT", Path: "/lfs-upload/"},
		Resumed:  func(q faultproxy.Request) bool { return q.Range != "" },
	})
}
