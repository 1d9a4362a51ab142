package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/blob"
	"pf-registry/internal/testimages"
	"pf-registry/model"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

// checkSafe fails when out holds a character that a terminal would act on
// (C0 but newline and tab, DEL, C1, the bidi override), and, when shown is
// set, when the hostile text does not appear at all, escaped.
func checkSafe(t *testing.T, what string, out string, shown bool) {
	t.Helper()
	if i := strings.IndexFunc(out, func(c rune) bool {
		return (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f) || c == '\u202e'
	}); i >= 0 {
		t.Errorf("%s printed a control character at %d: %q", what, i, out[max(0, i-30):min(len(out), i+30)])
	}
	if shown && !strings.Contains(out, `\x1b`) {
		t.Errorf("%s: the hostile text is not shown at all:\n%s", what, out)
	}
}

// hostileRegistry pushes the hostile image to <root>/evil/repo/x and returns
// the store, the image and the registry root.
func hostileRegistry(t *testing.T) (*store.Store, model.Digest, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	id := testimages.HostileImage(t, st)
	root := "file://" + filepath.Join(dir, "reg")
	if r := run(t, "--store", st.Root(), "push", id.String(), root+"/evil/repo/x"); r.code != 0 {
		t.Fatalf("push: %s", r.stderr)
	}
	return st, id, root
}

// TestHostileStringsAreSanitised: text read from an image reaches the
// terminal without a single control character.
func TestHostileStringsAreSanitised(t *testing.T) {
	_, _, root := hostileRegistry(t)
	ref := root + "/evil/repo/x"
	commands := [][]string{{"diff", ref, ref}, {"log", root}, {"show", ref, "file"},
		{"show", ref, "file", "evil" + testimages.Hostile + ".txt"}, {"show", ref, "file", "link"}}
	for _, pane := range []string{"trace", "effects", "env", "cache", "model", "procs"} {
		commands = append(commands, []string{"show", ref, pane})
	}
	for _, args := range commands {
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d: %s", args, r.code, r.stderr)
		}
		checkSafe(t, fmt.Sprintf("%q", args[:2]), r.stdout+r.stderr, true)
	}
}

