#!/usr/bin/env bash
# A tiny golden disk image for BMI's boot tests, built from Debian packages with no loop device and no mount:
# one bootable FAT16 partition holding a Debian kernel, a busybox initramfs, syslinux (BIOS) and systemd-boot
# (UEFI), so the same disk boots on both. The initramfs /init prints a marker on ttyS0 and powers off, which
# makes QEMU exit:
#   BMI-BOOT-OK fw=<bios|efi> kernel=<release> uptime=<s>s cmdline=[...]
#
#   scripts/build-golden.sh [--rw] [--size MiB] [--no-uefi] OUT.img
#
#   --rw       after the marker, /init logs in to its own disk over iSCSI (target, portal and network from the
#              iBFT that iPXE leaves with `sanboot --keep`; iscsistart), mounts its FAT partition read-write,
#              prints the file BMI-NOTE.TXT if present, writes it anew, unmounts and prints
#              BMI-DISKLESS-OK target=<iqn> boots=<n> read=[<previous note>] wrote=[<note>]
#              so a test can write on one node, snapshot, and read on a node booted from the snapshot.
#   --size     disk size (default 64); --no-uefi leaves systemd-boot out.
#
# Installs what it needs (apt). The kernel package is downloaded (not installed) into the cache directory
# $BMI_BOOT_CACHE (default var/cache/boot) and reused. Prints nothing on stdout; OUT.img is written atomically.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

RW=0 SIZE=64 UEFI=1 OUT=
while [ $# -gt 0 ]; do
  case "$1" in
    --rw) RW=1 ;;
    --size) SIZE=${2:?--size needs a number}; shift ;;
    --no-uefi) UEFI=0 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$OUT" ] || die "one output file only"; OUT=$1 ;;
  esac
  shift
done
[ -n "$OUT" ] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ "$SIZE" =~ ^[0-9]+$ ]] && [ "$SIZE" -ge 16 ] || die "--size must be 16 (MiB) or more"

apt_install busybox-static cpio dosfstools mtools syslinux syslinux-common parted
[ "$UEFI" = 1 ] && apt_install systemd-boot-efi
[ "$RW" = 1 ] && apt_install open-iscsi

CACHE=$(realpath -m "${BMI_BOOT_CACHE:-$here/../var/cache/boot}")
mkdir -p "$CACHE"
started=$SECONDS

