#!/usr/bin/env bash
# One command for the performance suite: pf-registry against the best peer
# of every backend, on real servers on 127.0.0.1, in the same run.
#
#   scripts/bench.sh          push, pull, unchanged re-push and a cross-backend
#                             copy of a 1 GiB image on file, oci, s3, ipfs and
#                             hf, beside cp/rsync, oras/regctl/crane,
#                             aws/rclone, ipfs add/get and @huggingface/hub;
#                             the machine's limits; writes bench/results.json
#   scripts/bench.sh scale    20,000 small files (per-blob cost), a 10 GiB
#                             image (peak RSS), 100,000 tags listed on file
#                             and OCI, the UI's tag list at 100,000 tags
#   scripts/bench.sh report   bench/RESULTS.md and bench/ratios.png from the
#                             JSON files in bench/ (the two runs above end
#                             with it)
#
# Peers and servers are provisioned once and cached in $PF_CACHE_DIR (keyed
# by version). Environment: PF_BENCH_BYTES (image size, default 1 GiB),
# PF_BENCH_REPS (default 3), PF_BENCH_BACKENDS, PF_BENCH_OPS, PF_BENCH_FILES
# (files of the scale image, default 20000), PF_BENCH_BIG_BYTES (default
# 10 GiB), PF_BENCH_BIG_BACKENDS (default all five), PF_BENCH_TAGS
# (default 100000), PF_BENCH_SCALE (which scale runs: files,big,tags,ui),
# PF_BENCH_SCALE_REPS (repetitions of the small-files run, default 1: one
# run of every tool takes minutes there), PF_BENCH_FILES_BACKENDS (default
# file,s3,ipfs,hf), PF_BENCH_TAGS_TIMEOUT (default 3m per listing).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-suite}"
export PF_CACHE_DIR="${PF_CACHE_DIR:-$HOME/.cache/pf-registry}"
source scripts/lib.sh
export PATH="$PF_BIN:$PATH"
out=bench
mkdir -p "$out"

provision() {
  for f in 00-base 40-oci 50-s3 60-ipfs 70-hf; do bash "scripts/provision.d/$f.sh"; done
  apt_install rsync rclone time
  go_tool oras oras.land/oras/cmd/oras@v1.3.6
  go_tool crane github.com/google/go-containerregistry/cmd/crane@v0.22.1
}

build() {
  bin="$work/bin"
  mkdir -p "$bin"
  go build -o "$bin/pf-registry" .
  go build -o "$bin/benchimg" ./internal/benchimg/cmd/benchimg
  go build -o "$bin/pfbench" ./internal/benchsuite/cmd/pfbench
  go build -o "$bin/testhub" ./registry/hf/hubtest/cmd/testhub
}

# image NAME BYTES FILES [FILE_MAX] [peers]: generate an image into
# $work/NAME/store and write the stored bytes every tool moves: its file
# layout (payload) and, when peers run, the same blobs as an OCI layout.
image() {
  local d="$work/$1"
  rm -rf "$d" && mkdir -p "$d"
  id=$("$bin/benchimg" -store "$d/store" -bytes "$2" -files "$3" -file-max "${4:-20480}" -seed 1)
  "$bin/pf-registry" --progress none --store "$d/store" push "$id" "file://$d/payload" >/dev/null
  if [ "${5:-peers}" = peers ]; then
    "$bin/pf-registry" --progress none --store "$d/store" push "$id" "oci-layout:$d/layout#v1" >/dev/null
  fi
  args=(-work "$d/run" -pf "$bin/pf-registry" -store "$d/store" -id "$id" -payload "$d/payload"
    -layout "$d/layout" -hf-peer "$PWD/scripts/hf-contract/peer.mjs" -testhub "$bin/testhub"
    -logical "$2" -fs-files "$3")
  mkdir -p "$d/run"
}

report() { "$bin/pfbench" report -dir "$out"; }

work=$(mktemp -d -t pfbench.XXXXXX)
trap 'rm -rf "$work"' EXIT

case "$mode" in
  suite)
    provision && build
    image main "${PF_BENCH_BYTES:-1073741824}" 200
    "$bin/pfbench" suite "${args[@]}" -reps "${PF_BENCH_REPS:-3}" \
      -backends "${PF_BENCH_BACKENDS:-file,oci,s3,ipfs,hf}" -ops "${PF_BENCH_OPS:-push,pull,repush,copy}" \
      -out "$out/results.json"
    report
    ;;
  scale)
    provision && build
    runs="${PF_BENCH_SCALE:-files,big,tags,ui}"
    if [[ ,$runs, == *,files,* ]]; then
      # Source-sized files (1-8 KiB) and one KV page: the cost is per object.
      image files $((16 << 20)) "${PF_BENCH_FILES:-20000}" 8192
      # Not OCI by default: 20,000 layers need a 5.6 MB manifest, over the
      # 4 MiB registries and clients accept, so every tool fails (and crane
      # spends many minutes first).
      "$bin/pfbench" suite "${args[@]}" -limits=false -reps "${PF_BENCH_SCALE_REPS:-1}" -ops push,pull \
        -backends "${PF_BENCH_FILES_BACKENDS:-file,s3,ipfs,hf}" -out "$out/scale-files.json"
      rm -rf "$work/files"
    fi
    if [[ ,$runs, == *,big,* ]]; then
      image big "${PF_BENCH_BIG_BYTES:-10737418240}" 200 20480 ours
      "$bin/pfbench" suite "${args[@]}" -limits=false -peers=false -reps 1 -ops push,pull \
        -backends "${PF_BENCH_BIG_BACKENDS:-file,oci,s3,ipfs,hf}" -out "$out/scale-big.json"
      rm -rf "$work/big"
    fi
    if [[ ,$runs, == *,tags,* ]]; then
      image tags $((8 << 20)) 20
      "$bin/pfbench" tags "${args[@]}" -tags "${PF_BENCH_TAGS:-100000}" -reps "${PF_BENCH_REPS:-3}" \
        -tags-timeout "${PF_BENCH_TAGS_TIMEOUT:-3m}" -out "$out/scale-tags.json"
      rm -rf "$work/tags"
    fi
    if [[ ,$runs, == *,ui,* ]]; then
      go test -run '^$' -bench 'TagList100k' -benchtime 200x ./ui | tee "$out/ui-100k.txt"
    fi
    report
    ;;
  report)
    bin="$work/bin" && mkdir -p "$bin"
    go build -o "$bin/pfbench" ./internal/benchsuite/cmd/pfbench
    report
    ;;
  *)
    echo "usage: scripts/bench.sh [suite|scale|report]" >&2
    exit 2
    ;;
esac
echo "wrote $out/RESULTS.md and $out/ratios.png" >&2
