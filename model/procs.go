package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Process capture kinds (spec §4.3).
const (
	ProcsUnsupported = "procs.unsupported.v1"
	ProcsRespawn     = "procs.respawn.v1"
	ProcsCRIU        = "procs.criu.v1"
)

// Procs is the decoded world.procs blob.
type Procs struct {
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Note        string `json:"note,omitempty"`
	// Commands are the command lines a respawn capture restarts, with
	// secret-looking arguments redacted.
	Commands []string `json:"commands,omitempty"`
	// ImageBytes is the size of a CRIU checkpoint tarball.
	ImageBytes int64 `json:"image_bytes,omitempty"`
}

// ParseProcs decodes a procs document. A CRIU capture is a JSON header
// line followed by a raw tarball; only the header is decoded.
func ParseProcs(b []byte) (*Procs, error) {
	head, rest := b, []byte(nil)
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		head, rest = b[:i], b[i+1:]
	}
	if err := checkSize("procs header", head); err != nil {
		return nil, err
	}
	var w struct {
		Kind      json.RawMessage `json:"kind"`
		Procs     json.RawMessage `json:"procs"`
		Processes json.RawMessage `json:"processes"`
		Commands  json.RawMessage `json:"commands"`
		Note      json.RawMessage `json:"note"`
	}
	if err := json.Unmarshal(head, &w); err != nil {
		return nil, fmt.Errorf("procs: not a JSON object: %v", err)
	}
	p := &Procs{Kind: jsonString(w.Kind), Note: cut(jsonString(w.Note), maxSnippet)}
	switch p.Kind {
	case ProcsUnsupported:
		p.Description = "process state not captured"
	case ProcsRespawn:
		for _, raw := range []json.RawMessage{w.Procs, w.Processes, w.Commands} {
			p.Commands = append(p.Commands, commandLines(raw)...)
		}
		p.Description = fmt.Sprintf("%d processes to respawn", len(p.Commands))
		if len(p.Commands) == 1 {
			p.Description = "1 process to respawn"
		}
	case ProcsCRIU:
		p.ImageBytes = int64(len(rest))
		p.Description = fmt.Sprintf("CRIU checkpoint, %d bytes", p.ImageBytes)
	case "":
		return nil, fmt.Errorf("procs: no kind")
	default:
		p.Description = "unknown capture kind"
	}
	return p, nil
}

// commandLines reads [{argv:[...]}|{cmd|command:"..."}|"..."].
func commandLines(raw json.RawMessage) []string {
	var items []json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		var w struct {
			Argv    []string        `json:"argv"`
			Cmd     json.RawMessage `json:"cmd"`
			Command json.RawMessage `json:"command"`
		}
		var argv []string
		switch {
		case json.Unmarshal(it, &w) == nil && len(w.Argv) > 0:
			argv = w.Argv
		case json.Unmarshal(it, &w) == nil && (len(w.Cmd) > 0 || len(w.Command) > 0):
			argv = strings.Fields(jsonString(w.Cmd) + " " + jsonString(w.Command))
		default:
			argv = strings.Fields(jsonString(it))
		}
		out = append(out, cut(strings.Join(redactArgs(argv), " "), maxSnippet))
	}
	return out
}

// redactArgs hides the values of secret-looking flags: --token=x,
// --password x, API_KEY=x.
func redactArgs(argv []string) []string {
	out := make([]string, len(argv))
	hideNext := false
	for i, a := range argv {
		switch {
		case hideNext:
			out[i], hideNext = RedactedValue, false
		case strings.Contains(a, "="):
			k, _, _ := strings.Cut(a, "=")
			out[i] = a
			if LooksSecret(strings.TrimLeft(k, "-")) {
				out[i] = k + "=" + RedactedValue
			}
		case strings.HasPrefix(a, "-") && LooksSecret(strings.TrimLeft(a, "-")):
			out[i], hideNext = a, true
		default:
			out[i] = a
		}
	}
	return out
}
