#!/usr/bin/env bash
# Kubo (the `ipfs` daemon and CLI) for the ipfs:// tests and benchmark.
# Kubo cannot be `go install`ed (its go.mod has a replace directive), so
# tools/kubo is a separate module that requires it as a tool, with
# go-libp2p raised to v0.50.0; its go.mod/go.sum pin the exact build. The
# binary is cached in $PF_BIN keyed by the go.sum hash, so it is rebuilt
# only when that file changes; the Go build cache makes rebuilds cheaper.
# A fresh build takes about 7 minutes on 2 cores.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
mod="$(cd "$(dirname "$0")/../../tools/kubo" && pwd)"
key="kubo $(sha256sum "$mod/go.sum" | cut -c1-64)"
stamp="$PF_BIN/.ipfs.version"
if [ -x "$PF_BIN/ipfs" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
  exit 0
fi
echo "building ipfs (Kubo from tools/kubo) into $PF_BIN; about 7 minutes the first time" >&2
start=$(date +%s)
(cd "$mod" && GOWORK=off GOFLAGS=-mod=readonly go build -o "$PF_BIN/ipfs.partial" github.com/ipfs/kubo/cmd/ipfs)
mv -f "$PF_BIN/ipfs.partial" "$PF_BIN/ipfs"
echo "$key" > "$stamp"
echo "built $("$PF_BIN/ipfs" version) in $(( $(date +%s) - start ))s" >&2
