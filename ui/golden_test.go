package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"pf-registry/registry"
)

// mainViews drives a model through every screen against the demo
// registry and returns each frame, in order. all is false for the themes
// that show only the four main screens.
//
// The transfers frame shows a pull of the demo image with progress events
// fed at fixed points (a real pull finishes in milliseconds, and blob
// completion order is not deterministic), so the frame is reproducible.
func mainViews(t *testing.T, theme string, w, h int, all bool) [][2]string {
	// Paths as a user would see them (relative directories literally
	// named "~" inside the test's working directory).
	roots := []string{demoRoot}
	if all {
		roots = append(roots, "file://mirror")
	}
	hs := newHarness(t, w, h, withTheme(theme), withRoots(roots...), func(o *Options) {
		o.StorePath = "~/.processfork"
		o.ConfigPath = "~/.config/pf-registry/config.yaml"
	})
	var out [][2]string
	shot := func(name string) { out = append(out, [2]string{name, hs.view()}) }
	extra := func(name string) {
		if all {
			shot(name)
		}
	}

	hs.settle("roots", idle)
	shot("registries")
	if all {
		hs.press("top")
		hs.press("open")
		hs.settle("local", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
		shot("local")
		hs.press("back")
		hs.press("help")
		shot("help")
		hs.press("back")
	}
	openTags(t, hs)
	hs.press("down") // the tampered tag
	shot("tags")
	hs.press("pull")
	extra("tags-refused")
	hs.press("open")
	hs.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	shot("detail")
	hs.press("back")
	if all {
		hs.press("back")
		hs.settle("repos", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
		shot("repos")
		hs.press("search")
		hs.typeText("v2")
		hs.settle("search", func(m *App) bool { return idle(m) })
		shot("search")
		hs.press("dismiss")
		hs.press("back")
		hs.press("command")
		hs.typeText("file://demo/bob/")
		shot("goto")
		hs.press("dismiss")
		hs.press("open")
		hs.settle("tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
		hs.press("copy")
		shot("copy-dialog")
		hs.press("dismiss")
	}
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
	if all {
		hs.press("quit")
		shot("quit-dialog")
		hs.press("dismiss")
		hs.m.sh.notify("copy #7 failed: "+strings.Repeat("a long error that goes on ", 8)+"— the end", true)
		hs.press("notifications")
		shot("messages")
		hs.press("back")
	}
	hs.press("transfers")
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

func TestGolden(t *testing.T) {
	for _, theme := range []string{"dark", "light", "high-contrast"} {
		for _, sz := range [][2]int{{80, 24}, {140, 40}} {
			if theme == "high-contrast" && sz[0] == 80 {
				continue
			}
			t.Run(fmt.Sprintf("%s_%dx%d", theme, sz[0], sz[1]), func(t *testing.T) {
				for _, f := range mainViews(t, theme, sz[0], sz[1], theme == "dark") {
					t.Run(f[0], func(t *testing.T) { golden.RequireEqual(t, f[1]) })
				}
			})
		}
	}
}

// insideViews drives a model through the panes of an image's detail, a
// file preview, the fork tree and a diff, and returns each frame.
func insideViews(t *testing.T, w, h int) [][2]string {
	hs := newHarness(t, w, h)
	var out [][2]string
	shot := func(name string) { out = append(out, [2]string{name, hs.view()}) }
	d := openImage(t, hs, "refactor", "v3")
	for _, p := range []struct{ pane, name string }{
		{"Files", "detail-files"}, {"Trace", "detail-trace"}, {"Effects", "detail-effects"}, {"Env", "detail-env"},
		{"KV cache", "detail-cache"}, {"Model", "detail-model"}, {"Lineage", "detail-lineage"},
	} {
		toPane(t, hs, d, p.pane)
		shot(p.name)
		switch p.pane {
		case "Files":
			hs.press("open")
			hs.settle("preview", dialogOpen[*textPage])
			shot("file-preview")
			hs.press("back")
		case "Trace":
			hs.press("filter")
			hs.typeText("pytest")
			hs.press("submit")
			hs.press("next_match")
			shot("detail-trace-search")
			hs.press("back")
		}
	}
	hs.press("diff_mark")
	hs.press("fork_tree")
	hs.settle("fork tree", func(m *App) bool { return topIs[*forkTreeScreen](m) && idle(m) })
	shot("forktree")
	for range 5 {
		hs.press("up") // from v3 to team/merge-bot:merged
	}
	hs.press("open")
	hs.settle("merge", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	toPane(t, hs, hs.top().(*detailScreen), "Effects")
	shot("detail-effects-merged")
	hs.press("diff")
	hs.settle("diff", func(m *App) bool { return topIs[*diffScreen](m) && idle(m) })
	shot("diff")
	return out
}

func TestGoldenInside(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {140, 40}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			for _, f := range insideViews(t, sz[0], sz[1]) {
				t.Run(f[0], func(t *testing.T) { golden.RequireEqual(t, f[1]) })
			}
		})
	}
}
