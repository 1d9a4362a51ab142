package signing

import (
	"encoding/json"
	"fmt"
	"strings"

	"pf-registry/internal/termtext"
)

// Statuses of asymmetric signatures; with those in signing.go the order,
// strongest first, is: trusted, untrusted-key, valid, default-key, invalid,
// missing.
const (
	// Trusted: a valid signature by a key in the trust store.
	Trusted Status = "trusted"
	// UntrustedKey: a valid signature by a known key that is not trusted. It
	// proves the bytes are unchanged since that key signed, not who signed.
	UntrustedKey Status = "untrusted-key"
)

var statusRank = map[Status]int{
	Trusted: 5, UntrustedKey: 4, Valid: 3, DefaultKey: 2, Invalid: 1, Missing: 0,
}

// Rank orders statuses: higher is stronger. Unknown statuses rank with
// missing.
func (s Status) Rank() int { return statusRank[s] }

// Verifies reports whether the status stands for a signature that verifies.
func (s Status) Verifies() bool { return s.Rank() >= DefaultKey.Rank() }

// Kind tells the HMAC signature from Sigstore bundles.
type Kind string

// Signature kinds.
const (
	KindHMAC   Kind = "hmac"
	KindBundle Kind = "sigstore-bundle"
)

// Check is the verdict on one signature of an image.
type Check struct {
	Kind Kind `json:"kind"`
	// Where names the signature: a file name, or an OCI referrer digest.
	Where  string `json:"where,omitempty"`
	Status Status `json:"status"`
	// Class is one of the Reason* constants when Status is Invalid.
	Class  string `json:"class,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Key is the human label of the key: the store name and fingerprint of
	// a bundle's signer, or where the HMAC key came from.
	Key         string       `json:"key,omitempty"`
	KeyName     string       `json:"key_name,omitempty"`
	Fingerprint string       `json:"fingerprint,omitempty"`
	Algorithm   KeyAlgorithm `json:"algorithm,omitempty"`
	// Hint is the public-key hint the bundle carries (sanitised), shown when
	// the key is unknown.
	Hint string `json:"hint,omitempty"`
}

// HMACSignatureFile is where the HMAC signature lives beside the manifest.
const HMACSignatureFile = "manifest.json.sig"

// HMACCheck turns the verdict on manifest.json.sig into a Check.
func HMACCheck(v Verdict) Check {
	return Check{Kind: KindHMAC, Where: HMACSignatureFile, Status: v.Status, Class: v.Class, Reason: v.Reason, Key: v.KeySource}
}

// Result is the verdict on an image: every signature it carries, judged.
//
// The image's status is that of its strongest check. A signature that
// fails cannot weaken one that verifies: whoever can add a file or a
// referrer beside an image can add a forged bundle, and letting it turn a
// trusted image into an invalid one would hand anyone with write access a
// veto, while it proves nothing about the signed bytes (a changed manifest
// fails every signature at once). The failing checks stay in Checks and are
// returned by Failed, so the detail view and the JSON still show them.
type Result struct {
	Checks []Check
}

// Strongest returns the check that decides the image's status: the highest
// ranked, the first of equals. An image without checks is missing.
func (r Result) Strongest() Check {
	best := Check{Status: Missing, Reason: "no signature"}
	for i, c := range r.Checks {
		if i == 0 || c.Status.Rank() > best.Status.Rank() {
			best = c
		}
	}
	return best
}

// Status is the image's status.
func (r Result) Status() Status { return r.Strongest().Status }

// Failed lists the signatures that do not verify.
func (r Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Invalid {
			out = append(out, c)
		}
	}
	return out
}

// OK reports whether the image's status stands for a signature that
// verifies.
func (r Result) OK() bool { return r.Status().Verifies() }

// MarshalJSON gives the summary (status, and the deciding check's key,
// class and reason, as the HMAC verdict had them) and every check.
func (r Result) MarshalJSON() ([]byte, error) {
	s := r.Strongest()
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	return json.Marshal(struct {
		Status     Status  `json:"status"`
		Key        string  `json:"key,omitempty"`
		Class      string  `json:"class,omitempty"`
		Reason     string  `json:"reason,omitempty"`
		Signatures []Check `json:"signatures"`
	}{s.Status, s.Key, s.Class, s.Reason, checks})
}

// Level is a policy: the weakest status an image may have to be pulled,
// copied or opened (--require, or require: per root in the config).
type Level string

// Policy levels.
const (
	// RequireAny accepts every signature that verifies, even one under the
	// public default key; invalid and missing are always refused.
	RequireAny Level = "any"
	// RequireSigned also refuses the public default key: the signature must
	// verify under a key that is not public (trusted, untrusted-key, or your
	// own HMAC key). It proves integrity, not who signed.
	RequireSigned Level = "signed"
	// RequireTrusted accepts only a signature by a trusted key.
	RequireTrusted Level = "trusted"
)

// ParseLevel reads a --require value; empty means any.
func ParseLevel(s string) (Level, error) {
	switch Level(strings.ToLower(strings.TrimSpace(s))) {
	case "", RequireAny:
		return RequireAny, nil
	case RequireSigned:
		return RequireSigned, nil
	case RequireTrusted:
		return RequireTrusted, nil
	}
	return "", fmt.Errorf("unknown signature requirement %q: use trusted, signed or any", termtext.Cut(s, 40))
}

var levelRank = map[Level]int{RequireAny: 0, RequireSigned: 1, RequireTrusted: 2}

// Stronger returns the stricter of two levels (empty counts as any): a
// policy that applies can be tightened by another, never loosened.
func (l Level) Stronger(o Level) Level {
	if levelRank[o] > levelRank[l] {
		return o
	}
	if l == "" {
		return RequireAny
	}
	return l
}

// Accepts reports whether an image of status s meets the level.
func (l Level) Accepts(s Status) bool {
	switch l {
	case RequireTrusted:
		return s == Trusted
	case RequireSigned:
		return s.Rank() >= Valid.Rank()
	}
	return s.Verifies()
}

// Refusal says why an image does not meet a level and what would make it
// pass. It is an integrity failure (exit 4).
type Refusal struct {
	Level  Level
	Status Status
	// Reason is the one-line error; Hint what to do about it.
	Reason string
	Hint   string
}

func (r *Refusal) Error() string { return r.Reason }

// Check returns nil when the image named ref meets the level, else the
// refusal naming the key that would be needed and how to trust it.
func (l Level) Check(ref string, r Result) *Refusal {
	best := r.Strongest()
	if l.Accepts(best.Status) {
		return nil
	}
	out := &Refusal{Level: l, Status: best.Status}
	switch {
	case best.Status == Missing:
		out.Reason = ref + " has no signature"
		out.Hint = "ask the publisher to push it again signed; unsigned images are never pulled"
	case best.Status == Invalid:
		out.Reason = "signature of " + ref + " does not verify: " + best.Reason
		out.Hint = "the image or its signature changed after signing; ask the publisher to push it again"
		switch {
		case best.Class == ReasonUnknownKey:
			out.Hint = "get the signer's public key and run `pf-registry keys trust FILE.pub` (or keys import to check it without trusting it)"
		case best.Kind == KindHMAC && best.Class == ReasonHMAC:
			out.Hint = "check the signing key (PF_<BACKEND>_REG_SIGN_KEY), or ask the publisher to push the image again"
		}
	case l == RequireSigned:
		out.Reason = ref + " is signed only with the public default key, which anyone can use (--require signed, or --strict)"
		out.Hint = "ask the publisher to sign it with a key of their own: `pf-registry sign REF --key NAME`"
	default:
		out.Reason, out.Hint = trustRefusal(ref, r)
	}
	return out
}

// trustRefusal explains a --require trusted refusal: which keys did sign
// (valid but untrusted, or unknown) and how to trust one of them.
func trustRefusal(ref string, r Result) (reason, hint string) {
	var untrusted, unknown []string
	for _, c := range r.Checks {
		switch {
		case c.Status == UntrustedKey:
			untrusted = appendNew(untrusted, c.Key)
		case c.Class == ReasonUnknownKey && c.Hint != "":
			unknown = appendNew(unknown, c.Hint)
		}
	}
	switch {
	case len(untrusted) > 0:
		reason = fmt.Sprintf("%s is signed by %s, not a trusted key (--require trusted)", ref, strings.Join(untrusted, ", "))
		hint = "if you trust the signer, get that public key and run `pf-registry keys trust FILE.pub`"
	case len(unknown) > 0:
		reason = fmt.Sprintf("%s is signed only by keys not in the key store (hint %s) (--require trusted)", ref, strings.Join(unknown, ", "))
		hint = "get the signer's public key and run `pf-registry keys trust FILE.pub`"
	default:
		reason = fmt.Sprintf("%s has no signature by a key (only %s, --require trusted)", ref, r.Status())
		hint = "ask the publisher to sign it (`pf-registry sign REF --key NAME`), then trust their public key with `pf-registry keys trust FILE.pub`"
	}
	return reason, hint
}

func appendNew(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}
