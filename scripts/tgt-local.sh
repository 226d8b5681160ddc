#!/usr/bin/env bash
# A tgtd (Linux SCSI target daemon, iSCSI) for BMI's development, tests and CI: one daemon on its own control
# port and portal, with its PID file, log and settings in one directory. BMI's tgt driver then manages targets
# in it with `tgtadm -C <control port>` ([iscsi] tgt_control_port).
#
#   scripts/tgt-local.sh up     [DIR]   start (or reuse) the daemon; prints the settings for eval
#   scripts/tgt-local.sh env    [DIR]   print those settings again
#   scripts/tgt-local.sh status [DIR]   exit 0 when the daemon answers on its control port
#   scripts/tgt-local.sh down   [DIR]   remove its targets and stop it (only the tgtd whose PID file is in DIR)
#   scripts/tgt-local.sh purge  [DIR]   stop it and remove DIR
#
# DIR defaults to var/tgt in the checkout. Settings (environment, or kept from an earlier `up` in DIR):
#   TGT_CONTROL_PORT  tgtadm/tgtd control port (-C); default: the first from 100 on that no tgtd answers on.
#                     The control socket is a file (/var/run/tgtd/socket.N), so the port is unique per host.
#   TGT_PORTAL        IP:PORT the iSCSI portal binds to (default 127.0.0.1:3260)
#   TGT_DEADLINE      seconds to wait for the daemon to answer (default 15)
# `up` and `env` print TGT_CONTROL_PORT=… and TGT_PORTAL=… on stdout, for eval; everything else goes to stderr.
#
# tgtd keeps running when its portal cannot be bound (the port is taken) and only logs it; `up` fails then.
# tgtd ignores SIGTERM and `tgtadm --mode system --op delete` refuses while targets exist, so `down` deletes
# the targets first, then asks the daemon to exit, waits for its PID, and kills it after a grace period.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

cmd=${1:-}
D=$(realpath -m "${2:-$here/../var/tgt}")
SETTINGS="$D/tgt.env"
PIDFILE="$D/tgtd.pid"
LOG="$D/tgtd.log"
DEADLINE=${TGT_DEADLINE:-15}
GRACE=10

saved() { if [ -f "$SETTINGS" ]; then sed -n "s/^$1=//p" "$SETTINGS" | head -1; fi; }
CONTROL_PORT=${TGT_CONTROL_PORT:-$(saved TGT_CONTROL_PORT)}
PORTAL=${TGT_PORTAL:-$(saved TGT_PORTAL)}
PORTAL=${PORTAL:-127.0.0.1:3260}
CHOSEN_PORT=0 # 1 when this script picked the control port (and may pick another one)
# Stopping or asking about the tgtd of DIR uses the port DIR's tgtd was started on, whatever the environment says.
case "$cmd" in down | purge | status) CONTROL_PORT=$(saved TGT_CONTROL_PORT) ;; esac

[ -z "$CONTROL_PORT" ] || [[ "$CONTROL_PORT" =~ ^[0-9]+$ ]] || die "TGT_CONTROL_PORT must be a number"
[[ "$PORTAL" =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] || die "TGT_PORTAL must be IP:PORT, got \"$PORTAL\""

print_env() { printf 'TGT_CONTROL_PORT=%q\nTGT_PORTAL=%q\n' "$CONTROL_PORT" "$PORTAL"; }

answers() { tgtadm -C "$1" --mode system --op show >/dev/null 2>&1; }

# The PID of THIS directory's tgtd: its PID file names a live tgtd started with our control port.
tgtd_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  grep -q -- "^tgtd -f -C $CONTROL_PORT " <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")" || return 1
  echo "$pid"
}

# Whether process $1 holds the lock of our control port's socket: only then is the tgtd that answers on that
# port this one (a second tgtd on a taken port logs "another tgtd is using …" and exits a moment later).
holds_lock() {
  local inode
  inode=$(stat -c %i "/var/run/tgtd/socket.$CONTROL_PORT.lock" 2>/dev/null) || return 1
  grep -qE "^[0-9]+: POSIX +ADVISORY +WRITE +$1 [0-9a-f:]+:$inode " /proc/locks
}

# This directory's tgtd is running and answers on its control port.
ours_answers() {
  local pid
  pid=$(tgtd_pid) && holds_lock "$pid" && answers "$CONTROL_PORT"
}

pick_control_port() {
  local port=100
  while answers "$port"; do
    port=$((port + 1))
    [ "$port" -lt 1100 ] || die "no free tgtd control port from 100 to 1099"
  done
  CONTROL_PORT=$port
  CHOSEN_PORT=1
}

