package s3

// Credentials implements registry.CredentialReporter: access keys from the
// environment or a shared-config profile (anonymous when its files hold
// none). Nothing is resolved or read here, so no secret can leak.
func (b *Backend) Credentials() string {
	if b.s3.CredSource == "" {
		return "anonymous"
	}
	return b.s3.CredSource
}
