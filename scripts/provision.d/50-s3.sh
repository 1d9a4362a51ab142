#!/usr/bin/env bash
# S3 backend tests: versitygw (real S3 server, posix backend, built from the Go
# module proxy, about 3 minutes the first time, cached after) and the Debian
# awscli v2 (interop peer, always called as /usr/bin/aws).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
apt_install awscli
go_tool versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0
