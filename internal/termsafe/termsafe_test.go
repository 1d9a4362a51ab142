package termsafe

import "testing"

func TestTextAndLine(t *testing.T) {
	cases := []struct{ in, text, line string }{
		{"plain ascii", "plain ascii", "plain ascii"},
		{"a\nb\tc", "a\nb\tc", "a b c"},
		{"\x1b[31mred\x1b]0;title\x07", "␛[31mred␛]0;title␇", "␛[31mred␛]0;title␇"},
		{"over\rwrite", "over␍write", "over␍write"},
		{"del\x7f", "del␡", "del␡"},
		{"c1 \u009b31m", "c1 \ufffd31m", "c1 \ufffd31m"},
		{"bidi \u202eevil\u2066", "bidi \ufffdevil\ufffd", "bidi \ufffdevil\ufffd"},
		{"bad \xff utf8", "bad \ufffd utf8", "bad \ufffd utf8"},
		{"unicode é 漢字 🙂", "unicode é 漢字 🙂", "unicode é 漢字 🙂"},
	}
	for _, c := range cases {
		if got := Text(c.in); got != c.text {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.text)
		}
		if got := Line(c.in); got != c.line {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.line)
		}
	}
}
