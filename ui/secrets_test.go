package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/testimages"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// TestSessionSecretsNeverRendered opens every pane of an image whose
// ledger header carries a session_secret_hex and whose entries carry
// session HMACs, previews every file, and shows its lineage, fork tree and
// diff with its parent: no frame may show a secret, nor its first half.
func TestSessionSecretsNeverRendered(t *testing.T) {
	src, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, b := testimages.SecretImages(t, src)
	secrets := testimages.SecretValues(t, src, b)
	dir := filepath.Join("t", "secret-registry")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	root := "file://" + filepath.ToSlash(dir)
	for tag, id := range map[string]model.Digest{"a": a, "b": b} {
		reg, ref, err := registry.ForRef(root+"/team/secret/"+tag, registry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Push(context.Background(), src, id, ref, registry.TransferOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	h := newHarness(t, 140, 40, withRoots(root))
	var frames []string
	shot := func() { frames = append(frames, h.view()) }
	d := openImage(t, h, "secret", "b")
	shot()
	for range d.panes {
		h.press("next_pane")
		h.settle("pane", idle)
		for range 3 {
			shot()
			h.press("page_down")
		}
		h.press("fold")
		shot()
		h.press("fold")
	}
	// Every file of the tree, previewed.
	for d.panes[d.pane].name != "Files" {
		h.press("next_pane")
	}
	h.press("top")
	previewEveryFile(h, d, shot)
	// The parent through the lineage pane, the tree, a diff both ways.
	h.press("diff_mark")
	for d.panes[d.pane].name != "Lineage" {
		h.press("next_pane")
	}
	h.settle("lineage", idle)
	shot()
	h.press("open")
	h.settle("parent", func(m *App) bool { return topIs[*detailScreen](m) && m.top() != d && idle(m) })
	shot()
	h.press("diff")
	h.settle("diff", func(m *App) bool { return topIs[*diffScreen](m) && idle(m) })
	h.press("fold")
	for range 4 {
		shot()
		h.press("page_down")
	}
	h.press("back")
	h.press("fork_tree")
	h.settle("tree", func(m *App) bool { return topIs[*forkTreeScreen](m) && idle(m) })
	shot()
	h.press("notifications")
	shot()

	if len(frames) < 40 {
		t.Fatalf("only %d frames", len(frames))
	}
	for i, f := range frames {
		plain := ansi.Strip(f)
		for _, s := range secrets {
			for _, part := range []string{s, s[:len(s)/2]} {
				if strings.Contains(f, part) || strings.Contains(plain, part) {
					t.Fatalf("frame %d shows a secret (%.6s…):\n%s", i, s, plain)
				}
			}
		}
	}
	// The panes did show the ledger and the environment.
	all := ansi.Strip(strings.Join(frames, "\n"))
	for _, want := range []string{"session secret present (never shown)", "carry a session HMAC (never shown)",
		"GITHUB_TOKEN", "masked here: the name looks secret", "Effects    +"} {
		if !strings.Contains(all, want) {
			t.Errorf("no frame shows %q", want)
		}
	}
}

// TestHostileContentIsSanitised opens every pane of an image whose every
// string attacks the terminal, previews its files, and shows its lineage,
// fork tree and a diff: no frame sends a control character of the image
// to the terminal, and the text is still shown, escaped.
func TestHostileContentIsSanitised(t *testing.T) {
	src, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := testimages.HostileImage(t, src)
	dir := filepath.Join("t", "hostile-registry")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	root := "file://" + filepath.ToSlash(dir)
	for _, tag := range []string{"x", "y"} {
		reg, ref, err := registry.ForRef(root+"/evil/repo/"+tag, registry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Push(context.Background(), src, id, ref, registry.TransferOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, 140, 40, withRoots(root), withTheme("dark"))
	var frames []string
	shot := func() { frames = append(frames, h.view()) }
	d := openImage(t, h, "evil", "x")
	h.press("diff_mark")
	for range d.panes {
		h.press("next_pane")
		h.settle("pane", idle)
		shot()
		if d.panes[d.pane].name == "Files" {
			previewEveryFile(h, d, shot)
		}
	}
	h.press("fork_tree")
	h.settle("tree", func(m *App) bool { return topIs[*forkTreeScreen](m) && idle(m) })
	shot()
	h.press("back")
	backToTags(h)
	h.press("bottom")
	h.press("diff")
	h.settle("diff", func(m *App) bool { return topIs[*diffScreen](m) && idle(m) })
	shot()
	checkFramesSafe(t, frames)
	all := ansi.Strip(strings.Join(frames, "\n"))
	for _, want := range []string{`hi \x1b[31m`, `bash\x1b[31m`, `X\x1b[31m`, `evil\x1b[31m`, `text \x1b[31m`, `→ x\x1b[31m`, `lora\x1b[31m`} {
		if !strings.Contains(all, want) {
			t.Errorf("no frame shows %q escaped", want)
		}
	}
}

// previewEveryFile opens the Files pane's entries one by one from the
// selected one, calling shot on each preview.
func previewEveryFile(h *harness, d *detailScreen, shot func()) {
	for range d.data.fsTree.Entries {
		h.press("open")
		h.settle("preview", func(m *App) bool { return idle(m) && !dialogOpen[*waitDialog](m) })
		shot()
		if dialogOpen[*textPage](h.m) {
			h.press("back")
		}
		h.press("down")
	}
}
