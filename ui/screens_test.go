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
	"pf-registry/internal/termtext"
	"pf-registry/registry"
	"pf-registry/store"
)

// openTags drives the harness from the registries screen to the tag list
// of ci/nightly (the repository holding the tampered image) and waits for
// every verdict.
func openTags(t *testing.T, h *harness) *tagsScreen {
	t.Helper()
	return openRepo(t, h, "nightly")
}

// openFirstRoot opens the repositories of the first command-line root
// and waits for them.
func openFirstRoot(h *harness) {
	h.t.Helper()
	h.settle("roots checked", idle)
	h.press("top")
	h.press("down")
	h.press("open")
	h.settle("repositories", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
}

// openRepo drives the harness from the registries screen to the tag list
// of the first repository of the demo root that the filter picks, and
// waits for every verdict.
func openRepo(t *testing.T, h *harness, filter string) *tagsScreen {
	t.Helper()
	openFirstRoot(h)
	h.press("filter")
	h.typeText(filter)
	h.press("submit")
	h.press("open")
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
		if s.tbl.cursor != 1 {
			t.Fatalf("the first command-line root is not selected at start: cursor %d", s.tbl.cursor)
		}
		h.press("bottom")
		if s.tbl.cursor != 2 {
			t.Fatalf("cursor after G = %d, want 2", s.tbl.cursor)
		}
		h.press("up")
		h.press("top")
		if s.tbl.cursor != 0 {
			t.Fatalf("cursor after g = %d, want 0", s.tbl.cursor)
		}
	})
	t.Run("filter", func(t *testing.T) {
		h.press("filter")
		h.typeText("exist")
		if got := len(s.tbl.view); got != 1 {
			t.Fatalf("filter 'exist' keeps %d rows, want 1", got)
		}
		if !h.contains("/exist█  1/3 match") {
			t.Fatalf("filter line missing:\n%s", h.plain())
		}
		h.key("q") // typed into the filter, does not quit
		if h.m.quitting || !h.contains("/existq█") || !h.contains("no matches for “existq”") {
			t.Fatalf("q while filtering: quitting=%v\n%s", h.m.quitting, h.plain())
		}
		// Arrows move without leaving the filter; backspace edits it.
		h.key("backspace", "down", "backspace")
		if !h.contains("/exis█") {
			t.Fatalf("backspace after an arrow left the filter:\n%s", h.plain())
		}
		h.key("t")
		h.press("submit")
		h.press("back") // clears the filter, stays
		if h.contains("/exist") {
			t.Fatalf("back did not clear the filter:\n%s", h.plain())
		}
		if s.tbl.filter != "" || len(s.tbl.view) != 3 {
			t.Fatalf("esc did not clear the filter: %q, %d rows", s.tbl.filter, len(s.tbl.view))
		}
		if len(h.m.stack) != 1 {
			t.Fatalf("esc with a filter left the screen")
		}
	})
	t.Run("add and remove a root", func(t *testing.T) {
		h.press("add_root")
		h.typeText("file://other")
		h.press("submit")
		h.settle("root added", func(m *App) bool { return len(s.rows) == 4 && idle(m) })
		h.settle("config saved", func(*App) bool {
			cfg, err := LoadConfig(filepath.Join(h.dir, "config.yaml"))
			return err == nil && len(cfg.Roots) == 1 && cfg.Roots[0] == "file://other"
		})
		h.press("bottom")
		h.press("remove_root")
		h.requireContains("Remove file://other", " No ")
		h.press("confirm")
		h.settle("root removed", func(m *App) bool { return len(s.rows) == 3 })
		h.settle("config saved", func(*App) bool {
			cfg, err := LoadConfig(filepath.Join(h.dir, "config.yaml"))
			return err == nil && len(cfg.Roots) == 0
		})
	})
	t.Run("command-line roots cannot be removed", func(t *testing.T) {
		h.press("top")
		h.press("down")
		h.press("remove_root")
		if !strings.Contains(h.statusLine(), "command line") || anyOverlay(h.m) {
			t.Fatalf("remove of a command-line root: status %q, overlay %v", h.statusLine(), anyOverlay(h.m))
		}
	})
	t.Run("a command-line root also in the config can be removed from it", func(t *testing.T) {
		// What `pf-registry demo` leaves: its root named and remembered.
		s.sh.cfg.Roots = append(s.sh.cfg.Roots, s.rows[1].root)
		if err := s.sh.cfg.Save(filepath.Join(h.dir, "config.yaml")); err != nil {
			t.Fatal(err)
		}
		h.press("top")
		h.press("down")
		h.press("remove_root")
		h.requireContains("Remove " + s.rows[1].root)
		h.press("confirm")
		h.settle("config saved", func(*App) bool {
			cfg, err := LoadConfig(filepath.Join(h.dir, "config.yaml"))
			return err == nil && len(cfg.Roots) == 0
		})
		if len(s.rows) != 3 || s.rows[1].origin != originArgs {
			t.Fatalf("the command-line root left the list: %d rows", len(s.rows))
		}
	})
	t.Run("bad root is refused", func(t *testing.T) {
		h.press("add_root")
		h.typeText("ftp://x")
		h.press("submit")
		// The dialog stays, with the error and the typed text.
		if !dialogOpen[*inputDialog](h.m) || !h.contains("> ftp://x") || !h.contains("unrecognised URL scheme") {
			t.Fatalf("bad root: the dialog closed or lost the text:\n%s", h.plain())
		}
		h.press("dismiss")
	})
}

