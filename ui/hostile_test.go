package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/fault"
	"pf-registry/internal/testimages"
	"pf-registry/registry"
	"pf-registry/store"
)

// checkFramesSafe fails when a frame sends the image's colour sequence or,
// the UI's own style sequences aside, any control character.
func checkFramesSafe(t *testing.T, frames []string) {
	t.Helper()
	own := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	for i, f := range frames {
		// The dark theme styles in truecolour: the image's basic red would
		// only come from the image.
		if strings.Contains(f, "\x1b[31m") {
			t.Fatalf("frame %d sends the image's colour sequence:\n%s", i, ansi.Strip(f))
		}
		rest := own.ReplaceAllString(f, "")
		if j := strings.IndexFunc(rest, func(c rune) bool {
			return (c < 0x20 && c != '\n') || (c >= 0x7f && c <= 0x9f) || c == '\u202e'
		}); j >= 0 {
			t.Fatalf("frame %d sends a control character at %d: %q\n%s", i, j, rest[max(0, j-30):min(len(rest), j+30)], ansi.Strip(f))
		}
	}
}

// TestHostileNamesAndTransfersAreSanitised walks a registry whose
// repository and tag names attack the terminal, pulls the hostile image
// (whose blob roles carry its fs-tree paths), lists the store it entered,
// and shows a job that retries and fails with a hostile message: no frame
// sends a control character, and the text is shown escaped.
func TestHostileNamesAndTransfersAreSanitised(t *testing.T) {
	src, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := testimages.HostileImage(t, src)
	dir := filepath.Join("t", "hostile-names")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	root := "file://" + filepath.ToSlash(dir)
	reg, ref, err := registry.ForRef(root+"/evil/repo/x", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(context.Background(), src, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "ev"+testimages.Hostile, "repo", "t"+testimages.Hostile), os.DirFS(filepath.Join(dir, "evil/repo/x"))); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 220, 40, withRoots(root))
	var frames []string
	shot := func() { frames = append(frames, h.view()) }
	h.settle("roots", idle)
	shot()
	h.press("top")
	h.press("down")
	h.press("open")
	h.settle("repositories", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
	shot()
	h.press("top")
	h.press("open")
	h.settle("tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	shot()
	h.press("pull")
	h.settle("pulled", func(m *App) bool { return len(m.xfers.jobs) == 1 && m.xfers.running() == 0 && idle(m) })
	h.press("transfers")
	shot()
	h.press("open")
	shot()
	h.press("back")
	h.press("back")

	// A job that retries, then fails, each time quoting a hostile server.
	step := make(chan struct{})
	h.send(startJobMsg{jobSpec{op: "pull", src: root + "/ev" + testimages.Hostile + "/repo/x", dst: "local store",
		run: func(ctx context.Context, progress func(registry.Event)) (*registry.Report, error) {
			role := "fs:evil" + testimages.Hostile + ".txt"
			progress(registry.Event{Kind: registry.KindBlob, Digest: dg("a"), Role: role, Phase: registry.PhaseTransferring, Done: 1, Total: 9})
			progress(registry.Event{Kind: registry.KindBlob, Digest: dg("a"), Role: role, Phase: registry.PhaseQueued, Total: 9,
				Message: "try 1 failed, retrying in 1s: server said " + testimages.Hostile})
			<-step
			progress(registry.Event{Kind: registry.KindBlob, Digest: dg("a"), Role: role, Phase: registry.PhaseFailed,
				Error: "server said " + testimages.Hostile})
			return nil, fault.Classed(fault.ErrTransient, errors.New("server said "+testimages.Hostile))
		}}})
	h.press("transfers")
	h.settle("retrying", func(m *App) bool { return strings.Contains(ansi.Strip(h.view()), "retrying in 1s") })
	shot()
	close(step)
	h.settle("failed", func(m *App) bool { return m.xfers.running() == 0 })
	shot()
	h.press("down")
	h.press("open")
	shot()
	h.press("back")
	h.press("back")
	h.press("back")
	h.press("back")
	h.press("back")
	h.settle("registries", func(m *App) bool { return topIs[*registriesScreen](m) && idle(m) })
	h.press("top")
	h.press("open")
	h.settle("local images", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
	shot()
	checkFramesSafe(t, frames)
	all := ansi.Strip(strings.Join(frames, "\n"))
	for _, want := range []string{`ev\x1b[31m`, `t\x1b[31m`, `fs:evil\x1b[31m`, `retrying in 1s: server said \x1b[31m`,
		`failed: server said \x1b[31m`, `agent\x1b[31m`} {
		if !strings.Contains(all, want) {
			t.Errorf("no frame shows %q escaped", want)
		}
	}
}
