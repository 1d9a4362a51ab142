package signing

// Key formats are cosign's, so that cosign.key/cosign.pub work here and ours
// work in cosign: the private key is PKCS#8, encrypted by
// go-securesystemslib/encrypted (scrypt + NaCl secretbox, as cosign does) and
// wrapped in an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM block; the public key is
// PKIX PEM via sigstore/pkg/cryptoutils. These two packages add a dozen small
// packages; the signature arithmetic itself is the standard library's.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"pf-registry/internal/termtext"
)

// KeyAlgorithm names a supported signing key type.
type KeyAlgorithm string

// Supported key algorithms. ECDSA P-256 is cosign's default.
const (
	ECDSAP256 KeyAlgorithm = "ecdsa-p256"
	Ed25519   KeyAlgorithm = "ed25519"
)

// DefaultKeyAlgorithm is what a new key uses unless asked otherwise.
const DefaultKeyAlgorithm = ECDSAP256

// PEM block types of cosign's encrypted private keys; the older cosign type
// is read, the newer one is written.
const (
	sigstorePrivatePEM = string(cryptoutils.EncryptedSigstorePrivateKeyPEMType)
	cosignPrivatePEM   = "ENCRYPTED COSIGN PRIVATE KEY"
	publicPEM          = string(cryptoutils.PublicKeyPEMType)
)

// maxKeyFile bounds key files read from disk or from the user.
const maxKeyFile = 64 << 10

// Key errors. Each message built on them names the file or key and what to do.
var (
	ErrWrongPassphrase = errors.New("wrong passphrase")
	ErrUnsupportedKey  = errors.New("unsupported key")
	ErrUnknownKey      = errors.New("unknown key")
	ErrDuplicateKey    = errors.New("duplicate key")
	ErrBadKeyFile      = errors.New("bad key file")
)

// ParseKeyAlgorithm accepts the algorithm names of the command line.
func ParseKeyAlgorithm(s string) (KeyAlgorithm, error) {
	switch strings.ToLower(s) {
	case "", "ecdsa", "ecdsa-p256", "p256", "p-256", "ecdsa-p256-sha256":
		return ECDSAP256, nil
	case "ed25519":
		return Ed25519, nil
	}
	return "", fmt.Errorf("%w: algorithm %q: use ecdsa-p256 (default) or ed25519", ErrUnsupportedKey, termtext.Cut(s, 40))
}

// Passphrase supplies the passphrase of a private key. confirm is true when
// a new key is being encrypted, so that an interactive caller can ask twice.
// The caller reads COSIGN_PASSWORD or prompts; this package never does.
type Passphrase func(confirm bool) ([]byte, error)

// StaticPassphrase returns a Passphrase that always gives p.
func StaticPassphrase(p []byte) Passphrase {
	return func(bool) ([]byte, error) { return p, nil }
}

// PublicKey is a verification key. Name is the key store's name for it,
// empty when the key did not come from the store.
type PublicKey struct {
	Name      string
	Algorithm KeyAlgorithm
	// Fingerprint is the first 16 hex digits of SHA-256 of the PKIX DER
	// encoding: the file-name part of a bundle and the hint inside it.
	Fingerprint string
	key         crypto.PublicKey
	der         []byte
}

func newPublicKey(pub crypto.PublicKey) (*PublicKey, error) {
	alg, err := algorithmOf(pub)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	sum := sha256.Sum256(der)
	return &PublicKey{Algorithm: alg, Fingerprint: hex.EncodeToString(sum[:8]), key: pub, der: der}, nil
}

// algorithmOf names the supported key types and refuses the rest with the
// way out.
func algorithmOf(pub crypto.PublicKey) (KeyAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return ECDSAP256, nil
		}
		return "", fmt.Errorf("%w: ECDSA %s: use an ECDSA P-256 or Ed25519 key (cosign generate-key-pair makes P-256)", ErrUnsupportedKey, k.Curve.Params().Name)
	case ed25519.PublicKey:
		return Ed25519, nil
	case *rsa.PublicKey:
		return "", fmt.Errorf("%w: RSA-%d: use an ECDSA P-256 or Ed25519 key (cosign generate-key-pair makes P-256)", ErrUnsupportedKey, k.Size()*8)
	}
	return "", fmt.Errorf("%w: %T: use an ECDSA P-256 or Ed25519 key", ErrUnsupportedKey, pub)
}

// ParsePublicKeyPEM reads a PKIX "PUBLIC KEY" PEM block (cosign.pub).
func ParsePublicKeyPEM(b []byte) (*PublicKey, error) {
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%w: public key larger than %d bytes", ErrBadKeyFile, maxKeyFile)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%w: not a PEM public key (expected a %q block as in cosign.pub)", ErrBadKeyFile, publicPEM)
	}
	if block.Type != publicPEM {
		return nil, fmt.Errorf("%w: PEM block %q is not a public key (expected %q)", ErrBadKeyFile, termtext.Cut(block.Type, 40), publicPEM)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: public key does not parse: %v", ErrBadKeyFile, err)
	}
	return newPublicKey(pub)
}

