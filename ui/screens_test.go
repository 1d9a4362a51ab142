package ui

import (
	"context"
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/store"
)

// openTags drives the harness from the registries screen to the tag list
// of ci/nightly (the repository holding the tampered image) and waits for
// every verdict.
func openTags(t *testing.T, h *harness) *tagsScreen {
	t.Helper()
	h.settle("roots checked", idle)
	h.key("down", "enter")
	h.settle("repositories", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
	h.key("/")
	for _, r := range "nightly" {
		h.key(string(r))
	}
	h.key("enter", "enter")
	h.settle("tags with verdicts", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	return h.top().(*tagsScreen)
}

func TestRegistriesScreen(t *testing.T) {
	h := newHarness(t, 100, 20, withRoots(demoRoot, "file://does-not-exist"))
	h.settle("roots checked", idle)
	h.requireContains("local store", "file://demo", "✓ reachable", "✗", "does-not-exist", "PF_FILE_REG_SIGN_KEY", "✓ 0 images")
	if got := h.plain(); strings.Contains(got, demoKey) {
		t.Fatalf("the signing key itself is on screen:\n%s", got)
	}
	s := h.top().(*registriesScreen)

	t.Run("navigation", func(t *testing.T) {
		h.key("j")
		if s.tbl.cursor != 1 {
			t.Fatalf("cursor after j = %d, want 1", s.tbl.cursor)
		}
		h.key("G")
		if s.tbl.cursor != 2 {
			t.Fatalf("cursor after G = %d, want 2", s.tbl.cursor)
		}
		h.key("k", "g")
		if s.tbl.cursor != 0 {
			t.Fatalf("cursor after g = %d, want 0", s.tbl.cursor)
		}
	})
	t.Run("filter", func(t *testing.T) {
		h.key("/", "e", "x", "i", "s", "t")
		if got := len(s.tbl.view); got != 1 {
			t.Fatalf("filter 'exist' keeps %d rows, want 1", got)
		}
		if !h.contains("/exist") {
			t.Fatalf("filter line missing:\n%s", h.plain())
		}
		h.key("q") // typed into the filter, does not quit
		if h.m.quitting || s.tbl.filter != "existq" {
			t.Fatalf("q while filtering: quitting=%v filter=%q", h.m.quitting, s.tbl.filter)
		}
		h.key("backspace", "enter", "esc")
		if s.tbl.filter != "" || len(s.tbl.view) != 3 {
			t.Fatalf("esc did not clear the filter: %q, %d rows", s.tbl.filter, len(s.tbl.view))
		}
		if len(h.m.stack) != 1 {
			t.Fatalf("esc with a filter left the screen")
		}
	})
	t.Run("add and remove a root", func(t *testing.T) {
		h.key("a")
		h.settle("add dialog", func(m *App) bool { return m.dlg != nil })
		for _, r := range "file://other" {
			h.key(string(r))
		}
		h.key("enter")
		h.settle("root added", func(m *App) bool { return len(s.rows) == 4 && idle(m) })
		h.settle("config saved", func(*App) bool {
			cfg, err := LoadConfig(filepath.Join(h.dir, "config.yaml"))
			return err == nil && len(cfg.Roots) == 1 && cfg.Roots[0] == "file://other"
		})
		h.key("G", "d")
		h.settle("confirm", func(m *App) bool { return m.dlg != nil })
		h.requireContains("Remove file://other")
		h.key("y")
		h.settle("root removed", func(m *App) bool { return len(s.rows) == 3 })
		h.settle("config saved", func(*App) bool {
			cfg, err := LoadConfig(filepath.Join(h.dir, "config.yaml"))
			return err == nil && len(cfg.Roots) == 0
		})
	})
	t.Run("command-line roots cannot be removed", func(t *testing.T) {
		h.key("g", "j", "d")
		h.settle("status", func(m *App) bool { return strings.Contains(m.status, "command line") })
		if h.m.dlg != nil {
			t.Fatal("a dialog opened for a command-line root")
		}
	})
	t.Run("bad root is refused", func(t *testing.T) {
		h.key("a")
		h.settle("add dialog", func(m *App) bool { return m.dlg != nil })
		for _, r := range "ftp://x" {
			h.key(string(r))
		}
		h.key("enter")
		h.settle("error", func(m *App) bool { return m.statusErr })
		if !strings.Contains(h.m.status, "ftp://x") {
			t.Fatalf("status %q does not name the bad root", h.m.status)
		}
	})
}

func TestRegistriesEmptyState(t *testing.T) {
	h := newHarness(t, 90, 20, withRoots())
	h.settle("store checked", idle)
	h.requireContains("No registry roots yet", "press a to add one", "pf-registry demo")
}

// TestSizes checks every screen at several terminal sizes: exactly the
// terminal's height, no line wider than the terminal.
func TestSizes(t *testing.T) {
	h := newHarness(t, 80, 24)
	check := func(name string) {
		t.Helper()
		for _, sz := range [][2]int{{80, 24}, {140, 40}, {40, 10}, {200, 60}, {20, 5}} {
			h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			lines := strings.Split(h.view(), "\n")
			if len(lines) != sz[1] {
				t.Errorf("%s %dx%d: %d lines", name, sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Errorf("%s %dx%d: line %d is %d wide: %q", name, sz[0], sz[1], i, w, ansi.Strip(l))
				}
			}
		}
		h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	}
	h.settle("roots", idle)
	check("registries")
	h.key("?")
	check("help")
	h.key("x", "a")
	h.settle("dialog", func(m *App) bool { return m.dlg != nil })
	check("dialog")
	h.key("esc")
	h.key("enter")
	h.settle("local", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
	check("local store")
	h.key("esc")
	openTags(t, h)
	check("tags")
	h.key("enter")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	check("detail")
	h.key("tab")
	check("detail manifest")
	h.key("esc", "esc")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) })
	check("repos")
	h.key("p", "t")
	check("transfers")
}

