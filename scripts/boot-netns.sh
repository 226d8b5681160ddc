#!/usr/bin/env bash
# A provisioning network on this machine for BMI's boot tests: a network namespace with a bridge, dnsmasq
# (DHCP + TFTP + RA), tgtd with its portal on the bridge, and QEMU nodes on taps of that bridge. Nothing is
# added to the host's interfaces, addresses or routes: the namespace reaches the host's Ceph (127.0.0.1, for
# tgtd's rbd backing store) and BMI (for the HTTP-served iPXE scripts) through scripts/netns-forward.js, which
# listens inside the namespace and connects on the host. All state (PID files, logs, TFTP root) is in DIR.
#
#   scripts/boot-netns.sh up    [DIR]          create the namespace and start dnsmasq, tgtd and the forwarder;
#                                              prints the settings for eval
#   scripts/boot-netns.sh env   [DIR]          print them again
#   scripts/boot-netns.sh ipxe-script MODE [DIR]  restart dnsmasq with DNSMASQ_IPXE_SCRIPT=tftp|http
#   scripts/boot-netns.sh vm    DIR NAME MAC [bios|efi] [tcg|kvm]
#                                              run one QEMU node in the namespace, in the foreground: PXE boot
#                                              from the NIC with MAC, serial console on stdout, exits when the
#                                              guest powers off (the PID is QEMU's, for the caller to kill)
#   scripts/boot-netns.sh accel IMAGE          print kvm when a KVM guest really boots IMAGE (a golden image
#                                              made by build-golden.sh) from local disk, else tcg
#   scripts/boot-netns.sh down  [DIR]          stop this DIR's VMs, tgtd, dnsmasq and forwarder (by PID files)
#                                              and delete the namespace it created; purge also removes DIR
#
# DIR defaults to var/boot-netns. Settings (environment at `up`):
#   BOOT_NETNS        namespace name (default bmiboot-<hash of DIR>); BOOT_SUBNET first three octets of the
#                     bridge's /24 (default 10.99.0; the bridge is .1, leases .100-.199); BOOT_ULA its IPv6 /64
#                     prefix (default fd42:99:0:1)
#   BOOT_HTTP_PORT    port BMI's iPXE scripts are served on at the bridge address (default 80), forwarded to
#   BOOT_HTTP_UPSTREAM  host port BMI listens on (default: a free one from 18080)
#   CEPH_CONF, CEPH_ID, CEPH_KEYRING  the host's Ceph: its monitors and OSDs are forwarded (same addresses)
#   BOOT_TGT_CONTROL_PORT  the namespace's tgtd's control port (default: a free one, see scripts/tgt-local.sh)
# `up` and `env` print BOOT_DIR, BOOT_NETNS, BOOT_BRIDGE_IP, BOOT_HTTP_URL, BOOT_HTTP_UPSTREAM, BOOT_TFTP_ROOT,
# BOOT_LEASES, BOOT_TGT_CONTROL_PORT and BOOT_TGT_PORTAL on stdout, for eval; everything else goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# The parts' own settings come from this script only (a shared tgtd's TGT_* in the environment are not ours).
unset TGT_CONTROL_PORT TGT_PORTAL DNSMASQ_NETNS DNSMASQ_INTERFACE DNSMASQ_RANGE DNSMASQ_TFTP_ROOT DNSMASQ_IPXE_SCRIPT

cmd=${1:-}
case "$cmd" in
  vm) D=$(realpath -m "${2:?DIR}") ;;
  accel | ipxe-script) D=$(realpath -m "${3:-$here/../var/boot-netns}") ;;
  *) D=$(realpath -m "${2:-$here/../var/boot-netns}") ;;
esac
SETTINGS="$D/boot.env"
FWD_PIDFILE="$D/forward.pid"

