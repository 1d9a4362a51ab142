package ui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// openImage drives the harness from the registries screen to the detail
// of repo:tag of the demo root (each picked with the filter) and waits
// until its reads are done.
func openImage(t *testing.T, h *harness, repo, tag string) *detailScreen {
	t.Helper()
	openRepo(t, h, repo)
	h.press("filter")
	h.typeText(tag)
	h.press("submit")
	h.press("open")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	return h.top().(*detailScreen)
}

// backToTags leaves a detail for its tag list, with the filter cleared.
func backToTags(h *harness) {
	for !topIs[*tagsScreen](h.m) {
		h.press("back")
	}
	h.press("back")
}

// scrollTo pages through the pane from its top until text shows.
func scrollTo(t *testing.T, h *harness, text string) {
	t.Helper()
	h.press("top")
	for range 20 {
		if h.contains(text) {
			return
		}
		h.press("page_down")
	}
	t.Fatalf("%q is not in the pane:\n%s", text, h.plain())
}

// toPane presses next_pane until the named pane shows, and waits for its
// read.
func toPane(t *testing.T, h *harness, d *detailScreen, name string) {
	t.Helper()
	for range d.panes {
		if d.panes[d.pane].name == name {
			h.settle(name+" pane", idle)
			return
		}
		h.press("next_pane")
	}
	t.Fatalf("no pane named %s", name)
}

func TestContentPanes(t *testing.T) {
	h := newHarness(t, 140, 40)
	d := openImage(t, h, "refactor", "v3")
	// The summary lines, before any pane is opened.
	h.requireContains("Effects    1 irreversible effect recorded (20 in all, 1 network-only)",
		"Cache      8 pages, 4.0 MiB, 466 tokens held (paged-batchinvariant-v1)",
		"Parents    alice/refactor-agent:v2", "to download (all 39 blobs)")

	toPane(t, h, d, "Trace")
	h.requireContains("61 messages (system 1, user 30, assistant 30)", "── 1 · system ", "── 2 · user ",
		"→ edit_file(")
	scrollTo(t, h, "more lines (z unfolds)")
	h.press("fold")
	if h.contains("more lines (z unfolds)") || !h.contains("z folds long messages") {
		t.Fatalf("fold did not unfold:\n%s", h.plain())
	}
	h.press("fold")
	h.requireContains("more lines (z unfolds)")
	h.press("top")

	t.Run("search", func(t *testing.T) {
		h.press("filter")
		if !d.Capturing() {
			t.Fatal("/ does not start a search")
		}
		h.typeText("pytest")
		h.press("submit")
		if !strings.HasPrefix(h.statusLine(), "/pytest 1/6 · n/N next/previous") {
			t.Fatalf("status %q", h.statusLine())
		}
		first := d.vp.YOffset()
		h.press("next_match")
		if !strings.HasPrefix(h.statusLine(), "/pytest 2/6") || d.vp.YOffset() <= first {
			t.Fatalf("n: status %q, offset %d then %d", h.statusLine(), first, d.vp.YOffset())
		}
		h.press("prev_match")
		h.press("prev_match")
		if !strings.HasPrefix(h.statusLine(), "/pytest 6/6") {
			t.Fatalf("N twice from 2 wraps to 6: %q", h.statusLine())
		}
		// A match in a folded part unfolds its message.
		h.press("filter")
		h.press("clear_input")
		h.typeText("tests/test_verify.py")
		h.press("submit")
		if !h.contains("tests/test_verify.py") {
			t.Fatalf("a folded match is not shown:\n%s", h.plain())
		}
		h.press("back") // clears the search, stays
		if d.x.find.query != "" || !topIs[*detailScreen](h.m) {
			t.Fatalf("esc: query %q, top %T", d.x.find.query, h.top())
		}
	})

	toPane(t, h, d, "Effects")
	h.requireContains("effects.ledger.v1 · 20 entries · verification hmac-chain",
		"session secret present (never shown) · 20 entries carry a session HMAC (never shown)",
		"! 2026-11-19T19:14:40Z git.push    irreversible", "! 2026-11-19T19:18:40Z http.get    network-only")

	toPane(t, h, d, "Env")
	h.requireContains("Cwd        /workspace/pf-cli", "GITHUB_TOKEN    <redacted>  masked here: the name looks secret",
		"OPENAI_API_KEY  <redacted>  redacted by the writer", "GIT_BRANCH      refactor/cache-pages")

	toPane(t, h, d, "KV cache")
	h.requireContains("4 layers × 8 heads × 64 head dim, bf16", "64 tokens, 256.0 KiB per K or V page",
		"8 (4.0 MiB of K and V)", "466 held", "seq-0: 8 pages, 466 tokens")

	toPane(t, h, d, "Model")
	h.requireContains("base:claude-code", "lora (model.diff.v1), 1 adapter", "refactor-style", `"rank":8`,
		"procs.respawn.v1", "2 processes to respawn", "--api-token <redacted>")
}

