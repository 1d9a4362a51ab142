package signing_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"pf-registry/internal/cosigntest"
	"pf-registry/signing"
)

// testPass is a test value, not a secret; tests never print it.
const testPass = cosigntest.Passphrase

var pass = signing.StaticPassphrase([]byte(testPass))

// Encrypting a key runs scrypt (64 MiB, seconds under -race), so the tests
// share one encrypted key per algorithm.
var (
	fixtureOnce sync.Once
	fixtures    map[signing.KeyAlgorithm]fixture
)

type fixture struct {
	key *signing.PrivateKey
	pem []byte // encrypted with testPass
}

func encryptedKey(t *testing.T, alg signing.KeyAlgorithm) fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtures = map[signing.KeyAlgorithm]fixture{}
		for _, a := range []signing.KeyAlgorithm{signing.ECDSAP256, signing.Ed25519} {
			k, err := signing.GenerateKey(a)
			if err != nil {
				panic(err)
			}
			b, err := k.EncryptPEM(pass)
			if err != nil {
				panic(err)
			}
			fixtures[a] = fixture{k, b}
		}
	})
	return fixtures[alg]
}

// fingerprintOf recomputes the fingerprint from the PEM, independently of
// the package: first 16 hex digits of SHA-256 of the PKIX DER.
func fingerprintOf(t *testing.T, pubPEM []byte) string {
	t.Helper()
	block, _ := pem.Decode(pubPEM)
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("public key PEM is not a PUBLIC KEY block: %q", pubPEM)
	}
	if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:])[:16]
}

func TestKeyRoundTrip(t *testing.T) {
	for _, alg := range []signing.KeyAlgorithm{signing.ECDSAP256, signing.Ed25519} {
		t.Run(string(alg), func(t *testing.T) {
			f := encryptedKey(t, alg)
			block, _ := pem.Decode(f.pem)
			if block == nil || block.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" {
				t.Fatalf("private key PEM type = %v, want ENCRYPTED SIGSTORE PRIVATE KEY", block)
			}
			got, err := signing.DecryptPrivateKeyPEM(f.pem, pass)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Public().Equal(f.key.Public()) || got.Public().Algorithm != alg {
				t.Fatalf("decrypted key %v differs from %v", got, f.key)
			}
			pub, err := signing.ParsePublicKeyPEM(f.key.Public().PEM())
			if err != nil {
				t.Fatal(err)
			}
			if pub.Fingerprint != fingerprintOf(t, f.key.Public().PEM()) || len(pub.Fingerprint) != 16 {
				t.Fatalf("fingerprint %q, want %q", pub.Fingerprint, fingerprintOf(t, f.key.Public().PEM()))
			}
		})
	}
}

func TestDecryptErrors(t *testing.T) {
	f := encryptedKey(t, signing.ECDSAP256)
	block, _ := pem.Decode(f.pem)
	// The older cosign PEM type holds the same encrypted bytes.
	legacy := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED COSIGN PRIVATE KEY", Bytes: block.Bytes})
	k, err := signing.DecryptPrivateKeyPEM(legacy, pass)
	if err != nil || !k.Public().Equal(f.key.Public()) {
		t.Fatalf("ENCRYPTED COSIGN PRIVATE KEY: %v, %v", k, err)
	}

	_, err = signing.DecryptPrivateKeyPEM(f.pem, signing.StaticPassphrase([]byte("not the passphrase")))
	if !errors.Is(err, signing.ErrWrongPassphrase) || !strings.Contains(err.Error(), "COSIGN_PASSWORD") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if strings.Contains(err.Error(), testPass) {
		t.Fatal("error reveals the passphrase")
	}

	damaged := bytes.Replace(f.pem, []byte("ENCRYPTED SIGSTORE PRIVATE KEY"), []byte("EC PRIVATE KEY"), 2)
	if _, err := signing.DecryptPrivateKeyPEM(damaged, pass); !errors.Is(err, signing.ErrBadKeyFile) {
		t.Fatalf("plain PEM type: %v", err)
	}
	if _, err := signing.DecryptPrivateKeyPEM([]byte("hello"), pass); !errors.Is(err, signing.ErrBadKeyFile) {
		t.Fatalf("not PEM: %v", err)
	}
	askErr := errors.New("no terminal to ask on")
	if _, err := signing.DecryptPrivateKeyPEM(f.pem, func(bool) ([]byte, error) { return nil, askErr }); !errors.Is(err, askErr) {
		t.Fatalf("passphrase error not passed on: %v", err)
	}
}

