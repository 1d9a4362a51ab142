package model_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"pf-registry/model"
)

// Every decoder takes untrusted bytes: it must return an error, never
// panic, and what it returns must marshal to JSON (the --json outputs).
func fuzzDecoder[T any](f *testing.F, decode func([]byte) (T, error)) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("decoded value does not marshal: %v", err)
		}
	})
}

func FuzzParseTrace(f *testing.F)     { fuzzDecoder(f, model.ParseTrace) }
func FuzzParseEnv(f *testing.F)       { fuzzDecoder(f, model.ParseEnv) }
func FuzzSummarizeCache(f *testing.F) { fuzzDecoder(f, model.SummarizeCache) }
func FuzzParseModelDiff(f *testing.F) { fuzzDecoder(f, model.ParseModelDiff) }
func FuzzParseProcs(f *testing.F)     { fuzzDecoder(f, model.ParseProcs) }
func FuzzParseLedger(f *testing.F)    { fuzzDecoder(f, model.ParseLedger) }

// FuzzLedgerSecretsNotKept: the decoded ledger does not depend on the
// values of session_secret_hex and session_hmac, only on whether they are
// set, so no output built from it can reveal them.
func FuzzLedgerSecretsNotKept(f *testing.F) {
	f.Add("5ec12e7a", "0ddba11", []byte(`"verification_mode":"hmac-chain"`), []byte(`"tool_id":"git.push","side_effect_class":"irreversible"`))
	f.Add("x", "y", []byte(`"entries":1`), []byte(`"args_hash":"a"`))
	f.Fuzz(func(t *testing.T, secretA, secretB string, header, entry []byte) {
		if secretA == "" || secretB == "" {
			return // empty and set differ in presence on purpose
		}
		doc := func(s string) []byte {
			q, _ := json.Marshal(s)
			var b bytes.Buffer
			b.WriteString(`{"kind":"effects.ledger.v1","session_secret_hex":`)
			b.Write(q)
			if len(header) > 0 {
				b.WriteByte(',')
				b.Write(header)
			}
			b.WriteString("}\n{")
			b.Write(entry)
			b.WriteString(`,"session_hmac":`)
			b.Write(q)
			b.WriteString("}\n")
			return b.Bytes()
		}
		a, errA := model.ParseLedger(doc(secretA))
		b, errB := model.ParseLedger(doc(secretB))
		if (errA == nil) != (errB == nil) {
			t.Fatalf("secret value changes the verdict: %v / %v", errA, errB)
		}
		if errA != nil {
			return
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("decoded ledger depends on the secret value:\n%s\n%s", ja, jb)
		}
	})
}
