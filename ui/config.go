package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v3"

	"pf-registry/internal/durable"
	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/signing"
)

// Config is the UI's config file (YAML, under the XDG config dir):
//
//	roots:
//	  - file:///srv/images
//	  - oci://127.0.0.1:5000
//	theme: auto          # auto, dark, light, high-contrast, mono
//	readonly: false
//	require:             # per root: trusted, signed or any
//	  oci://127.0.0.1:5000: trusted
//	keys:
//	  quit: [q, ctrl+c]
//
// The command line reads require: too: pull, copy and opening an image's
// content refuse, before any blob moves, an image under a root whose
// signatures do not meet its level.
type Config struct {
	Roots    []string            `yaml:"roots,omitempty"`
	Theme    string              `yaml:"theme,omitempty"`
	ReadOnly bool                `yaml:"readonly,omitempty"`
	Require  map[string]string   `yaml:"require,omitempty"`
	Keys     map[string][]string `yaml:"keys,omitempty"`
}

// RequireLevels returns the require: section as signature levels, or an
// error naming the first bad entry.
func (c *Config) RequireLevels() (map[string]signing.Level, error) {
	out := make(map[string]signing.Level, len(c.Require))
	roots := make([]string, 0, len(c.Require))
	for root := range c.Require {
		roots = append(roots, root)
	}
	slices.Sort(roots)
	for _, root := range roots {
		if _, err := registry.ParseRoot(root); err != nil {
			return nil, fmt.Errorf("require: %w", err)
		}
		l, err := signing.ParseLevel(c.Require[root])
		if err != nil {
			return nil, fmt.Errorf("require: %s: %w", root, err)
		}
		out[root] = l
	}
	return out, nil
}

// DefaultConfigPath is $XDG_CONFIG_HOME/pf-registry/config.yaml (or the
// platform's user config dir).
func DefaultConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		d, err := os.UserConfigDir()
		if err != nil {
			return filepath.Join(".config", "pf-registry", "config.yaml")
		}
		dir = d
	}
	return filepath.Join(dir, "pf-registry", "config.yaml")
}

// LoadConfig reads the config file; a missing file is an empty config.
func LoadConfig(path string) (*Config, error) {
	c := &Config{}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(b, c); err != nil {
		return nil, fault.WithHint(fmt.Errorf("config %s: %w", path, err), "fix the YAML or move the file away")
	}
	if _, err := c.RequireLevels(); err != nil {
		return nil, fault.WithHint(fmt.Errorf("config %s: %w", path, err), "fix the require: section (root: trusted, signed or any)")
	}
	return c, nil
}

// Save writes the config file, creating its directory.
func (c *Config) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return durable.WriteFile(path, b, 0o644)
}

// AddRoot validates and appends a root; adding an existing root is a no-op.
func (c *Config) AddRoot(root string) error {
	if _, err := registry.ParseRoot(root); err != nil {
		return fault.WithHint(err, "give a root such as file:///path, oci://host:port, s3://bucket, hf://user, ipfs://")
	}
	if !slices.Contains(c.Roots, root) {
		c.Roots = append(c.Roots, root)
	}
	return nil
}

// RemoveRoot drops a root; it reports whether it was there.
func (c *Config) RemoveRoot(root string) bool {
	i := slices.Index(c.Roots, root)
	if i < 0 {
		return false
	}
	c.Roots = slices.Delete(c.Roots, i, i+1)
	return true
}
