package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/registry"
)

func TestFuzzyScore(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		ok     bool
	}{
		{"", "anything", true},
		{"av1", "alice/refactor-agent/v1", true},
		{"AV1", "alice/v1", true},
		{"1va", "alice/v1", false},
		{"nightly", "ci/nightly", true},
		{"xyz", "ci/nightly", false},
	} {
		if _, ok := fuzzyScore(tc.pat, tc.s); ok != tc.ok {
			t.Errorf("fuzzyScore(%q, %q) ok=%v, want %v", tc.pat, tc.s, ok, tc.ok)
		}
	}
	// Consecutive, word-start matches rank first.
	a, _ := fuzzyScore("v1", "agent/v1")
	b, _ := fuzzyScore("v1", "very-long-name-1")
	if a <= b {
		t.Errorf("agent/v1 (%d) should outrank very-long-name-1 (%d)", a, b)
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "config.yaml")
	c, err := LoadConfig(p)
	if err != nil || len(c.Roots) != 0 {
		t.Fatalf("missing config: %+v %v", c, err)
	}
	if err := c.AddRoot("oci://127.0.0.1:5000"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddRoot("oci://127.0.0.1:5000"); err != nil || len(c.Roots) != 1 {
		t.Fatalf("adding twice: %v %v", c.Roots, err)
	}
	if err := c.AddRoot("gopher://x"); err == nil {
		t.Fatal("bad root accepted")
	}
	if err := c.Save(p); err != nil {
		t.Fatal(err)
	}
	c2, err := LoadConfig(p)
	if err != nil || len(c2.Roots) != 1 || c2.Roots[0] != "oci://127.0.0.1:5000" {
		t.Fatalf("reloaded %+v %v", c2, err)
	}
	if !c2.RemoveRoot("oci://127.0.0.1:5000") || c2.RemoveRoot("oci://127.0.0.1:5000") {
		t.Fatal("RemoveRoot")
	}
	// JSON is valid YAML, so a config.json works too.
	j := filepath.Join(dir, "config.json")
	os.WriteFile(j, []byte(`{"roots":["file:///srv/images"],"theme":"light"}`), 0o644)
	if c3, err := LoadConfig(j); err != nil || c3.Theme != "light" || len(c3.Roots) != 1 {
		t.Fatalf("JSON config: %+v %v", c3, err)
	}
	os.WriteFile(j, []byte("roots: [unclosed"), 0o644)
	if _, err := LoadConfig(j); err == nil || !strings.Contains(err.Error(), j) {
		t.Fatalf("bad YAML: %v", err)
	}
	t.Setenv("XDG_CONFIG_HOME", dir)
	if got := DefaultConfigPath(); got != filepath.Join(dir, "pf-registry", "config.yaml") {
		t.Fatalf("DefaultConfigPath = %s", got)
	}
}