saved() { if [ -f "$SETTINGS" ]; then sed -n "s/^$1=//p" "$SETTINGS" | head -1; fi; }
NETNS=${BOOT_NETNS:-$(saved BOOT_NETNS)}
NETNS=${NETNS:-bmiboot-$(printf '%s' "$D" | sha256sum | cut -c1-8)}
SUBNET=${BOOT_SUBNET:-$(saved BOOT_SUBNET)}; SUBNET=${SUBNET:-10.99.0}
ULA=${BOOT_ULA:-$(saved BOOT_ULA)}; ULA=${ULA:-fd42:99:0:1}
BRIDGE=br0
BRIDGE_IP=$SUBNET.1
HTTP_PORT=${BOOT_HTTP_PORT:-$(saved BOOT_HTTP_PORT)}; HTTP_PORT=${HTTP_PORT:-80}
[[ "$NETNS" =~ ^[A-Za-z0-9_.-]{1,40}$ ]] || die "BOOT_NETNS \"$NETNS\" is not a namespace name"
[[ "$SUBNET" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "BOOT_SUBNET must be three octets, e.g. 10.99.0"

# Settings of the parts, under names of their own (BOOT_*), so that they never clash with a shared tgtd's.
print_env() {
  local dns tgt
  dns=$("$here/dnsmasq-local.sh" env "$D/dnsmasq")
  tgt=$("$here/tgt-local.sh" env "$D/tgt")
  part() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }
  printf 'BOOT_DIR=%q\nBOOT_NETNS=%q\nBOOT_BRIDGE_IP=%q\nBOOT_HTTP_URL=%q\nBOOT_HTTP_UPSTREAM=%s\n' \
    "$D" "$NETNS" "$BRIDGE_IP" "http://$BRIDGE_IP:$HTTP_PORT/boot/ipxe" "$(saved BOOT_HTTP_UPSTREAM)"
  printf 'BOOT_TFTP_ROOT=%s\nBOOT_LEASES=%s\nBOOT_TGT_CONTROL_PORT=%s\nBOOT_TGT_PORTAL=%s\n' \
    "$(part "$dns" DNSMASQ_TFTP_ROOT)" "$(part "$dns" DNSMASQ_LEASES)" "$(part "$tgt" TGT_CONTROL_PORT)" \
    "$(part "$tgt" TGT_PORTAL)"
}

# (Matches are made on captured output, never as `cmd | grep -q` under pipefail: grep -q exits at its first
# match, and a command that writes again after that dies of SIGPIPE, which fails the whole pipeline.)
netns_exists() { grep -qE "^$1( |$)" <<<"$(ip netns list)"; }

# A process named in a PID file that is still the one we started: its command line contains $2.
pid_alive() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  grep -qF -- "$2" <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")" || return 1
  echo "$pid"
}

