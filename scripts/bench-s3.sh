#!/usr/bin/env bash
# S3 push/pull benchmark against a real versitygw on 127.0.0.1: pushes and
# pulls a 256 MiB+ image and prints the wall-time ratios against
# `aws s3 cp --recursive` of the same stored objects (up and down), and the
# peak memory. PF_BENCH_BYTES sets the logical image size in bytes.
exec "$(dirname "$0")/bench.sh" s3 50-s3 "$@"
