package signing

import "crypto"

// SignerOf exposes the secret half to the tests that check it never leaks.
func SignerOf(k *PrivateKey) crypto.Signer { return k.signer }
