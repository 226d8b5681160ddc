#!/usr/bin/env bash
# A single-node Ceph cluster on 127.0.0.1 for BMI's development, tests and CI: one mon, an optional mgr, one
# OSD, pool `bmi` and user `client.bmi`, with all state in one directory. No systemd, no root needed once the
# packages are installed.
#
#   scripts/ceph-local.sh up     [DIR]   start (or reuse) the cluster; prints the settings BMI needs
#   scripts/ceph-local.sh env    [DIR]   print those settings again
#   scripts/ceph-local.sh status [DIR]   exit 0 when the cluster answers
#   scripts/ceph-local.sh down   [DIR]   stop the daemons this directory started (by PID)
#   scripts/ceph-local.sh purge  [DIR]   stop them and remove DIR
#
# DIR defaults to var/ceph in the checkout. Settings (environment, or taken from an existing DIR/ceph.conf):
#   CEPH_OBJECTSTORE  bluestore (default: persistent, a sparse file) or memstore (fast, for throw-away clusters)
#   CEPH_WITH_MGR     1 (default) or 0: RBD works without a mgr, which saves ~300 MB and a few seconds
#   CEPH_MON_PORT     msgr2 port (default 3300); CEPH_MON_PORT_V1 msgr1 port (default 6789)
#   CEPH_POOL         pool (default bmi); CEPH_USER client name without "client." (default bmi)
#   CEPH_DEADLINE     seconds to wait for the cluster to answer (default 90)
# `up` and `env` print shell assignments (CEPH_CONF, CEPH_KEYRING, CEPH_ID, CEPH_POOL) on stdout, for eval;
# everything else goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

cmd=${1:-}
D=$(realpath -m "${2:-$here/../var/ceph}")
CONF="$D/ceph.conf"

# Settings of an existing cluster win over the defaults, so that a restart keeps its ports and store.
conf_value() { if [ -f "$CONF" ]; then sed -n "s/^# bmi: $1 = //p" "$CONF" | head -1; fi; }
OBJECTSTORE=${CEPH_OBJECTSTORE:-$(conf_value objectstore)}; OBJECTSTORE=${OBJECTSTORE:-bluestore}
WITH_MGR=${CEPH_WITH_MGR:-$(conf_value with_mgr)}; WITH_MGR=${WITH_MGR:-1}
MON_PORT=${CEPH_MON_PORT:-$(conf_value mon_port)}; MON_PORT=${MON_PORT:-3300}
MON_PORT_V1=${CEPH_MON_PORT_V1:-$(conf_value mon_port_v1)}; MON_PORT_V1=${MON_PORT_V1:-6789}
POOL=${CEPH_POOL:-$(conf_value pool)}; POOL=${POOL:-bmi}
USER_ID=${CEPH_USER:-$(conf_value user)}; USER_ID=${USER_ID:-bmi}
DEADLINE=${CEPH_DEADLINE:-90}

case "$OBJECTSTORE" in bluestore | memstore) ;; *) die "CEPH_OBJECTSTORE must be bluestore or memstore" ;; esac

admin() { ceph --conf "$CONF" -n client.admin --connect-timeout 10 "$@"; }

print_env() {
  printf 'CEPH_CONF=%q\nCEPH_KEYRING=%q\nCEPH_ID=%q\nCEPH_POOL=%q\n' \
    "$CONF" "$D/ceph.client.$USER_ID.keyring" "$USER_ID" "$POOL"
}

daemons() {
  echo "osd.0"
  [ "$WITH_MGR" = 1 ] && echo "mgr.x"
  echo "mon.a"
}

# The PID of a daemon of THIS cluster: its pid file names a live process whose command line reads our conf.
# (Zombies have an empty command line, so they count as gone.)
daemon_pid() {
  local pidfile="$D/run/ceph-$1.pid" pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  grep -qF -- "$CONF" <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")" || return 1
  echo "$pid"
}

# A real client call as the BMI user, with timeouts: the only trustworthy sign that the cluster serves I/O.
answers() {
  timeout 10 rbd --conf "$CONF" --id "$USER_ID" --keyring "$D/ceph.client.$USER_ID.keyring" \
    --client-mount-timeout 2 --rados-osd-op-timeout 2 --rados-mon-op-timeout 2 ls "$POOL" >/dev/null 2>&1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_until_answers() {
  local until=$((SECONDS + DEADLINE))
  until answers; do
    if [ $SECONDS -ge $until ]; then
      log "the cluster in $D did not answer within ${DEADLINE}s"
      admin -s >&2 2>&1 || true
      for f in "$D"/log/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 40 "$f" >&2; }; done
      die "cluster not ready"
    fi
    sleep 0.3
  done
}

write_conf() {
  local fsid=$1 store_opts
  if [ "$OBJECTSTORE" = memstore ]; then
    store_opts="osd objectstore = memstore
memstore device bytes = 8589934592
osd fast shutdown = false"
  else
    store_opts="osd objectstore = bluestore
bluestore block create = true
bluestore block size = 21474836480
osd memory target = 1073741824"
  fi
  cat >"$CONF" <<EOF
# bmi: objectstore = $OBJECTSTORE
# bmi: with_mgr = $WITH_MGR
# bmi: mon_port = $MON_PORT
# bmi: mon_port_v1 = $MON_PORT_V1
# bmi: pool = $POOL
# bmi: user = $USER_ID
[global]
fsid = $fsid
mon initial members = a
mon host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_PORT_V1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
mon allow pool delete = true
run dir = $D/run
crash dir = $D/crash
mgr stats period = 1
mgr tick period = 1
osd mon report interval = 1
# snapshot create/remove wait for this (default 1 s): ten times faster tests
paxos propose interval = 0.1

[mon]
mon data = $D/mon.\$id
log file = $D/log/\$cluster-\$name.log
pid file = $D/run/\$cluster-\$name.pid
keyring = $D/mon.\$id/keyring

[mgr]
mgr data = $D/mgr.\$id
log file = $D/log/\$cluster-\$name.log
pid file = $D/run/\$cluster-\$name.pid
keyring = $D/mgr.\$id/keyring

[osd]
osd data = $D/osd.\$id
log file = $D/log/\$cluster-\$name.log
pid file = $D/run/\$cluster-\$name.pid
keyring = $D/osd.\$id/keyring
osd op num shards = 1
osd op num threads per shard = 2
$store_opts

[client.admin]
keyring = $D/ceph.client.admin.keyring

[client.$USER_ID]
keyring = $D/ceph.client.$USER_ID.keyring
EOF
  chmod 0644 "$CONF"
}

