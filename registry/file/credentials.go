package file

// Credentials implements registry.CredentialReporter: local files need none.
func (b *Backend) Credentials() string { return "local files" }
