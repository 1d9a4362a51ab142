#!/usr/bin/env bash
# Runs one backend's push/pull benchmark against its real server on
# 127.0.0.1 and the peer tool (see each scripts/bench-<backend>.sh), after
# provisioning what it needs. PF_BENCH_BYTES sets the logical image size.
# Usage: scripts/bench.sh BACKEND PROVISION_SCRIPT [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
backend="$1" provision="$2" runs="${3:-1}"
export PF_CACHE_DIR="${PF_CACHE_DIR:-$HOME/.cache/pf-registry}"
export PATH="$PF_CACHE_DIR/bin:$PATH"
bash "scripts/provision.d/$provision.sh"
go test -run '^$' -bench '^BenchmarkPushPull$' -benchtime 1x -count "$runs" -timeout 30m "./registry/$backend"
