package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"pf-registry/registry"
)

// Tests for the four Broken items of the UI review: each failed before the
// fix.

// A job that fails at once must leave a failure on screen: the status line
// names it and the header counts it.
func TestFastFailingJobIsReported(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.settle("roots", idle)
	h.send(startJobMsg{jobSpec{op: "verify", src: "file://demo/x/y",
		run: func(context.Context, func(registry.Event)) (*registry.Report, error) {
			return nil, errors.New("the registry refused the request")
		}}})
	h.settle("job ended", idle)
	h.drain()
	lines := h.lines()
	if status := lines[len(lines)-2]; !strings.Contains(status, "verify #1 failed") {
		t.Fatalf("status line %q does not report the failure:\n%s", status, h.plain())
	}
	if !strings.Contains(lines[0], "1 failed") {
		t.Fatalf("header %q does not count the failed job", lines[0])
	}
}

// Pulling an image whose signature cannot pass is refused at once with
// the reason; no dialog offers a yes that cannot succeed.
func TestPullRefusedWhenItCannotSucceed(t *testing.T) {
	h := newHarness(t, 120, 24)
	openTags(t, h)
	h.press("down") // 2026-11-26, invalid
	h.press("pull")
	h.drain()
	if h.contains("Pull an image") || len(h.m.xfers.jobs) != 0 {
		t.Fatalf("pull of an invalid image asked or started:\n%s", h.plain())
	}
	lines := h.lines()
	if status := lines[len(lines)-2]; !strings.Contains(status, "not pulled") || !strings.Contains(status, "does not verify") {
		t.Fatalf("status %q does not refuse with the reason", status)
	}
}

// At 80×24 every screen keeps its names readable and its footer keeps
// the way to help.
func TestEightyColumns(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.settle("roots", idle)
	check := func(screen string, want ...string) {
		t.Helper()
		lines := h.lines()
		if len(lines) != 24 {
			t.Fatalf("%s: %d lines", screen, len(lines))
		}
		if foot := lines[23]; !strings.Contains(foot, "? help") {
			t.Errorf("%s: footer %q lacks ? help", screen, foot)
		}
		for _, w := range want {
			if !h.contains(w) {
				t.Errorf("%s: %q not on screen:\n%s", screen, w, h.plain())
			}
		}
	}
	check("registries", "file://demo ")
	h.press("top")
	h.press("open") // local store
	h.settle("local", func(m *App) bool { return h.contains("holds no images") })
	check("local store")
	h.press("back")
	openTags(t, h)
	check("tags", "2026-11-25", "✓ valid")
	h.press("open")
	h.settle("detail", func(m *App) bool { return h.contains("Image ID") && idle(m) })
	check("detail", "Image ID")
	h.press("back")
	h.press("back")
	check("repositories", "ci/nightly")
	h.press("transfers")
	check("transfers")
}

// Keys typed right after a key that opens a dialog go to the dialog, not
// to the screen behind it.
func TestTypeAheadGoesToTheDialog(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.settle("roots", idle)
	h.press("open_ref")
	h.typeText("bot") // no wait: t would toggle the transfers view
	h.drain()
	if h.contains("No transfers yet") {
		t.Fatalf("typed text reached the screen behind the dialog:\n%s", h.plain())
	}
	if !h.contains("bot") {
		t.Fatalf("typed text is not in the dialog:\n%s", h.plain())
	}
}
