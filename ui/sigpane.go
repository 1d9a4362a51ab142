package ui

import (
	"strings"

	"pf-registry/internal/termtext"
	"pf-registry/signing"
)

// signatureLines are the Signatures pane: every signature of the image,
// judged on its own (kind, key, status, reason), the one that decides the
// verdict first. Where, reasons and hints come from the registry: they
// are made safe.
func (s *detailScreen) signatureLines(w int) []string {
	st := s.sh.st
	r := s.data.in.Signature
	best := r.Strongest()
	if best.Status == termtext.VerdictLocal {
		return strings.Split(st.Muted.Render(wrap(best.Reason, w)), "\n")
	}
	var out []string
	for _, l := range strings.Split(wrap(count(len(r.Checks), "signature")+"; the strongest decides the verdict ("+
		string(best.Status)+"): one that fails cannot weaken one that verifies.", w), "\n") {
		out = append(out, st.Muted.Render(l))
	}
	out = append(out, "")
	if len(r.Checks) == 0 {
		return append(out, st.Unsigned.Render("no signature at all"))
	}
	// The deciding one first, the others in the order they were read.
	checks := []signing.Check{best}
	decided := false
	for _, c := range r.Checks {
		if !decided && c == best {
			decided = true
			continue
		}
		checks = append(checks, c)
	}
	for _, c := range checks {
		out = append(out, s.checkLines(c, w)...)
		out = append(out, "")
	}
	return out
}

// checkLines describe one signature.
func (s *detailScreen) checkLines(c signing.Check, w int) []string {
	st := s.sh.st
	head := st.Verdict(string(c.Status)) + "  " + st.Value.Render(kindName(c.Kind))
	if c.Algorithm != "" {
		head += st.Muted.Render(" · " + safe(string(c.Algorithm)))
	}
	out := []string{head}
	field := func(label, text string, render func(...string) string) {
		for i, l := range strings.Split(wrap(text, max(w-labelWidth, 10)), "\n") {
			if i > 0 {
				label = ""
			}
			out = append(out, s.labelled(label, render(l)))
		}
	}
	switch {
	case c.KeyName != "":
		field("Key", safe(c.KeyName)+" ("+safe(c.Fingerprint)+")", st.Value.Render)
	case c.Key != "":
		field("Key", safe(c.Key), st.Value.Render)
	case c.Fingerprint != "":
		field("Key", safe(c.Fingerprint), st.Value.Render)
	}
	if c.Hint != "" && c.KeyName == "" {
		field("Key hint", safe(c.Hint)+" (the key the signature names; not in your key store)", st.Muted.Render)
	}
	if c.Where != "" {
		field("Where", safe(c.Where), st.Muted.Render)
	}
	if c.Reason != "" {
		field("Reason", safe(c.Reason), st.VerdictStyle(string(c.Status)).UnsetBold().Render)
	}
	if c.Class != "" {
		field("Class", safe(c.Class), st.Muted.Render)
	}
	return out
}

// kindName names a kind of signature for people.
func kindName(k signing.Kind) string {
	switch k {
	case signing.KindHMAC:
		return "HMAC signature"
	case signing.KindBundle:
		return "Sigstore bundle"
	case "":
		return "signature"
	}
	return safe(string(k))
}

// signatureSummary is the Signature information line: the verdict and
// who signed, naming the trusted key when one decides it.
func (s *detailScreen) signatureSummary() string {
	st := s.sh.st
	r := s.data.in.Signature
	v := r.Strongest()
	sig := st.Verdict(string(v.Status))
	switch {
	case v.Status == signing.Trusted && v.KeyName != "":
		sig += st.Trusted.UnsetBold().Render("  by trusted key " + safe(v.KeyName) + " (" + safe(v.Fingerprint) + ")")
	case v.Key != "":
		sig += st.Muted.Render("  key: " + safe(v.Key))
	}
	if n := len(r.Checks); n > 1 {
		sig += st.Muted.Render("  · " + count(n, "signature") + " (Signatures pane)")
	}
	return sig
}
