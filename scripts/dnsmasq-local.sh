#!/usr/bin/env bash
# dnsmasq (DHCP + TFTP + IPv6 router advertisements) for BMI's development and boot tests, inside a network
# namespace: it never listens on a host interface. Its config, PID file, leases and TFTP root live in one
# directory; the directives are those of config/dnsmasq.sample.conf.
#
#   scripts/dnsmasq-local.sh up     [DIR]   start (or reuse) dnsmasq; prints the settings for eval
#   scripts/dnsmasq-local.sh env    [DIR]   print those settings again
#   scripts/dnsmasq-local.sh status [DIR]   exit 0 when this directory's dnsmasq runs
#   scripts/dnsmasq-local.sh down   [DIR]   stop it (only the dnsmasq whose PID file is in DIR)
#   scripts/dnsmasq-local.sh purge  [DIR]   stop it and remove DIR
#
# DIR defaults to var/dnsmasq in the checkout. Settings (environment, or kept from an earlier `up` in DIR):
#   DNSMASQ_NETNS        the network namespace to run in (required; it must exist and not be the host's)
#   DNSMASQ_INTERFACE    the interface inside it (default br0); it must have an IPv4 and an IPv6 address
#   DNSMASQ_RANGE        first,last address to lease (default .100 to .199 of the interface's /24)
#   DNSMASQ_TFTP_ROOT    TFTP root (default DIR/tftpboot); the boot loaders are copied in at `up`
#   DNSMASQ_IPXE_SCRIPT  how iPXE gets the node's script: `tftp` (default; BIOS: pxelinux chain, UEFI:
#                        mac/<mac>.ipxe) or BMI's URL, e.g. http://10.99.0.1:8000/boot/ipxe (every iPXE
#                        client is sent to <URL>?mac=<its MAC>; BIOS firmware gets undionly.kpxe first)
# `up` and `env` print DNSMASQ_NETNS, DNSMASQ_INTERFACE, DNSMASQ_TFTP_ROOT, DNSMASQ_LEASES and
# DNSMASQ_IPXE_SCRIPT on stdout, for eval; everything else goes to stderr. A changed setting restarts dnsmasq.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

cmd=${1:-}
D=$(realpath -m "${2:-$here/../var/dnsmasq}")
SETTINGS="$D/dnsmasq.env"
PIDFILE="$D/dnsmasq.pid"
CONF="$D/dnsmasq.conf"
LOG="$D/dnsmasq.log"
LEASES="$D/dnsmasq.leases"

saved() { if [ -f "$SETTINGS" ]; then sed -n "s/^$1=//p" "$SETTINGS" | head -1; fi; }
NETNS=${DNSMASQ_NETNS:-$(saved DNSMASQ_NETNS)}
IFACE=${DNSMASQ_INTERFACE:-$(saved DNSMASQ_INTERFACE)}; IFACE=${IFACE:-br0}
RANGE=${DNSMASQ_RANGE:-$(saved DNSMASQ_RANGE)}
TFTP_ROOT=${DNSMASQ_TFTP_ROOT:-$(saved DNSMASQ_TFTP_ROOT)}; TFTP_ROOT=$(realpath -m "${TFTP_ROOT:-$D/tftpboot}")
IPXE_SCRIPT=${DNSMASQ_IPXE_SCRIPT:-$(saved DNSMASQ_IPXE_SCRIPT)}; IPXE_SCRIPT=${IPXE_SCRIPT:-tftp}

print_env() {
  printf 'DNSMASQ_NETNS=%q\nDNSMASQ_INTERFACE=%q\nDNSMASQ_TFTP_ROOT=%q\nDNSMASQ_LEASES=%q\nDNSMASQ_IPXE_SCRIPT=%q\n' \
    "$NETNS" "$IFACE" "$TFTP_ROOT" "$LEASES" "$IPXE_SCRIPT"
}