// PEM renders the key as cosign.pub does.
func (p *PublicKey) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: publicPEM, Bytes: p.der})
}

// Equal reports whether both are the same key.
func (p *PublicKey) Equal(o *PublicKey) bool {
	return p != nil && o != nil && string(p.der) == string(o.der)
}

// Label is how a key is named to people: its store name and fingerprint,
// or the fingerprint alone.
func (p *PublicKey) Label() string {
	if p.Name != "" {
		return p.Name + " (" + p.Fingerprint + ")"
	}
	return p.Fingerprint
}

// cosignHint is the public-key hint cosign writes into its bundles.
func (p *PublicKey) cosignHint() string {
	return hintOf(p.der)
}

// PrivateKey is a signing key. Its secret never appears in any rendering:
// String, GoString, Format verbs, JSON and slog show the public part only.
type PrivateKey struct {
	pub    *PublicKey
	signer crypto.Signer
}

// GenerateKey makes a new key of the given algorithm.
func GenerateKey(alg KeyAlgorithm) (*PrivateKey, error) {
	var signer crypto.Signer
	var err error
	switch alg {
	case ECDSAP256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case Ed25519:
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("%w: algorithm %q: use ecdsa-p256 (default) or ed25519", ErrUnsupportedKey, alg)
	}
	if err != nil {
		return nil, err
	}
	return newPrivateKey(signer)
}

// NewPrivateKey wraps a signer the caller holds (an ECDSA P-256 or
// Ed25519 key): tests hand keys to child processes this way, without the
// passphrase's deliberately slow key derivation.
func NewPrivateKey(s crypto.Signer) (*PrivateKey, error) { return newPrivateKey(s) }

func newPrivateKey(s crypto.Signer) (*PrivateKey, error) {
	pub, err := newPublicKey(s.Public())
	if err != nil {
		return nil, err
	}
	return &PrivateKey{pub: pub, signer: s}, nil
}

// Public returns the verification half.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// The renderings below have value receivers so that a PrivateKey value, not
// only a pointer, is covered.

// String shows the public identity only.
func (k PrivateKey) String() string {
	if k.pub == nil {
		return "private key (none)"
	}
	return string(k.pub.Algorithm) + " private key " + k.pub.Label()
}

// GoString shows the public identity only.
func (k PrivateKey) GoString() string { return "signing.PrivateKey(" + k.String() + ")" }

// Format makes every fmt verb (%v, %+v, %#v, %x, %s…) print String, so that
// no verb can reach the unexported secret.
func (k PrivateKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON shows the public identity only.
func (k PrivateKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// LogValue keeps the secret out of structured logs.
func (k PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// EncryptPEM renders the key as cosign generate-key-pair does: PKCS#8,
// encrypted with the passphrase, in an ENCRYPTED SIGSTORE PRIVATE KEY block.
func (k *PrivateKey) EncryptPEM(pass Passphrase) ([]byte, error) {
	enc, err := cryptoutils.MarshalPrivateKeyToEncryptedDER(k.signer, cryptoutils.PassFunc(pass))
	if err != nil {
		return nil, fmt.Errorf("cannot encrypt the private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: sigstorePrivatePEM, Bytes: enc}), nil
}

// IsPrivateKeyPEM reports whether b holds a cosign encrypted private key
// (either PEM type), without decrypting it.
func IsPrivateKeyPEM(b []byte) bool {
	block, _ := pem.Decode(b)
	return block != nil && (block.Type == sigstorePrivatePEM || block.Type == cosignPrivatePEM)
}

// DecryptPrivateKeyPEM reads a cosign encrypted private key (cosign.key, of
// either PEM type) with the passphrase.
func DecryptPrivateKeyPEM(b []byte, pass Passphrase) (*PrivateKey, error) {
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%w: private key larger than %d bytes", ErrBadKeyFile, maxKeyFile)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%w: not a PEM private key (expected %q as written by cosign generate-key-pair)", ErrBadKeyFile, sigstorePrivatePEM)
	}
	if block.Type != sigstorePrivatePEM && block.Type != cosignPrivatePEM {
		return nil, fmt.Errorf("%w: PEM block %q is not a cosign private key (expected %q)", ErrBadKeyFile, termtext.Cut(block.Type, 40), sigstorePrivatePEM)
	}
	p, err := pass(false)
	if err != nil {
		return nil, err
	}
	der, err := encrypted.Decrypt(block.Bytes, p)
	if err != nil {
		if strings.Contains(err.Error(), "decryption failed") {
			return nil, fmt.Errorf("%w: the private key does not open with this passphrase (check COSIGN_PASSWORD)", ErrWrongPassphrase)
		}
		return nil, fmt.Errorf("%w: encrypted private key is damaged: %v", ErrBadKeyFile, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypted private key is not PKCS#8: %v", ErrBadKeyFile, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T cannot sign", ErrUnsupportedKey, priv)
	}
	return newPrivateKey(signer)
}
