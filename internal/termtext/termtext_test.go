package termtext_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"pf-registry/internal/fault"
	"pf-registry/internal/termtext"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		-1: "?", -5000: "?", 0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 20: "3.0 MiB",
		5 << 40: "5.0 TiB", 1 << 60: "1.0 EiB", 1<<63 - 1: "8.0 EiB",
	} {
		if got := termtext.Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOneLineCutsByRune(t *testing.T) {
	if got := termtext.OneLine("a\n\tb  c\r\n", 0); got != "a b c" {
		t.Errorf("OneLine = %q", got)
	}
	long := strings.Repeat("é", 10) // two bytes each
	got := termtext.OneLine(long, 4)
	if got != "ééé…" || !utf8.ValidString(got) {
		t.Errorf("OneLine(%q, 4) = %q", long, got)
	}
	if got := termtext.Cut("abcd", 4); got != "abcd" {
		t.Errorf("a text of exactly max runes is kept whole: %q", got)
	}
	if got := termtext.Cut("abcde", 4); got != "abc…" || utf8.RuneCountInString(got) != 4 {
		t.Errorf("Cut = %q", got)
	}
}

func TestErrorLine(t *testing.T) {
	err := fault.WithHint(errors.New("bad\nthing"), "do this")
	if got := termtext.ErrorLine(err, "; "); got != "bad thing; do this" {
		t.Errorf("ErrorLine = %q", got)
	}
	if got := termtext.ErrorLine(errors.New("plain"), "; "); got != "plain" {
		t.Errorf("ErrorLine without hint = %q", got)
	}
	if termtext.ErrorLine(nil, "; ") != "" {
		t.Error("nil error must render empty")
	}
}

// Every verdict must be readable without colour: its own symbol.
func TestVerdictSymbolsDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, v := range []string{termtext.VerdictTrusted, termtext.VerdictUntrustedKey, termtext.VerdictValid, termtext.VerdictDefaultKey, termtext.VerdictInvalid, termtext.VerdictMissing,
		termtext.VerdictPending, termtext.VerdictError, termtext.VerdictForeign, termtext.VerdictLocal} {
		sym := termtext.VerdictSymbol(v)
		if prev, ok := seen[sym]; ok {
			t.Errorf("%s and %s share the symbol %q", v, prev, sym)
		}
		seen[sym] = v
	}
}
