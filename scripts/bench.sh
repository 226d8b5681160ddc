#!/usr/bin/env bash
# `npm run bench`: the provisioning benchmark (bench/provision: the floor, the original's method and BMI side by
# side, where BMI's time goes, concurrency, scale), then the boot benchmark (bench/boot: QEMU nodes booting at
# once from BMI's disks). From a clean clone: installs what is missing, builds, starts what each needs (throw-away
# Ceph, tgtd, HIL server, provisioning network) and stops it again. Each prints its tables and writes them as
# JSON under var/bench/.
#   npm run bench [-- --no-boot | --no-provision] [--at-once 1,2,4,8] [--rounds 200 --clients 1,4,16,64 …]
#   npm run bench:boot   the boot benchmark alone
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/boot-lib.sh

boot=1
provision=1
at_once=1,2,4,8
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-boot) boot=0 ;;
    --no-provision) provision=0 ;;
    --at-once) at_once=$2; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done

ensure_node
# the librbd binding builds against librbd-dev during the npm install
apt_install ceph-mon ceph-osd ceph-common librbd-dev librados-dev tgt tgt-rbd
ensure_deps
build
if [ "$provision" = 1 ]; then
  log "provisioning benchmark"
  # the floor's librbd calls get as many worker threads as BMI's (src/main.ts)
  UV_THREADPOOL_SIZE=16 node -r ts-node/register/transpile-only bench/provision/bench.ts "${args[@]}"
fi
if [ "$boot" = 1 ]; then
  log "boot benchmark: a throw-away Ceph, the provisioning network and the golden image"
  start_test_ceph
  start_boot_env
  BENCH_BOOT_AT_ONCE=$at_once npx --no-install jest -c bench/boot/jest.config.js --ci
fi
