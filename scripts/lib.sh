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

NODE_MAJOR=22
NODE_FALLBACK_VERSION=22.23.5

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Node.js 22 (the LTS line) or newer, npm, and the tool chain node-gyp needs for the sqlite3 and librbd addons.
# When the machine has an older Node.js (Debian 12's own is 18), Node.js 22 comes from the npm registry's
# node-linux-<arch> package into .tools/ and goes first on PATH; the addons are then built against the headers
# that package ships (npm_config_nodedir), not against an older system Node.js's.
ensure_node() {
  local tools=$PWD/.tools/node_modules
  if [ -x "$tools/.bin/node" ]; then PATH="$tools/.bin:$PATH"; export PATH; fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then apt_install nodejs npm; fi
  if [ "$(node_major)" -lt "$NODE_MAJOR" ]; then
    local arch
    case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no Node.js $NODE_MAJOR package for $(uname -m)" ;; esac
    log "Node.js $(node -v) is too old; installing Node.js $NODE_FALLBACK_VERSION from the npm registry into .tools/"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix .tools "node-linux-$arch@$NODE_FALLBACK_VERSION"
    PATH="$tools/.bin:$PATH"
    export PATH
    [ "$(node_major)" -ge "$NODE_MAJOR" ] || die "Node.js >= $NODE_MAJOR is needed, found $(node -v)"
  fi
  local pkg
  for pkg in "$tools"/node-linux-*; do
    if [ "$(command -v node)" = "$tools/.bin/node" ] && [ -f "$pkg/include/node/common.gypi" ]; then
      npm_config_nodedir=$pkg
      export npm_config_nodedir
    fi
  done
  command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 ||
    apt_install make g++ python3
}

# node_modules from the lock file, re-installed when package.json or the lock changed. The callers installed
# librbd-dev first, so the librbd binding must build here (without it, a plain `npm ci` leaves it unbuilt).
ensure_deps() {
  local stamp=node_modules/.bmi-deps-stamp
  local want
  # what decides node_modules: the lock file and the dependency fields of package.json (not its scripts)
  want=$({
    node -p 'const p = require("./package.json"); JSON.stringify([p.dependencies, p.devDependencies, p.workspaces, p.allowScripts])'
    cat package-lock.json native/*/package.json packages/*/package.json
  } | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "npm ci"
  BMI_RBD_REQUIRED=1 npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
}

# Chromium for the browser tests (Swagger UI at /docs driven through puppeteer-core, which downloads no browser of
# its own): Debian's package, at /usr/bin/chromium where the tests look for it, unless BMI_CHROMIUM names another.
# The path is checked rather than PATH: a `chromium` elsewhere on PATH is not the one the tests start.
ensure_chromium() {
  [ -n "${BMI_CHROMIUM:-}" ] && return 0
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# `bmi` on the PATH: /usr/local/bin/bmi -> bin/bmi of this checkout, when run as root and that name is free or
# already one of ours (a link to some checkout's bin/bmi); otherwise the one-liner to use instead.
link_cli() {
  local link=/usr/local/bin/bmi
  if [ "$(id -u)" -eq 0 ] && { [ ! -e "$link" ] || [[ "$(readlink "$link" 2>/dev/null)" == */bin/bmi ]]; }; then
    ln -sfn "$PWD/bin/bmi" "$link"
    log "bmi: $link -> $PWD/bin/bmi"
  else
    log "bmi: export PATH=\"$PWD/bin:\$PATH\""
  fi
}

build() {
  log "building"
  # the SDK first: the CLI is built on it
  npm run --silent build -w @bmi/client
  npx --no-install nest build
}

# The first port from $1 on (at most $2 tries) that nothing on 127.0.0.1 listens on.
free_port() {
  local port=$1 tries=${2:-20}
  while [ "$tries" -gt 0 ]; do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
    port=$((port + 1))
    tries=$((tries - 1))
  done
  die "no free port from $1 on"
}

# Whether process $1 is alive: its cmdline is not empty (a zombie's is). /proc files report size 0, so `-s` cannot
# tell.
process_alive() { [ -r "/proc/$1/cmdline" ] && [ -n "$(tr -d '\0' <"/proc/$1/cmdline" 2>/dev/null)" ]; }

# Runs the given command when the calling shell exits, after the ones registered later (last in, first out).
exit_cmds=()
on_exit() {
  exit_cmds=("$1" "${exit_cmds[@]}")
  trap 'for c in "${exit_cmds[@]}"; do eval "$c"; done' EXIT
}

# A throw-away Ceph cluster (memstore, no mgr) for the integration tests, purged when the calling shell exits.
# Exports CEPH_CONF, CEPH_KEYRING, CEPH_ID and CEPH_POOL.
start_test_ceph() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bmi-ceph-test.XXXXXX")
  on_exit "scripts/ceph-local.sh purge '$dir' >/dev/null 2>&1 || true"
  local env
  env=$(CEPH_OBJECTSTORE=memstore CEPH_WITH_MGR=0 CEPH_MON_PORT=$(free_port 3390) \
    CEPH_MON_PORT_V1=$(free_port 6786) scripts/ceph-local.sh up "$dir")
  eval "$env"
  export CEPH_CONF CEPH_KEYRING CEPH_ID CEPH_POOL
}

# A throw-away PostgreSQL for the tests on PostgreSQL (fsync off: nothing in it outlives the run), purged when the
# calling shell exits. Exports BMI_PG_URL.
start_test_pg() {
  local dir env
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bmi-pg-test.XXXXXX")
  on_exit "scripts/pg-local.sh purge '$dir' >/dev/null 2>&1 || true"
  env=$(PG_PORT='' PG_FSYNC=off scripts/pg-local.sh up "$dir")
  eval "$env"
  export BMI_PG_URL
}

# A throw-away tgtd for the integration tests, on a free control port and a free portal port, stopped (its targets
# deleted) when the calling shell exits, before the test Ceph it exports from. Exports TGT_CONTROL_PORT and
# TGT_PORTAL. Also installs libiscsi-bin: the tests log in to the targets with its iscsi-inq.
start_test_tgt() {
  apt_install libiscsi-bin
  local dir env
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bmi-tgt-test.XXXXXX")
  on_exit "scripts/tgt-local.sh purge '$dir' >/dev/null 2>&1 || true"
  env=$(TGT_CONTROL_PORT='' TGT_PORTAL="127.0.0.1:$(free_port 3270)" scripts/tgt-local.sh up "$dir")
  eval "$env"
  export TGT_CONTROL_PORT TGT_PORTAL
}