stop_pid() {
  local pidfile=$1 match=$2 pid waited=0
  pid=$(pid_alive "$pidfile" "$match") || { rm -f "$pidfile"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pidfile" "$match" >/dev/null && [ $waited -lt 100 ]; do
    sleep 0.05
    waited=$((waited + 1))
  done
  pid_alive "$pidfile" "$match" >/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# IP:PORT of the host's Ceph monitors and OSDs (every address a client connects to).
ceph_addrs() {
  [ -n "${CEPH_CONF:-}" ] || return 0
  local c=(--conf "$CEPH_CONF" --id "${CEPH_ID:-bmi}" --connect-timeout 10)
  [ -n "${CEPH_KEYRING:-}" ] && c+=(--keyring "$CEPH_KEYRING")
  { ceph "${c[@]}" mon dump -f json 2>/dev/null; ceph "${c[@]}" osd dump -f json 2>/dev/null; } |
    grep -oE '"addr": ?"[0-9.]+:[0-9]+"' | grep -oE '[0-9.]+:[0-9]+' | sort -u
}

up() {
  apt_install iproute2 qemu-system-x86 ovmf ipxe-qemu
  command -v node >/dev/null || die "node is needed for scripts/netns-forward.js"
  mkdir -p "$D/vm"
  chmod 0755 "$D"
  if ! netns_exists "$NETNS"; then
    ip netns add "$NETNS"
    echo "$NETNS" >"$D/netns.created"
  elif [ "$(cat "$D/netns.created" 2>/dev/null)" != "$NETNS" ]; then
    die "network namespace $NETNS exists and was not made by $D (set BOOT_NETNS)"
  fi
  local n=(ip -n "$NETNS")
  "${n[@]}" link set lo up
  # The bridge is the network's router: dnsmasq sends the router advertisements from it. It must not take
  # them in as a host would: it hears its own (multicast loop), and with accept_ra it would autoconfigure a
  # second global address from its own prefix. Set for the namespace before any interface exists, so that
  # the nodes' taps (bridge ports, with no address of their own) get it too.
  local k
  for k in all.accept_ra default.accept_ra all.autoconf default.autoconf; do
    ip netns exec "$NETNS" sysctl -qw "net.ipv6.conf.$k=0"
  done
  if ! "${n[@]}" link show "$BRIDGE" >/dev/null 2>&1; then
    "${n[@]}" link add "$BRIDGE" type bridge
    "${n[@]}" addr add "$BRIDGE_IP/24" dev "$BRIDGE"
    "${n[@]}" addr add "$ULA::1/64" dev "$BRIDGE" nodad
    "${n[@]}" link set "$BRIDGE" up
  fi
  ip netns exec "$NETNS" sysctl -qw "net.ipv6.conf.$BRIDGE.accept_ra=0" "net.ipv6.conf.$BRIDGE.autoconf=0"
  # QEMU makes each node's tap and runs this to put it on the bridge (inside the namespace)
  printf '#!/bin/sh\nexec ip link set "$1" master %s up\n' "$BRIDGE" >"$D/qemu-ifup.tmp"
  chmod 0755 "$D/qemu-ifup.tmp"
  mv "$D/qemu-ifup.tmp" "$D/qemu-ifup"

  DNSMASQ_NETNS=$NETNS DNSMASQ_INTERFACE=$BRIDGE "$here/dnsmasq-local.sh" up "$D/dnsmasq" >/dev/null
  # tgtd inside the namespace, its portal on the bridge (its control socket is a file: tgtadm works from here)
  ip netns exec "$NETNS" env TGT_CONTROL_PORT="${BOOT_TGT_CONTROL_PORT:-}" TGT_PORTAL="$BRIDGE_IP:3260" \
    "$here/tgt-local.sh" up "$D/tgt" >/dev/null

  local upstream
  upstream=${BOOT_HTTP_UPSTREAM:-$(saved BOOT_HTTP_UPSTREAM)}
  upstream=${upstream:-$(free_port 18080 200)}
  if ! pid_alive "$FWD_PIDFILE" "netns-forward.js --netns $NETNS" >/dev/null; then
    local pairs=("$BRIDGE_IP:$HTTP_PORT=127.0.0.1:$upstream") a
    for a in $(ceph_addrs); do pairs+=("$a=$a"); done
    [ -z "${CEPH_CONF:-}" ] || [ ${#pairs[@]} -gt 2 ] || die "cannot read the monitor and OSD addresses of $CEPH_CONF"
    setsid node "$here/netns-forward.js" --netns "$NETNS" --pid-file "$FWD_PIDFILE" "${pairs[@]}" \
      </dev/null >"$D/forward.log" 2>&1 &
    local waited=0
    until grep -q '^ready' "$D/forward.log" 2>/dev/null; do
      waited=$((waited + 1))
      if [ $waited -gt 200 ] || ! kill -0 $! 2>/dev/null; then cat "$D/forward.log" >&2; die "the forwarder did not start"; fi
      sleep 0.05
    done
    log "forwarding into $NETNS: ${pairs[*]}"
  fi
  printf 'BOOT_NETNS=%s\nBOOT_SUBNET=%s\nBOOT_ULA=%s\nBOOT_HTTP_PORT=%s\nBOOT_HTTP_UPSTREAM=%s\n' \
    "$NETNS" "$SUBNET" "$ULA" "$HTTP_PORT" "$upstream" >"$SETTINGS"
  log "provisioning network $NETNS ready: bridge $BRIDGE_IP/24, $ULA::1/64; state in $D"
  print_env
}

ipxe_script() {
  local mode=${2:?tftp or http} script
  [ -f "$SETTINGS" ] || die "no boot network in $D (run: $0 up)"
  case "$mode" in
    tftp) script=tftp ;;
    http) script="http://$BRIDGE_IP:$HTTP_PORT/boot/ipxe" ;;
    *) die "ipxe-script takes tftp or http" ;;
  esac
  DNSMASQ_NETNS=$NETNS DNSMASQ_INTERFACE=$BRIDGE DNSMASQ_IPXE_SCRIPT=$script "$here/dnsmasq-local.sh" up "$D/dnsmasq" >/dev/null
  log "dnsmasq in $NETNS now hands iPXE its script over $mode"
}

vm() {
  local name=${3:?NAME} mac=${4:?MAC} fw=${5:-bios} accel=${6:-tcg}
  [[ "$name" =~ ^[a-z0-9-]{1,10}$ ]] || die "VM name must be 1-10 of a-z 0-9 -"
  [[ "$mac" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || die "MAC must be lower-case aa:bb:cc:dd:ee:ff"
  [[ "$accel" =~ ^(tcg|kvm)$ ]] || die "accel must be tcg or kvm"
  [ -f "$SETTINGS" ] || die "no boot network in $D (run: $0 up)"
  local q=(qemu-system-x86_64 -accel "$accel" -m 512 -smp 1 -nographic -serial stdio -monitor none -no-reboot
    -name "bmi-$name" -pidfile "$D/vm/$name.pid"
    -netdev "tap,id=n0,ifname=t-$name,script=$D/qemu-ifup,downscript=no")
  case "$fw" in
    # SeaBIOS; the e1000's option ROM is iPXE (it identifies itself as iPXE to dnsmasq)
    bios) q+=(-device "e1000,netdev=n0,mac=$mac" -boot n) ;;
    # OVMF's own PXE client (no option ROM on the NIC), as on real UEFI hardware: it loads snponly.efi
    efi) q+=(-bios /usr/share/ovmf/OVMF.fd -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" -boot n) ;;
    *) die "firmware must be bios or efi" ;;
  esac
  exec ip netns exec "$NETNS" "${q[@]}"
}

accel() {
  local img=${2:?IMAGE} out pid waited=0 result=tcg
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo tcg; return 0; }
  # /dev/kvm can exist and still fail real-mode guests (e.g. a PVM host): boot the image for real, at most 20 s
  out=$(mktemp)
  qemu-system-x86_64 -enable-kvm -m 256 -nographic -serial stdio -monitor none -no-reboot \
    -drive "file=$img,format=raw,snapshot=on" </dev/null >"$out" 2>&1 &
  pid=$!
  while [ $waited -lt 400 ]; do
    if grep -aq 'BMI-BOOT-OK' "$out"; then result=kvm; break; fi
    grep -aqE 'KVM internal error|emulation failure|failed to initialize kvm|Could not access KVM' "$out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
    waited=$((waited + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$out"
  echo "$result"
}

# In this order: tgtd reaches Ceph through the forwarder, and closing its RBD images needs Ceph.
down() {
  local f
  for f in "$D"/vm/*.pid; do [ -e "$f" ] && stop_pid "$f" "-pidfile $f"; done
  [ -d "$D/tgt" ] && "$here/tgt-local.sh" down "$D/tgt" || true
  [ -d "$D/dnsmasq" ] && "$here/dnsmasq-local.sh" down "$D/dnsmasq" || true
  stop_pid "$FWD_PIDFILE" "netns-forward.js --netns $NETNS"
  if [ "$(cat "$D/netns.created" 2>/dev/null)" = "$NETNS" ] && netns_exists "$NETNS"; then
    ip netns del "$NETNS"
    rm -f "$D/netns.created"
    log "deleted network namespace $NETNS"
  fi
}

case "$cmd" in
  up) up ;;
  env)
    [ -f "$SETTINGS" ] || die "no boot network in $D (run: $0 up)"
    print_env
    ;;
  ipxe-script) ipxe_script "$@" ;;
  vm) vm "$@" ;;
  accel) accel "$@" ;;
  down) down ;;
  purge)
    down
    rm -rf "$D"
    ;;
  *)
    sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
