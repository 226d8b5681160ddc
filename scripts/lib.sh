# Shared by the project's scripts: checks and installs what BMI needs on a Debian machine.
# shellcheck shell=bash

log() { printf '[bmi] %s\n' "$*" >&2; }
die() { printf '[bmi] error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq
    apt_updated=1
  fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
}

# Node.js 20 or newer, npm, and the tool chain node-gyp needs for the sqlite3 (and later librbd) addons.
ensure_node() {
  if ! command -v node >/dev/null 2>&1; then apt_install nodejs npm; fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js >= 20 is needed, found $(node -v); install a newer Node.js (e.g. from NodeSource) and retry"
  command -v npm >/dev/null 2>&1 || apt_install npm
  command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 ||
    apt_install make g++ python3
}

# node_modules from the lock file, re-installed when package.json or the lock changed.
ensure_deps() {
  local stamp=node_modules/.bmi-deps-stamp
  local want
  want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
}

build() {
  log "building"
  npx --no-install nest build
}
