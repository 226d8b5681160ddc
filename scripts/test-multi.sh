#!/usr/bin/env bash
# `npm run test:multi`: the multi-instance tests alone (jest project `multi`, test/multi/*.multi-spec.ts):
# several real BMI processes on one PostgreSQL, one Ceph pool and one tgtd, under load, one of them killed; on a
# throw-away PostgreSQL, Ceph and tgtd that this script starts and stops again. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_node
log "local Ceph, tgtd and PostgreSQL for the multi-instance tests"
start_test_ceph
start_test_tgt
start_test_pg
ensure_deps
build
log "jest (multi)"
npx --no-install jest --ci --selectProjects multi "$@"
