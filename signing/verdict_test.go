package signing_test

import (
	"encoding/json"
	"strings"
	"testing"

	"pf-registry/signing"
)

// Checks as VerifyBundle and HMACCheck would make them.
var (
	hmacDefault = signing.HMACCheck(signing.Verify([]byte("m"), signing.SignBytes([]byte("m"), signing.Default()), signing.Default()))
	hmacOwn     = signing.Check{Kind: signing.KindHMAC, Status: signing.Valid, Key: "PF_FILE_REG_SIGN_KEY"}
	hmacBad     = signing.Check{Kind: signing.KindHMAC, Status: signing.Invalid, Class: signing.ReasonHMAC, Reason: "HMAC tag does not validate"}
	hmacMissing = signing.HMACCheck(signing.Verify([]byte("m"), nil, signing.Default()))
	trustedA    = signing.Check{Kind: signing.KindBundle, Status: signing.Trusted, Key: "alice (aaaaaaaaaaaaaaaa)", Fingerprint: "aaaaaaaaaaaaaaaa"}
	untrustedB  = signing.Check{Kind: signing.KindBundle, Status: signing.UntrustedKey, Key: "bob (bbbbbbbbbbbbbbbb)", Fingerprint: "bbbbbbbbbbbbbbbb"}
	forged      = signing.Check{Kind: signing.KindBundle, Status: signing.Invalid, Class: signing.ReasonSignature, Reason: "signature does not verify with key alice"}
	unknownC    = signing.Check{Kind: signing.KindBundle, Status: signing.Invalid, Class: signing.ReasonUnknownKey, Reason: "signed by a key not in the key store", Hint: "cccccccccccccccc"}
)

func TestStatusOrder(t *testing.T) {
	order := []signing.Status{signing.Trusted, signing.UntrustedKey, signing.Valid, signing.DefaultKey, signing.Invalid, signing.Missing}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() <= order[i].Rank() {
			t.Errorf("%s does not rank above %s", order[i-1], order[i])
		}
	}
	if hmacDefault.Status != signing.DefaultKey || hmacMissing.Status != signing.Missing || hmacMissing.Where != "manifest.json.sig" {
		t.Fatalf("HMACCheck: %+v %+v", hmacDefault, hmacMissing)
	}
}