func TestRegistriesEmptyState(t *testing.T) {
	h := newHarness(t, 80, 20, withRoots())
	h.settle("store checked", idle)
	// Wrapped to the screen, not cut at its edge.
	h.requireContains("No registry roots yet", "Press a to add one", "ipfs://", "create and open a demo registry.")
	lines := h.lines()
	for _, l := range lines[:len(lines)-2] {
		if strings.HasSuffix(l, "…") {
			t.Fatalf("a line of the empty state is cut:\n%s", h.plain())
		}
	}
}

// TestSizes checks every screen at several terminal sizes: exactly the
// terminal's height, no line wider than the terminal.
// checkSizes resizes the terminal through several sizes and checks that
// every frame has exactly the terminal's height and no wider line.
func checkSizes(t *testing.T, h *harness, name string) {
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

func TestSizes(t *testing.T) {
	h := newHarness(t, 80, 24)
	check := func(name string) { t.Helper(); checkSizes(t, h, name) }
	h.settle("roots", idle)
	check("registries")
	h.key("?")
	check("help")
	h.key("x")
	h.press("add_root")
	check("dialog")
	h.press("dismiss")
	h.press("top")
	h.press("open")
	h.settle("local", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
	check("local store")
	h.press("back")
	openTags(t, h)
	check("tags")
	h.press("open")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	check("detail")
	h.press("next_pane")
	check("detail manifest")
	h.press("back")
	h.press("back")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) })
	check("repos")
	h.press("transfers")
	check("transfers")
	h.press("back")
	h.press("command")
	check("go-to bar")
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
	h.requireContains("✓ valid", "✗ invalid", "3 tags", "2026-11-26 02:15")

	// The unsigned image in another repository shows missing.
	h.press("back")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) })
	h.press("back")
	h.press("top")
	h.press("down")
	h.press("open")
	h.settle("bob tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	h.requireContains("? missing")
}

