package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/termtext"
	"pf-registry/registry"
	"pf-registry/signing"
)

// demoKeyring trusts the demo key and knows the colleague's, as
// `pf-registry demo` sets up the key store.
func demoKeyring(t *testing.T) *signing.Keyring {
	t.Helper()
	ring := signing.NewKeyring()
	for name, trusted := range map[string]bool{"demo": true, "demo-colleague": false} {
		b, err := os.ReadFile(filepath.Join("demo", ".pf-demo-keys", "keys", name+".pub"))
		if err != nil {
			t.Fatal(err)
		}
		pub, err := signing.ParsePublicKeyPEM(b)
		if err != nil {
			t.Fatal(err)
		}
		pub.Name = name
		ring.Add(pub, trusted)
	}
	return ring
}

// TestTagsScreenKeyVerdicts: the tag column shows the verdicts of
// signatures by keys, each with its own symbol.
func TestTagsScreenKeyVerdicts(t *testing.T) {
	ring := demoKeyring(t)
	// The SIGNATURE column is wide enough for "untrusted-key", symbol
	// included.
	for repo, want := range map[string]string{"refactor": "✔ trusted", "research": "~ untrusted-key"} {
		t.Run(repo, func(t *testing.T) {
			h := newHarness(t, 120, 24, func(o *Options) { o.Registry.Keys = ring })
			h.settle("roots checked", idle)
			h.key("down", "enter")
			h.settle("repositories", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
			h.key("/")
			for _, r := range repo {
				h.key(string(r))
			}
			h.key("enter", "enter")
			h.settle("tags with verdicts", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
			h.requireContains(want)
			s := h.top().(*tagsScreen)
			for _, tg := range s.tags {
				if v := s.verdicts[tg.Ref].status; tg.Name != "unsigned" && !strings.HasPrefix(want, termtext.VerdictSymbol(v)+" ") {
					t.Errorf("%s: verdict %q", tg.Name, v)
				}
			}
		})
	}
}

// TestTransferGateLevels: the UI's pull and copy refuse what the engine
// would refuse under the level that applies, and start what it accepts.
func TestTransferGateLevels(t *testing.T) {
	cases := []struct {
		status string
		level  signing.Level
		want   gate
	}{
		{"trusted", signing.RequireTrusted, gateGo},
		{"untrusted-key", signing.RequireTrusted, gateRefuse},
		{"untrusted-key", signing.RequireSigned, gateGo},
		{"valid", signing.RequireTrusted, gateRefuse},
		{"default-key", signing.RequireAny, gateAsk},
		{"default-key", signing.RequireSigned, gateRefuse},
		{"invalid", signing.RequireAny, gateRefuse},
	}
	for _, tc := range cases {
		if g, why := transferGate(tc.status, "", tc.level); g != tc.want || (g == gateRefuse && why == "") {
			t.Errorf("%s under %s: gate %d (%q), want %d", tc.status, tc.level, g, why, tc.want)
		}
	}
	sh := &shared{}
	sh.regCfg.Policy = registry.Policy{Require: signing.RequireSigned}.WithRoots(map[string]signing.Level{"file://demo/alice": signing.RequireTrusted})
	if got := sh.requireFor("file://demo/alice/refactor-agent/v1"); got != signing.RequireTrusted {
		t.Errorf("level under a trusted root: %s", got)
	}
	if got := sh.requireFor("file://demo/bob/research-agent/main"); got != signing.RequireSigned {
		t.Errorf("level elsewhere: %s", got)
	}
}
