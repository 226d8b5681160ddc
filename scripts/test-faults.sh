#!/usr/bin/env bash
# `npm run test:faults`: the fault tests alone (jest project `faults`, test/faults/*.faults-spec.ts): a real BMI
# process killed at every step of every operation, and at random moments, on a throw-away Ceph and tgtd that
# this script starts and stops again. Extra arguments go to jest (e.g. -t 'create_disk').
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_node
log "local Ceph and tgtd for the fault tests"
start_test_ceph
start_test_tgt
ensure_deps
build
log "jest (faults)"
npx --no-install jest --ci --selectProjects faults "$@"
