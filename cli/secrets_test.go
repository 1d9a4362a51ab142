package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

// sessionSecret is the session key an image's ledger header carries; it
// must never leave the image.
const sessionSecret = "5ec2e75e55107abcdef0123456789abcdef0123456789abcdefc0ffee0ddba11"

// ledgerSecrets returns the session_hmac values of an image's ledger and
// the env value its writer forgot to redact, and checks that the ledger
// really carries the session secret (else the test would prove nothing).
func ledgerSecrets(t *testing.T, st *store.Store, id model.Digest) []string {
	t.Helper()
	m := registrytest.ReadManifest(t, st, id)
	ledger, err := st.ReadBlob(m.Effects.Ledger, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ledger, []byte(`"session_secret_hex":"`+sessionSecret+`"`)) {
		t.Fatal("the test image's ledger header does not carry the session secret")
	}
	var secrets []string
	sc := bufio.NewScanner(bytes.NewReader(ledger))
	for sc.Scan() {
		var e struct {
			HMAC string `json:"session_hmac"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.HMAC != "" {
			secrets = append(secrets, e.HMAC)
		}
	}
	env, err := st.ReadBlob(m.World.Env, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Vars map[string]string }
	if err := json.Unmarshal(env, &doc); err != nil || doc.Vars["GITHUB_TOKEN"] == "" {
		t.Fatalf("env of the test image: %v %s", err, env)
	}
	if len(secrets) < 3 {
		t.Fatalf("only %d session HMACs in the test ledger", len(secrets))
	}
	return append(secrets, doc.Vars["GITHUB_TOKEN"])
}

// TestSessionSecretsNeverPrinted pushes two images (a root and its fork)
// whose ledger headers carry a session_secret_hex, then runs every command
// on them: neither the secret, nor an entry's HMAC, nor an unredacted
// token from the environment may appear in any output.
func TestSessionSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "src-store"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := demo.Build(st, demo.ImageSpec{Seed: 901, Files: 6, Pages: 2, SharedPages: 1, Messages: 14, SessionSecret: sessionSecret})
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.Build(st, demo.ImageSpec{Seed: 902, Project: 901, Parents: []model.Digest{a}, Files: 7, Pages: 3, SharedPages: 1,
		Messages: 20, Diverge: 16, SessionSecret: sessionSecret})
	if err != nil {
		t.Fatal(err)
	}
	secrets := append([]string{sessionSecret}, ledgerSecrets(t, st, b)...)
	root := "file://" + filepath.Join(dir, "reg")
	refA, refB := root+"/team/secret/a", root+"/team/secret/b"
	pulled, copied := filepath.Join(dir, "pulled"), "file://"+filepath.Join(dir, "copy")
	commands := [][]string{
		{"--store", st.Root(), "--progress", "json", "push", a.String(), refA},
		{"--store", st.Root(), "push", "--json", b.String(), refB},
		{"ls", root}, {"ls", "--json", root}, {"tags", "--json", root + "/team/secret"},
		{"inspect", refB}, {"inspect", "--json", refB}, {"inspect", "--json", "--walk", refB},
		{"verify", refB}, {"--progress", "json", "verify", "--deep", "--json", refB},
		{"--store", pulled, "--progress", "json", "pull", refA},
		{"--store", pulled, "--progress", "json", "pull", "--json", refB},
		{"--store", pulled, "images", "--json"},
		{"--progress", "json", "copy", "--json", refB, copied},
		{"diff", refA, refB}, {"diff", "--json", refA, refB},
		{"--store", pulled, "diff", "--json", refA, refB},
		{"log", root}, {"log", "--json", root},
		{"show", refB, "file"}, {"show", "--json", refB, "file"}, {"show", refB, "file", "README.md"},
	}
	for _, pane := range []string{"trace", "effects", "env", "cache", "model", "procs", "cost"} {
		commands = append(commands, []string{"show", refB, pane}, []string{"show", "--json", refB, pane})
	}
	for _, args := range commands {
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		out := r.stdout + r.stderr
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("%v printed a secret (%.8s…)", args, s)
			}
		}
	}
	// The secret did travel with the image: the pulled ledger still has it.
	pst, err := store.Open(pulled)
	if err != nil {
		t.Fatal(err)
	}
	ledgerSecrets(t, pst, b)
}
