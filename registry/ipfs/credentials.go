package ipfs

// Credentials implements registry.CredentialReporter: the node's RPC API
// takes none; say where its address came from.
func (b *Backend) Credentials() string {
	if b.c != nil && b.c.source != "" {
		return "node (" + b.c.source + ")"
	}
	return "local node"
}