func TestTagsScreenVerdicts(t *testing.T) {
	h := newHarness(t, 120, 24)
	s := openTags(t, h)
	want := map[string]string{"2026-11-25": "valid", "2026-11-26": "invalid", "2026-11-27": "valid"}
	for _, tg := range s.tags {
		if got := s.verdicts[tg.Ref].status; got != want[tg.Name] {
			t.Errorf("%s: verdict %q, want %q", tg.Name, got, want[tg.Name])
		}
	}
	h.requireContains("✓ valid", "✗ invalid", "3 tags")

	// The unsigned image in another repository shows missing.
	h.key("esc")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) })
	h.key("esc", "g", "j", "enter")
	h.settle("bob tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	h.requireContains("? missing")
}

func TestTagsScreenKeys(t *testing.T) {
	h := newHarness(t, 120, 24)
	s := openTags(t, h)

	t.Run("sort by date", func(t *testing.T) {
		h.key("s")
		if got := s.tags[s.tbl.view[0]].Name; got != "2026-11-27" {
			t.Fatalf("newest first: got %s", got)
		}
		h.key("s")
		if got := s.tags[s.tbl.view[0]].Name; got != "2026-11-25" {
			t.Fatalf("by name: got %s", got)
		}
	})
	t.Run("fuzzy filter", func(t *testing.T) {
		h.key("/", "1", "2", "7")
		if len(s.tbl.view) != 1 || s.tags[s.tbl.view[0]].Name != "2026-11-27" {
			t.Fatalf("filter 127 kept %v", s.tbl.view)
		}
		h.key("esc")
		if len(s.tbl.view) != 3 {
			t.Fatalf("esc kept %d rows", len(s.tbl.view))
		}
	})
	t.Run("paste into the filter", func(t *testing.T) {
		h.key("/")
		h.send(tea.PasteMsg{Content: "11-26"})
		if len(s.tbl.view) != 1 || s.tags[s.tbl.view[0]].Name != "2026-11-26" {
			t.Fatalf("pasted filter kept %v", s.tbl.view)
		}
		h.key("esc")
	})
	t.Run("clipboard", func(t *testing.T) {
		h.key("g", "y")
		h.settle("status", func(m *App) bool { return strings.HasPrefix(m.status, "copied reference") })
		h.key("ctrl+y")
		h.settle("status", func(m *App) bool {
			return strings.Contains(m.status, "pf-registry pull file://demo/ci/nightly/2026-11-25")
		})
		h.key("Y")
		h.settle("status", func(m *App) bool { return strings.HasPrefix(m.status, "copied image ID") })
	})
	t.Run("pull of an invalid image asks first", func(t *testing.T) {
		h.key("j", "p")
		h.settle("confirm", func(m *App) bool { return m.dlg != nil })
		h.requireContains("does NOT verify")
		h.key("n")
		if h.m.dlg != nil || len(h.m.xfers.jobs) != 0 {
			t.Fatalf("n: dialog %v, %d jobs", h.m.dlg, len(h.m.xfers.jobs))
		}
	})
	t.Run("pull of a valid image starts at once", func(t *testing.T) {
		h.key("k", "p")
		h.settle("job done", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) })
		if j := h.m.xfers.jobs[0]; j.state != jobDone || j.spec.op != "pull" {
			t.Fatalf("job %s %v: %v", j.spec.op, j.state, j.err)
		}
	})
	t.Run("mouse", func(t *testing.T) {
		// Body row 0 is the header, row 1 the first tag; +1 for the app header.
		h.send(tea.MouseClickMsg{X: 3, Y: 3, Button: tea.MouseLeft})
		if s.tbl.cursor != 1 {
			t.Fatalf("click on the second row: cursor %d", s.tbl.cursor)
		}
		h.send(tea.MouseWheelMsg{X: 3, Y: 3, Button: tea.MouseWheelDown})
		if s.tbl.cursor != 2 {
			t.Fatalf("wheel down: cursor %d", s.tbl.cursor)
		}
		h.send(tea.MouseClickMsg{X: 3, Y: 4, Button: tea.MouseLeft})
		h.settle("detail by click", func(m *App) bool { return topIs[*detailScreen](m) })
	})
}

