// Package secrettest builds the images the secret-leak tests of the
// command line and the terminal UI share: a root and its fork whose
// ledgers carry a session secret and HMAC-chained entries, and whose
// environment holds a token its writer forgot to redact. Values lists
// what no output may ever show.
package secrettest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/store"
)

// SessionSecret is the session key of both images' ledgers.
const SessionSecret = "5ec2e75e55107abcdef0123456789abcdef0123456789abcdefc0ffee0ddba11"

// Images builds the root image a and its fork b into st.
func Images(t testing.TB, st *store.Store) (a, b model.Digest) {
	t.Helper()
	a, err := demo.Build(st, demo.ImageSpec{Seed: 901, Files: 6, Pages: 2, SharedPages: 1, Messages: 14, SessionSecret: SessionSecret})
	if err != nil {
		t.Fatal(err)
	}
	b, err = demo.Build(st, demo.ImageSpec{Seed: 902, Project: 901, Parents: []model.Digest{a}, Files: 7, Pages: 3, SharedPages: 1,
		Messages: 20, Diverge: 16, SessionSecret: SessionSecret})
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// Values returns the secrets of an image of st: the ledger's session
// secret, every entry's session HMAC and the unredacted token of the
// environment. It fails unless the image really carries them, else a
// test would prove nothing.
func Values(t testing.TB, st *store.Store, id model.Digest) []string {
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
	if !bytes.Contains(ledger, []byte(`"session_secret_hex":"`+SessionSecret+`"`)) {
		t.Fatal("the test image's ledger header does not carry the session secret")
	}
	secrets := []string{SessionSecret}
	sc := bufio.NewScanner(bytes.NewReader(ledger))
	for sc.Scan() {
		var e struct {
			HMAC string `json:"session_hmac"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.HMAC != "" {
			secrets = append(secrets, e.HMAC)
		}
	}
	if len(secrets) < 4 {
		t.Fatalf("only %d session HMACs in the test ledger", len(secrets)-1)
	}
	env, err := st.ReadBlob(m.World.Env, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Vars map[string]string }
	if err := json.Unmarshal(env, &doc); err != nil || doc.Vars["GITHUB_TOKEN"] == "" || doc.Vars["GITHUB_TOKEN"] == model.RedactedValue {
		t.Fatalf("env of the test image has no clear token: %v %s", err, env)
	}
	return append(secrets, doc.Vars["GITHUB_TOKEN"])
}