# Starts tgtd in the background, in its own session, and waits until it answers. Returns 2 when another tgtd
# holds the control port (a race with a concurrent start), dies on any other failure.
start_tgtd() {
  mkdir -p "$D"
  : >"$LOG"
  setsid tgtd -f -C "$CONTROL_PORT" --iscsi "portal=$PORTAL" </dev/null >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  local until=$((SECONDS + DEADLINE))
  until ours_answers; do
    if grep -q 'another tgtd is using' "$LOG"; then
      wait_gone "$(cat "$PIDFILE")"
      rm -f "$PIDFILE"
      return 2
    fi
    if ! tgtd_pid >/dev/null; then
      cat "$LOG" >&2
      die "tgtd exited at start (log: $LOG)"
    fi
    if [ $SECONDS -ge $until ]; then
      cat "$LOG" >&2
      stop_tgtd
      die "tgtd did not answer on control port $CONTROL_PORT within ${DEADLINE}s"
    fi
    sleep 0.05
  done
  # the portal is bound before the control socket answers; a failed bind is only logged
  if grep -q -e 'failed to create/bind to portal' -e 'unable to bind server socket' "$LOG"; then
    grep -e 'bind' "$LOG" >&2 || true
    stop_tgtd
    die "tgtd could not bind its portal $PORTAL (is another iSCSI target using it? set TGT_PORTAL)"
  fi
}

up() {
  apt_install tgt tgt-rbd
  if [ -n "$CONTROL_PORT" ] && ours_answers; then
    log "reusing tgtd $(tgtd_pid) in $D (control port $CONTROL_PORT, portal $PORTAL)"
    print_env
    return 0
  fi
  [ -n "$CONTROL_PORT" ] || pick_control_port
  local started=$SECONDS tries=0 rc
  # a port this script picked may be taken by a concurrent start meanwhile: then it picks another one
  while :; do
    rc=0
    if answers "$CONTROL_PORT"; then rc=2; else start_tgtd || rc=$?; fi
    [ "$rc" -eq 0 ] && break
    tries=$((tries + 1))
    if [ "$CHOSEN_PORT" -eq 0 ] || [ $tries -ge 10 ]; then
      die "another tgtd uses control port $CONTROL_PORT (set TGT_CONTROL_PORT to a free one)"
    fi
    pick_control_port
  done
  printf 'TGT_CONTROL_PORT=%s\nTGT_PORTAL=%s\n' "$CONTROL_PORT" "$PORTAL" >"$SETTINGS"
  log "tgtd $(tgtd_pid) ready in $((SECONDS - started))s: control port $CONTROL_PORT, portal $PORTAL, log $LOG"
  print_env
}

wait_gone() {
  local pid=$1 waited=0
  while process_alive "$pid" && [ $waited -lt $((GRACE * 20)) ]; do
    sleep 0.05
    waited=$((waited + 1))
  done
  if process_alive "$pid"; then
    log "tgtd $pid did not exit within ${GRACE}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

# Deletes every target of this tgtd (its initiators are cut off), asks it to exit, waits for the PID. Nothing is
# sent to the control port unless this tgtd holds it.
stop_tgtd() {
  local pid tid
  pid=$(tgtd_pid) || return 0
  holds_lock "$pid" || {
    wait_gone "$pid"
    rm -f "$PIDFILE"
    return 0
  }
  for tid in $(timeout 10 tgtadm -C "$CONTROL_PORT" --lld iscsi --mode target --op show 2>/dev/null |
    sed -n 's/^Target \([0-9][0-9]*\): .*/\1/p'); do
    # a tgtd that cannot reach Ceph may never answer: bounded, the kill after the grace period ends it anyway
    timeout 10 tgtadm -C "$CONTROL_PORT" --lld iscsi --mode target --op delete --force --tid "$tid" >/dev/null 2>&1 || true
  done
  timeout 10 tgtadm -C "$CONTROL_PORT" --mode system --op delete >/dev/null 2>&1 ||
    log "tgtadm --mode system --op delete failed on control port $CONTROL_PORT"
  wait_gone "$pid"
  rm -f "$PIDFILE"
  # its control socket files outlive it; no other tgtd can be using them (ours held the lock)
  answers "$CONTROL_PORT" || rm -f "/var/run/tgtd/socket.$CONTROL_PORT" "/var/run/tgtd/socket.$CONTROL_PORT.lock"
}

case "$cmd" in
  up) up ;;
  env)
    [ -f "$SETTINGS" ] || die "no tgtd settings in $D (run: $0 up)"
    print_env
    ;;
  status) [ -n "$CONTROL_PORT" ] && ours_answers ;;
  down) if [ -n "$CONTROL_PORT" ]; then stop_tgtd; fi ;;
  purge)
    if [ -n "$CONTROL_PORT" ]; then stop_tgtd; fi
    rm -rf "$D"
    ;;
  *)
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
