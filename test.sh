#!/usr/bin/env bash
# Runs the whole test suite. Provisions first what the tests need (Debian
# packages, servers built from the Go module proxy), idempotently and cached
# under $PF_CACHE_DIR, so a second run only runs the tests.
# Extra arguments go to `go test`, e.g. ./test.sh -run TestPull ./registry/...
set -euo pipefail
cd "$(dirname "$0")"
export PF_CACHE_DIR="${PF_CACHE_DIR:-$HOME/.cache/pf-registry}"
mkdir -p "$PF_CACHE_DIR/bin"
export PATH="$PF_CACHE_DIR/bin:$PATH"

for f in scripts/provision.d/*.sh; do
  [ -e "$f" ] || continue
  echo "== provision: $(basename "$f" .sh)" >&2
  bash "$f"
done

pkgs=()
args=()
for a in "$@"; do
  case "$a" in ./*|pf-registry/*) pkgs+=("$a") ;; *) args+=("$a") ;; esac
done
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
echo "== go test -race ${args[*]:-} ${pkgs[*]}" >&2
go test -race -count=1 -timeout 25m "${args[@]}" "${pkgs[@]}"
