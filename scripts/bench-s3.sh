#!/usr/bin/env bash
# S3 push/pull benchmark against a real versitygw on 127.0.0.1: pushes and
# pulls a 256 MiB+ image and prints the wall-time ratios against
# `aws s3 cp --recursive` of the same stored objects (up and down), and the
# peak memory. PF_BENCH_BYTES sets the logical image size in bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PF_CACHE_DIR="${PF_CACHE_DIR:-$HOME/.cache/pf-registry}"
bash scripts/provision.d/50-s3.sh
export PATH="$PF_CACHE_DIR/bin:$PATH"
go test -run '^$' -bench '^BenchmarkPushPull$' -benchtime 1x -timeout 30m ./registry/s3