# The kernel: the current Debian kernel package, downloaded once; only vmlinuz and a few modules are used.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$kpkg" ] || die "cannot tell which kernel package linux-image-amd64 depends on (apt-get update?)"
kdeb=$(ls "$CACHE/${kpkg}"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$kdeb" ]; then
  log "downloading $kpkg"
  (cd "$CACHE" && apt-get download -q "$kpkg" 2>&1 | grep -v 'unsandboxed' >&2) || true
  kdeb=$(ls "$CACHE/${kpkg}"_*.deb 2>/dev/null | head -1 || true)
  [ -n "$kdeb" ] || die "apt-get download $kpkg failed"
fi
kver=${kpkg#linux-image-}

work=$(mktemp -d "${TMPDIR:-/tmp}/bmi-golden.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work" --wildcards "./boot/vmlinuz-$kver" \
  "./lib/modules/$kver/kernel/drivers/*" "./lib/modules/$kver/kernel/crypto/*" "./lib/modules/$kver/kernel/lib/*" \
  "./lib/modules/$kver/kernel/fs/fat/*" "./lib/modules/$kver/kernel/net/*" "./lib/modules/$kver/kernel/block/*" "./lib/modules/$kver/kernel/fs/nls/*" "./lib/modules/$kver/modules.builtin" \
  "./lib/modules/$kver/modules.order"

# --- the initramfs ---
root=$work/initramfs
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,mnt,tmp,lib,lib64}
cp /bin/busybox "$root/bin/busybox"
for applet in $(busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done

if [ "$RW" = 1 ]; then
  # kernel modules for the diskless login, with what they depend on (crc32c_generic: iscsi_tcp's digests)
  mods=$work/lib/modules/$kver
  want="e1000 virtio_net virtio_pci crc32c_generic crct10dif_generic iscsi_ibft iscsi_tcp sd_mod vfat nls_cp437 nls_ascii nls_iso8859-1"
  find_ko() { find "$mods/kernel" -name "$(echo "$1" | sed 's/[-_]/[-_]/g').ko" | head -1; }
  declare -A seen=()
  order=()
  add_mod() {
    local name=$1 ko dep
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    if grep -qE "/${name//[-_]/[-_]}\.ko$" "$mods/modules.builtin"; then return 0; fi
    ko=$(find_ko "$name")
    [ -n "$ko" ] || die "kernel module $name not found in $kpkg"
    for dep in $(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do add_mod "$dep"; done
    mkdir -p "$root/lib/modules/$kver"
    cp "$ko" "$root/lib/modules/$kver/"
    order+=("$(basename "$ko")")
  }
  for m in $want; do add_mod "$m"; done
  printf '%s\n' "${order[@]}" >"$root/etc/modules.order"
  log "initramfs modules: ${order[*]}"
  # iscsistart and its shared libraries
  cp /usr/sbin/iscsistart "$root/sbin/"
  for lib in $(ldd /usr/sbin/iscsistart | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
fi

cat >"$root/init" <<'INIT'
#!/bin/sh
# /init of BMI's test golden image (scripts/build-golden.sh)
PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "$*" >/dev/ttyS0; }
fw=bios
grep -q 'bmi.fw=efi' /proc/cmdline && fw=efi
say "BMI-BOOT-OK fw=$fw kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)s cmdline=[$(cat /proc/cmdline)]"
if [ -f /etc/modules.order ]; then
  fail() { say "BMI-DISKLESS-FAILED $*"; dmesg | tail -n 30 >/dev/ttyS0; poweroff -f; }
  kver=$(uname -r)
  while read -r ko; do insmod "/lib/modules/$kver/$ko" 2>/dev/null; done </etc/modules.order
  ibft=/sys/firmware/ibft
  i=0
  while [ ! -e $ibft/target0/target-name ]; do
    i=$((i + 1)); [ $i -gt 50 ] && fail "no iBFT (was the disk booted with sanboot --keep?)"; sleep 0.1
  done
  target=$(cat $ibft/target0/target-name)
  i=0
  until iscsistart -N >/tmp/net.log 2>&1; do
    i=$((i + 1)); [ $i -gt 20 ] && fail "iscsistart -N: $(cat /tmp/net.log)"; sleep 0.25
  done
  iscsistart -b >/tmp/login.log 2>&1 || fail "iscsistart -b: $(cat /tmp/login.log)"
  i=0
  until [ -b /dev/sda1 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "no /dev/sda1 after the login"; sleep 0.1
  done
  mount -t vfat -o rw /dev/sda1 /mnt || fail "cannot mount /dev/sda1"
  read_note=$(cat /mnt/BMI-NOTE.TXT 2>/dev/null | head -1)
  boots=$(($(cat /mnt/BOOTS.TXT 2>/dev/null || echo 0) + 1))
  echo "$boots" >/mnt/BOOTS.TXT
  note="written-by=$target boot=$boots"
  echo "$note" >/mnt/BMI-NOTE.TXT
  sync
  umount /mnt || fail "cannot unmount /dev/sda1"
  sync
  say "BMI-DISKLESS-OK target=$target boots=$boots read=[$read_note] wrote=[$note]"
fi
poweroff -f
INIT
chmod 0755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.img"

# --- the FAT partition, built as a file ---
part_mib=$((SIZE - 1))
part=$work/part.img
truncate -s "${part_mib}M" "$part"
mkfs.vfat -F 16 -n BMIGOLDEN "$part" >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -i "$part" "$work/boot/vmlinuz-$kver" ::/vmlinuz
mcopy -i "$part" "$work/initrd.img" ::/initrd.img
cmdline="console=ttyS0,115200 quiet panic=-1"
printf 'DEFAULT golden\nPROMPT 0\nTIMEOUT 1\nLABEL golden\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND %s bmi.fw=bios\n' \
  "$cmdline" >"$work/syslinux.cfg"
mcopy -i "$part" "$work/syslinux.cfg" ::/syslinux.cfg
syslinux --install "$part"
if [ "$UEFI" = 1 ]; then
  mmd -i "$part" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
  mcopy -i "$part" /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::/EFI/BOOT/BOOTX64.EFI
  printf 'default golden.conf\ntimeout 0\n' >"$work/loader.conf"
  printf 'title BMI golden\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s bmi.fw=efi\n' "$cmdline" >"$work/golden.conf"
  mcopy -i "$part" "$work/loader.conf" ::/loader/loader.conf
  mcopy -i "$part" "$work/golden.conf" ::/loader/entries/golden.conf
fi

# --- the disk: MBR boot code, an msdos label with one bootable partition at 1 MiB, the partition spliced in ---
disk=$work/disk.img
truncate -s "${SIZE}M" "$disk"
parted -s "$disk" mklabel msdos mkpart primary fat16 1MiB 100% set 1 boot on
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$part" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
mkdir -p "$(dirname "$(realpath -m "$OUT")")"
mv "$disk" "$OUT.tmp.$$"
mv "$OUT.tmp.$$" "$OUT"
log "golden image $OUT: ${SIZE} MiB, kernel $kver, $([ "$RW" = 1 ] && echo 'diskless read-write' || echo 'marker only')$([ "$UEFI" = 1 ] && echo ', BIOS and UEFI' || echo ', BIOS'), $((SECONDS - started))s"
