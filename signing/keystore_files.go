package signing

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"pf-registry/internal/durable"
	"pf-registry/internal/termtext"
)

// storedKey is an entry with its public key (nil when unreadable).
type storedKey struct {
	Entry
	pub *PublicKey
}

// List returns every key of the store, sorted by name.
func (s *Store) List() ([]Entry, error) {
	keys, err := s.scan()
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(keys))
	for i, k := range keys {
		out[i] = k.Entry
	}
	return out, nil
}

// Keyring returns every readable key of the store, trusted or not, for
// verification.
func (s *Store) Keyring() (*Keyring, error) {
	keys, err := s.scan()
	if err != nil {
		return nil, err
	}
	ring := NewKeyring()
	for _, k := range keys {
		if k.pub != nil {
			ring.Add(k.pub, k.Trusted)
		}
	}
	return ring, nil
}

func (s *Store) entry(name string) (Entry, error) {
	entries, err := s.List()
	if err != nil {
		return Entry{}, err
	}
	for _, e := range entries {
		if e.Name == name {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w: no key named %q", ErrUnknownKey, name)
}

// scan reads keys/ and trusted/. Trust is decided by fingerprint, so that a
// key trusted under one name and known under another is still trusted.
func (s *Store) scan() ([]storedKey, error) {
	own, err := s.readDir(s.keysDir())
	if err != nil {
		return nil, err
	}
	trusted, err := s.readDir(s.trustedDir())
	if err != nil {
		return nil, err
	}
	trustedFP := map[string]string{}
	for _, t := range trusted {
		if t.pub != nil {
			trustedFP[t.Fingerprint] = t.Name
		}
	}
	out := make([]storedKey, 0, len(own)+len(trusted))
	ownFP := map[string]bool{}
	names := map[string]string{}
	for _, k := range own {
		k.known = true
		if tname, ok := trustedFP[k.Fingerprint]; ok && k.pub != nil {
			k.Trusted = true
			if tname != k.Name && k.Problem == "" {
				k.Problem = fmt.Sprintf("trusted under the name %q", tname)
			}
		}
		ownFP[k.Fingerprint] = true
		names[k.Name] = k.Fingerprint
		out = append(out, k)
	}
	for _, t := range trusted {
		if t.pub != nil && ownFP[t.Fingerprint] {
			continue
		}
		t.Trusted = t.pub != nil
		if fp, ok := names[t.Name]; ok && t.Problem == "" {
			t.Problem = fmt.Sprintf("the name also names key %s in keys/: rename one of them", orNone(fp))
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// readDir reads NAME.pub and NAME.key files of one directory; other files
// are not the store's and are left alone.
func (s *Store) readDir(dir string) ([]storedKey, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the key store: %w", err)
	}
	byName := map[string]*storedKey{}
	var order []string
	for _, de := range des {
		name, ext := strings.TrimSuffix(de.Name(), filepath.Ext(de.Name())), filepath.Ext(de.Name())
		if (ext != ".pub" && ext != ".key") || checkName(name) != nil || de.IsDir() {
			continue
		}
		k := byName[name]
		if k == nil {
			k = &storedKey{Entry: Entry{Name: name}}
			byName[name] = k
			order = append(order, name)
		}
		if ext == ".key" {
			k.Private = true
			continue
		}
		pub, err := readPublic(filepath.Join(dir, de.Name()))
		if err != nil {
			k.Problem = termtext.Cut(err.Error(), 160)
			continue
		}
		pub.Name = name
		k.pub, k.Algorithm, k.Fingerprint = pub, pub.Algorithm, pub.Fingerprint
	}
	out := make([]storedKey, 0, len(order))
	for _, name := range order {
		k := byName[name]
		if k.pub == nil && k.Problem == "" {
			k.Problem = "public key " + name + ".pub is missing: import the private key again"
		}
		out = append(out, *k)
	}
	return out, nil
}

func readPublic(path string) (*PublicKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublicKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return pub, nil
}

// readKeyFile reads at most maxKeyFile bytes: a key file is small, and a
// larger one is a mistake (a wrong path) better refused than read.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot read key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read key file %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes, not a key", ErrBadKeyFile, path, maxKeyFile)
	}
	return data, nil
}

// writeFileAtomic writes data to a temporary file in the target directory
// (created 0700) and renames it over path, so that a reader sees the old
// file or the new one, never a part.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the key store: %w", err)
	}
	if err := durable.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("cannot write %s: %w", filepath.Base(path), err)
	}
	return nil
}