func TestTagsScreenKeys(t *testing.T) {
	h := newHarness(t, 120, 24)
	s := openTags(t, h)
	firstRow := func() string { return strings.TrimSpace(h.lines()[2]) }

	t.Run("sort by signature and date, shown in the header", func(t *testing.T) {
		h.press("sort")
		if !h.contains("SIGNATURE ▼") || !strings.Contains(firstRow(), "valid") {
			t.Fatalf("sort by signature:\n%s", h.plain())
		}
		h.press("sort")
		if !h.contains("CREATED ▼") || !strings.HasPrefix(firstRow(), "2026-11-27") {
			t.Fatalf("newest first:\n%s", h.plain())
		}
		h.press("sort")
		h.settle("pull costs", idle)
		// 2026-11-27 has no KV cache: the cheapest; the tampered image
		// cannot be pulled: last.
		if !h.contains("PULL ▲") || !strings.HasPrefix(firstRow(), "2026-11-27") || !strings.Contains(h.lines()[4], "2026-11-26") {
			t.Fatalf("cheapest first:\n%s", h.plain())
		}
		h.press("sort")
		// The image without a KV cache is the smallest; the tampered
		// one's size is unknown: last.
		if !h.contains("SIZE ▼") || h.contains("PULL") || !strings.HasPrefix(firstRow(), "2026-11-25") ||
			!strings.Contains(h.lines()[3], "2026-11-27") || !strings.Contains(h.lines()[4], "2026-11-26") {
			t.Fatalf("largest first:\n%s", h.plain())
		}
		// The column shows the whole sizes it sorts by, not pull costs.
		top := s.cost.by[s.tags[s.tbl.view[0]].Ref].cost
		if top == nil || !strings.HasSuffix(firstRow(), termtext.Bytes(top.Bytes)) {
			t.Fatalf("size column: %q, want the whole size %v", firstRow(), top)
		}
		h.press("sort")
		if !h.contains("TAG ▲") || !strings.HasPrefix(firstRow(), "2026-11-25") {
			t.Fatalf("by name:\n%s", h.plain())
		}
	})
	t.Run("fuzzy filter", func(t *testing.T) {
		h.press("filter")
		h.typeText("127")
		if len(s.tbl.view) != 1 || !strings.HasPrefix(firstRow(), "/127") {
			t.Fatalf("filter 127:\n%s", h.plain())
		}
		h.press("dismiss")
		if len(s.tbl.view) != 3 {
			t.Fatalf("esc kept %d rows", len(s.tbl.view))
		}
	})
	t.Run("paste into the filter", func(t *testing.T) {
		h.press("filter")
		h.send(tea.PasteMsg{Content: "11-26"})
		if len(s.tbl.view) != 1 || s.tags[s.tbl.view[0]].Name != "2026-11-26" {
			t.Fatalf("pasted filter kept %v", s.tbl.view)
		}
		h.press("dismiss")
	})
	t.Run("clipboard", func(t *testing.T) {
		h.press("top")
		h.press("yank_ref")
		if !strings.HasPrefix(h.statusLine(), "copied reference") {
			t.Fatalf("status %q", h.statusLine())
		}
		h.press("yank_cmd")
		if !strings.Contains(h.statusLine(), "pf-registry pull file://demo/ci/nightly/2026-11-25") {
			t.Fatalf("status %q", h.statusLine())
		}
		h.press("yank_digest")
		if !strings.HasPrefix(h.statusLine(), "copied image ID") {
			t.Fatalf("status %q", h.statusLine())
		}
	})
	t.Run("pull of a valid image starts at once", func(t *testing.T) {
		h.press("pull")
		h.settle("job done", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) })
		if j := h.m.xfers.jobs[0]; j.state != jobDone || j.spec.op != "pull" {
			t.Fatalf("job %s %v: %v", j.spec.op, j.state, j.err)
		}
	})
	t.Run("marks and bulk verify", func(t *testing.T) {
		h.press("top")
		h.press("mark")
		h.press("down") // skip the tampered image
		h.press("mark")
		h.requireContains("2 marked")
		h.press("verify")
		h.settle("two verify jobs", func(m *App) bool { return len(m.xfers.jobs) == 3 && idle(m) })
		for _, j := range h.m.xfers.jobs[1:] {
			if j.spec.op != "verify" || j.state != jobDone {
				t.Fatalf("bulk verify: %s %v %v", j.spec.op, j.state, j.err)
			}
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
	s := newTagsScreen(h.m.sh, "file://demo", "file://demo/nope", "nope")
	h.send(pushScreenMsg{s})
	h.settle("error", idle)
	h.requireContains("✗", "does not exist")

	// Hand-built pages: a first page with more to come; G loads every page
	// and only then goes to the real end.
	p := newTagsScreen(h.m.sh, "file://demo", "file://demo/ci/nightly", "paged")
	h.send(pushScreenMsg{p})
	h.drain()
	p.tags, p.done, p.loading, p.next = nil, false, false, tagCursor{}
	page := func(from, n int) []tagRow {
		var out []tagRow
		for i := range n {
			name := "t" + itoa(100+from+i)
			out = append(out, tagRow{TagEntry: registry.TagEntry{Name: name, Ref: "file://demo/none/" + name, Foreign: true}, label: name})
		}
		return out
	}
	h.send(tagsPageMsg{id: p.id, rows: page(0, 30), next: tagCursor{after: "t129"}})
	if p.done || p.loading {
		t.Fatalf("first page: done=%v loading=%v", p.done, p.loading)
	}
	h.press("bottom")
	if !p.loading || !strings.Contains(h.statusLine(), "loading every page") {
		t.Fatalf("G did not load the next page: %q", h.statusLine())
	}
	h.send(tagsPageMsg{id: p.id, rows: page(30, 30), done: true})
	if !strings.Contains(h.plain(), "t159") {
		t.Fatalf("G did not reach the real end:\n%s", h.plain())
	}
	p.done, p.loading = false, false
	h.send(tagsPageMsg{id: p.id, err: errors.New("backend went away")})
	if p.err == nil || !lastNote(h.m).err {
		t.Fatal("page error not shown")
	}
	// A verdict for a screen that was left is dropped.
	h.press("back")
	h.press("back")
	h.send(verdictMsg{id: p.id, ref: "x", v: verdictInfo{status: "valid"}})
	if _, ok := p.verdicts["x"]; ok {
		t.Fatal("late verdict delivered to a closed screen")
	}
}

func TestDetailScreen(t *testing.T) {
	h := newHarness(t, 120, 30)
	openTags(t, h)
	h.press("down")
	h.press("open")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	d := h.top().(*detailScreen)
	h.requireContains("Image ID", "sha256:", "✗ invalid", "manifest bytes do not match", "ci-runner 1.0.15",
		"nightly-patched", "2026-11-26 02:15:00 UTC", "paged-batchinvariant-v1", "none (root image)", "world.fs", "· remote")
	if d.data.in.ImageID != demoResult.Images["ci/nightly/2026-11-26"] {
		t.Fatalf("image ID %s, want %s", d.data.in.ImageID, demoResult.Images["ci/nightly/2026-11-26"])
	}
	h.requireContains("STORED SIZE")
	h.press("next_pane")
	h.requireContains("2 signatures", "✗ invalid  HMAC signature", "Where      manifest.json.sig", "✗ invalid  Sigstore bundle")
	h.press("next_pane")
	h.requireContains(`"schema_version": 1`)
	h.press("bottom")
	h.requireContains(`"parents": []`)
	h.press("next_pane")
	h.requireContains("README.md", "src/")
	for range len(d.panes) - 3 {
		h.press("next_pane")
	}
	if d.pane != 0 {
		t.Fatalf("tab wraps to pane %d", d.pane)
	}
	h.press("prev_pane")
	if d.pane != len(d.panes)-1 {
		t.Fatalf("shift+tab from the first pane goes to pane %d", d.pane)
	}
	// Mouse: the tab bar is below the info lines.
	h.send(tea.MouseClickMsg{X: 10, Y: len(d.infoLines()) + 2, Button: tea.MouseLeft})
	if d.pane != 1 {
		t.Fatalf("click on the tab bar: pane %d", d.pane)
	}

	// A merge image lists its two parents.
	h.press("back")
	h.press("back")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) })
	h.press("back")
	h.press("bottom")
	h.press("open")
	h.settle("merge tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	h.press("open")
	h.settle("merge detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	h.requireContains("(merge)", "✓ valid")

	// Errors arrive as a message.
	h.send(detailMsg{id: h.top().ID(), err: fault.NotFoundf("image gone")})
	h.requireContains("✗ image gone")
}

// After a pull, the detail and the registries screen show the new state
// without a reload.
func TestScreensFollowTheirOwnWork(t *testing.T) {
	h := newHarness(t, 120, 40)
	openTags(t, h)
	h.press("open")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	h.requireContains("0/25 in the local store")
	h.press("pull")
	h.settle("pulled and reloaded", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) && h.contains("25/25 in the local store") })
	if j := h.m.xfers.jobs[0]; j.state != jobDone {
		t.Fatalf("pull: %v %v", j.state, j.err)
	}
	h.requireContains("✓ present")
	st, err := store.Open(filepath.Join(h.dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if id := demoResult.Images["ci/nightly/2026-11-25"]; !st.HasImage(id) {
		t.Fatalf("image %s not in the store after the pull", id.Short())
	}
	for !topIs[*registriesScreen](h.m) {
		h.press("back")
	}
	h.settle("store row", func(m *App) bool { return idle(m) && h.contains("✓ 1 image") })
}

func TestReadOnly(t *testing.T) {
	h := newHarness(t, 120, 24, withReadOnly())
	openTags(t, h)
	h.requireContains("READ-ONLY")
	if f := h.footerLine(); strings.Contains(f, "pull") {
		t.Fatalf("the footer advertises pull in read-only mode: %q", f)
	}
	for _, k := range []string{"pull", "copy", "push"} {
		h.press(k)
		if !strings.Contains(h.statusLine(), "read-only") || anyOverlay(h.m) || len(h.m.xfers.jobs) != 0 {
			t.Fatalf("%s in read-only mode: status %q, overlay %v, jobs %d", k, h.statusLine(), anyOverlay(h.m), len(h.m.xfers.jobs))
		}
	}
	h.press("help")
	h.requireContains("pull (off: read-only mode)")
	h.press("back")
	// Verify reads only and stays allowed.
	h.press("verify")
	h.settle("verify", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) })
	if j := h.m.xfers.jobs[0]; j.state != jobDone || j.report == nil || !j.report.Complete {
		t.Fatalf("verify: %v %v", j.state, j.err)
	}
}

