package model_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/blob"
	"pf-registry/internal/vectors"
	"pf-registry/model"
)

// fixtureBlob returns the logical bytes of the fixture blob with a role.
func fixtureBlob(t *testing.T, role string) []byte {
	t.Helper()
	fx := vectors.LoadFixture(t)
	for _, w := range fx.WalkOrder {
		if w.Role != role {
			continue
		}
		stored, err := os.ReadFile(filepath.Join(vectors.FixtureDir(), w.Path))
		if err != nil {
			t.Fatal(err)
		}
		b, err := blob.DecodeVerified(stored, model.Digest(w.Digest), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("fixture has no %s blob", role)
	return nil
}

func TestParseTraceFixtureAndShapes(t *testing.T) {
	tr, err := model.ParseTrace(fixtureBlob(t, "trace.messages"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Messages) != 2 || tr.Messages[0].Role != "user" || tr.Messages[0].Content != "list the files" ||
		tr.Messages[1].Content != "README.md, link.txt, src/main.py" {
		t.Fatalf("fixture trace: %+v", tr.Messages)
	}

	doc := strings.Join([]string{
		`{"role":"system","content":"be brief"}`, // struct order
		``,
		`{"content":[{"text":"Running the tests.","type":"text"},{"id":"toolu_1","input":{"command":"pytest -q"},"name":"bash","type":"tool_use"}],"role":"assistant"}`,
		`{"content":[{"content":"3 passed","tool_use_id":"toolu_1","type":"tool_result"}],"role":"user"}`,
		`{"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"q\":\"kv cache\"}","name":"search"},"id":"c1","type":"function"}]}`,
		`{"content":"found 2 papers","name":"search","role":"tool"}`,
		`{"content":{"type":"image","source":"x"},"role":"user"}`,
		`   `,
	}, "\n")
	tr, err = model.ParseTrace([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ role, content string }{
		{"system", "be brief"},
		{"assistant", "Running the tests.\n→ bash({\"command\":\"pytest -q\"})"},
		{"user", "← 3 passed"},
		{"assistant", "→ search({\"q\":\"kv cache\"})"},
		{"tool", "found 2 papers"},
		{"user", `[image] {"type":"image","source":"x"}`},
	}
	if len(tr.Messages) != len(want) {
		t.Fatalf("%d messages, want %d: %+v", len(tr.Messages), len(want), tr.Messages)
	}
	for i, w := range want {
		if m := tr.Messages[i]; m.Role != w.role || m.Content != w.content {
			t.Errorf("message %d = %s %q, want %s %q", i, m.Role, m.Content, w.role, w.content)
		}
	}
	if tr.Messages[4].Name != "search" || tr.Messages[1].Parts[1].Tool != "bash" {
		t.Errorf("names and tools: %+v", tr.Messages)
	}
	// The same message with keys in another order is equal.
	a, _ := model.ParseTrace([]byte(`{"role":"user","content":"hi"}`))
	b, _ := model.ParseTrace([]byte(`{"content":"hi","role":"user"}`))
	if !a.Messages[0].Equal(b.Messages[0]) {
		t.Error("key order changes message equality")
	}
}

func TestParseTraceEdges(t *testing.T) {
	for _, in := range []string{"", "\n\n", "  \n"} {
		tr, err := model.ParseTrace([]byte(in))
		if err != nil || tr.Messages == nil || len(tr.Messages) != 0 {
			t.Errorf("%q: %+v %v, want no messages", in, tr, err)
		}
	}
	for in, msg := range map[string]string{
		"{\"role\":\"user\",\"content\":\"a\"}\nnot json": "trace line 2",
		"[1,2]":                                 "trace line 1",
		"{\"role\":\"user\"":                    "trace line 1",
		strings.Repeat(" ", model.MaxDocSize+1): "limit",
	} {
		if _, err := model.ParseTrace([]byte(in)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%.30q: error %v, want one naming %q", in, err, msg)
		}
	}
}

const (
	secretHex = "5ec12e7a11ce0ddba11c0ffee15900d5ec12e7a11ce0ddba11c0ffee15900d00"
	hmacHex   = "4d4143aa4d4143bb4d4143cc4d4143dd4d4143ee4d4143ff4d414300"
)

func TestParseLedgerDropsSecrets(t *testing.T) {
	doc := `{"entries":3,"kind":"effects.ledger.v1","session_secret_hex":"` + secretHex + `","verification_mode":"hmac-chain"}
{"args_hash":"aa","idempotency_key":"k-0","result_hash":"bb","session_hmac":"` + hmacHex + `","side_effect_class":"pure","tool_id":"read_file","ts":"2026-11-20T09:00:00Z"}
{"args_hash":"cc","idempotency_key":"k-1","result_hash":"dd","session_hmac":"` + hmacHex + `","side_effect_class":"irreversible","tool_id":"git.push","ts":"2026-11-20T09:01:00Z"}
{"side_effect_class":"network-only","tool_id":"http.post","ts":"2026-11-20T09:02:00Z"}
`
	l, err := model.ParseLedger([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != model.LedgerKind || l.Header == nil || !l.Header.SessionSecret || l.Header.Entries != 3 ||
		l.Header.VerificationMode != "hmac-chain" || len(l.Entries) != 3 || len(l.Warnings) != 0 {
		t.Fatalf("ledger: %+v", l)
	}
	if e := l.Entries[1]; e.ToolID != "git.push" || e.Class != model.EffectIrreversible || !e.HMAC || e.IdempotencyKey != "k-1" {
		t.Fatalf("entry 1: %+v", e)
	}
	if l.Entries[2].HMAC {
		t.Error("entry without session_hmac reported as signed")
	}
	if l.Count(model.EffectIrreversible) != 1 || l.Count(model.EffectNetworkOnly) != 1 {
		t.Errorf("counts: %d %d", l.Count(model.EffectIrreversible), l.Count(model.EffectNetworkOnly))
	}
	if got, want := l.Summary(), "1 irreversible effect recorded (3 in all, 1 network-only)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	out, _ := json.Marshal(l)
	if strings.Contains(string(out), secretHex) || strings.Contains(string(out), hmacHex) {
		t.Fatalf("decoded ledger keeps a secret: %s", out)
	}
	if !strings.Contains(string(out), `"session_secret_present":true`) {
		t.Errorf("presence of the secret lost: %s", out)
	}
}

func TestParseLedgerShapes(t *testing.T) {
	l, err := model.ParseLedger(fixtureBlob(t, "effects.ledger"))
	if err != nil || len(l.Entries) != 0 || l.Header.SessionSecret || l.Summary() != "no effects recorded" {
		t.Fatalf("fixture ledger: %+v %v", l, err)
	}
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	m, err := model.ParseLedger([]byte(`{"ancestor":"` + d("c") + `","kind":"effects.merged.v1","parent_a":"` + d("a") + `","parent_b":"` + d("b") + `"}`))
	if err != nil || m.Merged == nil || m.Merged.ParentA != model.Digest(d("a")) || m.Merged.Ancestor != model.Digest(d("c")) {
		t.Fatalf("merged: %+v %v", m, err)
	}
	l, err = model.ParseLedger([]byte("{\"kind\":\"effects.ledger.v1\",\"entries\":5}\n{\"tool_id\":\"bash\",\"side_effect_class\":\"idempotent\"}\n"))
	if err != nil || len(l.Warnings) != 1 || l.Summary() != "1 effect recorded, none irreversible" {
		t.Fatalf("count mismatch: %+v %v", l, err)
	}
	for in, msg := range map[string]string{
		"":                             "no header",
		`{"kind":"effects.ledger.v2"}`: `kind "effects.ledger.v2"`,
		`{"entries":1}`:                "no kind",
		`{"kind":"effects.ledger.v1","entries":"x"}`:                                     "not a count",
		"{\"kind\":\"effects.ledger.v1\"}\n[]":                                           "line 2",
		`{"kind":"effects.merged.v1","parent_a":"sha256:1","parent_b":"","ancestor":""}`: "merged ledger parent",
	} {
		if _, err := model.ParseLedger([]byte(in)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want one naming %q", in, err, msg)
		}
	}
}

func TestParseEnvMasksSecrets(t *testing.T) {
	e, err := model.ParseEnv(fixtureBlob(t, "world.env"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := e.Value("OPENAI_API_KEY"); e.Cwd != "/sandbox" || v != model.RedactedValue || e.Vars[1].Masked {
		t.Fatalf("fixture env: %+v", e)
	}
	if v, _ := e.Value("PWD"); v != "/sandbox" {
		t.Errorf("PWD = %q", v)
	}
	e, err = model.ParseEnv([]byte(`{"vars":{"GITHUB_TOKEN":"tok-123","DATABASE_URL":"postgres://app:hunter2@db/x","LANG":"C","N":7,"db_password":"pw"},"cwd":"/w","kind":"env.v1"}`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]model.EnvVar{}
	for _, v := range e.Vars {
		got[v.Name] = v
	}
	for _, n := range []string{"GITHUB_TOKEN", "DATABASE_URL", "db_password"} {
		if v := got[n]; v.Value != model.RedactedValue || !v.Masked {
			t.Errorf("%s not masked: %+v", n, v)
		}
	}
	if got["LANG"].Value != "C" || got["N"].Value != "7" || e.Vars[0].Name != "DATABASE_URL" {
		t.Errorf("plain values: %+v", e.Vars)
	}
	out, _ := json.Marshal(e)
	for _, s := range []string{"tok-123", "hunter2", `"pw"`} {
		if strings.Contains(string(out), s) {
			t.Errorf("decoded env keeps %s", s)
		}
	}
	if _, err := model.ParseEnv([]byte(`{"kind":"procs.unsupported.v1"}`)); err == nil {
		t.Error("wrong kind accepted")
	}
}

func TestLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"OPENAI_API_KEY": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_ACCESS_KEY_ID": true,
		"HF_TOKEN": true, "PF_FILE_REG_SIGN_KEY": true, "PF_SESSION_SECRET": true, "GH_AUTH": true, "npm_config__auth": true,
		"MYSQL_PWD": false, "PGPASSWORD": true, "SSH_PRIVATE_KEY": true, "API-KEY": true, "app.secret": true,
		"HOME": false, "PATH": false, "PWD": false, "LANG": false, "TERM": false, "AWS_REGION": false, "KEYBOARD_LAYOUT": false,
		"EDITOR": false, "HF_HOME": false, "SSH_AUTH_SOCK": false,
	} {
		if got := model.LooksSecret(name); got != want {
			t.Errorf("LooksSecret(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSummarizeCache(t *testing.T) {
	s, err := model.SummarizeCache(fixtureBlob(t, "cache.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Empty || s.Layers != 1 || s.PageSizeTokens != 4 || s.Dtype != "bf16" || s.PageBytes != 16 || s.Pages != 1 ||
		s.Bytes != 32 || s.TokensHeld != 3 || len(s.Sequences) != 1 || s.Sequences[0].ID != "seq-0" {
		t.Fatalf("fixture cache: %+v", s)
	}
	// What `pf snapshot` writes: sorted keys, zero dimensions, a note.
	s, err = model.SummarizeCache([]byte(`{"dtype":"bf16","head_dim":0,"layout":"paged-batchinvariant-v1","logical_seqs":[],"n_heads":0,"n_layers":0,"note":"no KV cache captured by the CLI","page_size_tokens":0,"pages":[]}`))
	if err != nil || !s.Empty || s.Pages != 0 || s.Bytes != 0 || s.Note == "" {
		t.Fatalf("empty manifest: %+v %v", s, err)
	}
	s, err = model.SummarizeCache([]byte(`{"layout":"paged-batchinvariant-v1","page_size_bytes":16,"pages":[{"ix":0,"k":"a","v":"b"}]}`))
	if err != nil || s.Empty || s.PageBytes != 16 || s.Bytes != 32 {
		t.Fatalf("minimal manifest: %+v %v", s, err)
	}
	s, err = model.SummarizeCache([]byte(`{"n_layers":4294967295,"n_heads":4294967295,"head_dim":4294967295,"page_size_tokens":4294967295,"dtype":"f32","pages":[{"ix":0}],"logical_seqs":[{"id":"s","page_ixs":[0,1,2],"fill_in_last_page":4294967295}]}`))
	if err != nil || s.PageBytes != -1 || s.Bytes != -1 || s.TokensHeld != 3*4294967295 {
		t.Fatalf("overflowing geometry: %+v %v", s, err)
	}
	if _, err := model.SummarizeCache([]byte(`{"n_layers":-1}`)); err == nil {
		t.Error("negative layer count accepted")
	}
}

func TestModelAndProcs(t *testing.T) {
	d, err := model.ParseModelDiff(fixtureBlob(t, "model.diff"))
	if err != nil || d.Layout != model.ModelDiffLayout || d.Kind != "lora" || d.Adapters == nil || len(d.Adapters) != 0 {
		t.Fatalf("fixture diff: %+v %v", d, err)
	}
	d, err = model.ParseModelDiff([]byte(`{"layout":"model.diff.v1","diff":{"kind":"lora","adapters":[{"name":"q_proj","rank":8},{"target":"v_proj"},"raw"]}}`))
	if err != nil || len(d.Adapters) != 3 || d.Adapters[0].Name != "q_proj" || d.Adapters[0].Detail != `{"rank":8}` ||
		d.Adapters[1].Name != "v_proj" || d.Adapters[2].Name != "raw" {
		t.Fatalf("adapters: %+v %v", d, err)
	}
	if got := model.DescribeBase(fixtureBlob(t, "model.base")); got != "base:claude-code" {
		t.Errorf("base %q", got)
	}
	if got := model.DescribeBase([]byte("\x00\x01weights")); got != "9 bytes of binary data" {
		t.Errorf("binary base %q", got)
	}

	p, err := model.ParseProcs(fixtureBlob(t, "world.procs"))
	if err != nil || p.Kind != model.ProcsUnsupported || p.Description != "process state not captured" || p.Note == "" {
		t.Fatalf("fixture procs: %+v %v", p, err)
	}
	p, err = model.ParseProcs([]byte(`{"kind":"procs.respawn.v1","procs":[{"argv":["python","serve.py","--token","tk-1","--port=80","API_KEY=ak-2"]},{"cmd":"redis-server"}]}`))
	if err != nil || len(p.Commands) != 2 || p.Commands[0] != "python serve.py --token <redacted> --port=80 API_KEY=<redacted>" ||
		p.Commands[1] != "redis-server" || p.Description != "2 processes to respawn" {
		t.Fatalf("respawn: %+v %v", p, err)
	}
	p, err = model.ParseProcs([]byte("{\"kind\":\"procs.criu.v1\"}\n\x00\x01tarball"))
	if err != nil || p.ImageBytes != 9 {
		t.Fatalf("criu: %+v %v", p, err)
	}
	if _, err := model.ParseProcs([]byte(`{}`)); err == nil {
		t.Error("procs without kind accepted")
	}
}

func TestSniffContent(t *testing.T) {
	for in, want := range map[string]string{
		"print('hello')\n":                    "text",
		"\x89PNG\r\n\x1a\n\x00\x00":           "PNG image",
		"\x7fELF\x02\x01":                     "ELF executable",
		"abc\x00def":                          "binary data",
		"ok \xff\xfe":                         "binary data (not UTF-8)",
		"\x01\x02\x03\x04abc":                 "binary data",
		"é" + strings.Repeat("a", 8189) + "é": "text", // a rune cut by the sample
		"":                                    "text",
	} {
		bin, what := model.SniffContent([]byte(in))
		if what != want || bin != (want != "text") {
			t.Errorf("SniffContent(%.20q) = %v %q, want %q", in, bin, what, want)
		}
	}
}
