package cli_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/cosigntest"
	"pf-registry/internal/vectors"
	"pf-registry/signing"
)

// keyEnv is a config directory of its own (key store and config file) and
// a store; every command of a test runs with it.
type keyEnv struct {
	t      *testing.T
	config string // the config file; the key store is beside it
	store  string
}

func newKeyEnv(t *testing.T) *keyEnv {
	dir := t.TempDir()
	t.Setenv("COSIGN_PASSWORD", cosigntest.Passphrase)
	return &keyEnv{t: t, config: filepath.Join(dir, "cfg", "config.yaml"), store: filepath.Join(dir, "store")}
}

func (k *keyEnv) run(args ...string) result {
	k.t.Helper()
	return run(k.t, append([]string{"--config", k.config, "--store", k.store, "--progress", "none"}, args...)...)
}

func (k *keyEnv) must(args ...string) result {
	k.t.Helper()
	r := k.run(args...)
	if r.code != 0 {
		k.t.Fatalf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func (k *keyEnv) keyFile(name string) string {
	return filepath.Join(filepath.Dir(k.config), "keys", name)
}

// inspectJSON returns `inspect --json`'s signature document.
func (k *keyEnv) signature(ref string, extra ...string) (sig struct {
	Status     string
	Key        string
	Signatures []struct {
		Kind, Status, Class, Key, Where string
		KeyName                         string `json:"key_name"`
	}
}, code int) {
	k.t.Helper()
	r := k.run(append(append([]string{}, extra...), "inspect", "--json", ref)...)
	var doc struct {
		Signature json.RawMessage `json:"signature"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		k.t.Fatalf("inspect --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if err := json.Unmarshal(doc.Signature, &sig); err != nil {
		k.t.Fatal(err)
	}
	return sig, r.code
}

func TestKeysCommands(t *testing.T) {
	k := newKeyEnv(t)
	os.Unsetenv("COSIGN_PASSWORD")
	if r := k.run("keys", "generate", "rel"); r.code != 2 || !strings.Contains(r.stderr, "set COSIGN_PASSWORD") {
		t.Fatalf("no passphrase and no terminal: exit %d %s", r.code, r.stderr)
	}
	t.Setenv("COSIGN_PASSWORD", cosigntest.Passphrase)
	r := k.must("keys", "generate", "rel")
	if !strings.Contains(r.stdout, "generated ecdsa-p256 key rel") {
		t.Fatalf("generate: %s", r.stdout)
	}
	k.must("keys", "generate", "ci", "--algorithm", "ed25519")
	if r := k.run("keys", "generate", "x", "--algorithm", "rsa"); r.code != 2 || !strings.Contains(r.stderr, "ecdsa-p256") {
		t.Fatalf("rsa: exit %d %s", r.code, r.stderr)
	}
	if r := k.run("keys", "generate", "rel"); r.code != 2 || !strings.Contains(r.stderr, "taken") {
		t.Fatalf("same name twice: exit %d %s", r.code, r.stderr)
	}
	fi, err := os.Stat(k.keyFile("rel.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}

	// A key pair made by cosign, and a public key of someone else.
	c := cosigntest.New(t)
	c.MustRun("generate-key-pair")
	k.must("keys", "import", c.Path("cosign.key"), "--name", "cos")
	other, err := signing.GenerateKey(signing.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	c.Write("colleague.pub", other.Public().PEM())
	k.must("keys", "import", c.Path("colleague.pub"))
	k.must("keys", "trust", k.keyFile("rel.pub"))

	r = k.must("keys", "list", "--json")
	var entries []signing.Entry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		t.Fatal(err)
	}
	got := map[string]signing.Entry{}
	for _, e := range entries {
		got[e.Name] = e
	}
	if len(got) != 4 || !got["rel"].Trusted || !got["rel"].Private || got["ci"].Algorithm != signing.Ed25519 ||
		!got["cos"].Private || got["colleague"].Private || got["colleague"].Trusted || got["colleague"].Fingerprint != other.Public().Fingerprint {
		t.Fatalf("keys list: %+v", entries)
	}
	r = k.must("keys", "list")
	for _, w := range []string{"NAME", "rel", "yes", "colleague", other.Public().Fingerprint} {
		if !strings.Contains(r.stdout, w) {
			t.Fatalf("keys list lacks %q:\n%s", w, r.stdout)
		}
	}
	k.must("keys", "untrust", "rel")
	if r := k.run("keys", "untrust", "rel"); r.code != 2 || !strings.Contains(r.stderr, "keys list") {
		t.Fatalf("untrust twice: exit %d %s", r.code, r.stderr)
	}
	// No private key ever reaches the output.
	for _, f := range []string{"rel.key", "cos.key"} {
		b, _ := os.ReadFile(k.keyFile(f))
		for _, out := range []string{r.stdout, r.stderr} {
			if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, string(b[40:80])) {
				t.Fatalf("a private key was printed")
			}
		}
	}
}

// TestSignatureRoundTrip: push with a key → untrusted-key; trusted once the
// key is trusted; sign adds a signature; cosign verifies what was written
// (with our key and with a key cosign made); --require and the config's
// require: refuse before anything lands.
func TestSignatureRoundTrip(t *testing.T) {
	k := newKeyEnv(t)
	fixture := "file://" + vectors.FixtureDir()
	id := strings.TrimSpace(k.must("pull", fixture).stdout)
	k.must("keys", "generate", "rel")
	out := filepath.Join(t.TempDir(), "reg")
	img := "file://" + out + "/team/agent/v1"

	r := k.must("push", id, img, "--sign-key", "rel")
	if !strings.Contains(r.stdout, "signature untrusted-key") {
		t.Fatalf("push --sign-key: %s", r.stdout)
	}
	sig, code := k.signature(img)
	if code != 0 || sig.Status != "untrusted-key" || len(sig.Signatures) != 2 || sig.Signatures[0].Kind != "hmac" || sig.Signatures[1].KeyName != "rel" {
		t.Fatalf("inspect after push: %d %+v", code, sig)
	}
	r = k.must("inspect", img)
	if !strings.Contains(r.stdout, "~ untrusted-key") || !strings.Contains(r.stdout, "Signatures (2)") {
		t.Fatalf("inspect:\n%s", r.stdout)
	}
	k.must("keys", "trust", k.keyFile("rel.pub"))
	if sig, _ = k.signature(img); sig.Status != "trusted" || !strings.Contains(sig.Key, "rel") {
		t.Fatalf("after trusting: %+v", sig)
	}
	if r := k.must("tags", "file://"+out+"/team/agent"); !strings.Contains(r.stdout, "✔ trusted (rel") {
		t.Fatalf("tags:\n%s", r.stdout)
	}

	// cosign verify-blob accepts the bundle beside the manifest.
	c := cosigntest.New(t)
	fp := strings.TrimSuffix(strings.TrimPrefix(sig.Signatures[1].Where, "manifest.json."), ".sigstore.json")
	dir := filepath.Join(out, "team", "agent", "v1")
	if o := c.MustRun("verify-blob", "--key", k.keyFile("rel.pub"), "--bundle", filepath.Join(dir, signing.BundleFileName(fp)),
		"--insecure-ignore-tlog", filepath.Join(dir, "manifest.json")); !strings.Contains(o, "Verified OK") {
		t.Fatalf("cosign verify-blob: %s", o)
	}

	// A key made by cosign signs here; cosign verifies that too.
	c.MustRun("generate-key-pair")
	k.must("keys", "import", c.Path("cosign.key"))
	copied := "file://" + out + "/team/agent/v2"
	k.must("copy", img, copied)
	k.must("sign", copied, "--key", "cosign")
	cosFP := k.keyFingerprint("cosign")
	c.MustRun("verify-blob", "--key", "cosign.pub", "--bundle", filepath.Join(out, "team", "agent", "v2", signing.BundleFileName(cosFP)),
		"--insecure-ignore-tlog", filepath.Join(out, "team", "agent", "v2", "manifest.json"))
	if sig, _ = k.signature(copied); sig.Status != "trusted" || len(sig.Signatures) != 3 {
		t.Fatalf("copy kept rel's signature and sign added cosign's: %+v", sig)
	}

	// --require trusted refuses a default-key image before anything lands.
	k2 := &keyEnv{t: t, config: k.config, store: filepath.Join(t.TempDir(), "store2")}
	r = k2.run("--require", "trusted", "pull", fixture)
	if r.code != 4 || !strings.Contains(r.stderr, "keys trust") {
		t.Fatalf("--require trusted pull of a default-key image: exit %d %s", r.code, r.stderr)
	}
	_ = filepath.WalkDir(k2.store, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("a refused pull wrote %s", p)
		}
		return nil
	})
	if r = k2.run("--require", "trusted", "pull", img); r.code != 0 {
		t.Fatalf("--require trusted pull of a trusted image: %s", r.stderr)
	}
	// The config's require: applies to its root without a flag.
	cfg := "require:\n  file://" + vectors.FixtureDir() + ": signed\n"
	if err := os.WriteFile(k.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = k.run("copy", fixture, "file://"+out+"/x"); r.code != 4 || !strings.Contains(r.stderr, "public default key") {
		t.Fatalf("copy under require: signed: exit %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "x")); !os.IsNotExist(err) {
		t.Fatalf("the copy destination was written to: %v", err)
	}
	if err := os.WriteFile(k.config, []byte("require:\n  file://x: sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = k.run("inspect", img); r.code == 0 || !strings.Contains(r.stderr, "trusted, signed or any") {
		t.Fatalf("bad require: in the config: exit %d %s", r.code, r.stderr)
	}
}

func (k *keyEnv) keyFingerprint(name string) string {
	k.t.Helper()
	b, err := os.ReadFile(k.keyFile(name + ".pub"))
	if err != nil {
		k.t.Fatal(err)
	}
	pub, err := signing.ParsePublicKeyPEM(b)
	if err != nil {
		k.t.Fatal(err)
	}
	return pub.Fingerprint
}

// TestInvalidBundleExitCodes: a tampered bundle beside an otherwise
// signed image is listed and warned about, and the image keeps its
// verdict; a changed manifest is invalid, exit 4.
func TestInvalidBundleExitCodes(t *testing.T) {
	k := newKeyEnv(t)
	id := strings.TrimSpace(k.must("pull", "file://"+vectors.FixtureDir()).stdout)
	k.must("keys", "generate", "rel")
	k.must("keys", "trust", k.keyFile("rel.pub"))
	dir := filepath.Join(t.TempDir(), "img")
	k.must("push", id, "file://"+dir, "--sign-key", "rel")
	bundle := filepath.Join(dir, signing.BundleFileName(k.keyFingerprint("rel")))
	b, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"signature":"`) + len(`"signature":"`) + 10
	b[i] ^= 'A' ^ 'B'
	if err := os.WriteFile(bundle, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := k.run("verify", "file://"+dir)
	if r.code != 0 || !strings.Contains(r.stdout, "signature default-key") || !strings.Contains(r.stderr, "does not verify") {
		t.Fatalf("verify with a spoilt bundle: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = k.run("--require", "trusted", "verify", "file://"+dir); r.code != 4 {
		t.Fatalf("--require trusted verify with a spoilt bundle: exit %d %s", r.code, r.stderr)
	}
	m, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m[len(m)/2] ^= 0x01
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	if sig, code := k.signature("file://" + dir); code != 4 || sig.Status != "invalid" {
		t.Fatalf("changed manifest: exit %d %+v", code, sig)
	}
}
