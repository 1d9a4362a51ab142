package signing

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"pf-registry/internal/termtext"
)

// Store keeps keys under a config directory:
//
//	keys/NAME.key     own private keys, cosign's encrypted PEM (0600)
//	keys/NAME.pub     their public keys, and imported public keys
//	trusted/NAME.pub  the public keys whose signatures count as trusted
//
// A name means one key across both directories. Trust follows the key (its
// fingerprint), not the name: a key in trusted/ is trusted whatever the
// name it has in keys/. Directories are 0700; every write is a temporary
// file renamed into place.
type Store struct {
	dir string
}

// NewStore opens the store under configDir (the command line passes
// $XDG_CONFIG_HOME/pf-registry). Nothing is created until a key is written.
func NewStore(configDir string) *Store { return &Store{dir: configDir} }

func (s *Store) keysDir() string    { return filepath.Join(s.dir, "keys") }
func (s *Store) trustedDir() string { return filepath.Join(s.dir, "trusted") }

// Entry is one key as listed.
type Entry struct {
	Name        string       `json:"name"`
	Algorithm   KeyAlgorithm `json:"algorithm"`
	Fingerprint string       `json:"fingerprint"`
	Trusted     bool         `json:"trusted"`
	// Private: the store holds the private key, so it can sign.
	Private bool `json:"private"`
	// Problem describes a damaged entry (an unreadable file, one name for
	// two keys). An entry whose public key cannot be read is left out of
	// verification.
	Problem string `json:"problem,omitempty"`
	// known: the key is in keys/ (generated or imported), not only trusted.
	known bool
}

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkName refuses names that are not plain file names.
func checkName(name string) error {
	if !keyName.MatchString(name) || strings.HasSuffix(name, ".key") || strings.HasSuffix(name, ".pub") {
		return fmt.Errorf("key name %q is not allowed: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", termtext.Cut(name, 70))
	}
	return nil
}

// nameFromFile derives a key name from a file name: cosign.pub → cosign.
func nameFromFile(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(strings.TrimSuffix(base, filepath.Ext(base)), ".pub")
}

// Generate makes a new key pair called name and stores it, the private part
// encrypted with the passphrase. The new key is not trusted until trusted.
func (s *Store) Generate(name string, alg KeyAlgorithm, pass Passphrase) (Entry, error) {
	if err := s.checkFree(name, nil, nil); err != nil {
		return Entry{}, err
	}
	k, err := GenerateKey(alg)
	if err != nil {
		return Entry{}, err
	}
	enc, err := k.EncryptPEM(pass)
	if err != nil {
		return Entry{}, err
	}
	return s.savePair(name, k.Public(), enc)
}

// savePair writes the public key first: a private key without its public
// half could not be listed without the passphrase.
func (s *Store) savePair(name string, pub *PublicKey, privPEM []byte) (Entry, error) {
	if err := writeFileAtomic(filepath.Join(s.keysDir(), name+".pub"), pub.PEM(), 0o644); err != nil {
		return Entry{}, err
	}
	if privPEM != nil {
		if err := writeFileAtomic(filepath.Join(s.keysDir(), name+".key"), privPEM, 0o600); err != nil {
			return Entry{}, err
		}
	}
	return s.entry(name)
}

// ImportFile imports a cosign private key (cosign.key; the passphrase is
// asked to check it and derive the public half, and the file is kept as
// encrypted) or a PEM public key (known, not trusted). An empty name is
// derived from the file name.
func (s *Store) ImportFile(path, name string, pass Passphrase) (Entry, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return Entry{}, err
	}
	if name == "" {
		name = nameFromFile(path)
	}
	e, err := s.Import(data, name, pass)
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// Import is ImportFile on bytes.
func (s *Store) Import(data []byte, name string, pass Passphrase) (Entry, error) {
	if IsPrivateKeyPEM(data) {
		k, err := DecryptPrivateKeyPEM(data, pass)
		if err != nil {
			return Entry{}, err
		}
		// A key known by its public half (or trusted) gains its private part.
		if err := s.checkFree(name, k.Public(), func(e Entry) bool { return !e.Private }); err != nil {
			return Entry{}, err
		}
		return s.savePair(name, k.Public(), data)
	}
	pub, err := ParsePublicKeyPEM(data)
	if err != nil {
		return Entry{}, err
	}
	// A key only trusted so far may also be recorded as known.
	if err := s.checkFree(name, pub, func(e Entry) bool { return e.Trusted && !e.known }); err != nil {
		return Entry{}, err
	}
	return s.savePair(name, pub, nil)
}

