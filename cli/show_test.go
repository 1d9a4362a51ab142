package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestShowPanes(t *testing.T) {
	reg := demoRegistry(t)
	v3 := reg + "/alice/refactor-agent/v3"
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"trace", []string{"show", v3, "trace", "--fold", "2"}, 0, []string{"── 1 · system ──", "── 2 · user ──", "→ ", "more lines (--fold 0 shows all)"}, ""},
		{"effects", []string{"show", v3, "effects"}, 0, []string{"effects.ledger.v1 · 20 entries", "session secret present (never shown)", "irreversible effect", "! irreversible", "IDEMPOTENCY KEY"}, ""},
		{"merged effects", []string{"show", reg + "/team/merge-bot/merged", "effects"}, 0, []string{"effects.merged.v1 (merge result)", "Parent A", "Parent B", "Ancestor", "not stored with this image"}, ""},
		{"env", []string{"show", v3, "env"}, 0, []string{"Cwd  /workspace/pf-cli", "GITHUB_TOKEN    <redacted>  (masked: the name looks secret)", "OPENAI_API_KEY  <redacted>"}, ""},
		{"cache", []string{"show", v3, "cache"}, 0, []string{"4 layers × 8 heads × 64 head dim, bf16", "Pages        8 (4.0 MiB)", "Sequence     seq-0: 8 pages"}, ""},
		{"empty cache", []string{"show", reg + "/ci/nightly/2026-11-27", "cache"}, 0, []string{"Cache   no KV cache captured"}, ""},
		{"model", []string{"show", v3, "model"}, 0, []string{"base:claude-code", "lora (model.diff.v1), 1 adapter", "refactor-style"}, ""},
		{"procs", []string{"show", v3, "procs"}, 0, []string{"procs.respawn.v1", "2 processes to respawn", "--api-token <redacted>"}, ""},
		{"criu procs", []string{"show", reg + "/ci/nightly/2026-11-27", "procs"}, 0, []string{"procs.criu.v1", "CRIU checkpoint"}, ""},
		{"files", []string{"show", v3, "file"}, 0, []string{"MODE  SIZE", "docs/index.md -> README.md", "0755  55 B     scripts/run_agent.sh", "src/agent/"}, ""},
		{"text file", []string{"show", v3, "file", "scripts/run_agent.sh"}, 0, []string{"#!/bin/sh\nset -eu\n"}, "scripts/run_agent.sh  file  0755  55 B"},
		{"binary file", []string{"show", v3, "file", "docs/architecture.png"}, 0, []string{"PNG image"}, ""},
		{"symlink", []string{"show", v3, "file", "docs/index.md"}, 0, []string{"docs/index.md -> README.md"}, ""},
		{"too large", []string{"show", v3, "file", "README.md", "--max-bytes", "100"}, 0, []string{"over the 100-byte preview limit (not fetched)"}, ""},
		{"cost", []string{"--store", filepath.Join(t.TempDir(), "none"), "show", v3, "cost"}, 0, []string{"39 blobs", "(no local store yet)"}, ""},
		{"no such file", []string{"show", v3, "file", "nope.txt"}, 1, nil, `has no path "nope.txt"`},
		{"unknown pane", []string{"show", v3, "secrets"}, 2, nil, "choose one of trace, effects"},
		{"argument to a pane without one", []string{"show", v3, "trace", "x"}, 2, nil, "is not a pane"},
		{"tampered", []string{"show", reg + "/ci/nightly/2026-11-26", "trace"}, 4, nil, "does not verify"},
		{"unsigned", []string{"show", reg + "/bob/research-agent/unsigned", "env"}, 4, nil, "has no signature"},
		{"strict", []string{"--strict", "show", v3, "env"}, 4, nil, "--strict"},
		{"bad ref", []string{"show", "ftp://x", "env"}, 1, nil, "unrecognised URL scheme"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.stderr)
			}
			if tc.code != 0 && !strings.HasPrefix(r.stderr, "pf-registry: error: ") {
				t.Errorf("error is not one line: %q", r.stderr)
			}
		})
	}
}

