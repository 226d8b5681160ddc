#!/usr/bin/env bash
# A throw-away PostgreSQL for BMI's development, tests and CI, from Debian's packages: one cluster with its data,
# log and settings in one directory, listening on 127.0.0.1 only (TCP, password auth; no Unix socket), with a
# superuser `bmi` and a database `bmi`. BMI then uses it with `[db] url = <BMI_PG_URL>`.
#
#   scripts/pg-local.sh up     [DIR]   start (or reuse) the cluster; prints the settings for eval
#   scripts/pg-local.sh env    [DIR]   print those settings again
#   scripts/pg-local.sh status [DIR]   exit 0 when the cluster answers
#   scripts/pg-local.sh down   [DIR]   stop the postmaster whose PID file is in DIR (fast shutdown)
#   scripts/pg-local.sh purge  [DIR]   stop it and remove DIR
#
# DIR defaults to var/pg in the checkout. Settings (environment, or kept from an earlier `up` in DIR):
#   PG_PORT      TCP port on 127.0.0.1 (default: the first free one from 5440 on)
#   PG_FSYNC     on (default) or off: off trades crash safety of the cluster for speed (tests, CI)
#   PG_DEADLINE  seconds to wait for the cluster to answer (default 30)
# `up` and `env` print BMI_PG_URL=postgres://bmi:<password>@127.0.0.1:<port>/bmi on stdout, for eval; everything
# else goes to stderr. The password is random, made at `up`, and kept in DIR/pg.env (mode 600).
#
# PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user of the Debian package (its
# directory is given to that user). The package's own cluster (15/main on 5432) is neither used nor touched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PG_VERSION=15
BIN=/usr/lib/postgresql/$PG_VERSION/bin
cmd=${1:-}
D=$(realpath -m "${2:-$here/../var/pg}")
DATA="$D/data"
SETTINGS="$D/pg.env"
LOG="$D/postgres.log"
DEADLINE=${PG_DEADLINE:-30}
GRACE=20

saved() { if [ -f "$SETTINGS" ]; then sed -n "s/^$1=//p" "$SETTINGS" | head -1; fi; }
PORT=${PG_PORT:-$(saved PG_PORT)}
PASSWORD=$(saved PG_PASSWORD)
FSYNC=${PG_FSYNC:-$(saved PG_FSYNC)}
FSYNC=${FSYNC:-on}
case "$cmd" in down | purge | status) PORT=$(saved PG_PORT) ;; esac
[ -z "$PORT" ] || [[ "$PORT" =~ ^[0-9]+$ ]] || die "PG_PORT must be a number"
[[ "$FSYNC" =~ ^(on|off)$ ]] || die "PG_FSYNC must be on or off"

# Runs a PostgreSQL program as the cluster's user: `postgres` when we are root, ourselves otherwise.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { printf 'postgres://bmi:%s@127.0.0.1:%s/bmi' "$PASSWORD" "$PORT"; }
print_env() { printf 'BMI_PG_URL=%q\n' "$(url)"; }

# The PID of THIS directory's postmaster: the first line of its PID file names a live postgres on our data dir.
pg_pid() {
  local pid
  [ -f "$DATA/postmaster.pid" ] || return 1
  pid=$(head -1 "$DATA/postmaster.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
  grep -qF -- "-D $DATA " <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")" || return 1
  echo "$pid"
}

answers() { [ -n "$PORT" ] && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d bmi -U bmi; }

ours_answers() { pg_pid >/dev/null && answers; }

init_cluster() {
  mkdir -p "$D"
  PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  local pwfile="$D/.pw"
  (umask 077 && printf '%s\n' "$PASSWORD" >"$pwfile")
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$D" "$pwfile"
    chmod 700 "$D"
    runuser -u postgres -- test -x "$D" ||
      die "$D is not reachable by the postgres user (a parent directory is closed to others); choose another DIR"
  fi
  # C collation: names sort by bytes, as on SQLite
  as_pg "$BIN/initdb" -D "$DATA" -U bmi --pwfile="$pwfile" --auth-host=scram-sha-256 --auth-local=reject \
    --encoding=UTF8 --locale=C --no-instructions >"$D/initdb.log" 2>&1 || {
    cat "$D/initdb.log" >&2
    die "initdb failed"
  }
  rm -f "$pwfile"
  (umask 077 && printf 'PG_PORT=%s\nPG_PASSWORD=%s\nPG_FSYNC=%s\n' "$PORT" "$PASSWORD" "$FSYNC" >"$SETTINGS")
}

start_cluster() {
  as_pg touch "$LOG"
  # several BMI instances, each with its pool and its lock sessions, share the cluster
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -s -w -t "$DEADLINE" start -o \
    "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=300 -c fsync=$FSYNC -c synchronous_commit=$FSYNC -c full_page_writes=$FSYNC" ||
    {
      tail -20 "$LOG" >&2
      die "PostgreSQL did not start on 127.0.0.1:$PORT (log: $LOG)"
    }
  local until=$((SECONDS + DEADLINE))
  until answers; do
    [ $SECONDS -lt $until ] || die "PostgreSQL did not answer on 127.0.0.1:$PORT within ${DEADLINE}s"
    sleep 0.1
  done
  PGPASSWORD=$PASSWORD "$BIN/psql" -qAt -h 127.0.0.1 -p "$PORT" -U bmi -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = 'bmi'" | grep -q 1 ||
    PGPASSWORD=$PASSWORD "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U bmi bmi
}

up() {
  apt_install postgresql-$PG_VERSION
  if [ -n "$PORT" ] && ours_answers; then
    log "reusing PostgreSQL $(pg_pid) in $D (127.0.0.1:$PORT)"
    print_env
    return 0
  fi
  if [ -z "$PORT" ]; then PORT=$(free_port 5440 100); fi
  [ -f "$DATA/PG_VERSION" ] || init_cluster
  local started=$SECONDS
  start_cluster
  log "PostgreSQL $(pg_pid) ready in $((SECONDS - started))s on 127.0.0.1:$PORT (log: $LOG)"
  print_env
}

# Fast shutdown of this directory's postmaster (SIGINT: sessions are cut, no wait for clients), by PID.
stop_cluster() {
  local pid waited=0
  pid=$(pg_pid) || return 0
  kill -INT "$pid" 2>/dev/null || true
  while process_alive "$pid" && [ $waited -lt $((GRACE * 20)) ]; do
    sleep 0.05
    waited=$((waited + 1))
  done
  if process_alive "$pid"; then
    log "PostgreSQL $pid did not stop within ${GRACE}s; killing it"
    kill -QUIT "$pid" 2>/dev/null || true
  fi
}

case "$cmd" in
  up) up ;;
  env)
    [ -f "$SETTINGS" ] || die "no PostgreSQL settings in $D (run: $0 up)"
    print_env
    ;;
  status) ours_answers ;;
  down) stop_cluster ;;
  purge)
    stop_cluster
    rm -rf "$D"
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
