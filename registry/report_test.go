package registry_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"pf-registry/registry"
)

// The typed enums must print and encode as the plain strings that --json
// output and NDJSON progress have always carried.
func TestEnumsEncodeAsPlainStrings(t *testing.T) {
	ev, err := json.Marshal(registry.Event{Op: registry.OpCopy, Kind: registry.KindBlob, Phase: registry.PhaseVerifying})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"op":"copy"`, `"kind":"blob"`, `"phase":"verifying"`} {
		if !strings.Contains(string(ev), want) {
			t.Errorf("event JSON %s lacks %s", ev, want)
		}
	}
	rep, err := json.Marshal(registry.Report{Op: registry.OpVerify, Blobs: []registry.BlobStatus{{Status: registry.BlobCorrupt}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"op":"verify"`, `"status":"corrupt"`} {
		if !strings.Contains(string(rep), want) {
			t.Errorf("report JSON %s lacks %s", rep, want)
		}
	}
	got := fmt.Sprintf("%v %v %v %v", registry.OpPush, registry.KindImage, registry.PhaseSkipped, registry.BlobMissing)
	if got != "push image skipped missing" {
		t.Errorf("String() = %q", got)
	}
}