start_daemons() {
  mkdir -p "$D/run" "$D/log"
  rm -f "$D/.osd-clean-stop"
  daemon_pid mon.a >/dev/null || ceph-mon --conf "$CONF" -i a 2>>"$D/log/start-mon.err"
  if [ "$WITH_MGR" = 1 ]; then daemon_pid mgr.x >/dev/null || ceph-mgr --conf "$CONF" -i x 2>>"$D/log/start-mgr.err"; fi
  daemon_pid osd.0 >/dev/null || ceph-osd --conf "$CONF" -i 0 2>>"$D/log/start-osd.err"
}

bootstrap() {
  log "creating a $OBJECTSTORE cluster in $D (mon on 127.0.0.1:$MON_PORT)"
  for port in "$MON_PORT" "$MON_PORT_V1"; do
    port_in_use "$port" && die "port $port on 127.0.0.1 is already in use (set CEPH_MON_PORT / CEPH_MON_PORT_V1)"
  done
  rm -rf "$D"
  mkdir -p "$D/run" "$D/log" "$D/crash" "$D/mon.a" "$D/mgr.x" "$D/osd.0"
  write_conf "$(cat /proc/sys/kernel/random/uuid)"
  ceph-authtool --create-keyring "$D/mon.keyring.tmp" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$D/ceph.client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$D/mon.keyring.tmp" --import-keyring "$D/ceph.client.admin.keyring" >/dev/null
  monmaptool --create --fsid "$(sed -n 's/^fsid = //p' "$CONF")" \
    --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_PORT_V1]" "$D/monmap" >/dev/null
  ceph-mon --conf "$CONF" --mkfs -i a --monmap "$D/monmap" --keyring "$D/mon.keyring.tmp" 2>>"$D/log/start-mon.err"
  rm -f "$D/mon.keyring.tmp" "$D/monmap"
  ceph-mon --conf "$CONF" -i a 2>>"$D/log/start-mon.err"
  if [ "$WITH_MGR" = 1 ]; then
    admin auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o "$D/mgr.x/keyring" 2>/dev/null
    ceph-mgr --conf "$CONF" -i x 2>>"$D/log/start-mgr.err"
  fi
  local osd_uuid osd_secret
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_secret=$(ceph-authtool --gen-print-key)
  echo "{\"cephx_secret\": \"$osd_secret\"}" | admin osd new "$osd_uuid" -i - >/dev/null 2>&1
  ceph-authtool --create-keyring "$D/osd.0/keyring" --name osd.0 --add-key "$osd_secret" >/dev/null
  ceph-osd --conf "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$D/log/start-osd.err" >/dev/null
  ceph-osd --conf "$CONF" -i 0 2>>"$D/log/start-osd.err"
  admin osd pool create "$POOL" 8 8 replicated >/dev/null 2>&1
  rbd --conf "$CONF" -n client.admin pool init "$POOL"
  admin auth get-or-create "client.$USER_ID" mon 'profile rbd' osd "profile rbd pool=$POOL" \
    mgr "profile rbd pool=$POOL" -o "$D/ceph.client.$USER_ID.keyring" 2>/dev/null
  chmod 0600 "$D"/*.keyring
  wait_until_answers
  touch "$D/.bootstrapped"
}

up() {
  apt_install ceph-mon ceph-osd ceph-common librbd-dev librados-dev qemu-utils qemu-block-extra
  [ "$WITH_MGR" = 1 ] && apt_install ceph-mgr
  local started=$SECONDS
  if [ -f "$D/.bootstrapped" ] && answers; then
    log "reusing the running cluster in $D"
  elif [ -f "$D/.bootstrapped" ] && { [ "$OBJECTSTORE" = bluestore ] || [ -f "$D/.osd-clean-stop" ]; }; then
    log "restarting the cluster in $D"
    start_daemons
    wait_until_answers
  else
    # a half-made cluster, or a memstore OSD that lost its memory: start over
    down_daemons
    bootstrap
  fi
  log "cluster ready in $((SECONDS - started))s"
  print_env
}

down_daemons() {
  [ -d "$D/run" ] || return 0
  local name pid waited
  for name in osd.0 mgr.x mon.a; do
    pid=$(daemon_pid "$name") || continue
    kill -TERM "$pid" 2>/dev/null || continue
    waited=0
    while daemon_pid "$name" >/dev/null && [ $waited -lt 200 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if daemon_pid "$name" >/dev/null; then
      log "$name did not stop on SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    elif [ "$name" = osd.0 ]; then
      touch "$D/.osd-clean-stop"
    fi
  done
}

case "$cmd" in
  up) up ;;
  env)
    [ -f "$D/.bootstrapped" ] || die "no cluster in $D (run: $0 up)"
    print_env
    ;;
  status) answers ;;
  down) down_daemons ;;
  purge)
    down_daemons
    rm -rf "$D"
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
