package signing_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/signing"
)

func entryNamed(t *testing.T, s *signing.Store, name string) (signing.Entry, bool) {
	t.Helper()
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if e.Name == name {
			return e, true
		}
	}
	return signing.Entry{}, false
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantErr(t *testing.T, err, class error, words ...string) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("error %v, want %v", err, class)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), testPass) {
		t.Fatalf("error %q is not one clean line", err)
	}
}

// TestStoreOwnKey: generate, sign, trust, untrust, with the permissions and
// the verdicts each step implies.
func TestStoreOwnKey(t *testing.T) {
	dir := t.TempDir()
	s := signing.NewStore(dir)
	e, err := s.Generate("alice", signing.ECDSAP256, pass)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "alice" || !e.Private || e.Trusted || e.Algorithm != signing.ECDSAP256 || len(e.Fingerprint) != 16 {
		t.Fatalf("generated %+v", e)
	}
	checkMode(t, filepath.Join(dir, "keys"), 0o700|fs.ModeDir)
	checkMode(t, filepath.Join(dir, "keys", "alice.key"), 0o600)
	checkMode(t, filepath.Join(dir, "keys", "alice.pub"), 0o644)
	if fp := fingerprintOf(t, readFile(t, filepath.Join(dir, "keys", "alice.pub"))); fp != e.Fingerprint {
		t.Fatalf("listed fingerprint %s, file's %s", e.Fingerprint, fp)
	}

	_, err = s.Generate("alice", signing.Ed25519, pass)
	wantErr(t, err, signing.ErrDuplicateKey, `"alice"`, "another name")

	k, err := s.Private("alice", pass)
	if err != nil {
		t.Fatal(err)
	}
	if k.Public().Fingerprint != e.Fingerprint || k.Public().Name != "alice" {
		t.Fatalf("loaded %v", k)
	}
	_, err = s.Private("alice", signing.StaticPassphrase([]byte("wrong")))
	wantErr(t, err, signing.ErrWrongPassphrase, `key "alice"`, "COSIGN_PASSWORD")
	_, err = s.Private("nobody", pass)
	wantErr(t, err, signing.ErrUnknownKey, `"nobody"`, "keys generate nobody")

	manifest := []byte(`{"schema_version":1}`)
	bundle := sign(t, manifest, k)
	if got := verifyWithStore(t, s, bundle, manifest); got.Status != signing.UntrustedKey || got.KeyName != "alice" {
		t.Fatalf("before trust: %+v", got)
	}
	if e, err = s.TrustKnown("alice"); err != nil || !e.Trusted || !e.Private {
		t.Fatalf("trust own key: %+v, %v", e, err)
	}
	checkMode(t, filepath.Join(dir, "trusted"), 0o700|fs.ModeDir)
	if got := verifyWithStore(t, s, bundle, manifest); got.Status != signing.Trusted || !strings.Contains(got.Reason, "alice") {
		t.Fatalf("after trust: %+v", got)
	}
	_, err = s.TrustKnown("alice")
	wantErr(t, err, signing.ErrDuplicateKey, "already trusted")

	if err := s.Untrust("alice"); err != nil {
		t.Fatal(err)
	}
	if e, ok := entryNamed(t, s, "alice"); !ok || e.Trusted || !e.Private {
		t.Fatalf("after untrust: %+v", e)
	}
	wantErr(t, s.Untrust("alice"), signing.ErrUnknownKey, "no trusted key")
	noTempFiles(t, dir)
}

