# The boot tests' environment (test/boot, `npm run test:boot`, part of `npm test`). Sourced after scripts/lib.sh.
# shellcheck shell=bash

# A provisioning network for the boot tests (scripts/boot-netns.sh: a network namespace with a bridge, dnsmasq,
# a tgtd of its own and the forwarder to the host's Ceph and to BMI) and the golden image they boot, built once
# into var/cache/boot and reused while build-golden.sh and the kernel package are unchanged. Needs CEPH_* (call
# start_test_ceph first); everything it starts is stopped, and the namespace deleted, when the calling shell
# exits, before the test Ceph. Exports the BOOT_* settings of boot-netns.sh and BOOT_GOLDEN (the image file).
start_boot_env() {
  [ -n "${CEPH_CONF:-}" ] || die "start_boot_env needs the test Ceph (start_test_ceph) first"
  local dir env cache stamp
  cache=$(realpath -m "${BMI_BOOT_CACHE:-var/cache/boot}")
  mkdir -p "$cache"
  stamp=$(cat scripts/build-golden.sh | sha256sum | cut -c1-12)
  BOOT_GOLDEN="$cache/golden-rw-$stamp.img"
  if [ ! -f "$BOOT_GOLDEN" ]; then
    rm -f "$cache"/golden-rw-*.img
    BMI_BOOT_CACHE=$cache scripts/build-golden.sh --rw "$BOOT_GOLDEN"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bmi-boot-test.XXXXXX")
  on_exit "scripts/boot-netns.sh purge '$dir' >/dev/null 2>&1 || true"
  env=$(BOOT_NETNS='' scripts/boot-netns.sh up "$dir")
  eval "$env"
  export BOOT_GOLDEN BOOT_DIR BOOT_NETNS BOOT_BRIDGE_IP BOOT_HTTP_URL BOOT_HTTP_UPSTREAM BOOT_TFTP_ROOT BOOT_LEASES \
    BOOT_TGT_CONTROL_PORT BOOT_TGT_PORTAL
}
