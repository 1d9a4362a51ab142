package hf

// Credentials implements registry.CredentialReporter: whether a token was
// found (HF_TOKEN or the token file), never the token.
func (b *Backend) Credentials() string {
	if b.c != nil && b.c.token != "" {
		return "token"
	}
	return "anonymous"
}
