package model

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// ModelDiffLayout is the layout of the model.diff envelope.
const ModelDiffLayout = "model.diff.v1"

// ModelDiff is the decoded model.diff envelope: which kind of difference
// to the base model the agent carries (LoRA, ...) and its adapters.
type ModelDiff struct {
	Layout   string    `json:"layout"`
	Kind     string    `json:"kind"`
	Adapters []Adapter `json:"adapters"`
}

// Adapter is one adapter of a model diff: its name (or id, or target)
// and the rest of its description as compact JSON.
type Adapter struct {
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
}

// ParseModelDiff decodes {layout, diff:{kind, adapters, ...}} with keys in
// any order.
func ParseModelDiff(b []byte) (*ModelDiff, error) {
	if err := checkSize("model diff", b); err != nil {
		return nil, err
	}
	var w struct {
		Layout json.RawMessage `json:"layout"`
		Diff   struct {
			Kind     json.RawMessage   `json:"kind"`
			Adapters []json.RawMessage `json:"adapters"`
		} `json:"diff"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("model diff: %v", err)
	}
	d := &ModelDiff{Layout: jsonString(w.Layout), Kind: jsonString(w.Diff.Kind), Adapters: []Adapter{}}
	for _, raw := range w.Diff.Adapters {
		d.Adapters = append(d.Adapters, adapter(raw))
	}
	return d, nil
}

func adapter(raw json.RawMessage) Adapter {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return Adapter{Name: jsonString(raw)}
	}
	a := Adapter{}
	for _, k := range []string{"name", "id", "target"} {
		if v, ok := obj[k]; ok {
			a.Name = jsonString(v)
			delete(obj, k)
			break
		}
	}
	if len(obj) > 0 {
		rest, _ := json.Marshal(obj)
		a.Detail = snippet(rest)
	}
	return a
}

// DescribeBase renders the model.base blob: its text when it is short
// printable UTF-8 (the pf CLI writes "base:<agent-id>"), else its size.
func DescribeBase(b []byte) string {
	if len(b) <= 256 && utf8.Valid(b) && printable(string(b)) {
		return string(b)
	}
	return fmt.Sprintf("%d bytes of binary data", len(b))
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