// TrustFile trusts the public key in path (an empty name is derived from the
// file name, or taken from the store when it already knows the key).
func (s *Store) TrustFile(path, name string) (Entry, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return Entry{}, err
	}
	e, err := s.Trust(data, name, nameFromFile(path))
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// Trust adds a PEM public key to the trusted keys under name; with name
// empty, under the name the store already gives the key, else fallback.
func (s *Store) Trust(pubPEM []byte, name, fallback string) (Entry, error) {
	if IsPrivateKeyPEM(pubPEM) {
		return Entry{}, fmt.Errorf("%w: this is a private key; trust the public key (the .pub file) instead", ErrBadKeyFile)
	}
	pub, err := ParsePublicKeyPEM(pubPEM)
	if err != nil {
		return Entry{}, err
	}
	entries, err := s.List()
	if err != nil {
		return Entry{}, err
	}
	for _, e := range entries {
		if e.Fingerprint != pub.Fingerprint {
			continue
		}
		if e.Trusted {
			return Entry{}, fmt.Errorf("%w: key %s is already trusted as %q", ErrDuplicateKey, pub.Fingerprint, e.Name)
		}
		if name == "" {
			name = e.Name
		}
	}
	if name == "" {
		name = fallback
	}
	if err := s.checkFree(name, pub, func(e Entry) bool { return !e.Trusted }); err != nil {
		return Entry{}, err
	}
	if err := writeFileAtomic(filepath.Join(s.trustedDir(), name+".pub"), pub.PEM(), 0o644); err != nil {
		return Entry{}, err
	}
	return s.entry(name)
}

// TrustKnown trusts a key the store already holds (generated or imported).
func (s *Store) TrustKnown(name string) (Entry, error) {
	pub, err := s.Public(name)
	if err != nil {
		return Entry{}, err
	}
	return s.Trust(pub.PEM(), name, name)
}

// Untrust removes a key from the trusted keys; the key itself stays in
// keys/ if it is there.
func (s *Store) Untrust(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(s.trustedDir(), name+".pub"))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: no trusted key named %q (see `pf-registry keys list`)", ErrUnknownKey, name)
	}
	return err
}

// Private loads the private key called name with the passphrase.
func (s *Store) Private(name string, pass Passphrase) (*PrivateKey, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	data, err := readKeyFile(filepath.Join(s.keysDir(), name+".key"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no private key named %q: make one with `pf-registry keys generate %s` or import a cosign.key (see `pf-registry keys list`)", ErrUnknownKey, name, name)
	}
	if err != nil {
		return nil, err
	}
	k, err := DecryptPrivateKeyPEM(data, pass)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	k.pub.Name = name
	return k, nil
}

// Public returns the public key called name (from keys/, else trusted/).
func (s *Store) Public(name string) (*PublicKey, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	for _, dir := range []string{s.keysDir(), s.trustedDir()} {
		pub, err := readPublic(filepath.Join(dir, name+".pub"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		pub.Name = name
		return pub, nil
	}
	return nil, fmt.Errorf("%w: no key named %q (see `pf-registry keys list`)", ErrUnknownKey, name)
}

// checkFree refuses a name that is invalid or already names a key, unless
// sameKeyOK accepts that entry (the same key, getting a part it lacks), and
// refuses a key (pub, when given) the store holds under another name.
func (s *Store) checkFree(name string, pub *PublicKey, sameKeyOK func(Entry) bool) error {
	if err := checkName(name); err != nil {
		return err
	}
	entries, err := s.List()
	if err != nil {
		return err
	}
	for _, e := range entries {
		same := pub != nil && e.Fingerprint == pub.Fingerprint
		switch {
		case e.Name == name && !(same && sameKeyOK != nil && sameKeyOK(e)):
			if same {
				return fmt.Errorf("%w: key %s is already in the store as %q", ErrDuplicateKey, e.Fingerprint, name)
			}
			return fmt.Errorf("%w: the name %q is taken by key %s: choose another name", ErrDuplicateKey, name, orNone(e.Fingerprint))
		case same && e.Name != name:
			return fmt.Errorf("%w: key %s is already in the store as %q: use that name", ErrDuplicateKey, e.Fingerprint, e.Name)
		}
	}
	return nil
}
