package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/cli"
	"pf-registry/demo"
	"pf-registry/internal/vectors"
)

func TestMain(m *testing.M) {
	// Re-executed as the command itself by the kill test.
	if os.Getenv("PF_REGISTRY_RUN_CLI") == "1" {
		os.Exit(cli.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

var demoRoot string

func demoRegistry(t *testing.T) string {
	t.Helper()
	if demoRoot == "" {
		dir, err := os.MkdirTemp("", "pf-cli-demo-")
		if err != nil {
			t.Fatal(err)
		}
		res, err := demo.Generate(filepath.Join(dir, "reg"))
		if err != nil {
			t.Fatal(err)
		}
		demoRoot = res.Root
	}
	return demoRoot
}

func TestExitCodesAndOutput(t *testing.T) {
	reg := demoRegistry(t)
	fixture := "file://" + vectors.FixtureDir()
	fx := vectors.LoadFixture(t)
	store := filepath.Join(t.TempDir(), "store")
	out := filepath.Join(t.TempDir(), "out")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"ls", []string{"ls", reg}, 0, "alice/refactor-agent  v1, v2, v3", ""},
		{"tags", []string{"tags", reg + "/ci/nightly"}, 0, "2026-11-26", ""},
		{"inspect default-key", []string{"inspect", fixture}, 0, "! default-key", ""},
		{"inspect tampered", []string{"inspect", reg + "/ci/nightly/2026-11-26"}, 4, "✗ invalid", "does not verify"},
		{"verify", []string{"verify", fixture}, 0, "✓ " + fx.ImageCID + " verified: signature default-key, 13 blobs present", "public default key"},
		{"verify deep", []string{"verify", "--deep", "--progress", "none", fixture}, 0, "13 blobs re-hashed", ""},
		{"verify strict rejects default key", []string{"verify", "--strict", fixture}, 4, "", "--strict"},
		{"verify unsigned", []string{"verify", reg + "/bob/research-agent/unsigned"}, 4, "", "has no signature"},
		{"verify no image", []string{"verify", reg + "/alice"}, 1, "", "manifest.json is missing"},
		{"pull prints the image ID", []string{"--store", store, "--progress", "plain", "pull", fixture}, 0, fx.ImageCID + "\n", "pull: done"},
		{"images", []string{"--store", store, "images"}, 0, fx.ImageCID[7:19], ""},
		{"push by prefix", []string{"--store", store, "push", fx.ImageCID[7:15], "file://" + out}, 0, "✓ pushed " + fx.ImageCID + " → file://" + out, ""},
		{"push unknown image", []string{"--store", store, "push", "deadbeef", "file://" + out}, 1, "", "no local image ID starts with deadbeef"},
		{"copy", []string{"--progress", "none", "copy", reg + "/alice/refactor-agent/v1", "file://" + out + "-copy"}, 0, "✓ copied sha256:", ""},
		{"copy tampered refused", []string{"copy", reg + "/ci/nightly/2026-11-26", "file://" + out + "-bad"}, 4, "", "does not verify"},
		{"readonly pull refused", []string{"--readonly", "--store", store, "pull", fixture}, 1, "", "read-only"},
		{"missing argument", []string{"ls"}, 2, "", "accepts 1 arg"},
		{"unknown flag", []string{"ls", "--bogus", reg}, 2, "", "unknown flag"},
		{"bad scheme", []string{"inspect", "ftp://x"}, 1, "", "unrecognised URL scheme"},
		{"malformed ref", []string{"inspect", "hf://alice"}, 1, "", "expected hf://<user>/<repo>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tc.stdout) {
				t.Fatalf("stdout %q lacks %q", r.stdout, tc.stdout)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("stderr %q lacks %q", r.stderr, tc.stderr)
			}
			if tc.code != 0 {
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				last := lines[len(lines)-1]
				if !strings.HasPrefix(last, "pf-registry: error: ") {
					t.Fatalf("error is not one line: %q", r.stderr)
				}
			}
		})
	}
}

func TestInspectJSON(t *testing.T) {
	fx := vectors.LoadFixture(t)
	r := run(t, "inspect", "--json", "file://"+vectors.FixtureDir())
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		ImageID  string         `json:"image_id"`
		Manifest map[string]any `json:"manifest"`
		Sig      struct {
			Status string `json:"status"`
		} `json:"signature"`
		Blobs []struct{ Digest, Role string } `json:"blobs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, r.stdout)
	}
	if doc.ImageID != fx.ImageCID || doc.Sig.Status != "default-key" || doc.Manifest["created_at"] != "2026-05-06T12:34:56.123456789Z" || len(doc.Blobs) != 8 || doc.Blobs[0].Role != "model.base" {
		t.Fatalf("inspect --json: %+v", doc)
	}
	r = run(t, "inspect", "--json", "--walk", "file://"+vectors.FixtureDir())
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Blobs) != 13 || doc.Blobs[12].Role != "page:0.v" {
		t.Fatalf("inspect --walk --json: %v %+v", err, doc.Blobs)
	}
	r = run(t, "inspect", "--json", demoRegistry(t)+"/ci/nightly/2026-11-26")
	if r.code != 4 || !strings.Contains(r.stdout, `"status": "invalid"`) || !strings.Contains(r.stdout, "manifest_digest_mismatch") {
		t.Fatalf("tampered inspect --json: %d %s", r.code, r.stdout)
	}
}

func TestJSONProgressGoesToStderr(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	r := run(t, "--store", store, "--progress", "json", "pull", demoRegistry(t)+"/bob/research-agent/main")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, "sha256:") {
		t.Fatalf("stdout holds more than the image ID: %q", r.stdout)
	}
	phases := map[string]int{}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "warning:") {
			continue
		}
		var ev struct {
			Op, Kind, Phase string
			Digest          string
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("stderr line is not JSON: %q", l)
		}
		if ev.Op != "pull" {
			t.Fatalf("event op %q", ev.Op)
		}
		phases[ev.Kind+"/"+ev.Phase]++
	}
	if phases["blob/queued"] == 0 || phases["blob/queued"] != phases["blob/done"] || phases["image/done"] != 1 {
		t.Fatalf("event phases %v", phases)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "very-private-sign-key-42"
	t.Setenv("PF_FILE_REG_SIGN_KEY", secret)
	for _, args := range [][]string{
		{"verify", "file://" + vectors.FixtureDir()},
		{"inspect", "--json", "file://" + vectors.FixtureDir()},
		{"--progress", "json", "verify", "--deep", "--json", "file://" + vectors.FixtureDir()},
	} {
		r := run(t, args...)
		if r.code != 4 {
			t.Fatalf("%v: exit %d, want 4 (default-key image checked with a custom key)", args, r.code)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("%v printed the signing key", args)
		}
	}
}
