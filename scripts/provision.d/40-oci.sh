#!/usr/bin/env bash
# OCI backend: the Debian registry server (distribution 2.8) the tests start
# on 127.0.0.1, and the peer clients of the interop tests (skopeo, regctl).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
apt_install docker-registry skopeo
go_tool regctl github.com/regclient/regclient/cmd/regctl@v0.11.7