func TestTagsScreenErrorsAndPaging(t *testing.T) {
	h := newHarness(t, 100, 12)
	s := newTagsScreen(h.m.sh, "file://demo/nope", "nope")
	h.send(pushScreenMsg{s})
	h.settle("error", idle)
	h.requireContains("✗", "does not exist")

	// Hand-built pages: a first page with Next set, then scrolling to its
	// end asks for the next page.
	p := newTagsScreen(h.m.sh, "file://demo/ci/nightly", "paged")
	h.send(pushScreenMsg{p})
	h.drain()
	p.tags, p.done, p.loading, p.next = nil, false, false, ""
	var page []registry.TagEntry
	for i := range 30 {
		page = append(page, registry.TagEntry{Name: "t" + itoa(100+i), Ref: "file://demo/none/t" + itoa(i), Foreign: true})
	}
	h.send(tagsPageMsg{id: p.id, list: &registry.TagList{Tags: page, Next: "t129"}})
	if p.done || p.loading {
		t.Fatalf("first page: done=%v loading=%v", p.done, p.loading)
	}
	h.key("G")
	if !p.loading {
		t.Fatal("scrolling to the end did not load the next page")
	}
	h.send(tagsPageMsg{id: p.id, err: errors.New("backend went away")})
	if p.err == nil || !h.m.statusErr {
		t.Fatal("page error not shown")
	}
	// A verdict for a screen that was left is dropped.
	h.key("esc", "esc")
	h.send(verdictMsg{id: p.id, ref: "x", v: verdictInfo{status: "valid"}})
	if _, ok := p.verdicts["x"]; ok {
		t.Fatal("late verdict delivered to a closed screen")
	}
}

