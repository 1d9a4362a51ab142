package signing_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"pf-registry/internal/vectors"
	"pf-registry/signing"
)

func keyOf(k *string) signing.Key {
	if k == nil {
		return signing.Default()
	}
	return signing.NewKey([]byte(*k), "test key")
}

func TestSignatureVectors(t *testing.T) {
	var cases []struct {
		Name     string            `json:"name"`
		Manifest string            `json:"manifest_bytes_utf8"`
		Key      *string           `json:"key"`
		Object   signing.Signature `json:"signature_object"`
		File     string            `json:"signature_file_utf8"`
	}
	vectors.Load(t, "signatures", &cases)
	if len(cases) < 3 {
		t.Fatalf("only %d signature vectors", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got := signing.Sign([]byte(c.Manifest), keyOf(c.Key))
			if got != c.Object {
				t.Fatalf("Sign = %+v, want %+v", got, c.Object)
			}
			if string(got.Encode()) != c.File {
				t.Fatalf("Encode = %s, want %s", got.Encode(), c.File)
			}
			v := signing.Verify([]byte(c.Manifest), []byte(c.File), keyOf(c.Key))
			want := signing.Valid
			if c.Key == nil {
				want = signing.DefaultKey
			}
			if v.Status != want {
				t.Fatalf("Verify = %+v, want %s", v, want)
			}
		})
	}
}

func TestSignatureVerificationVectors(t *testing.T) {
	var v struct {
		Manifest string `json:"manifest_bytes_utf8"`
		Cases    []struct {
			Name   string  `json:"name"`
			Key    *string `json:"key"`
			Sig    string  `json:"sig"`
			Suffix string  `json:"manifest_suffix_appended"`
			Result string  `json:"result"`
		} `json:"cases"`
	}
	vectors.Load(t, "signature_verification", &v)
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got := signing.Verify([]byte(v.Manifest+c.Suffix), []byte(c.Sig), keyOf(c.Key))
			if c.Result == "ok" {
				if !got.OK() {
					t.Fatalf("verdict %+v, want ok", got)
				}
				return
			}
			if got.Status != signing.Invalid || got.Class != c.Result {
				t.Fatalf("verdict %+v, want invalid/%s", got, c.Result)
			}
			if got.Reason == "" {
				t.Fatal("invalid verdict without a reason")
			}
		})
	}
}

func TestVerdicts(t *testing.T) {
	m := []byte(`{"hello":"world"}`)
	custom := signing.NewKey([]byte("s3cret-value"), "PF_FILE_REG_SIGN_KEY")
	defSig := signing.SignBytes(m, signing.Default())
	tests := []struct {
		name   string
		sig    []byte
		key    signing.Key
		status signing.Status
		reason string
	}{
		{"default key", defSig, signing.Default(), signing.DefaultKey, "public default key"},
		{"custom key", signing.SignBytes(m, custom), custom, signing.Valid, ""},
		{"missing", nil, signing.Default(), signing.Missing, "no signature"},
		{"default-signed checked with custom key", defSig, custom, signing.Invalid, "signed with the public default key"},
		{"custom-signed checked with default key", signing.SignBytes(m, custom), signing.Default(), signing.Invalid, "HMAC"},
		{"empty object", []byte(`{}`), signing.Default(), signing.Invalid, "JSON object"},
		{"wrong types", []byte(`{"algorithm":1,"manifest_digest":"x","signature":"y"}`), signing.Default(), signing.Invalid, "JSON object"},
		{"short tag", []byte(strings.Replace(string(defSig), `","signature":"`, `","signature":"0`, 1)), signing.Default(), signing.Invalid, "HMAC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := signing.Verify(m, tc.sig, tc.key)
			if v.Status != tc.status || !strings.Contains(v.Reason, tc.reason) {
				t.Fatalf("verdict %+v, want %s with reason containing %q", v, tc.status, tc.reason)
			}
			if strings.Contains(v.Reason, "s3cret-value") {
				t.Fatal("reason leaks the key")
			}
		})
	}
}

func TestKeyFromEnvironment(t *testing.T) {
	m := []byte("x")
	t.Run("unset is the default key", func(t *testing.T) {
		t.Setenv("PF_FILE_REG_SIGN_KEY", "")
		t.Setenv("PF_S3_REG_SIGN_KEY", "key-a")
		k := signing.ForBackend("hf")
		if !k.Default || k.Env != "PF_HF_REG_SIGN_KEY" {
			t.Fatalf("ForBackend(hf) = %+v", k)
		}
	})
	t.Run("set but empty is an empty key", func(t *testing.T) {
		t.Setenv("PF_FILE_REG_SIGN_KEY", "")
		k := signing.ForBackend("file")
		if k.Default {
			t.Fatal("empty variable gave the default key")
		}
		if signing.Verify(m, signing.SignBytes(m, signing.Default()), k).OK() {
			t.Fatal("empty key verified a default-key signature")
		}
	})
	t.Run("value is the key's UTF-8 bytes", func(t *testing.T) {
		t.Setenv("PF_S3_REG_SIGN_KEY", "key-a")
		sig := signing.Sign(m, signing.ForBackend("s3"))
		if sig.Signature != "c3dcec69820df66e36e744538c8250ed9079610e3dc0df2c721cf251b382bf00" {
			t.Fatalf("sign x with key-a = %s", sig.Signature)
		}
	})
	t.Run("invalid UTF-8 counts as unset", func(t *testing.T) {
		t.Setenv("PF_OCI_REG_SIGN_KEY", "\xff\xfe")
		if !signing.ForBackend("oci").Default {
			t.Fatal("invalid UTF-8 key not treated as unset")
		}
	})
}

func TestKeyNeverRendered(t *testing.T) {
	k := signing.NewKey([]byte("top-secret-key"), "PF_HF_REG_SIGN_KEY")
	b, _ := json.Marshal(struct{ K signing.Key }{k})
	for _, s := range []string{k.String(), string(b), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(s, "top-secret-key") {
			t.Fatalf("key bytes rendered: %s", s)
		}
	}
}
