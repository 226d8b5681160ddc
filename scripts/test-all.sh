#!/usr/bin/env bash
# Runs every check and every test of the project, from a fresh clone on a fresh Debian machine:
# installs what is missing (Node.js, Ceph, tgt, PostgreSQL, Chromium, npm packages), starts a throw-away single-node
# Ceph, a tgtd and a PostgreSQL,
# type-checks, checks formatting and lint (the layering rules of eslint.config.mjs), builds, checks the committed
# OpenAPI document (up to date, and clean under Redocly's recommended-strict rules) and the SDK generated from it,
# and runs all jest projects (unit, app on SQLite and on PostgreSQL, e2e, integration, faults,
# boot, browser and the binding's).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/boot-lib.sh

ensure_node
# Ceph first: the librbd binding builds against librbd-dev during the npm install
log "local Ceph for the integration tests"
start_test_ceph
log "local tgtd for the integration tests"
start_test_tgt
log "local PostgreSQL for the tests on PostgreSQL"
start_test_pg
log "provisioning network and golden image for the boot tests"
start_boot_env
log "Chromium for the browser tests"
ensure_chromium
ensure_deps

log "type-check, format and lint"
npx --no-install tsc --noEmit -p tsconfig.test.json
npx --no-install prettier --check --log-level warn "src/**/*.ts" "test/**/*.ts" "bench/**/*.ts"
npx --no-install eslint --max-warnings 0 src test bench tools
build
log "OpenAPI document: up to date and lint-clean"
node dist/bin/sync-openapi.js --check
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no-install redocly lint --format stylish openapi/openapi.json
log "SDK: generated from the committed document"
sdk_out=$(mktemp -d)
(cd packages/client && BMI_SDK_OUT="$sdk_out" ../../node_modules/.bin/openapi-ts > /dev/null)
if ! diff -r "$sdk_out" packages/client/src/generated > /dev/null; then
  echo "packages/client/src/generated is stale: run \"npm run sdk:generate\" and commit the result" >&2
  rm -rf "$sdk_out"
  exit 1
fi
rm -rf "$sdk_out"

log "jest"
# Two runs by default: the tiers that run in-process on fakes (and their own databases, temp dirs and ports)
# two test files at a time, then the tiers that share the one Ceph, tgtd and QEMU network one file at a time
# (their timings and their kills of BMI processes must not compete for the two cores). Arguments given to
# this script make one run of jest with them instead.
status=0
passed=0
failed=0
skipped=0
run_jest() {
  local results
  results=$(mktemp)
  npx --no-install jest --ci --json --outputFile="$results" "$@" || status=$?
  if [ -s "$results" ]; then
    read -r p f s < <(node -e '
      try {
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        console.log(r.numPassedTests, r.numFailedTests, r.numPendingTests);
      } catch {
        console.log(0, 1, 0); // results that cannot be read count as a failure
      }
    ' "$results") || { p=0 f=1 s=0; }
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  else
    # jest wrote no results
    failed=$((failed + 1)) status=1
  fi
  rm -f "$results"
}
if [ $# -gt 0 ]; then
  run_jest "$@"
else
  in_process=(unit app app-pg e2e)
  shared_parts=(integration multi faults boot browser rbd-unit rbd-integration)
  # a jest project in neither list would never run
  node -e '
    const names = require("./jest.config.js").projects.map((p) => p.displayName);
    const missing = names.filter((n) => !process.argv.slice(1).includes(n));
    if (missing.length) { console.error(`jest projects in no run of scripts/test-all.sh: ${missing}`); process.exit(1); }
  ' "${in_process[@]}" "${shared_parts[@]}"
  run_jest --selectProjects "${in_process[@]}" --maxWorkers=2
  run_jest --selectProjects "${shared_parts[@]}" --maxWorkers=1
fi
# One closing line in the plain "N passed, N failed" form, read by CI.
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