func TestCopyToAnotherRoot(t *testing.T) {
	other := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "mirror"))
	h := newHarness(t, 120, 30, withRoots(demoRoot, other))
	openTags(t, h)
	h.press("copy")
	// The image's own root is not offered.
	if !dialogOpen[*pickDialog](h.m) || h.contains("  "+demoRoot) {
		t.Fatalf("copy offers the source root:\n%s", h.plain())
	}
	h.press("submit")
	// The owner (ci/) is kept.
	want := other + "/ci/nightly/2026-11-25"
	if in := h.m.topOverlay().(*inputDialog); in.in.Value() != want {
		t.Fatalf("suggested destination %q, want %q", in.in.Value(), want)
	}
	h.press("submit")
	h.settle("copied", func(m *App) bool { return len(m.xfers.jobs) == 1 && idle(m) })
	if j := h.m.xfers.jobs[0]; j.state != jobDone {
		t.Fatalf("copy: %v %v", j.state, j.err)
	}
	dst := strings.TrimPrefix(want, "file://") + "/manifest.json"
	if _, err := os.Stat(dst); err != nil {
		t.Fatalf("copy did not write %s: %v", dst, err)
	}
	// Copying again asks before replacing the image; enter alone says no.
	h.press("copy")
	h.press("submit")
	h.press("submit")
	h.settle("overwrite question", dialogOpen[*confirmDialog])
	h.requireContains("already holds an image", " No ", " Replace ")
	h.press("submit")
	if anyOverlay(h.m) || len(h.m.xfers.jobs) != 1 {
		t.Fatal("enter replaced the image")
	}
	h.press("copy")
	h.press("submit")
	h.press("submit")
	h.settle("overwrite question", dialogOpen[*confirmDialog])
	h.press("confirm")
	h.settle("second copy", func(m *App) bool { return len(m.xfers.jobs) == 2 && idle(m) })
	if j := h.m.xfers.jobs[1]; j.state != jobDone || j.report.Skipped == 0 {
		t.Fatalf("second copy: %v %v", j.state, j.err)
	}
	// A copy onto the image itself is refused in the dialog.
	h.press("copy")
	h.press("submit")
	h.typeInto("file://demo/ci/nightly/2026-11-25")
	h.press("submit")
	h.requireContains("that is the image itself")
}