func TestCosignPlaintextEncrypted(t *testing.T) {
	// A PKCS#8 P-384 key encrypted the way cosign does: opens, but is refused
	// by type with the way out.
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(p384)
	enc, err := encrypted.EncryptWithCustomKDFParameters(der, []byte(testPass), encrypted.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: enc})
	_, err = signing.DecryptPrivateKeyPEM(b, pass)
	if !errors.Is(err, signing.ErrUnsupportedKey) || !strings.Contains(err.Error(), "P-384") || !strings.Contains(err.Error(), "P-256 or Ed25519") {
		t.Fatalf("P-384 key: %v", err)
	}
}

func TestParsePublicKeyErrors(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	cases := []struct {
		name string
		in   []byte
		want error
		text string
	}{
		{"rsa", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER}), signing.ErrUnsupportedKey, "RSA-2048"},
		{"p384", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p384DER}), signing.ErrUnsupportedKey, "P-384"},
		{"not pem", []byte("ssh-ed25519 AAAA"), signing.ErrBadKeyFile, "not a PEM public key"},
		{"certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rsaDER}), signing.ErrBadKeyFile, `"CERTIFICATE" is not a public key`},
		{"garbage der", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}), signing.ErrBadKeyFile, "does not parse"},
		{"huge", bytes.Repeat([]byte("A"), 70<<10), signing.ErrBadKeyFile, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := signing.ParsePublicKeyPEM(c.in)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want %v containing %q on one line", err, c.want, c.text)
			}
		})
	}
}

func TestParseKeyAlgorithm(t *testing.T) {
	for in, want := range map[string]signing.KeyAlgorithm{"": signing.ECDSAP256, "ECDSA-P256": signing.ECDSAP256, "ed25519": signing.Ed25519} {
		if got, err := signing.ParseKeyAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseKeyAlgorithm(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := signing.ParseKeyAlgorithm("rsa-4096"); !errors.Is(err, signing.ErrUnsupportedKey) {
		t.Errorf("rsa-4096: %v", err)
	}
	if _, err := signing.GenerateKey("rsa"); !errors.Is(err, signing.ErrUnsupportedKey) {
		t.Errorf("GenerateKey(rsa): %v", err)
	}
}

// TestPrivateKeyNeverRendered checks every way a key could be printed:
// fmt verbs on pointer and value, inside a struct, JSON and slog.
func TestPrivateKeyNeverRendered(t *testing.T) {
	for _, alg := range []signing.KeyAlgorithm{signing.ECDSAP256, signing.Ed25519} {
		k, err := signing.GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		secrets := secretForms(t, k)
		holder := struct {
			K *signing.PrivateKey
			V signing.PrivateKey
		}{k, *k}
		var renders []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			renders = append(renders, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k), fmt.Sprintf(verb, holder))
		}
		j, _ := json.Marshal(holder)
		var logBuf bytes.Buffer
		slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("key", "k", k, "v", *k)
		renders = append(renders, string(j), logBuf.String())
		for _, r := range renders {
			if !strings.Contains(r, k.Public().Fingerprint) {
				t.Errorf("%s rendering %q does not name the key", alg, r)
			}
			for _, s := range secrets {
				if strings.Contains(strings.ToLower(r), s) {
					t.Fatalf("%s rendering reveals private key bytes: %q", alg, r)
				}
			}
		}
	}
}

// secretForms returns the private scalar or seed in the encodings a
// rendering could use: hex, base64, decimal bytes.
func secretForms(t *testing.T, k *signing.PrivateKey) []string {
	t.Helper()
	var raw []byte
	switch p := signing.SignerOf(k).(type) {
	case *ecdsa.PrivateKey:
		raw, _ = p.Bytes()
	case ed25519.PrivateKey:
		raw = p.Seed()
	}
	if len(raw) < 16 {
		t.Fatalf("%v: could not extract the secret for the check", k)
	}
	dec := strings.Trim(fmt.Sprint(raw[:6]), "[]")
	return []string{hex.EncodeToString(raw[:12]), strings.ToLower(base64.StdEncoding.EncodeToString(raw[:12])), dec}
}
