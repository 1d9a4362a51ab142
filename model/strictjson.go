package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"pf-registry/internal/termtext"
)

// maxJSONDepth is serde_json's recursion limit: Rust refuses deeper
// documents.
const maxJSONDepth = 128

// CheckTyped reports what Rust refuses in a document it reads into a typed
// struct but encoding/json accepts, so that both tools read the same values
// out of the same (signed) bytes or both refuse them:
//
//   - invalid UTF-8, and \u escapes that are lone surrogates (Go would
//     turn both into U+FFFD);
//   - an object key given twice at any depth (Go keeps the last; Rust
//     rejects a duplicate field, and this is stricter for unknown keys);
//   - a key that differs from one of fields only in letter case (Go
//     matches struct fields case-insensitively, Rust does not);
//   - nesting deeper than serde_json's limit.
//
// raw must already be valid JSON (callers decode it first).
func CheckTyped(raw []byte, fields ...string) error {
	return (&jsonScan{b: raw, dupKeys: true, fields: fields}).check()
}

// checkText is CheckTyped for documents Rust reads as untyped values
// (the walk): duplicates are allowed there (the last one wins in both).
func checkText(raw []byte) error {
	return (&jsonScan{b: raw}).check()
}

// jsonScan walks a valid JSON document once.
type jsonScan struct {
	b       []byte
	i       int
	dupKeys bool
	fields  []string
}

var errJSONSyntax = errors.New("not valid JSON")

// jsonPath locates a value for messages; built into a string only when
// one is needed.
type jsonPath struct {
	parent *jsonPath
	key    string
}

func (p *jsonPath) String() string {
	if p == nil {
		return ""
	}
	if p.parent == nil {
		return p.key
	}
	if parent := p.parent.String(); parent != "" {
		if p.key == "[]" {
			return parent + p.key
		}
		return parent + "." + p.key
	}
	return p.key
}

func (s *jsonScan) check() error {
	if !utf8.Valid(s.b) {
		return errors.New("invalid UTF-8")
	}
	return s.value(nil, 0)
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) && strings.IndexByte(" \t\r\n", s.b[s.i]) >= 0 {
		s.i++
	}
}

func (s *jsonScan) value(path *jsonPath, depth int) error {
	s.ws()
	if s.i >= len(s.b) {
		return errJSONSyntax
	}
	switch s.b[s.i] {
	case '{', '[':
		if depth >= maxJSONDepth {
			return fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
		}
		if s.b[s.i] == '{' {
			return s.object(path, depth+1)
		}
		return s.array(path, depth+1)
	case '"':
		_, err := s.str()
		return err
	}
	for s.i < len(s.b) && strings.IndexByte(",]} \t\r\n", s.b[s.i]) < 0 {
		s.i++ // number or literal
	}
	return nil
}

func (s *jsonScan) object(path *jsonPath, depth int) error {
	s.i++ // '{'
	var seen map[string]bool
	if s.dupKeys {
		seen = map[string]bool{}
	}
	for {
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return nil
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.checkKey(key, path, seen); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errJSONSyntax
		}
		s.i++
		if err := s.value(&jsonPath{path, key}, depth); err != nil {
			return err
		}
		if err := s.next('}'); err != nil || s.b[s.i-1] == '}' {
			return err
		}
	}
}

func (s *jsonScan) checkKey(key string, path *jsonPath, seen map[string]bool) error {
	if seen == nil {
		return nil
	}
	if seen[key] {
		return fmt.Errorf("duplicate key %s", strconv.QuoteToASCII(termtext.Cut((&jsonPath{path, key}).String(), 80)))
	}
	seen[key] = true
	for _, f := range s.fields {
		if key != f && strings.EqualFold(key, f) {
			return fmt.Errorf("key %s is not %q (keys are case-sensitive)", strconv.QuoteToASCII(termtext.Cut(key, 80)), f)
		}
	}
	return nil
}

func (s *jsonScan) array(path *jsonPath, depth int) error {
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	elem := &jsonPath{path, "[]"}
	for {
		if err := s.value(elem, depth); err != nil {
			return err
		}
		if err := s.next(']'); err != nil || s.b[s.i-1] == ']' {
			return err
		}
	}
}

// next consumes a ',' or the closing byte.
func (s *jsonScan) next(closing byte) error {
	s.ws()
	if s.i >= len(s.b) || (s.b[s.i] != ',' && s.b[s.i] != closing) {
		return errJSONSyntax
	}
	s.i++
	return nil
}

// str consumes a string and returns its decoded value; it fails on a lone
// surrogate escape.
func (s *jsonScan) str() (string, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", errJSONSyntax
	}
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) && s.b[s.i] != '"' {
		if s.b[s.i] != '\\' {
			s.i++
			continue
		}
		escaped = true
		if s.i+1 < len(s.b) && s.b[s.i+1] == 'u' {
			if err := s.unicodeEscape(); err != nil {
				return "", err
			}
			continue
		}
		s.i += 2
	}
	if s.i >= len(s.b) {
		return "", errJSONSyntax
	}
	s.i++
	raw := s.b[start:s.i]
	if !escaped {
		return string(raw[1 : len(raw)-1]), nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", errJSONSyntax
	}
	return v, nil
}

// unicodeEscape consumes \uXXXX (and its low half when it is a high
// surrogate) at s.i.
func (s *jsonScan) unicodeEscape() error {
	r, ok := s.hex4(s.i)
	if !ok {
		return errJSONSyntax
	}
	s.i += 6
	switch {
	case r >= 0xdc00 && r <= 0xdfff:
		return fmt.Errorf(`lone surrogate \u%04x in a string`, r)
	case r >= 0xd800 && r <= 0xdbff:
		lo, ok := s.hex4(s.i)
		if !ok || lo < 0xdc00 || lo > 0xdfff {
			return fmt.Errorf(`lone surrogate \u%04x in a string`, r)
		}
		s.i += 6
	}
	return nil
}

// hex4 decodes the \uXXXX escape starting at i.
func (s *jsonScan) hex4(i int) (rune, bool) {
	if i+6 > len(s.b) || s.b[i] != '\\' || s.b[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[i+2:i+6]), 16, 16)
	return rune(v), err == nil
}
