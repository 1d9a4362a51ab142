package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// uiSessionSecret is the session key of the test image's ledger.
const uiSessionSecret = "5ec2e75e55107abcdef0123456789abcdef0123456789abcdefc0ffee0ddba11"

// imageSecrets are the values of an image that must never be shown: the
// ledger's session secret, every entry's HMAC, and the token the writer
// left unredacted in the environment. It fails unless the image really
// carries them (else the test would prove nothing).
func imageSecrets(t *testing.T, st *store.Store, id model.Digest) []string {
	t.Helper()
	raw, err := st.Manifest(id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := st.ReadBlob(m.Effects.Ledger, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{uiSessionSecret}
	sc := bufio.NewScanner(bytes.NewReader(ledger))
	for sc.Scan() {
		var line struct {
			Secret string `json:"session_secret_hex"`
			HMAC   string `json:"session_hmac"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if line.Secret != "" && line.Secret != uiSessionSecret {
			t.Fatalf("ledger header secret %.8s…, want the test's", line.Secret)
		}
		if line.HMAC != "" {
			secrets = append(secrets, line.HMAC)
		}
	}
	env, err := st.ReadBlob(m.World.Env, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Vars map[string]string }
	if err := json.Unmarshal(env, &doc); err != nil || doc.Vars["GITHUB_TOKEN"] == "" || doc.Vars["GITHUB_TOKEN"] == model.RedactedValue {
		t.Fatalf("the test image's env has no clear token: %v %s", err, env)
	}
	if !bytes.Contains(ledger, []byte(uiSessionSecret)) || len(secrets) < 4 {
		t.Fatalf("the test image's ledger lacks the session secret or HMACs (%d values)", len(secrets))
	}
	return append(secrets, doc.Vars["GITHUB_TOKEN"])
}

// TestSessionSecretsNeverRendered opens every pane of an image whose
// ledger header carries a session_secret_hex and whose entries carry
// session HMACs, previews every file, and shows its lineage, fork tree and
// diff with its parent: no frame may show a secret, nor its first half.
func TestSessionSecretsNeverRendered(t *testing.T) {
	src, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := demo.Build(src, demo.ImageSpec{Seed: 901, Files: 6, Pages: 2, SharedPages: 1, Messages: 14, SessionSecret: uiSessionSecret})
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.Build(src, demo.ImageSpec{Seed: 902, Project: 901, Parents: []model.Digest{a}, Files: 7, Pages: 3, SharedPages: 1,
		Messages: 20, Diverge: 16, SessionSecret: uiSessionSecret})
	if err != nil {
		t.Fatal(err)
	}
	secrets := imageSecrets(t, src, b)
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
	for range d.data.fsTree.Entries {
		h.press("open")
		h.settle("preview", func(m *App) bool { return idle(m) && !dialogOpen[*waitDialog](m) })
		shot()
		if dialogOpen[*textPage](h.m) {
			h.press("back")
		}
		h.press("down")
	}
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