func TestPushFromLocalStore(t *testing.T) {
	target := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "pushed"))
	h := newHarness(t, 120, 30, withRoots(target))
	h.pullIntoStore("file://demo/alice/refactor-agent/v1")
	h.settle("roots", idle)
	h.press("top")
	h.press("open") // local store
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
	h.press("push")
	h.settle("pick root", dialogOpen[*pickDialog])
	h.press("submit")
	h.typeInto(target + "/agent/v1")
	h.press("submit")
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
	h.press("help")
	h.requireContains("Keys", "Signature column", "CREDENTIALS is how")
	h.press("back")
	if anyOverlay(h.m) {
		t.Fatal("help still shown")
	}
	h.press("transfers")
	h.requireContains("No transfers yet")
	h.press("back")
	if anyOverlay(h.m) {
		t.Fatal("back did not leave the transfers view")
	}
	h.press("notifications")
	h.requireContains("Messages")
	h.press("back")
	_, cmd := h.m.Update(keyMsg("q"))
	if cmd == nil || !h.m.quitting {
		t.Fatal("q did not quit")
	}
}

func TestQuitAsksWhileJobsRun(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.settle("roots", idle)
	cleaned := make(chan struct{})
	h.send(startJobMsg{jobSpec{op: "pull", src: "x", run: func(ctx context.Context, _ func(registry.Event)) (*registry.Report, error) {
		<-ctx.Done()
		close(cleaned) // the job's clean-up ran before the program ends
		return nil, ctx.Err()
	}}})
	for _, k := range []string{"quit", "submit"} { // enter alone keeps running
		h.press(k)
	}
	if h.m.quitting || anyOverlay(h.m) {
		t.Fatal("quit without a yes")
	}
	h.send(keyMsg("ctrl+c"))
	h.requireContains("1 transfer(s) still running", " No ")
	h.press("confirm")
	h.settle("quit", func(*App) bool { return h.quit })
	select {
	case <-cleaned:
	default:
		t.Fatal("the program quit before the cancelled job had cleaned up")
	}
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
	h.press("top")
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

// ctrl+c twice quits at once, even while transfers run.
func TestCtrlCTwice(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.settle("roots", idle)
	h.send(startJobMsg{jobSpec{op: "pull", src: "x", run: func(ctx context.Context, _ func(registry.Event)) (*registry.Report, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}})
	h.send(keyMsg("ctrl+c"))
	if h.m.quitting {
		t.Fatal("one ctrl+c quit without asking")
	}
	h.send(keyMsg("ctrl+c"))
	h.settle("quit", func(*App) bool { return h.quit })
}

// Search lists the images of every repository, filtered as you type, with
// their verdicts; marks then act on all of them: a bulk pull starts what
// can succeed and names what it refuses.
func TestSearchAndBulkPull(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.settle("roots", idle)
	h.press("open")
	h.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
	h.press("search")
	h.typeText("nightly")
	h.settle("search", func(m *App) bool { return idle(m) && h.contains("ci/nightly:2026-11-27") })
	h.requireContains("3/10 match", "✗ invalid", "✓ valid")
	h.press("submit")
	h.press("top")
	for range 3 {
		h.press("mark")
	}
	h.requireContains("3 marked")
	h.press("pull")
	if h.contains("marked") {
		t.Fatalf("marks kept after the bulk pull:\n%s", h.plain())
	}
	h.settle("pulls", func(m *App) bool { return len(m.xfers.jobs) == 2 && idle(m) })
	// The refusal comes first; the started pulls follow it.
	if !slices.ContainsFunc(h.m.sh.notes, func(n note) bool {
		return n.err && strings.Contains(n.text, "ci/nightly:2026-11-26 not pulled: its signature does not verify")
	}) {
		t.Fatalf("the refused image is not named: %+v", h.m.sh.notes)
	}
	for _, j := range h.m.xfers.jobs {
		if j.state != jobDone || strings.HasSuffix(j.spec.src, "2026-11-26") {
			t.Fatalf("bulk pull job %s: %v %v", j.spec.src, j.state, j.err)
		}
	}
}
