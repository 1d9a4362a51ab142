package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"pf-registry/internal/testimages"
	"pf-registry/model"
	"pf-registry/registry"
)

// TestLiveProgressIsSanitised: the bars redrawn in place on a terminal
// show a blob's role (an fs-tree path of the image) escaped; the only
// control sequences are the view's own cursor moves.
func TestLiveProgressIsSanitised(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: &out, stderrTTY: true, g: &globals{progress: "auto"}}
	p := e.newProgress(registry.OpPull)
	if p.mode != "live" {
		t.Fatalf("mode %q on a terminal, want live", p.mode)
	}
	d := model.FromBytes([]byte("x"))
	role := "fs:evil" + testimages.Hostile + ".txt"
	p.event(registry.Event{Kind: registry.KindImage, Phase: registry.PhaseTransferring, Blobs: 1, Total: 10})
	p.event(registry.Event{Kind: registry.KindBlob, Digest: d, Role: role, Phase: registry.PhaseTransferring, Done: 5, Total: 10})
	p.drawLive(true)
	p.event(registry.Event{Kind: registry.KindBlob, Digest: d, Role: role, Phase: registry.PhaseQueued,
		Message: "retrying: " + testimages.Hostile})
	p.event(registry.Event{Kind: registry.KindBlob, Digest: d, Role: role, Phase: registry.PhaseFailed, Error: "bad " + testimages.Hostile})
	p.finish()
	own := regexp.MustCompile(`\x1b\[[0-9]+A\x1b\[J`)
	rest := own.ReplaceAllString(out.String(), "")
	if i := strings.IndexFunc(rest, func(c rune) bool {
		return (c < 0x20 && c != '\n') || (c >= 0x7f && c <= 0x9f) || c == '\u202e'
	}); i >= 0 {
		t.Fatalf("live progress sends a control character at %d: %q", i, rest[max(0, i-30):min(len(rest), i+30)])
	}
	if !strings.Contains(rest, `fs:evil\x1b`) || !strings.Contains(rest, `retrying: \x1b`) || !strings.Contains(rest, `bad \x1b`) {
		t.Fatalf("live progress does not show the role, retry and error escaped:\n%s", rest)
	}
}
