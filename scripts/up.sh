#!/usr/bin/env bash
# Brings BMI up on this machine: installs what it needs, starts the local single-node Ceph (persistent, in
# var/ceph), builds, writes var/bmi.cfg for it and serves the API in the foreground.
#   bash scripts/up.sh                         # BMI on the local Ceph, http://127.0.0.1:8000 (Swagger UI at /docs)
#   BMI_CONFIG=/etc/bmi/bmiconfig.cfg bash scripts/up.sh   # your own config instead (no local Ceph started)
# Until the tgt driver lands, iSCSI targets are kept by the in-memory driver; users and nodes come from the
# in-memory HIL seeded with config/hil-seed.json. Stop Ceph with: scripts/ceph-local.sh down
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_node
if [ -z "${BMI_CONFIG:-}" ]; then
  log "local Ceph (var/ceph)"
  eval "$(scripts/ceph-local.sh up "$PWD/var/ceph")"
  # a raw image in the pool to import as a first golden image: `bmi import bmi_infra demo-golden`
  rbd --conf "$CEPH_CONF" --id "$CEPH_ID" --keyring "$CEPH_KEYRING" info "$CEPH_POOL/demo-golden" >/dev/null 2>&1 ||
    rbd --conf "$CEPH_CONF" --id "$CEPH_ID" --keyring "$CEPH_KEYRING" create --size 1G "$CEPH_POOL/demo-golden"
  mkdir -p var
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
iscsi = fake
net_isolator = fake
[fs]
id = $CEPH_ID
pool = $CEPH_POOL
conf_file = $CEPH_CONF
keyring = $CEPH_KEYRING
[net_isolator]
fake_seed = $PWD/config/hil-seed.json
[iscsi]
ip = 127.0.0.1
[tftp]
pxelinux_path = $PWD/var/tftpboot/pxelinux.cfg
ipxe_path = $PWD/var/tftpboot
leases_file = $PWD/var/dnsmasq.leases
CFG
  export BMI_CONFIG="$PWD/var/bmi.cfg"
fi
ensure_deps
build
log "config: $BMI_CONFIG"
exec node dist/main.js
