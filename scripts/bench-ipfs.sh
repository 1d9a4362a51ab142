#!/usr/bin/env bash
# IPFS push/pull benchmark against real offline Kubo daemons on 127.0.0.1:
# pushes and pulls a 256 MiB+ image and prints the wall-time ratios against
# `ipfs add -r` / `ipfs get` of the same stored files, and the peak memory.
# PF_BENCH_BYTES sets the logical image size in bytes.
exec "$(dirname "$0")/bench.sh" ipfs 60-ipfs "$@"
