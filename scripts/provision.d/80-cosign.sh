#!/usr/bin/env bash
# The cosign CLI for the signature interop tests (keys and Sigstore bundles
# written by each side verified by the other). Built once from the Go module
# proxy, about 4 minutes.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
go_tool cosign github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3
