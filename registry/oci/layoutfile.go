package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"pf-registry/internal/durable"
	"pf-registry/internal/fault"
)

// layoutMarker is the whole content of a layout's oci-layout file: the
// image spec fixes it, and it is what regclient writes.
const layoutMarker = `{"imageLayoutVersion":"1.0.0"}`

// mendLayoutMarker restores the oci-layout file of a layout that a killed
// writer left empty. regclient rewrites that file in place (create, then
// write) on every index update, so a SIGKILL between the two leaves a
// layout that no reader opens although its index and blobs are whole.
// Only a marker that is empty or does not parse, beside an index that
// does, is rewritten (atomically, with the spec's content): no image
// changes. In read-only mode nothing is written: the refusal says how to
// mend it.
func (b *Backend) mendLayoutMarker(dir string) error {
	marker := filepath.Join(dir, "oci-layout")
	m, err := os.ReadFile(marker)
	if err != nil || markerValid(m) {
		return nil // missing (a new layout) or whole: regclient decides
	}
	idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil || !json.Valid(idx) {
		return nil // not a layout this can vouch for: regclient's error stands
	}
	if err := b.cfg.CheckWrite("oci-layout:" + dir); err != nil {
		return fault.WithHint(fmt.Errorf("oci-layout:%s: its oci-layout file is damaged (a write to the layout was killed), and restoring it is a write: %w", dir, err),
			"run any command on it once without --readonly: the file is restored with the content the OCI image spec fixes")
	}
	if err := durable.WriteFile(marker, []byte(layoutMarker), 0o644); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("oci-layout:%s: restoring its damaged oci-layout file: %w", dir, err)
	}
	return nil
}

func markerValid(b []byte) bool {
	var v struct {
		Version string `json:"imageLayoutVersion"`
	}
	return json.Unmarshal(b, &v) == nil && v.Version != ""
}