# The PID of THIS directory's dnsmasq: its PID file names a live dnsmasq reading our config.
dnsmasq_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  grep -qF -- "--conf-file=$CONF" <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")" || return 1
  echo "$pid"
}

check_settings() {
  [ -n "$NETNS" ] || die "DNSMASQ_NETNS is required: dnsmasq runs only inside a network namespace (see scripts/boot-netns.sh)"
  [[ "$NETNS" =~ ^[A-Za-z0-9_.-]+$ ]] || die "DNSMASQ_NETNS \"$NETNS\" is not a namespace name"
  grep -qE "^$NETNS( |$)" <<<"$(ip netns list)" || die "no network namespace $NETNS"
  [ "$(stat -L -c %i "/run/netns/$NETNS")" != "$(stat -L -c %i /proc/self/ns/net)" ] ||
    die "$NETNS is the host's network namespace"
  [[ "$IFACE" =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die "DNSMASQ_INTERFACE \"$IFACE\" is not an interface name"
  case "$IPXE_SCRIPT" in
    tftp) ;;
    http://*) [[ "$IPXE_SCRIPT" =~ ^http://[A-Za-z0-9.:-]+(:[0-9]+)?/[A-Za-z0-9/._-]*$ ]] || die "bad DNSMASQ_IPXE_SCRIPT URL" ;;
    *) die "DNSMASQ_IPXE_SCRIPT must be tftp or an http:// URL, got \"$IPXE_SCRIPT\"" ;;
  esac
}

# The interface's IPv4 address (a.b.c.d) inside the namespace.
iface_ipv4() {
  ip -n "$NETNS" -4 -o addr show dev "$IFACE" 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1
}

# The boot loaders dnsmasq serves; BMI writes the per-node files next to them.
fill_tftp_root() {
  apt_install dnsmasq pxelinux syslinux-common ipxe
  mkdir -p "$TFTP_ROOT/pxelinux.cfg" "$TFTP_ROOT/mac"
  cp /usr/lib/PXELINUX/pxelinux.0 "$TFTP_ROOT/"
  local m
  for m in ldlinux menu libutil libcom32; do cp "/usr/lib/syslinux/modules/bios/$m.c32" "$TFTP_ROOT/"; done
  for m in ipxe.lkrn snponly.efi undionly.kpxe; do cp -L "/usr/lib/ipxe/$m" "$TFTP_ROOT/"; done
  # dnsmasq drops root for user dnsmasq: the tree must be readable by everyone, its parents traversable
  chmod -R a+rX "$TFTP_ROOT"
  local d=$TFTP_ROOT
  while [ "$d" != / ]; do chmod a+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
}