func TestFilesPanePreviews(t *testing.T) {
	h := newHarness(t, 120, 40)
	d := openImage(t, h, "refactor", "v3")
	toPane(t, h, d, "Files")
	h.requireContains("21 entries · enter previews a file")
	preview := func(path string, want ...string) {
		t.Helper()
		for i, e := range d.data.fsTree.Entries {
			if e.Path == path {
				d.x.files.sel = i - 1
				h.press("down")
				break
			}
		}
		h.press("open")
		h.settle("preview of "+path, func(m *App) bool { return dialogOpen[*textPage](m) })
		h.requireContains(want...)
		h.press("back")
	}
	preview("README.md", "file · 0644 · 641 B", "# README")
	preview("docs/architecture.png", "binary content: PNG image (not shown)")
	preview("docs/index.md", "symlink · 0777", "symbolic link → README.md")
	preview("src/agent/planner.py", "def ")
	// A search puts the cursor on what it found.
	h.press("filter")
	h.typeText("planner.py")
	h.press("submit")
	h.press("open")
	h.settle("preview of the match", func(m *App) bool { return dialogOpen[*textPage](m) })
	if !strings.Contains(h.lines()[0], "src/agent/planner.py") {
		t.Fatalf("enter after a search previews another file:\n%s", h.plain())
	}
	h.press("back")
	h.press("back") // clears the search
	h.press("top")
	h.press("down") // docs/, a directory
	h.press("open")
	if anyOverlay(h.m) || !strings.Contains(h.statusLine(), "docs/ is a directory with 3 entries") {
		t.Fatalf("enter on a directory: status %q", h.statusLine())
	}
}

