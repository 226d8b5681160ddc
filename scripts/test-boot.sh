#!/usr/bin/env bash
# `npm run test:boot`: the end-to-end boot tests alone (jest project `boot`, test/boot/*.boot-spec.ts). Installs
# what is missing, starts a throw-away Ceph and the provisioning network (scripts/boot-lib.sh), builds BMI's
# dependencies and runs the boot tests; everything started is stopped again, on failure too. Extra arguments go
# to jest (e.g. -t 'UEFI').
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/boot-lib.sh

ensure_node
log "local Ceph for the boot tests"
start_test_ceph
ensure_deps
log "provisioning network and golden image"
start_boot_env
log "jest (boot)"
npx --no-install jest --ci --selectProjects boot "$@"