write_conf() {
  local ip4=$1 first last
  if [ -n "$RANGE" ]; then
    first=${RANGE%,*} last=${RANGE#*,}
  else
    first="${ip4%.*}.100" last="${ip4%.*}.199"
  fi
  {
    echo "# written by scripts/dnsmasq-local.sh; the directives of config/dnsmasq.sample.conf"
    echo "port=0"
    echo "interface=$IFACE"
    echo "bind-interfaces"
    echo "dhcp-range=$first,$last,255.255.255.0,1h"
    echo "dhcp-leasefile=$LEASES"
    echo "dhcp-authoritative"
    echo "enable-ra"
    echo "dhcp-range=::,constructor:$IFACE,ra-only"
    echo "enable-tftp"
    echo "tftp-root=$TFTP_ROOT"
    echo "dhcp-match=set:efi64,option:client-arch,7"
    echo "dhcp-match=set:efi64,option:client-arch,9"
    echo "dhcp-userclass=set:ipxe,iPXE"
    if [ "$IPXE_SCRIPT" = tftp ]; then
      echo "dhcp-boot=tag:!efi64,pxelinux.0"
      echo "dhcp-boot=tag:efi64,tag:!ipxe,snponly.efi"
      echo 'dhcp-boot=tag:efi64,tag:ipxe,mac/${netX/mac:hexhyp}.ipxe'
    else
      echo "dhcp-boot=tag:!efi64,tag:!ipxe,undionly.kpxe"
      echo "dhcp-boot=tag:efi64,tag:!ipxe,snponly.efi"
      echo "dhcp-boot=tag:ipxe,$IPXE_SCRIPT?mac=\${netX/mac}"
    fi
    echo "log-dhcp"
    echo "pid-file=$PIDFILE"
    echo "log-facility=$LOG"
  } >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
}

stop_dnsmasq() {
  local pid waited=0
  pid=$(dnsmasq_pid) || { rm -f "$PIDFILE"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  while dnsmasq_pid >/dev/null && [ $waited -lt 100 ]; do
    sleep 0.05
    waited=$((waited + 1))
  done
  if dnsmasq_pid >/dev/null; then
    log "dnsmasq $pid did not stop on SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

up() {
  check_settings
  local ip4
  ip4=$(iface_ipv4)
  [ -n "$ip4" ] || die "$IFACE in $NETNS has no IPv4 address"
  # the output is captured first: `ip … | grep -q` under pipefail fails when ip writes a line after grep's match
  local ip6
  ip6=$(ip -n "$NETNS" -6 -o addr show dev "$IFACE" scope global)
  grep -q inet6 <<<"$ip6" ||
    die "$IFACE in $NETNS has no global IPv6 address (a ULA): without router advertisements iPXE's DHCP stalls 16 s; its addresses: $(ip -n "$NETNS" -6 -o addr show dev "$IFACE")"
  mkdir -p "$D"
  chmod 0755 "$D"
  local want
  want=$(printf 'DNSMASQ_NETNS=%s\nDNSMASQ_INTERFACE=%s\nDNSMASQ_RANGE=%s\nDNSMASQ_TFTP_ROOT=%s\nDNSMASQ_IPXE_SCRIPT=%s\n' \
    "$NETNS" "$IFACE" "$RANGE" "$TFTP_ROOT" "$IPXE_SCRIPT")
  if dnsmasq_pid >/dev/null && [ "$(cat "$SETTINGS" 2>/dev/null)" = "$want" ]; then
    log "reusing dnsmasq $(dnsmasq_pid) in $NETNS ($IFACE, scripts: $IPXE_SCRIPT)"
    print_env
    return 0
  fi
  stop_dnsmasq
  fill_tftp_root
  write_conf "$ip4"
  dnsmasq --test --conf-file="$CONF" >/dev/null 2>&1 || die "dnsmasq refuses $CONF: $(dnsmasq --test --conf-file="$CONF" 2>&1)"
  : >"$LOG"
  touch "$LEASES"
  # dnsmasq forks into the background and writes its PID file once it has bound its sockets
  ip netns exec "$NETNS" dnsmasq --conf-file="$CONF" 2>>"$LOG" || { cat "$LOG" >&2; die "dnsmasq did not start"; }
  local waited=0
  until dnsmasq_pid >/dev/null; do
    waited=$((waited + 1))
    [ $waited -lt 100 ] || { cat "$LOG" >&2; die "dnsmasq wrote no PID file"; }
    sleep 0.05
  done
  echo "$want" >"$SETTINGS"
  log "dnsmasq $(dnsmasq_pid) in $NETNS on $IFACE ($ip4): DHCP, TFTP from $TFTP_ROOT, RA; scripts: $IPXE_SCRIPT"
  print_env
}

case "$cmd" in
  up) up ;;
  env)
    [ -f "$SETTINGS" ] || die "no dnsmasq settings in $D (run: $0 up)"
    print_env
    ;;
  status) dnsmasq_pid >/dev/null ;;
  down) stop_dnsmasq ;;
  purge)
    stop_dnsmasq
    rm -rf "$D"
    ;;
  *)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
