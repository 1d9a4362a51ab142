#!/usr/bin/env bash
# Node and the official Hugging Face client (@huggingface/hub, pinned by
# scripts/hf-contract/package-lock.json) for the test hub's contract test.
# npm ci runs again only when the lock file changes.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
dir="$(cd "$(dirname "$0")/../hf-contract" && pwd)"
stamp="$dir/node_modules/.pf-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -e "$dir/node_modules/@huggingface/hub/package.json" ]; then
  echo "installing @huggingface/hub for the hf contract test (npm ci)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