func TestDetailScreen(t *testing.T) {
	h := newHarness(t, 120, 30)
	openTags(t, h)
	h.key("j", "enter")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	d := h.top().(*detailScreen)
	h.requireContains("Image ID", "sha256:", "✗ invalid", "manifest bytes do not match", "ci-runner 1.0.15",
		"nightly-patched", "2026-11-26 02:15:00 UTC", "paged-batchinvariant-v1", "none (root image)", "world.fs", "· remote")
	if d.data.in.ImageID != demoResult.Images["ci/nightly/2026-11-26"] {
		t.Fatalf("image ID %s, want %s", d.data.in.ImageID, demoResult.Images["ci/nightly/2026-11-26"])
	}
	h.key("tab")
	h.requireContains(`"schema_version": 1`)
	h.key("G")
	h.requireContains(`"parents": []`)
	h.key("tab")
	h.requireContains("README.md", "src/")
	h.key("tab")
	if d.pane != paneBlobs {
		t.Fatalf("tab wraps to pane %d", d.pane)
	}
	// Mouse: the tab bar is below the info lines.
	h.send(tea.MouseClickMsg{X: 20, Y: len(d.infoLines()) + 2, Button: tea.MouseLeft})
	if d.pane != paneManifest {
		t.Fatalf("click on the tab bar: pane %d", d.pane)
	}

	// A merge image lists its two parents.
	h.key("esc", "esc")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) })
	h.key("esc", "G", "enter")
	h.settle("merge tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	h.key("enter")
	h.settle("merge detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	h.requireContains("(merge)", "✓ valid")

	// Errors arrive as a message.
	h.send(detailMsg{id: h.top().ID(), err: fault.NotFoundf("image gone")})
	h.requireContains("✗ image gone")
}

func TestDetailShowsLocalPresenceAfterPull(t *testing.T) {
	h := newHarness(t, 120, 40)
	openTags(t, h)
	h.key("enter")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	h.key("p")
	h.settle("pulled", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) })
	if j := h.m.xfers.jobs[0]; j.state != jobDone {
		t.Fatalf("pull: %v %v", j.state, j.err)
	}
	st, err := store.Open(filepath.Join(h.dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	id := demoResult.Images["ci/nightly/2026-11-25"]
	if !st.HasImage(id) {
		t.Fatalf("image %s not in the store after the pull", id.Short())
	}
	h.key("ctrl+r")
	h.settle("reloaded", idle)
	h.requireContains("✓ present")
	d := h.top().(*detailScreen)
	for _, b := range d.data.blobs {
		if !b.present {
			t.Fatalf("blob %s (%s) not present after pull", b.digest.Short(), b.role)
		}
	}
}

func TestReadOnly(t *testing.T) {
	h := newHarness(t, 120, 24, withReadOnly())
	openTags(t, h)
	h.requireContains("READ-ONLY")
	for _, k := range []string{"p", "c", "u"} {
		h.m.status = ""
		h.key(k)
		h.settle("refusal", func(m *App) bool { return strings.Contains(m.status, "read-only") })
		if h.m.dlg != nil || len(h.m.xfers.jobs) != 0 {
			t.Fatalf("%s in read-only mode: dialog %v jobs %d", k, h.m.dlg, len(h.m.xfers.jobs))
		}
	}
	// Verify reads only and stays allowed.
	h.key("v")
	h.settle("verify", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) })
	if j := h.m.xfers.jobs[0]; j.state != jobDone || j.report == nil || !j.report.Complete {
		t.Fatalf("verify: %v %v", j.state, j.err)
	}
}

