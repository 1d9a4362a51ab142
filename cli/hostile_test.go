package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/model"
	"pf-registry/store"
)

// hostileImage stores an image whose every string is made to attack a
// terminal (escape sequences, BEL, C1 controls, bidi overrides) and
// returns its ID.
func hostileImage(t *testing.T, st *store.Store) model.Digest {
	t.Helper()
	const esc = "\x1b[31m\x1b]0;pwned\x07\u009b2J\u202e"
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

// TestHostileStringsAreSanitised: text read from an image reaches the
// terminal without a single control character.
func TestHostileStringsAreSanitised(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	id := hostileImage(t, st)
	root := "file://" + filepath.Join(dir, "reg")
	ref := root + "/evil/repo/x"
	if r := run(t, "--store", st.Root(), "push", id.String(), ref); r.code != 0 {
		t.Fatalf("push: %s", r.stderr)
	}
	commands := [][]string{{"diff", ref, ref}, {"log", root}, {"show", ref, "file"},
		{"show", ref, "file", "evil\x1b[31m\x1b]0;pwned\x07\u009b2J\u202e.txt"}, {"show", ref, "file", "link"}}
	for _, pane := range []string{"trace", "effects", "env", "cache", "model", "procs"} {
		commands = append(commands, []string{"show", ref, pane})
	}
	for _, args := range commands {
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d: %s", args, r.code, r.stderr)
		}
		out := r.stdout + r.stderr
		if i := strings.IndexFunc(out, func(c rune) bool {
			return (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f) || c == '\u202e'
		}); i >= 0 {
			t.Fatalf("%q printed a control character at %d: %q", args[:2], i, out[max(0, i-20):min(len(out), i+20)])
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("%q: the hostile text is not shown at all:\n%s", args[:2], out)
		}
	}
}
