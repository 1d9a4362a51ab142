package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"pf-registry/registry"
)

// mainViews drives a model through the main screens against the demo
// registry and returns each frame, in order: registries, tags (with
// verdicts), detail of the tampered image, and the transfers view.
//
// The transfers frame shows a pull of the demo image with progress events
// fed at fixed points (a real pull finishes in milliseconds, and blob
// completion order is not deterministic), so the frame is reproducible.
func mainViews(t *testing.T, theme string, w, h int) [][2]string {
	// Paths as a user would see them (relative directories literally
	// named "~" inside the test's working directory).
	hs := newHarness(t, w, h, withTheme(theme), func(o *Options) {
		o.StorePath = "~/.processfork"
		o.ConfigPath = "~/.config/pf-registry/config.yaml"
	})
	var out [][2]string
	shot := func(name string) { out = append(out, [2]string{name, hs.view()}) }

	hs.settle("roots", idle)
	hs.key("down")
	shot("registries")
	openTags(t, hs)
	hs.key("/", "esc", "j") // clear the repository filter's echo, select the tampered tag
	shot("tags")
	hs.key("enter")
	hs.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	shot("detail")

	hs.key("esc", "k")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hs.send(startJobMsg{jobSpec{op: "pull", src: "file://demo/ci/nightly/2026-11-25", dst: "local store",
		run: func(ctx context.Context, _ func(registry.Event)) (*registry.Report, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil, ctx.Err()
		}}})
	j := hs.m.xfers.jobs[0]
	hs.send(jobProgressMsg{id: j.id, snap: demoPullSnap(0)})
	hs.now = hs.now.Add(3 * time.Second)
	hs.send(jobProgressMsg{id: j.id, snap: demoPullSnap(1)})
	hs.key("t")
	shot("transfers")
	return out
}

// demoPullSnap is a pull of the demo image 2026-11-25 part way through.
func demoPullSnap(step int) progressSnap {
	d := func(i int) blobProgress {
		return blobProgress{Digest: dg(fmt.Sprint("blob", i)), Total: int64(40_000 + 7_919*i)}
	}
	roles := []string{"model.base", "model.diff", "cache.manifest", "world.fs", "world.env", "world.procs",
		"effects.ledger", "trace.messages", "fs:README.md", "fs:src/agent/pull_1.py", "page:0.k", "page:0.v",
		"page:1.k", "page:1.v", "page:2.k", "page:2.v"}
	var s progressSnap
	for i, r := range roles {
		b := d(i)
		b.Role = r
		switch {
		case i < 2:
			b.Phase = "skipped"
		case i < 8+step*2:
			b.Phase, b.Done = "done", b.Total
		case i < 10+step*2:
			b.Phase, b.Done = "transferring", b.Total/3*int64(step+1)
		case i == 10+step*2:
			b.Phase, b.Done = "verifying", b.Total
		default:
			b.Phase = "queued"
		}
		if b.Phase != "skipped" {
			s.Total += b.Total
			s.Done += b.Done
		}
		s.Blobs = append(s.Blobs, b)
	}
	s.Signature = "valid"
	return s
}

// saveScreenshotFrame writes a frame for scripts/screenshots.sh when
// PF_UI_SCREENSHOTS names a directory.
func saveScreenshotFrame(t *testing.T, name, frame string) {
	dir := os.Getenv(e2eShotsEnv)
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".ansi"), []byte(frame), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGolden(t *testing.T) {
	for _, theme := range []string{"dark", "light", "high-contrast"} {
		for _, sz := range [][2]int{{80, 24}, {140, 40}} {
			if theme == "high-contrast" && sz[0] == 80 {
				continue
			}
			t.Run(fmt.Sprintf("%s_%dx%d", theme, sz[0], sz[1]), func(t *testing.T) {
				for _, f := range mainViews(t, theme, sz[0], sz[1]) {
					t.Run(f[0], func(t *testing.T) { golden.RequireEqual(t, f[1]) })
					saveScreenshotFrame(t, fmt.Sprintf("%s-%s-%dx%d", f[0], theme, sz[0], sz[1]), f[1])
				}
			})
		}
	}
}