func TestSuggestRef(t *testing.T) {
	for _, tc := range []struct {
		root string
		im   image
		want string
	}{
		{"file:///srv/mirror", image{ref: "file://big/agent/huge/v1", repo: "agent/huge", tag: "v1"}, "file:///srv/mirror/agent/huge/v1"},
		{"file:///srv/mirror", image{ref: "file://demo/ci/nightly/2026-11-25"}, "file:///srv/mirror/ci/nightly/2026-11-25"},
		{"oci://127.0.0.1:5000", image{ref: "file://demo/alice/agent/v2"}, "oci://127.0.0.1:5000/alice/agent:v2"},
		{"hf://alice", image{ref: "oci://127.0.0.1:5000/team/bot:merged"}, "hf://alice/team/bot:merged"},
		{"s3://bucket/images/", image{ref: "hf://bob/research:main"}, "s3://bucket/images/bob/research/main"},
		{"oci-layout:/srv/layout", image{ref: "file://demo/a/b"}, "oci-layout:/srv/layout#b"},
	} {
		got := suggestRef(tc.root, tc.im)
		if got != tc.want {
			t.Errorf("suggestRef(%q, %q) = %q, want %q", tc.root, tc.im.ref, got, tc.want)
		}
		if _, err := registry.ParseRef(got); err != nil {
			t.Errorf("suggestion %q does not parse: %v", got, err)
		}
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote("file:///a b"); got != "'file:///a b'" {
		t.Errorf("shellQuote = %s", got)
	}
}

func TestReposScreen(t *testing.T) {
	h := newHarness(t, 100, 12)
	h.settle("roots", idle)
	h.press("open")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
	s := h.top().(*reposScreen)
	if len(s.repos) != 4 || !s.done {
		t.Fatalf("%d repos, done=%v", len(s.repos), s.done)
	}
	h.requireContains("alice/refactor-agent", "3: v1, v2, v3", "4 repositories")
	h.press("sort")
	if got := s.repos[s.tbl.view[len(s.tbl.view)-1]].Name; got != "team/merge-bot" || !h.contains("TAGS ▼") {
		t.Fatalf("sort by tag count: last is %s\n%s", got, h.plain())
	}
	h.press("sort")

	// Paging by hand-built pages: a page with Next loads more near the end.
	p := newReposScreen(h.m.sh, "file://demo")
	h.send(pushScreenMsg{p})
	h.drain()
	p.repos, p.done, p.loading, p.next = nil, false, false, ""
	var page []registry.RepoEntry
	for i := range 50 {
		page = append(page, registry.RepoEntry{Name: "r" + itoa(100+i), Ref: "file://demo/r" + itoa(i)})
	}
	h.send(reposPageMsg{id: p.id, listing: &registry.Listing{Repos: page, Next: "r149"}})
	if p.loading {
		t.Fatal("loading more before scrolling")
	}
	h.press("bottom")
	if !p.loading {
		t.Fatal("scrolling to the end did not load the next page")
	}
	h.send(reposPageMsg{id: p.id, listing: &registry.Listing{Repos: []registry.RepoEntry{{Name: "zz", Ref: "file://demo/zz"}}}})
	if len(p.repos) != 51 || !p.done {
		t.Fatalf("after the last page: %d repos, done=%v", len(p.repos), p.done)
	}
	// A root that is an image opens its detail instead.
	h.send(reposPageMsg{id: p.id, listing: &registry.Listing{Image: true}})
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) })
	// A root that is a repository lists its images, not one repository
	// named ".".
	h.press("back")
	h.send(pushScreenMsg{newReposScreen(h.m.sh, "file://demo/ci/nightly")})
	h.settle("tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	h.requireContains("2026-11-26", "✗ invalid")
}

