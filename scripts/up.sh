#!/usr/bin/env bash
# Brings BMI up on this machine: installs what it needs, starts the local single-node Ceph (persistent, in
# var/ceph), a tgtd for the iSCSI targets (var/tgt) and a HIL-compatible server (seeded with
# config/hil-seed.json), builds, links the `bmi` command into /usr/local/bin (as root), writes var/bmi.cfg for
# them and serves the API in the foreground.
#   bash scripts/up.sh                         # BMI on the local Ceph, http://127.0.0.1:8000 (Swagger UI at /docs)
#   BMI_CONFIG=/etc/bmi/bmiconfig.cfg bash scripts/up.sh   # your own config instead (no local Ceph started)
# Stop Ceph and tgtd with `scripts/ceph-local.sh down` and `scripts/tgt-local.sh down`; the HIL server stops
# with BMI. BMI re-creates its targets in a restarted tgtd by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_node
if [ -z "${BMI_CONFIG:-}" ]; then
  log "local Ceph (var/ceph)"
  eval "$(scripts/ceph-local.sh up "$PWD/var/ceph")"
  log "local tgtd (var/tgt)"
  eval "$(scripts/tgt-local.sh up "$PWD/var/tgt")" # portal 127.0.0.1:3260 unless TGT_PORTAL says otherwise
  ensure_deps
  # a raw image in the pool to import as a first golden image: `bmi import bmi_infra demo-golden`
  rbd --conf "$CEPH_CONF" --id "$CEPH_ID" --keyring "$CEPH_KEYRING" info "$CEPH_POOL/demo-golden" >/dev/null 2>&1 ||
    rbd --conf "$CEPH_CONF" --id "$CEPH_ID" --keyring "$CEPH_KEYRING" create --size 1G "$CEPH_POOL/demo-golden"
  mkdir -p var
  # HIL for this machine: users, projects and nodes of config/hil-seed.json, over HTTP like a real HIL
  hil_port=$(free_port "${HIL_PORT:-7000}")
  node -r ts-node/register/transpile-only tools/hil-server/main.ts --seed config/hil-seed.json --port "$hil_port" \
    --quiet >var/hil-server.log 2>&1 &
  hil_pid=$!
  trap 'kill "$hil_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do grep -q listening var/hil-server.log 2>/dev/null && break; sleep 0.1; done
  grep -q listening var/hil-server.log || die "the HIL server did not start: $(cat var/hil-server.log)"
  cat >var/bmi.cfg <<CFG
# written by scripts/up.sh: BMI on the local Ceph in var/ceph
[bmi]
uid = 5
snapshot = bmi_snapshot
[db]
path = $PWD/var/bmi.db
[rest_api]
ip = 127.0.0.1
port = ${BMI_PORT:-8000}
[driver]
fs = ceph
iscsi = tgt
net_isolator = hil
[fs]
id = $CEPH_ID
pool = $CEPH_POOL
conf_file = $CEPH_CONF
keyring = $CEPH_KEYRING
[net_isolator]
url = http://127.0.0.1:$hil_port
[iscsi]
# the portal as a node sees it; for nodes on another network, put the address they reach here
ip = ${TGT_PORTAL%:*}
port = ${TGT_PORTAL##*:}
tgt_control_port = $TGT_CONTROL_PORT
[tftp]
pxelinux_path = $PWD/var/tftpboot/pxelinux.cfg
ipxe_path = $PWD/var/tftpboot
leases_file = $PWD/var/dnsmasq.leases
CFG
  export BMI_CONFIG="$PWD/var/bmi.cfg"
else
  apt_install librbd-dev librados-dev # the librbd binding builds against them
  apt_install qemu-utils qemu-block-extra # uploads of qcow2 files: qemu-img and its rbd driver
  ensure_deps
fi
build
link_cli
log "config: $BMI_CONFIG"
# a young generation of 4 MB a half instead of V8's 16: ~20 MB less resident, slightly more frequent scavenges
node --max-semi-space-size=4 dist/main.js