// TestHostileImageInEveryCommand: inspect (with --walk), verify, plain
// progress of pull, push and copy, images (of a store the hostile image
// was pulled into), ls and tags of a registry whose names attack the
// terminal, and errors that quote the image: nothing sends a control
// character, and the hostile text is shown escaped where the command
// shows it.
func TestHostileImageInEveryCommand(t *testing.T) {
	st, id, root := hostileRegistry(t)
	ref := root + "/evil/repo/x"
	regDir := strings.TrimPrefix(root, "file://")
	// A tag and a repository whose names attack the terminal.
	for _, name := range []string{"evil/repo/t" + testimages.Hostile, "ev" + testimages.Hostile + "/r/x"} {
		if err := os.CopyFS(filepath.Join(regDir, name), os.DirFS(filepath.Join(regDir, "evil/repo/x"))); err != nil {
			t.Fatal(err)
		}
	}
	pulled := filepath.Join(t.TempDir(), "pulled")
	cases := []struct {
		args  []string
		shown bool // the command shows the hostile text
	}{
		{[]string{"inspect", ref}, true},
		{[]string{"inspect", "--walk", ref}, true},
		{[]string{"verify", ref}, false},
		{[]string{"--progress", "plain", "verify", "--deep", ref}, true},
		{[]string{"--store", pulled, "--progress", "plain", "pull", ref}, true},
		{[]string{"--store", pulled, "images"}, true},
		{[]string{"--store", st.Root(), "--progress", "plain", "push", id.String(), root + "/evil/repo/y"}, true},
		{[]string{"--progress", "plain", "copy", ref, root + "/evil/repo/z"}, true},
		{[]string{"ls", root}, true},
		{[]string{"tags", root + "/evil/repo"}, true},
	}
	for _, c := range cases {
		r := run(t, c.args...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d: %s", c.args, r.code, r.stderr)
		}
		checkSafe(t, fmt.Sprintf("%q", c.args), r.stdout+r.stderr, c.shown)
	}

	// An error that names a blob by its fs-tree path: the file's blob
	// replaced by another valid one.
	bad := filepath.Join(regDir, "evil/repo/y")
	m := registrytest.ReadManifest(t, st, id)
	tree, err := st.ReadBlob(m.World.FS, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	fsTree, err := model.ParseFsTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	other := blob.CompressBytes([]byte("other bytes"), 3)
	victim := model.Digest(fsTree.Entries[0].Blob)
	if err := os.WriteFile(filepath.Join(bad, victim.ShardPath()), other, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--progress", "plain", "verify", "--deep", "file://" + bad},
		{"--store", filepath.Join(t.TempDir(), "s"), "--progress", "plain", "pull", "file://" + bad}} {
		r := run(t, args...)
		if r.code != 4 || !strings.Contains(r.stderr, "fs:evil") {
			t.Fatalf("%q of a tampered file: exit %d, want 4 naming the file\n%s", args, r.code, r.stderr)
		}
		checkSafe(t, fmt.Sprintf("%q", args), r.stdout+r.stderr, true)
	}
}

// TestHostileImageJSONIsExact: JSON output carries the image's strings
// exactly (encoding/json escapes the C0 controls): inspect --json holds
// the stored manifest bytes, images --json the agent as written.
func TestHostileImageJSONIsExact(t *testing.T) {
	st, id, root := hostileRegistry(t)
	ref := root + "/evil/repo/x"
	raw, err := st.Manifest(id)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, "inspect", "--json", ref)
	if r.code != 0 {
		t.Fatalf("inspect --json: %s", r.stderr)
	}
	var doc struct{ Manifest json.RawMessage }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc.Manifest); err != nil || !bytes.Equal(compact.Bytes(), raw) {
		t.Fatalf("inspect --json: the manifest differs from the stored bytes (%v):\n%s\n%s", err, compact.Bytes(), raw)
	}
	if strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stdout, `agent\u001b[31m`) {
		t.Errorf("inspect --json: ESC not escaped by JSON:\n%s", r.stdout)
	}

	pulled := filepath.Join(t.TempDir(), "pulled")
	if r := run(t, "--store", pulled, "--progress", "none", "pull", ref); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r = run(t, "--store", pulled, "images", "--json")
	var imgs struct {
		Images []struct {
			ImageID model.Digest `json:"image_id"`
			Agent   string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &imgs); err != nil || len(imgs.Images) != 1 {
		t.Fatalf("images --json: %v\n%s", err, r.stdout)
	}
	if want := "agent" + testimages.Hostile + "@1"; imgs.Images[0].Agent != want || imgs.Images[0].ImageID != id {
		t.Errorf("images --json: agent %q, want %q", imgs.Images[0].Agent, want)
	}
}

// TestHostileKeyFileListed: a public key file that is not a key is listed
// with its problem, and whatever the file holds never reaches the terminal
// raw.
func TestHostileKeyFileListed(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	keys := filepath.Join(filepath.Dir(cfg), "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	pem := "-----BEGIN PUBLIC KEY-----\n" + testimages.Hostile + "\n-----END PUBLIC KEY-----\n"
	if err := os.WriteFile(filepath.Join(keys, "evil.pub"), []byte(pem), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "--config", cfg, "keys", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "evil") {
		t.Fatalf("keys list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkSafe(t, "keys list", r.stdout+r.stderr, false)
}

// TestRegistryErrorTextIsSanitised: the text a registry answers a failed
// request with is quoted in the one error line, escaped.
func TestRegistryErrorTextIsSanitised(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "no " + testimages.Hostile + " way"})
	}))
	defer srv.Close()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HOME", t.TempDir())
	for _, args := range [][]string{{"inspect", "hf://alice/x:v1"}, {"tags", "hf://alice/x"}, {"ls", "hf://alice"}} {
		r := run(t, append([]string{"--retries", "0"}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "no ") {
			t.Fatalf("%q against a failing registry: exit %d, the error does not quote it: %s", args, r.code, r.stderr)
		}
		checkSafe(t, fmt.Sprintf("%q", args), r.stdout+r.stderr, true)
	}
}