func TestShowJSON(t *testing.T) {
	v2 := demoRegistry(t) + "/alice/refactor-agent/v2"
	for pane, check := range map[string]func(map[string]any) bool{
		"trace": func(d map[string]any) bool { return len(d["trace"].(map[string]any)["messages"].([]any)) == 40 },
		"effects": func(d map[string]any) bool {
			return d["effects"].(map[string]any)["header"].(map[string]any)["session_secret_present"] == true
		},
		"env":   func(d map[string]any) bool { return d["env"].(map[string]any)["cwd"] == "/workspace/pf-cli" },
		"cache": func(d map[string]any) bool { return d["cache"].(map[string]any)["pages"] == 6.0 },
		"model": func(d map[string]any) bool { return d["model"].(map[string]any)["base_text"] == "base:claude-code" },
		"procs": func(d map[string]any) bool { return d["procs"].(map[string]any)["kind"] == "procs.respawn.v1" },
		"file":  func(d map[string]any) bool { return len(d["files"].([]any)) > 10 },
		"cost":  func(d map[string]any) bool { return d["cost"].(map[string]any)["blobs"] == 35.0 },
	} {
		r := run(t, "show", "--json", v2, pane)
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
			t.Fatalf("%s: exit %d, %v\n%s%s", pane, r.code, err, r.stdout, r.stderr)
		}
		if !strings.HasPrefix(doc["image_id"].(string), "sha256:") || doc["ref"] != v2 || !check(doc) {
			t.Errorf("%s: %.400s", pane, r.stdout)
		}
	}
	r := run(t, "show", "--json", v2, "file", "README.md")
	if !strings.Contains(r.stdout, `"fetched": true`) || !strings.Contains(r.stdout, `"text": "# README`) {
		t.Errorf("file --json: %s", r.stdout)
	}
}

func TestDiffCommand(t *testing.T) {
	reg := demoRegistry(t)
	a, b := reg+"/alice/refactor-agent/v1", reg+"/alice/refactor-agent/v2"
	r := run(t, "--store", filepath.Join(t.TempDir(), "none"), "diff", a, b)
	for _, want := range []string{"Files    +2 −0 ~1, 18 unchanged", "+ src/cache/prefetch.py", "~ src/agent/planner.py",
		"Pages    3 shared, 1 changed, 2 new, 0 removed (4 → 6 pages)", "Trace    24 messages in common; B adds 16",
		"Effects  +5", "Env      GIT_BRANCH: main → refactor/cache-pages", "Model    diff lora [] → lora [refactor-style]",
		"pulling B downloads"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, r.stdout)
		}
	}
	r = run(t, "diff", "--json", a, b)
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("diff --json: %d %v %s", r.code, err, r.stderr)
	}
	// The documented shape: every section present.
	for _, k := range []string{"a", "b", "files", "pages", "trace", "effects", "env", "model", "bytes", "notes"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("diff --json lacks %q", k)
		}
	}
	var pages struct{ Shared, Changed, New, Removed int }
	json.Unmarshal(doc["pages"], &pages)
	if pages.Shared != 3 || pages.Changed != 1 || pages.New != 2 {
		t.Errorf("pages %+v", pages)
	}
	if r := run(t, "diff", a, reg+"/ci/nightly/2026-11-26"); r.code != 4 {
		t.Errorf("diff with a tampered image: exit %d", r.code)
	}
	if r := run(t, "diff", a); r.code != 2 {
		t.Errorf("diff with one argument: exit %d", r.code)
	}
}

func TestLogCommand(t *testing.T) {
	reg := demoRegistry(t)
	r := run(t, "log", reg)
	for _, want := range []string{"team/merge-bot:merged", "(merge of 2)", "|\\", "alice/refactor-agent:v1", "(root)", "✗ invalid", "? missing"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("log lacks %q:\n%s", want, r.stdout)
		}
	}
	r = run(t, "log", "--json", reg)
	var doc struct {
		Nodes []struct {
			Tags    []string `json:"tags"`
			Parents []string `json:"parents"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Nodes) != 10 {
		t.Fatalf("log --json: %v %s", err, r.stdout)
	}
}
