#!/usr/bin/env bash
# Brings BMI up on this machine: installs what it needs, builds, and serves the API in the foreground.
#   bash scripts/up.sh              # with $BMI_CONFIG, or the laptop config (in-memory drivers) when unset
# The API is then at http://127.0.0.1:8000, Swagger UI at /docs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_node
ensure_deps
build

export BMI_CONFIG="${BMI_CONFIG:-$PWD/config/laptop.cfg}"
log "config: $BMI_CONFIG"
exec node dist/main.js