func TestLineagePaneAndForkTree(t *testing.T) {
	h := newHarness(t, 140, 40)
	d := openImage(t, h, "refactor", "v3")
	toPane(t, h, d, "Lineage")
	h.requireContains("Parents", "▸ alice/refactor-agent:v2", "Children (forks and merges of this image)", "team/merge-bot:merged")
	h.press("down")
	h.press("open") // the child: the merge
	h.settle("merge detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) && m.top() != d })
	h.requireContains("Reference  file://demo/team/merge-bot/merged",
		"Parents    alice/refactor-agent:v3, bob/research-agent:experiment (merge)",
		"merged ledger: its parents record 1 + 1 irreversible effects")
	m := h.top().(*detailScreen)
	toPane(t, h, m, "Effects")
	h.requireContains("effects.merged.v1 (a merge)", "Parent A   alice/refactor-agent:v3", "Parent B   bob/research-agent:experiment",
		"1 irreversible effect recorded (20 in all, 1 network-only)", "Ancestor", "no image under this root has it")

	h.press("fork_tree")
	h.settle("fork tree", func(m *App) bool { return topIs[*forkTreeScreen](m) && idle(m) })
	lines := h.lines()
	h.requireContains("10 images, 6 roots, 0 forks, 1 merge under file://demo", "team/merge-bot:merged  (merge of 2)")
	// The merge is selected (opened from its detail) and followed by the
	// connector of its two parents.
	for i, l := range lines[1:] {
		if strings.Contains(l, "team/merge-bot:merged") {
			if !strings.HasPrefix(lines[i+2], "|\\") {
				t.Fatalf("no fork connector under the merge:\n%s", h.plain())
			}
		}
	}
	if n := h.top().(*forkTreeScreen).node(); n == nil || n.ID != demoResult.Images["team/merge-bot/merged"] {
		t.Fatalf("the tree does not select the image it was opened from: %+v", n)
	}
	h.press("bottom")
	h.press("open")
	h.settle("root detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	h.requireContains("Reference  file://demo/alice/refactor-agent/v1", "none (root image)")
}

func TestForkTreeFromGoTo(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.settle("roots", idle)
	h.press("command")
	h.typeText("tree")
	h.press("submit")
	if !strings.Contains(h.statusLine(), "tree needs a root") {
		t.Fatalf("bare tree: %q", h.statusLine())
	}
	h.press("clear_input")
	h.typeText("tree file://demo/alice/refactor-agent")
	h.press("submit")
	h.settle("tree", func(m *App) bool { return topIs[*forkTreeScreen](m) && idle(m) })
	h.requireContains("3 images, 1 root, 0 forks, 0 merges", "v3", "v2", "v1  (root)")
	// The repository's tags are named without the repository.
	if h.contains("alice/refactor-agent:v3") {
		t.Fatalf("tags of a repository tree carry the repository:\n%s", h.plain())
	}
	// An image opened by its reference finds its relatives under the root
	// it lies in.
	h.press("command")
	h.typeText("file://demo/alice/refactor-agent/v2")
	h.press("submit")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	h.requireContains("Parents    alice/refactor-agent:v1")
	toPane(t, h, h.top().(*detailScreen), "Lineage")
	h.requireContains("alice/refactor-agent:v1", "alice/refactor-agent:v3")
}

func TestDiffScreen(t *testing.T) {
	h := newHarness(t, 140, 60)
	openImage(t, h, "refactor", "v1")
	h.press("diff")
	if !strings.Contains(h.statusLine(), "mark an image with m first") {
		t.Fatalf("diff without a mark: %q", h.statusLine())
	}
	h.press("diff_mark")
	backToTags(h)
	h.press("bottom") // v3
	if !strings.Contains(h.statusLine(), "diff A: alice/refactor-agent:v1") {
		t.Fatalf("the tag list does not show the marked image: %q", h.statusLine())
	}
	h.press("diff")
	h.settle("diff", func(m *App) bool { return topIs[*diffScreen](m) && idle(m) })
	h.requireContains("A          alice/refactor-agent:v1", "B          alice/refactor-agent:v3",
		"Files      +3 −1 ~3, 15 unchanged", "+ src/cache/prefetch.py", "- tests/test_pages.py", "~ scripts/run_agent.sh  mode 0644 → 0755",
		"KV pages   3 shared, 1 changed, 4 new, 0 removed (4 → 8 pages)",
		"Trace      24 messages in common; B adds 37", "Effects    +12 (0 irreversible, 1 network-only), −0",
		"Model      1 change", "diff lora [] → lora [refactor-style]")
	// The bytes come from the two walks.
	ds := h.top().(*diffScreen)
	wantShared := termtext.Bytes(ds.d.Bytes.SharedBytes)
	h.requireContains("B stores " + termtext.Bytes(ds.d.Bytes.BStored) + "; " + wantShared + " of it")
	h.requireContains("pulling B downloads " + termtext.Bytes(ds.d.Bytes.PullBAfterA) + " when A is in the local store")
	if ds.d.Bytes.SharedBytes <= 0 || ds.d.Bytes.PullBAfterA >= ds.d.Bytes.BStored {
		t.Fatalf("v3 shares nothing with v1: %+v", ds.d.Bytes)
	}

	// Two images marked with space diff with each other.
	h.press("back")
	h.m.sh.diffBase = nil
	h.press("top")
	h.press("mark")
	h.press("mark")
	h.press("diff")
	h.settle("diff of marks", func(m *App) bool { return topIs[*diffScreen](m) && idle(m) })
	h.requireContains("A          alice/refactor-agent:v1", "B          alice/refactor-agent:v2")
}

func TestPullCostColumn(t *testing.T) {
	h := newHarness(t, 120, 24)
	openImage(t, h, "refactor", "v1")
	backToTags(h)
	h.settle("costs", idle)
	tags := h.top().(*tagsScreen)
	st, err := store.Open(filepath.Join(h.dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	// The expected cost of each row, from the registry package.
	want := func(tag string) string {
		t.Helper()
		reg, ref, err := registry.ForRef("file://demo/alice/refactor-agent/"+tag, registry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := registry.OpenContent(context.Background(), reg, ref)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := c.PullCost(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		if pc.FetchBlobs == 0 {
			return "✓ local"
		}
		return termtext.Bytes(pc.FetchBytes)
	}
	row := func(tag string) string {
		for _, l := range h.lines() {
			if strings.HasPrefix(strings.TrimSpace(l), tag+" ") {
				return l
			}
		}
		t.Fatalf("no row %s:\n%s", tag, h.plain())
		return ""
	}
	h.requireContains("PULL")
	for _, tag := range []string{"v1", "v2", "v3"} {
		if r := row(tag); !strings.HasSuffix(strings.TrimRight(r, " "), want(tag)) {
			t.Fatalf("row %s: %q, want the cost %s", tag, r, want(tag))
		}
	}
	before := row("v2")
	// Pulling v1 makes it local and v2 cheaper (they share blobs).
	h.press("top")
	h.press("pull")
	h.settle("pulled, costs counted again", func(m *App) bool {
		return len(m.xfers.jobs) == 1 && idle(m) && strings.Contains(row("v1"), "✓ local")
	})
	if after := row("v2"); after == before || !strings.HasSuffix(strings.TrimRight(after, " "), want("v2")) {
		t.Fatalf("v2 after pulling v1: %q (before %q, want %s)", after, before, want("v2"))
	}
	if len(tags.cost.by) != 3 {
		t.Fatalf("costs counted: %d", len(tags.cost.by))
	}
}

func TestPanesOfRefusedAndEmptyImages(t *testing.T) {
	h := newHarness(t, 120, 40)
	d := openImage(t, h, "nightly", "2026-11-27")
	h.requireContains("Cache      no KV cache captured")
	toPane(t, h, d, "KV cache")
	h.requireContains("Cache      no KV cache captured")
	backToTags(h)
	h.press("filter")
	h.typeText("2026-11-26")
	h.press("submit")
	h.press("open")
	h.settle("tampered detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) && m.top() != d })
	d = h.top().(*detailScreen)
	h.requireContains("Pull       refused: its signature does not verify")
	toPane(t, h, d, "Trace")
	// Nothing of an image that would not pull is decompressed.
	h.requireContains("✗ signature of file://demo/ci/nightly/2026-11-26 does not verify")
	if _, l := loaded[*model.Trace](&d.x, loadTrace); l == nil || l.err == nil {
		t.Fatalf("the trace of a tampered image was read: %+v", l)
	}
}

// TestInsideSizes checks every pane, a preview, the fork tree and the
// diff at several terminal sizes.
func TestInsideSizes(t *testing.T) {
	h := newHarness(t, 80, 24)
	d := openImage(t, h, "refactor", "v3")
	h.press("diff_mark")
	for range d.panes {
		h.press("next_pane")
		h.settle("pane", idle)
		checkSizes(t, h, "pane "+d.panes[d.pane].name)
		if d.panes[d.pane].name == "Trace" {
			h.press("filter")
			h.typeText("pytest")
			checkSizes(t, h, "search")
			h.press("submit")
		}
	}
	toPane(t, h, d, "Files")
	h.press("open")
	h.settle("preview", dialogOpen[*textPage])
	checkSizes(t, h, "preview")
	h.press("back")
	h.press("fork_tree")
	h.settle("tree", func(m *App) bool { return topIs[*forkTreeScreen](m) && idle(m) })
	checkSizes(t, h, "fork tree")
	h.press("up")
	h.press("diff")
	h.settle("diff", func(m *App) bool { return topIs[*diffScreen](m) && idle(m) })
	checkSizes(t, h, "diff")
}

// An image of the local store shows its contents from the store.
func TestLocalImagePanes(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.pullIntoStore("file://demo/alice/refactor-agent/v1")
	h.settle("roots", idle)
	h.press("top")
	h.press("open")
	h.settle("local images", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
	h.press("open")
	h.settle("local detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	d := h.top().(*detailScreen)
	h.requireContains("Effects    1 irreversible effect recorded (8 in all)", "4 pages, 2.0 MiB")
	if h.contains("Pull  ") {
		t.Fatalf("an image of the store shows a pull cost:\n%s", h.plain())
	}
	toPane(t, h, d, "Trace")
	h.requireContains("24 messages", "── 1 · system")
	toPane(t, h, d, "Files")
	h.press("open")
	h.settle("preview", dialogOpen[*textPage])
	h.requireContains("# README")
}

// Leaving a screen cancels its background reads, and a late result is
// dropped.
func TestLeavingCancelsReads(t *testing.T) {
	h := newHarness(t, 120, 30)
	d := openImage(t, h, "refactor", "v3")
	h.press("next_pane")
	h.press("next_pane")
	h.press("next_pane") // Trace: its read starts
	h.press("back")
	if d.ctx.Err() == nil {
		t.Fatal("leaving the detail did not cancel its reads")
	}
	h.send(paneMsg{id: d.id, gen: d.x.gen, key: loadEnv, val: &model.Env{Cwd: "late"}})
	if d.x.loads[loadEnv] != nil {
		t.Fatal("a late read reached a detail that was left")
	}
	h.press("fork_tree")
	tree := h.top().(*forkTreeScreen)
	h.press("back")
	if tree.ctx.Err() == nil {
		t.Fatal("leaving the fork tree did not cancel its collection")
	}
}