func TestCopyToAnotherRoot(t *testing.T) {
	other := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "mirror"))
	h := newHarness(t, 120, 30, withRoots(demoRoot, other))
	openTags(t, h)
	h.key("c")
	h.settle("pick root", func(m *App) bool { return m.dlg != nil })
	h.key("j", "enter")
	h.settle("destination", func(m *App) bool { _, ok := m.dlg.(*inputDialog); return ok })
	in := h.m.dlg.(*inputDialog)
	if want := other + "/nightly/2026-11-25"; in.in.Value() != want {
		t.Fatalf("suggested destination %q, want %q", in.in.Value(), want)
	}
	h.key("enter")
	h.settle("copied", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) })
	if j := h.m.xfers.jobs[0]; j.state != jobDone {
		t.Fatalf("copy: %v %v", j.state, j.err)
	}
	dst := strings.TrimPrefix(other, "file://") + "/nightly/2026-11-25/manifest.json"
	if _, err := os.Stat(dst); err != nil {
		t.Fatalf("copy did not write %s: %v", dst, err)
	}
	// Copying again asks before replacing the image.
	h.key("c")
	h.settle("pick root", func(m *App) bool { return m.dlg != nil })
	h.key("j", "enter")
	h.settle("destination", func(m *App) bool { _, ok := m.dlg.(*inputDialog); return ok })
	h.key("enter")
	h.settle("overwrite question", func(m *App) bool { _, ok := m.dlg.(*confirmDialog); return ok })
	h.requireContains("already holds an image")
	h.key("y")
	h.settle("second copy", func(m *App) bool { return len(m.xfers.jobs) == 2 && idle(m) })
	if j := h.m.xfers.jobs[1]; j.state != jobDone || j.report.Skipped == 0 {
		t.Fatalf("second copy: %v %v (skipped %d)", j.state, j.err, j.report.Skipped)
	}
}

