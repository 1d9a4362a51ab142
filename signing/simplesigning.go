package signing

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// KindSimpleSigning is cosign's older image signature: a simple-signing
// payload in a layer of the sha256-<hex>.sig tag, its signature in the
// layer's dev.cosignproject.cosign/signature annotation.
const KindSimpleSigning Kind = "cosign-simplesigning"

// Media type and annotation of cosign's older image signatures.
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	SimpleSigningSigAnnot  = "dev.cosignproject.cosign/signature"
)

// maxSimpleSigningPayload caps the payload read from a .sig layer; cosign's
// is about 250 bytes plus any annotations.
const maxSimpleSigningPayload = 64 << 10

// VerifySimpleSigning checks an older cosign image signature: the payload
// must name imageDigest ("sha256:<hex>", the OCI manifest digest) as its
// docker-manifest-digest, as cosign verify requires, and the base64
// signature must verify over the exact payload bytes with a key of ring.
func VerifySimpleSigning(payload []byte, signatureB64, imageDigest string, ring *Keyring) Check {
	c := Check{Kind: KindSimpleSigning}
	if len(payload) > maxSimpleSigningPayload {
		return c.fail(failure{ReasonParse, fmt.Sprintf("simple-signing payload is larger than %d bytes", maxSimpleSigningPayload)})
	}
	var p struct {
		Critical struct {
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return c.fail(failure{ReasonParse, "simple-signing payload is not JSON"})
	}
	if p.Critical.Image.Digest != imageDigest {
		return c.fail(failure{ReasonManifestDigest, "signature names another image digest (a signature of another image, or this one changed after signing)"})
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signatureB64))
	if err != nil || len(sig) == 0 {
		return c.fail(failure{ReasonParse, "signature annotation is not base64"})
	}
	return c.judge(ring, "", signed{msg: payload, sigs: [][]byte{sig}})
}
