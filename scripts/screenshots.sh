#!/usr/bin/env bash
# Regenerates screenshots/*.png from the program's own output:
#  - <view>.png: frames of the UI model (registries, tags, detail, transfers)
#    rendered against the demo file:// registry by the golden tests;
#  - terminal-<view>.png: captures (tmux capture-pane -e) of the UI running
#    in a real terminal during the end-to-end test, pulling real images.
# freeze turns the ANSI text into PNGs (rsvg-convert rasterises the SVG).
set -euo pipefail
cd "$(dirname "$0")/.."
export PF_CACHE_DIR="${PF_CACHE_DIR:-$HOME/.cache/pf-registry}"
source scripts/lib.sh
apt_install tmux librsvg2-bin fonts-dejavu-core
go_tool freeze github.com/charmbracelet/freeze@v0.2.2

frames=$(mktemp -d)
trap 'rm -rf "$frames"' EXIT
PF_UI_SCREENSHOTS="$frames" go test ./ui -count=1 -run 'TestGolden/dark_140x40|TestEndToEndTmux' >/dev/null

render() { # render NAME FILE
  "$PF_BIN/freeze" --language ansi --window --font.family "DejaVu Sans Mono" --font.size 14 \
    --padding 20 --margin 0 -o "screenshots/$1.png" <"$2" >/dev/null
  echo "screenshots/$1.png"
}
mkdir -p screenshots
for v in registries tags detail transfers; do
  render "$v" "$frames/$v-dark-140x40.ansi"
done
# tmux reports colour resets as 39/49, which freeze does not undo; a full
# reset renders the same cells.
for v in tags detail transfers; do
  sed 's/\x1b\[39m/\x1b[0m/g; s/\x1b\[49m/\x1b[0m/g' "$frames/terminal-$v.ansi" >"$frames/t.ansi"
  render "terminal-$v" "$frames/t.ansi"
done
