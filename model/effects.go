package model

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Effects ledger kinds (spec §4.3).
const (
	LedgerKind       = "effects.ledger.v1"
	MergedLedgerKind = "effects.merged.v1"
)

// EffectClass is an entry's side_effect_class.
type EffectClass string

// The four classes the ledger knows.
const (
	EffectPure         EffectClass = "pure"
	EffectIdempotent   EffectClass = "idempotent"
	EffectIrreversible EffectClass = "irreversible"
	EffectNetworkOnly  EffectClass = "network-only"
)

// Outward reports the classes a user must notice before resuming or
// forking: the effect cannot be undone or reached the network.
func (c EffectClass) Outward() bool { return c == EffectIrreversible || c == EffectNetworkOnly }

// Ledger is the decoded effects.ledger blob: a header and entries, or for
// a merge result the three ledgers it combines. The session secret and
// the per-entry HMACs are secrets: their values are dropped while
// decoding, only their presence is kept.
type Ledger struct {
	Kind     string        `json:"kind"`
	Header   *LedgerHeader `json:"header,omitempty"`
	Entries  []Effect      `json:"entries"`
	Merged   *MergedLedger `json:"merged,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
}

// LedgerHeader is the first line of a ledger.
type LedgerHeader struct {
	// Entries is the count the header declares.
	Entries          int64  `json:"entries"`
	VerificationMode string `json:"verification_mode,omitempty"`
	// SessionSecret tells whether session_secret_hex was set; its value
	// is never kept.
	SessionSecret bool `json:"session_secret_present"`
}

// Effect is one recorded side effect.
type Effect struct {
	TS             string      `json:"ts"`
	ToolID         string      `json:"tool_id"`
	Class          EffectClass `json:"side_effect_class"`
	IdempotencyKey string      `json:"idempotency_key,omitempty"`
	ArgsHash       string      `json:"args_hash,omitempty"`
	ResultHash     string      `json:"result_hash,omitempty"`
	// HMAC tells whether the entry carries a session_hmac; its value is
	// never kept.
	HMAC bool `json:"session_hmac_present"`
}

// MergedLedger is an effects.merged.v1 document: digests of the ledgers of
// both parents and of their common ancestor.
type MergedLedger struct {
	ParentA  Digest `json:"parent_a"`
	ParentB  Digest `json:"parent_b"`
	Ancestor Digest `json:"ancestor"`
}

// presence records whether a JSON value was set without keeping it: the
// decoder hands the bytes to UnmarshalJSON, which looks only at their
// shape.
type presence bool

func (p *presence) UnmarshalJSON(b []byte) error {
	s := string(b)
	*p = presence(s != "null" && s != `""`)
	return nil
}

type wireHeader struct {
	Kind             json.RawMessage `json:"kind"`
	Entries          json.RawMessage `json:"entries"`
	VerificationMode json.RawMessage `json:"verification_mode"`
	SessionSecret    presence        `json:"session_secret_hex"`
	ParentA          json.RawMessage `json:"parent_a"`
	ParentB          json.RawMessage `json:"parent_b"`
	Ancestor         json.RawMessage `json:"ancestor"`
}

type wireEffect struct {
	TS             json.RawMessage `json:"ts"`
	ToolID         json.RawMessage `json:"tool_id"`
	Class          json.RawMessage `json:"side_effect_class"`
	IdempotencyKey json.RawMessage `json:"idempotency_key"`
	ArgsHash       json.RawMessage `json:"args_hash"`
	ResultHash     json.RawMessage `json:"result_hash"`
	HMAC           presence        `json:"session_hmac"`
}

// ParseLedger decodes an effects ledger (JSONL: header line, then one entry
// per line) or a merged ledger (one effects.merged.v1 object).
func ParseLedger(b []byte) (*Ledger, error) {
	if err := checkSize("effects ledger", b); err != nil {
		return nil, err
	}
	l := &Ledger{Entries: []Effect{}}
	err := eachLine(b, func(n int, line []byte) error {
		if l.Kind == "" {
			return l.header(line)
		}
		if l.Merged != nil {
			return fmt.Errorf("effects ledger line %d: a merged ledger is a single object", n)
		}
		var w wireEffect
		if err := json.Unmarshal(line, &w); err != nil {
			return fmt.Errorf("effects ledger line %d: not a JSON object: %v", n, err)
		}
		l.Entries = append(l.Entries, Effect{
			TS: jsonString(w.TS), ToolID: jsonString(w.ToolID), Class: EffectClass(jsonString(w.Class)),
			IdempotencyKey: jsonString(w.IdempotencyKey), ArgsHash: jsonString(w.ArgsHash),
			ResultHash: jsonString(w.ResultHash), HMAC: bool(w.HMAC),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if l.Kind == "" {
		return nil, fmt.Errorf("effects ledger: empty (no header line)")
	}
	if h := l.Header; h != nil && h.Entries != int64(len(l.Entries)) {
		l.Warnings = append(l.Warnings, fmt.Sprintf("header declares %d entries, the ledger holds %d", h.Entries, len(l.Entries)))
	}
	return l, nil
}

func (l *Ledger) header(line []byte) error {
	var w wireHeader
	if err := json.Unmarshal(line, &w); err != nil {
		return fmt.Errorf("effects ledger header: not a JSON object: %v", err)
	}
	l.Kind = jsonString(w.Kind)
	switch l.Kind {
	case LedgerKind:
		h := &LedgerHeader{VerificationMode: jsonString(w.VerificationMode), SessionSecret: bool(w.SessionSecret)}
		if len(w.Entries) > 0 && json.Unmarshal(w.Entries, &h.Entries) != nil {
			return fmt.Errorf("effects ledger header: entries is %s, not a count", cut(string(w.Entries), 40))
		}
		l.Header = h
	case MergedLedgerKind:
		l.Merged = &MergedLedger{ParentA: Digest(jsonString(w.ParentA)), ParentB: Digest(jsonString(w.ParentB)), Ancestor: Digest(jsonString(w.Ancestor))}
		for _, d := range []Digest{l.Merged.ParentA, l.Merged.ParentB, l.Merged.Ancestor} {
			if err := d.Validate(); err != nil {
				return fmt.Errorf("effects ledger: merged ledger parent: %v", err)
			}
		}
	case "":
		return fmt.Errorf("effects ledger header: no kind")
	default:
		return fmt.Errorf("effects ledger: kind %q is not %s or %s", cut(l.Kind, 60), LedgerKind, MergedLedgerKind)
	}
	return nil
}

// Count is the number of entries of a class.
func (l *Ledger) Count(c EffectClass) int {
	n := 0
	for _, e := range l.Entries {
		if e.Class == c {
			n++
		}
	}
	return n
}

// Summary is the one-line account of a ledger that a detail view shows,
// e.g. "3 irreversible effects recorded (7 in all, 1 network-only)".
func (l *Ledger) Summary() string {
	if l.Merged != nil {
		return "merged ledger: two parents and their common ancestor"
	}
	if len(l.Entries) == 0 {
		return "no effects recorded"
	}
	irr, net := l.Count(EffectIrreversible), l.Count(EffectNetworkOnly)
	var extra []string
	if net > 0 {
		extra = append(extra, fmt.Sprintf("%d network-only", net))
	}
	if irr == 0 {
		s := plural(len(l.Entries), "effect") + " recorded, none irreversible"
		if len(extra) > 0 {
			s += " (" + extra[0] + ")"
		}
		return s
	}
	extra = append([]string{fmt.Sprintf("%d in all", len(l.Entries))}, extra...)
	return plural(irr, "irreversible effect") + " recorded (" + strings.Join(extra, ", ") + ")"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