func TestGoTo(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.settle("roots", idle)
	goTo := func(ref string) {
		h.press("command")
		h.typeText(ref)
		h.press("submit")
	}
	goTo("file://demo/ci/nightly/2026-11-27")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	h.requireContains("✓ valid", "ci-runner")
	h.press("back")
	goTo("file://demo/ci/nightly")
	h.settle("tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	h.requireContains("2026-11-26", "✗ invalid")
	goTo("file://demo")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
	h.requireContains("alice/refactor-agent")
	// The open-reference key proposes where one is.
	h.press("open_ref")
	h.requireContains(":file://demo/")
	h.press("dismiss")
	// A bad reference keeps the bar open with the error.
	goTo("nope://x")
	if !dialogOpen[*commandBar](h.m) || !h.contains("unrecognised URL scheme") {
		t.Fatalf("bad reference:\n%s", h.plain())
	}
	h.press("dismiss")
	// Names of views, with tab completion.
	h.press("command")
	h.typeText("tra")
	h.press("next_pane")
	h.press("submit")
	h.requireContains("No transfers yet")
}

// An image on a host that cannot be reached says so, not "tags failed".
func TestGoToUnreachableHost(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.settle("roots", idle)
	h.press("command")
	h.typeText("oci://127.0.0.1:1/team/bot:v1")
	h.press("submit")
	h.settle("error", func(m *App) bool { return !anyOverlay(m) && lastNote(m).err })
	if n := lastNote(h.m).text; strings.Contains(n, "tag") || !strings.Contains(n, "127.0.0.1:1") {
		t.Fatalf("unreachable host reported as %q", n)
	}
}

func TestTagInRepo(t *testing.T) {
	for repo, want := range map[string]string{
		"file://demo/ci/nightly":      "file://demo/ci/nightly/abc",
		"oci://127.0.0.1:5000/team/x": "oci://127.0.0.1:5000/team/x:abc",
		"hf://alice/agent":            "hf://alice/agent:abc",
		"s3://b/images/agent/":        "s3://b/images/agent/abc",
		"oci-layout:/srv/l":           "oci-layout:/srv/l#abc",
	} {
		if got := tagInRepo(repo, "abc"); got != want {
			t.Errorf("tagInRepo(%q) = %q, want %q", repo, got, want)
		}
	}
}

// TestLazyPagingFileBackend lists a repository of 1,200 images through the
// real file backend: the first page arrives alone, the next ones when the
// cursor nears the end, and a filter pulls in the rest.
func TestLazyPagingFileBackend(t *testing.T) {
	src := filepath.Join("demo", "ci", "nightly", "2026-11-25")
	raw, err := os.ReadFile(filepath.Join(src, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(filepath.Join(src, "manifest.json.sig"))
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join("t", "paging", "many", "builds")
	const n = 1200
	for i := range n {
		d := filepath.Join(repo, "b"+itoa(10000+i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "manifest.json"), raw, 0o644)
		os.WriteFile(filepath.Join(d, "manifest.json.sig"), sig, 0o644)
	}
	h := newHarness(t, 100, 30)
	s := newTagsScreen(h.m.sh, "file://t", "file://"+filepath.ToSlash(repo), "builds")
	h.send(pushScreenMsg{s})
	h.settle("first page", func(*App) bool { return len(s.tags) > 0 && !s.loading })
	if len(s.tags) != pageSize || s.done {
		t.Fatalf("first page: %d tags, done=%v", len(s.tags), s.done)
	}
	h.press("page_down")
	for s.tbl.cursor < pageSize-30 {
		h.press("page_down")
	}
	h.settle("second page", func(*App) bool { return len(s.tags) == 2*pageSize && !s.loading })
	if s.done {
		t.Fatal("done after two pages of three")
	}
	h.press("filter")
	h.typeText("1199")
	h.settle("all pages", func(*App) bool { return s.done && !s.loading })
	if len(s.tags) != n {
		t.Fatalf("%d tags after all pages, want %d", len(s.tags), n)
	}
	// Fuzzy: subsequence matches stay, the exact run ranks first.
	if len(s.tbl.view) == 0 || len(s.tbl.view) > 10 || s.tags[s.tbl.view[0]].Name != "b11199" {
		t.Fatalf("filter 1199 kept %d rows, first %v", len(s.tbl.view), s.tbl.view)
	}
	// Visible rows are inspected first; the filtered row gets its verdict.
	h.settle("verdict", func(*App) bool { return s.verdicts[s.tags[s.tbl.view[0]].Ref].status == "valid" })
}

// Names read from a registry cannot drive the terminal: escape sequences
// in a tag name are shown as visible symbols.
func TestRegistryTextIsSanitised(t *testing.T) {
	src := filepath.Join("demo", "ci", "nightly", "2026-11-25")
	dir := filepath.Join("t", "evil", "repo", "x\x1b]0;pwned\x07\x1b[31m")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"manifest.json", "manifest.json.sig"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	h := newHarness(t, 100, 20)
	h.send(pushScreenMsg{newTagsScreen(h.m.sh, "file://t/evil", "file://t/evil/repo", "repo")})
	h.settle("tags", func(m *App) bool { return idle(m) && h.contains("valid") })
	if v := h.view(); strings.Contains(v, "\x1b]0;") || strings.Contains(v, "\x07") {
		t.Fatalf("an escape sequence from a tag name reached the terminal: %q", v)
	}
	h.requireContains(`x\x1b]0;pwned`)
}

// TestTypeahead: keys typed while a list's first rows load are held and
// handed on in order once they are in, through screens that open in
// between; esc leaves at once and drops what was held.
func TestTypeahead(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.settle("roots", idle)
	h.press("down") // the demo root
	h.press("open")
	if !topIs[*reposScreen](h.m) || len(h.m.held) != 0 {
		t.Fatalf("open did not push the repositories screen at once")
	}
	h.press("open") // its first repository, still loading
	h.press("open") // that repository's first tag
	if len(h.m.held) != 2 {
		t.Fatalf("%d keys held while the repositories load, want 2", len(h.m.held))
	}
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	if d := h.m.top().(*detailScreen); !strings.HasSuffix(d.img.ref, "/alice/refactor-agent/v1") || len(h.m.held) != 0 {
		t.Fatalf("typed ahead to %q (%d keys left), want alice/refactor-agent/v1", d.img.ref, len(h.m.held))
	}

	h.press("back")
	h.press("back")
	h.press("back")
	h.settle("roots", func(m *App) bool { return len(m.stack) == 1 && idle(m) })
	h.press("open")
	h.press("pull") // held: the repositories are loading
	h.press("back") // acts at once, the pull is dropped
	h.drain()
	if len(h.m.stack) != 1 || len(h.m.held) != 0 || len(h.m.xfers.jobs) != 0 || h.m.topOverlay() != nil {
		t.Fatalf("esc while loading: %d screens, %d held, %d jobs", len(h.m.stack), len(h.m.held), len(h.m.xfers.jobs))
	}
}
