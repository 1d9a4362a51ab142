#!/usr/bin/env bash
# Tools every test run needs: tmux (end-to-end UI test) and zstd (peer decoder).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
apt_install tmux zstd