// TestStoreOthersKeys: trusting and importing public and private keys made
// elsewhere (cosign's format), and the refusals.
func TestStoreOthersKeys(t *testing.T) {
	dir, files := t.TempDir(), t.TempDir()
	s := signing.NewStore(dir)
	ec, ed := encryptedKey(t, signing.ECDSAP256), encryptedKey(t, signing.Ed25519)
	bobPub := writeFile(t, filepath.Join(files, "bob.pub"), ec.key.Public().PEM())

	e, err := s.TrustFile(bobPub, "")
	if err != nil || e.Name != "bob" || !e.Trusted || e.Private || e.Fingerprint != ec.key.Public().Fingerprint {
		t.Fatalf("trust bob.pub: %+v, %v", e, err)
	}
	_, err = s.TrustFile(bobPub, "")
	wantErr(t, err, signing.ErrDuplicateKey, "already trusted", "bob")
	_, err = s.ImportFile(bobPub, "robert", pass)
	wantErr(t, err, signing.ErrDuplicateKey, `already in the store as "bob"`)
	_, err = s.TrustFile(writeFile(t, filepath.Join(files, "x.pub"), ed.key.Public().PEM()), "bob")
	wantErr(t, err, signing.ErrDuplicateKey, `"bob" is taken`)

	// The private half of a trusted key joins it under the same name.
	e, err = s.ImportFile(writeFile(t, filepath.Join(files, "bob.key"), ec.pem), "", pass)
	if err != nil || !e.Private || !e.Trusted || e.Name != "bob" {
		t.Fatalf("import bob.key: %+v, %v", e, err)
	}
	checkMode(t, filepath.Join(dir, "keys", "bob.key"), 0o600)
	if k, err := s.Private("bob", pass); err != nil || !k.Public().Equal(ec.key.Public()) {
		t.Fatalf("imported private key: %v, %v", k, err)
	}

	// A known public key gives untrusted signatures a name.
	if e, err = s.Import(ed.key.Public().PEM(), "carol", nil); err != nil || e.Trusted || e.Private {
		t.Fatalf("import carol.pub: %+v, %v", e, err)
	}
	manifest := []byte("m")
	if got := verifyWithStore(t, s, sign(t, manifest, ed.key), manifest); got.Status != signing.UntrustedKey || got.KeyName != "carol" {
		t.Fatalf("carol's signature: %+v", got)
	}

	_, err = s.Trust(ec.pem, "", "x")
	wantErr(t, err, signing.ErrBadKeyFile, "private key", ".pub")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	_, err = s.Import(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "rsa", nil)
	wantErr(t, err, signing.ErrUnsupportedKey, "P-256 or Ed25519")
	_, err = s.ImportFile(filepath.Join(files, "absent.pub"), "", nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("absent file: %v", err)
	}
	for _, bad := range []string{"../x", "a/b", ".hidden", "", "x.pub", strings.Repeat("n", 65)} {
		if _, err := s.Import(ed.key.Public().PEM(), bad, nil); err == nil || !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("name %q: %v", bad, err)
		}
	}
	noTempFiles(t, dir)
}

// TestStoreDamaged: hand-edited stores list their problems and keep
// verifying with what is readable.
func TestStoreDamaged(t *testing.T) {
	dir := t.TempDir()
	s := signing.NewStore(dir)
	ec := encryptedKey(t, signing.ECDSAP256).key
	if _, err := s.Trust(ec.Public().PEM(), "good", ""); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(keys, "broken.pub"), []byte("not a key"))
	writeFile(t, filepath.Join(keys, "lonely.key"), []byte("x"))
	writeFile(t, filepath.Join(keys, "notes.txt"), []byte("ignored"))
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("listed %+v", list)
	}
	for _, e := range list {
		switch e.Name {
		case "broken":
			if !strings.Contains(e.Problem, "not a PEM public key") {
				t.Errorf("broken: %+v", e)
			}
		case "lonely":
			if !e.Private || !strings.Contains(e.Problem, "missing") {
				t.Errorf("lonely: %+v", e)
			}
		case "good":
			if !e.Trusted || e.Problem != "" {
				t.Errorf("good: %+v", e)
			}
		}
	}
	ring, err := s.Keyring()
	if err != nil || len(ring.Keys()) != 1 || len(ring.TrustedKeys()) != 1 {
		t.Fatalf("keyring of a damaged store: %v, %v", ring, err)
	}
	if empty, err := signing.NewStore(filepath.Join(dir, "absent")).List(); err != nil || len(empty) != 0 {
		t.Fatalf("absent store: %v, %v", empty, err)
	}
}

func verifyWithStore(t *testing.T, s *signing.Store, bundle, manifest []byte) signing.Check {
	t.Helper()
	ring, err := s.Keyring()
	if err != nil {
		t.Fatal(err)
	}
	return signing.VerifyBundle(bundle, manifest, ring)
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Fatalf("%s mode %v, want %v", filepath.Base(path), fi.Mode(), want)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noTempFiles checks that atomic writes left nothing behind.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}
