#!/usr/bin/env bash
# Benchmarks the OCI backend: push and pull of a 256 MiB image to a Debian
# docker-registry on 127.0.0.1, against regctl moving the same stored layers
# in the same run. Prints the wall-time ratio and peak memory.
# Usage: scripts/bench-oci.sh [runs]   (PF_BENCH_CONCURRENCY=n to tune)
exec "$(dirname "$0")/bench.sh" oci 40-oci "${1:-3}"
