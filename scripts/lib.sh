# Helpers for scripts/provision.d/*.sh. Source it; it expects PF_CACHE_DIR.
: "${PF_CACHE_DIR:=$HOME/.cache/pf-registry}"
PF_BIN="$PF_CACHE_DIR/bin"
mkdir -p "$PF_BIN"

# apt_install PKG... installs Debian packages that are not installed yet,
# running apt-get update at most once per cache lifetime hour.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  local stamp="$PF_CACHE_DIR/apt-updated"
  if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +60 2>/dev/null)" ]; then
    $sudo apt-get update -qq && touch "$stamp"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# go_tool NAME PKG@VERSION builds a Go command once into $PF_BIN, keyed by
# version so that a version bump rebuilds it.
go_tool() {
  local name="$1" spec="$2"
  local stamp="$PF_BIN/.$name.version"
  if [ -x "$PF_BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$spec" ]; then
    return 0
  fi
  echo "building $name ($spec), cached in $PF_BIN" >&2
  GOBIN="$PF_BIN" go install "$spec"
  echo "$spec" > "$stamp"
}
