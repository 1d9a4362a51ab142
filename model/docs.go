package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// MaxDocSize bounds the browsing documents (trace, effects ledger, env,
// procs, model diff, page manifest) a decoder accepts: they come from
// untrusted images and are held in memory whole.
const MaxDocSize = 32 << 20

// maxSnippet bounds the compact JSON kept for structured values shown as
// text (tool arguments, unknown content blocks, adapter details).
const maxSnippet = 4 << 10

func checkSize(what string, b []byte) error {
	if len(b) > MaxDocSize {
		return fmt.Errorf("%s: %d bytes, over the %d-byte limit", what, len(b), MaxDocSize)
	}
	return nil
}

// eachLine calls fn for every non-blank line of a JSONL document, numbered
// from 1.
func eachLine(b []byte, fn func(n int, line []byte) error) error {
	n := 0
	for len(b) > 0 {
		n++
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return nil
}

// snippet renders a raw JSON value compactly for display, cut at maxSnippet
// bytes on a rune boundary.
func snippet(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	return cut(buf.String(), maxSnippet)
}

// cut shortens s to at most max bytes without splitting a rune, marking
// the cut with an ellipsis.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// jsonString decodes raw as a string; anything else (number, object,
// null) is rendered as compact JSON, and a missing value as "".
func jsonString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return snippet(raw)
}