// TestStrongest: the strongest check decides; failing checks never hide a
// verifying one, and stay listed.
func TestStrongest(t *testing.T) {
	cases := []struct {
		name       string
		checks     []signing.Check
		want       signing.Status
		wantKey    string
		wantFailed int
	}{
		{"nothing", nil, signing.Missing, "", 0},
		{"hmac missing only", []signing.Check{hmacMissing}, signing.Missing, hmacMissing.Key, 0},
		{"default key", []signing.Check{hmacDefault}, signing.DefaultKey, "default key", 0},
		{"own hmac beats default", []signing.Check{hmacDefault, hmacOwn}, signing.Valid, "PF_FILE_REG_SIGN_KEY", 0},
		{"untrusted key beats own hmac", []signing.Check{hmacOwn, untrustedB}, signing.UntrustedKey, untrustedB.Key, 0},
		{"trusted beats all", []signing.Check{hmacDefault, untrustedB, trustedA}, signing.Trusted, trustedA.Key, 0},
		{"forged bundle does not hide trusted", []signing.Check{forged, trustedA, hmacDefault}, signing.Trusted, trustedA.Key, 1},
		{"forged bundle does not hide default key", []signing.Check{hmacDefault, forged}, signing.DefaultKey, "default key", 1},
		{"bad hmac, trusted bundle", []signing.Check{hmacBad, trustedA}, signing.Trusted, trustedA.Key, 1},
		{"only failures", []signing.Check{hmacBad, forged, unknownC}, signing.Invalid, "", 3},
		{"failure beats missing", []signing.Check{hmacMissing, unknownC}, signing.Invalid, "", 1},
		{"first of equals", []signing.Check{trustedA, {Kind: signing.KindBundle, Status: signing.Trusted, Key: "carol"}}, signing.Trusted, trustedA.Key, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := signing.Result{Checks: tc.checks}
			got := r.Strongest()
			if got.Status != tc.want || r.Status() != tc.want || got.Key != tc.wantKey {
				t.Fatalf("strongest %s by %q, want %s by %q", got.Status, got.Key, tc.want, tc.wantKey)
			}
			if n := len(r.Failed()); n != tc.wantFailed {
				t.Fatalf("%d failed checks listed, want %d", n, tc.wantFailed)
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(signing.Result{Checks: []signing.Check{forged, trustedA}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Status     string
		Key        string
		Signatures []struct{ Kind, Status, Class, Fingerprint string }
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "trusted" || got.Key != trustedA.Key || len(got.Signatures) != 2 ||
		got.Signatures[0].Status != "invalid" || got.Signatures[0].Class != "bad_signature" ||
		got.Signatures[1].Fingerprint != "aaaaaaaaaaaaaaaa" || got.Signatures[1].Kind != "sigstore-bundle" {
		t.Fatalf("JSON %s", b)
	}
	empty, _ := json.Marshal(signing.Result{})
	if string(empty) != `{"status":"missing","reason":"no signature","signatures":[]}` {
		t.Fatalf("empty result JSON %s", empty)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]signing.Level{"": signing.RequireAny, "any": signing.RequireAny, "Signed": signing.RequireSigned, " trusted ": signing.RequireTrusted} {
		if got, err := signing.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := signing.ParseLevel("strict"); err == nil || !strings.Contains(err.Error(), "trusted, signed or any") {
		t.Errorf("ParseLevel(strict): %v", err)
	}
}

// TestLevelCheck: which images each level accepts, and that a refusal
// names the key that would do and how to trust it.
func TestLevelCheck(t *testing.T) {
	cases := []struct {
		name   string
		level  signing.Level
		checks []signing.Check
		// want is "" when accepted, else words the refusal must contain.
		want []string
	}{
		{"any: default key", signing.RequireAny, []signing.Check{hmacDefault}, nil},
		{"any: forged extra bundle", signing.RequireAny, []signing.Check{hmacDefault, forged}, nil},
		{"any: invalid", signing.RequireAny, []signing.Check{hmacBad}, []string{"does not verify", "HMAC tag"}},
		{"any: missing", signing.RequireAny, nil, []string{"has no signature", "never pulled"}},
		{"signed: default key", signing.RequireSigned, []signing.Check{hmacDefault}, []string{"public default key", "--require signed", "pf-registry sign"}},
		{"signed: own hmac", signing.RequireSigned, []signing.Check{hmacOwn}, nil},
		{"signed: untrusted key", signing.RequireSigned, []signing.Check{hmacDefault, untrustedB}, nil},
		{"trusted: trusted", signing.RequireTrusted, []signing.Check{hmacDefault, forged, trustedA}, nil},
		{"trusted: untrusted key", signing.RequireTrusted, []signing.Check{hmacDefault, untrustedB}, []string{"bob (bbbbbbbbbbbbbbbb)", "not a trusted key", "pf-registry keys trust FILE.pub"}},
		{"trusted: unknown key only", signing.RequireTrusted, []signing.Check{hmacDefault, unknownC}, []string{"cccccccccccccccc", "pf-registry keys trust FILE.pub"}},
		{"trusted: default key", signing.RequireTrusted, []signing.Check{hmacDefault}, []string{"no signature by a key", "default-key", "pf-registry sign", "pf-registry keys trust FILE.pub"}},
		{"trusted: own hmac", signing.RequireTrusted, []signing.Check{hmacOwn}, []string{"only valid", "--require trusted"}},
		{"trusted: unknown key, invalid overall", signing.RequireTrusted, []signing.Check{unknownC}, []string{"does not verify", "keys trust FILE.pub"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := "file://reg/img"
			got := tc.level.Check(ref, signing.Result{Checks: tc.checks})
			if tc.want == nil {
				if got != nil {
					t.Fatalf("refused: %s", got.Reason)
				}
				return
			}
			if got == nil {
				t.Fatal("accepted")
			}
			text := got.Reason + " | " + got.Hint
			if !strings.Contains(got.Reason, ref) || strings.Contains(text, "\n") || got.Error() != got.Reason {
				t.Fatalf("refusal %q does not name %s on one line", text, ref)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("refusal %q lacks %q", text, w)
				}
			}
		})
	}
}
