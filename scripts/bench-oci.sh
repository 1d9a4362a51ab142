#!/usr/bin/env bash
# Benchmarks the OCI backend: push and pull of a 256 MiB image to a Debian
# docker-registry on 127.0.0.1, against regctl moving the same stored layers
# in the same run. Prints the wall-time ratio and peak memory.
# Usage: scripts/bench-oci.sh [runs]   (PF_BENCH_CONCURRENCY=n to tune)
set -euo pipefail
cd "$(dirname "$0")/.."
export PF_CACHE_DIR="${PF_CACHE_DIR:-$HOME/.cache/pf-registry}"
export PATH="$PF_CACHE_DIR/bin:$PATH"
bash scripts/provision.d/40-oci.sh
go test -run '^$' -bench BenchmarkPushPull -benchtime 1x -count "${1:-3}" ./registry/oci
