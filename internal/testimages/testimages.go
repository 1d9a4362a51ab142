// Package testimages builds the images the leak and sanitisation tests of
// the command line and the terminal UI share: a root and its fork whose
// ledgers carry a session secret and HMAC-chained entries and whose
// environment holds a token its writer forgot to redact (SecretValues
// lists what no output may ever show), and an image whose every string
// attacks a terminal.
package testimages

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

// SessionSecret is the session key of both images' ledgers.
const SessionSecret = "5ec2e75e55107abcdef0123456789abcdef0123456789abcdefc0ffee0ddba11"

// SecretImages builds the root image a and its fork b into st.
func SecretImages(t testing.TB, st *store.Store) (a, b model.Digest) {
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

// SecretValues returns the secrets of an image of st: the ledger's session
// secret, every entry's session HMAC and the unredacted token of the
// environment. It fails unless the image really carries them, else a
// test would prove nothing.
func SecretValues(t testing.TB, st *store.Store, id model.Digest) []string {
	t.Helper()
	m := registrytest.ReadManifest(t, st, id)
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

// Hostile is what every string of the hostile image carries: escape
// sequences (colour, window title), BEL, a C1 control and a bidi override.
const Hostile = "\x1b[31m\x1b]0;pwned\x07\u009b2J\u202e"

// HostileImage stores an image whose every string is made to attack a
// terminal and returns its ID. Its tree holds "evil"+Hostile+".txt" and a
// symlink "link".
func HostileImage(t testing.TB, st *store.Store) model.Digest {
	t.Helper()
	const esc = Hostile
	put := func(s string) model.Digest {
		d, err := st.PutBytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	text := "text " + esc + " red\n"
	tree := &model.FsTree{Kind: model.FsTreeKind, Entries: []model.FsEntry{
		{Path: "evil" + esc + ".txt", Mode: "0644", Size: uint64(len(text)), Kind: "file", Blob: string(put(text))},
		{Path: "link", Mode: "0777", Size: uint64(len("x" + esc)), Kind: "symlink", Blob: string(put("x" + esc)), LinkTarget: "x" + esc},
	}}
	q := func(s string) string { return string(model.AppendJSONString(nil, s)) }
	m := &model.Manifest{
		SchemaVersion: model.SchemaVersion, MediaType: model.ManifestMediaType,
		Agent:     model.Agent{Kind: "agent" + esc, Version: "1", Fingerprint: "f"},
		CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Parents: []model.Digest{},
		Cache: model.CacheRefs{Layout: model.CacheLayoutV1, Manifest: put(`{"layout":` + q("l"+esc) + `,"dtype":` + q("bf16"+esc) +
			`,"n_layers":1,"n_heads":1,"head_dim":1,"page_size_tokens":1,"pages":[],"logical_seqs":[{"id":` + q("s"+esc) + `,"page_ixs":[],"fill_in_last_page":0}]}`)},
		Model: model.ModelRefs{Base: put("base:" + esc), Diff: put(`{"layout":"model.diff.v1","diff":{"kind":` + q("lora"+esc) +
			`,"adapters":[{"name":` + q("n"+esc) + `,"x":` + q(esc) + `}]}}`)},
		World: model.WorldRefs{FS: put(string(tree.Encode())),
			Env:   put(`{"kind":"env.v1","cwd":` + q("/w"+esc) + `,"vars":{` + q("X"+esc) + `:` + q("v"+esc) + `}}`),
			Procs: put(`{"kind":"procs.respawn.v1","note":` + q(esc) + `,"procs":[{"argv":[` + q("a"+esc) + `]}]}`)},
		Effects: model.EffectsRefs{Ledger: put(`{"kind":"effects.ledger.v1","entries":1,"verification_mode":` + q(esc) + "}\n" +
			`{"tool_id":` + q("bash"+esc) + `,"side_effect_class":` + q("irreversible"+esc) + `,"ts":` + q("t"+esc) + `,"idempotency_key":` + q(esc) + "}\n")},
		Trace: model.TraceRefs{Messages: put(`{"role":` + q("user"+esc) + `,"name":` + q(esc) + `,"content":` + q("hi "+esc+"\r\nthere") + "}\n" +
			`{"role":"assistant","content":[{"type":"tool_use","name":` + q("t"+esc) + `,"input":{"k":` + q(esc) + `}}]}` + "\n")},
	}
	id, err := st.PutImage(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return id
}
