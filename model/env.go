package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// EnvKind is the kind of the world.env document.
const EnvKind = "env.v1"

// RedactedValue is what writers put instead of a secret value.
const RedactedValue = "<redacted>"

// Env is the decoded world.env blob: working directory and variables,
// sorted by name. Values of secret-looking variables are replaced by
// RedactedValue while decoding, even when the writer forgot to.
type Env struct {
	Kind string   `json:"kind"`
	Cwd  string   `json:"cwd"`
	Vars []EnvVar `json:"vars"`
}

// EnvVar is one variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Masked is set when this tool hid a value the writer left in clear.
	Masked bool `json:"masked,omitempty"`
}

// ParseEnv decodes an env.v1 document (keys in any order).
func ParseEnv(b []byte) (*Env, error) {
	if err := checkSize("env", b); err != nil {
		return nil, err
	}
	var w struct {
		Kind json.RawMessage            `json:"kind"`
		Cwd  json.RawMessage            `json:"cwd"`
		Vars map[string]json.RawMessage `json:"vars"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("env: not a JSON object: %v", err)
	}
	e := &Env{Kind: jsonString(w.Kind), Cwd: jsonString(w.Cwd), Vars: []EnvVar{}}
	if e.Kind != EnvKind {
		return nil, fmt.Errorf("env: kind is %q, not %s", cut(e.Kind, 60), EnvKind)
	}
	for name, raw := range w.Vars {
		v := EnvVar{Name: name, Value: jsonString(raw)}
		if v.Value != RedactedValue && (LooksSecret(name) || hasURLPassword(v.Value)) {
			v.Value, v.Masked = RedactedValue, true
		}
		e.Vars = append(e.Vars, v)
	}
	slices.SortFunc(e.Vars, func(a, b EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return e, nil
}

// Value returns a variable's (possibly redacted) value.
func (e *Env) Value(name string) (string, bool) {
	i, ok := slices.BinarySearchFunc(e.Vars, name, func(v EnvVar, n string) int { return strings.Compare(v.Name, n) })
	if !ok {
		return "", false
	}
	return e.Vars[i].Value, true
}

// secretWords are name components that mark a secret.
var secretWords = map[string]bool{
	"KEY": true, "KEYS": true, "APIKEY": true, "TOKEN": true, "TOKENS": true, "SECRET": true, "SECRETS": true,
	"PASSWORD": true, "PASSWD": true, "PASS": true, "PASSPHRASE": true, "PWD_HASH": true, "CREDENTIAL": true,
	"CREDENTIALS": true, "CREDS": true, "AUTH": true, "AUTHORIZATION": true, "BEARER": true, "COOKIE": true,
	"SESSION": true, "PRIVATE": true, "SIGNATURE": true, "HMAC": true, "SALT": true, "CERT": true, "DSN": true,
}

// secretParts are substrings that mark a secret wherever they appear.
var secretParts = []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "APIKEY", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY"}

// secretPrefixes are families of variables that hold credentials.
var secretPrefixes = []string{"AWS_", "AZURE_", "GCP_", "GOOGLE_APPLICATION_", "HF_", "HUGGING_FACE_", "OPENAI_", "ANTHROPIC_", "PF_"}

// notSecret are well-known variables that match the rules but hold no
// secret.
var notSecret = map[string]bool{
	"PWD": true, "OLDPWD": true, "AWS_REGION": true, "AWS_DEFAULT_REGION": true, "AWS_PROFILE": true,
	"AWS_ENDPOINT_URL": true, "HF_HOME": true, "HF_ENDPOINT": true, "PF_STORE": true, "SSH_AUTH_SOCK": true,
}

// LooksSecret reports whether an environment variable name looks like it
// holds a secret: a component such as KEY, TOKEN, SECRET, PASSWORD,
// CREDENTIAL, AUTH or SESSION, or a credential family prefix (AWS_, HF_,
// OPENAI_ …). Case does not matter.
func LooksSecret(name string) bool {
	n := strings.ToUpper(name)
	if notSecret[n] {
		return false
	}
	for _, p := range secretParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	for _, p := range secretPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	for _, w := range strings.FieldsFunc(n, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// hasURLPassword reports a URL with a password in it (scheme://user:pw@host).
func hasURLPassword(v string) bool {
	i := strings.Index(v, "://")
	if i < 0 {
		return false
	}
	rest := v[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	at := strings.LastIndexByte(rest, '@')
	return at >= 0 && strings.Contains(rest[:at], ":")
}
