#!/usr/bin/env bash
# Regenerates screenshots/*.png from the real program on the out-of-the-box
# demo (`pf-registry demo`, no signing key set), driven in tmux the way a
# user would: the registries, the images of every repository (every verdict
# in one list), the tampered image's detail, the signatures of a trusted
# image, the conversation of a fork, the fork tree, a diff, a bulk pull of
# the demo images and a real pull of a 2 GiB image caught mid-flight (the
# transfers view), the local store's usage and the image list at 80×24.
# freeze turns the ANSI captures (tmux capture-pane -e) into PNGs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PF_CACHE_DIR="${PF_CACHE_DIR:-$HOME/.cache/pf-registry}"
source scripts/lib.sh
apt_install tmux librsvg2-bin fonts-dejavu-core
go_tool freeze github.com/charmbracelet/freeze@v0.2.2

work=$(mktemp -d)
sock="$work/tmux.sock"
t() { tmux -S "$sock" "$@"; }
trap 't kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/pf-registry" .
go build -o "$work/benchimg" ./internal/benchimg/cmd/benchimg
mkdir -p "$work/home"
# A 2 GiB image in a root of its own (not in the demo's lists), so that
# its pull lasts long enough to be seen moving.
(cd "$work" && id=$(./benchimg -store bigstore -bytes $((2 << 30)) -files 60 -seed 5) &&
  env -u PF_FILE_REG_SIGN_KEY ./pf-registry --store bigstore push "$id" file://big/agent/huge >/dev/null 2>push.log &&
  rm -rf bigstore) || { cat "$work/push.log" >&2 2>/dev/null; echo "screenshots: could not make the large image" >&2; exit 1; }

# A fresh home (store ~/.processfork, no config) and a relative demo
# directory, so that no path of this machine shows; no signing key.
t -f /dev/null new-session -d -s shots -x 140 -y 40 -c "$work" \
  env -u PF_FILE_REG_SIGN_KEY -u PF_STORE -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u NO_COLOR \
  HOME="$work/home" TERM=xterm-256color COLORTERM=truecolor "$work/pf-registry" demo demo

screen() { t capture-pane -p -t shots; }
wait_for() { # wait_for TEXT...: until every text is on the screen
  for _ in $(seq 300); do
    local ok=1
    for w in "$@"; do screen | grep -qF -- "$w" || ok=0; done
    [ $ok = 1 ] && return 0
    sleep 0.1
  done
  echo "screenshots: the screen never showed: $*" >&2
  screen >&2
  exit 1
}
wait_gone() { # wait_gone TEXT: until the text has left the screen
  for _ in $(seq 300); do
    screen | grep -qF -- "$1" || return 0
    sleep 0.1
  done
  echo "screenshots: the screen still shows: $1" >&2
  exit 1
}
keys() { for k in "$@"; do t send-keys -t shots "$k"; sleep 0.15; done; }
shot() { # shot NAME: capture the screen as screenshots/NAME.png
  # tmux reports colour resets as 39/49, which freeze does not undo; a
  # full reset renders the same cells.
  t capture-pane -e -p -t shots | sed 's/\x1b\[39m/\x1b[0m/g; s/\x1b\[49m/\x1b[0m/g' >"$work/$1.ansi"
  "$PF_BIN/freeze" --language ansi --window --font.family "DejaVu Sans Mono" --font.size 14 \
    --padding 20 --margin 0 -o "$repo/screenshots/$1.png" <"$work/$1.ansi" >/dev/null
  echo "screenshots/$1.png"
}

rm -f screenshots/*.png
wait_for "✓ reachable" "✓ 0 images"
shot registries
# Every image of the demo, with its verdict.
keys Enter
wait_for "alice/refactor-agent"
keys F Enter
wait_for "10 inspected"
wait_gone "…" # the pull costs
shot tags
# The tampered image.
keys / 1 1 - 2 6 Enter Enter
wait_for "Image ID" "STORED SIZE"
shot detail
keys Escape
sleep 0.3
keys Escape
wait_for "10 images in"
# Inside a fork: its signatures, its conversation, the fork tree, a diff
# with its root.
keys / a g e n t : v 3 Enter Enter
wait_for "Image ID" "irreversible effect"
keys Tab
wait_for "Sigstore bundle"
shot signatures
keys Tab Tab Tab
wait_for "61 messages"
shot trace
keys T
wait_for "merge of 2"
shot forktree
keys G m k k k =
wait_for "Bytes" "messages in common"
shot diff
keys Escape Escape Escape
sleep 0.3
keys Escape
wait_for "10 images in"
# Mark every image and pull them: refused ones are named, default-key ones
# asked about (yes), the rest pulled for real.
keys g
for _ in $(seq 10); do keys Space; done
keys p
wait_for "Pull images that are not validly signed?"
keys y t
wait_for "Jobs  0 running"
keys Escape
sleep 0.3
# The large image, through the go-to bar; its pull is shot mid-flight.
keys :
t send-keys -t shots -l "file://big/agent/huge"
keys Enter
wait_for "Image ID" "STORED SIZE"
keys p
wait_for "Pull an image that is not validly signed?"
keys y t
wait_for "moving"
shot transfers
wait_for "Jobs  0 running"
keys Escape Escape
sleep 0.3
keys :
t send-keys -t shots -l "du"
keys Enter
wait_for "reclaimable by gc"
shot usage
keys Escape
sleep 0.3
t resize-window -t shots -x 80 -y 24
sleep 0.5
keys g
shot tags-80x24
keys q