func TestPushFromLocalStore(t *testing.T) {
	target := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "pushed"))
	h := newHarness(t, 120, 30, withRoots(target))
	st, err := store.Open(filepath.Join(h.dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	reg, ref, err := registry.ForRef("file://demo/alice/refactor-agent/v1", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Pull(t.Context(), ref, st, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	h.settle("roots", idle)
	h.key("enter") // local store
	h.settle("local images", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
	h.requireContains(demoResult.Images["alice/refactor-agent/v1"].Short())
	// Its detail, opened by clicking the selected row: no signature in the
	// store, every blob present.
	h.send(tea.MouseClickMsg{X: 3, Y: 2, Button: tea.MouseLeft})
	h.settle("local detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	h.requireContains("◆ local", "no signatures", "claude-code", "29/29 in the local store", "✓ present")
	if d := h.top().(*detailScreen); len(d.data.blobs) == 0 || slices.ContainsFunc(d.data.blobs, func(b blobRow) bool { return !b.present }) {
		t.Fatalf("local detail blobs: %+v", d.data.blobs)
	}
	h.key("u")
	h.settle("pick root", func(m *App) bool { return m.dlg != nil })
	h.key("enter")
	h.settle("destination", func(m *App) bool { _, ok := m.dlg.(*inputDialog); return ok })
	in := h.m.dlg.(*inputDialog)
	in.in.SetValue(target + "/agent/v1")
	h.key("enter")
	h.settle("pushed", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) })
	if j := h.m.xfers.jobs[0]; j.state != jobDone {
		t.Fatalf("push: %v %v", j.state, j.err)
	}
	r2, ref2, _ := registry.ForRef(target+"/agent/v1", registry.Config{})
	in2, err := r2.Inspect(t.Context(), ref2)
	if err != nil || !in2.Signature.OK() {
		t.Fatalf("pushed image: %v %+v", err, in2)
	}
}

func TestAppKeys(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.settle("roots", idle)
	h.key("?")
	h.requireContains("Keys", "Signature column")
	h.key("x") // any key closes help
	if h.m.showHelp {
		t.Fatal("help still shown")
	}
	h.key("t")
	h.requireContains("No transfers yet")
	h.key("esc")
	if h.m.showXfers {
		t.Fatal("esc did not leave the transfers view")
	}
	_, cmd := h.m.Update(keyMsg("q"))
	if cmd == nil || !h.m.quitting {
		t.Fatal("q did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not return tea.Quit")
	}
}

func TestQuitAsksWhileJobsRun(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.settle("roots", idle)
	block := make(chan struct{})
	defer close(block)
	h.send(startJobMsg{jobSpec{op: "pull", src: "x", run: func(ctx context.Context, _ func(registry.Event)) (*registry.Report, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	}}})
	h.key("q")
	if h.m.dlg == nil || h.m.quitting {
		t.Fatal("q with a running job did not ask")
	}
	h.requireContains("1 transfer(s) still running")
	h.key("y")
	h.settle("quit", func(m *App) bool { return m.quitting })
	if h.m.xfers.jobs[0].state != jobCancelled {
		t.Fatalf("job state after quit: %v", h.m.xfers.jobs[0].state)
	}
}

func TestThemesAndBackground(t *testing.T) {
	h := newHarness(t, 100, 24, withTheme("auto"))
	h.settle("roots", idle)
	h.send(tea.BackgroundColorMsg{Color: lightBG})
	if h.m.sh.st.Theme.Name != "light" {
		t.Fatalf("light background gave theme %s", h.m.sh.st.Theme.Name)
	}
	h.send(tea.BackgroundColorMsg{Color: darkBG})
	if h.m.sh.st.Theme.Name != "dark" {
		t.Fatalf("dark background gave theme %s", h.m.sh.st.Theme.Name)
	}
	// An explicit theme ignores the background.
	h2 := newHarness(t, 100, 24, withTheme("high-contrast"))
	h2.send(tea.BackgroundColorMsg{Color: lightBG})
	if h2.m.sh.st.Theme.Name != "high-contrast" {
		t.Fatalf("explicit theme replaced by %s", h2.m.sh.st.Theme.Name)
	}
	// NO_COLOR wins and the view has no colour escapes.
	t.Setenv("NO_COLOR", "1")
	h3 := newHarness(t, 100, 24, withTheme("dark"))
	h3.settle("roots", idle)
	if v := h3.view(); strings.Contains(v, "38;2;") || strings.Contains(v, "48;2;") {
		t.Fatalf("NO_COLOR view has colours: %q", v[:200])
	}
	h3.requireContains("✓ reachable")
}

func TestConfigKeysAndTheme(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("theme: light\nkeys:\n  quit: [ctrl+q]\n  down: [n]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 100, 24, func(o *Options) { o.ConfigPath = cfg; o.Theme = "" })
	if h.m.sh.st.Theme.Name != "light" {
		t.Fatalf("config theme ignored: %s", h.m.sh.st.Theme.Name)
	}
	h.settle("roots", idle)
	h.key("n")
	if c := h.top().(*registriesScreen).tbl.cursor; c != 1 {
		t.Fatalf("remapped down key: cursor %d", c)
	}
	h.key("q")
	if h.m.quitting {
		t.Fatal("q still quits after remapping quit to ctrl+q")
	}
	h.requireContains("ctrl+q quit")

	if err := os.WriteFile(cfg, []byte("keys:\n  fly: [f]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(t.Context(), Options{ConfigPath: cfg}); err == nil || !strings.Contains(err.Error(), "fly") {
		t.Fatalf("unknown binding accepted: %v", err)
	}
	if _, err := New(t.Context(), Options{ConfigPath: cfg + ".none", Theme: "sepia"}); err == nil || !strings.Contains(err.Error(), "sepia") {
		t.Fatalf("unknown theme accepted: %v", err)
	}
}

var (
	lightBG = color.RGBA{R: 250, G: 250, B: 245, A: 255}
	darkBG  = color.RGBA{R: 20, G: 20, B: 28, A: 255}
)
