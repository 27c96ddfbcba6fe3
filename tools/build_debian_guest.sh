#!/usr/bin/env bash
# Builds the real Debian 12 guest the e2e suite boots to test Saveoops on a
# stock Debian system (systemd, udev, initramfs-tools, Debian's own kernel and
# initrd), from Debian's archive with mmdebstrap, without loop mounts: the
# root filesystem becomes an ext4 image with `mke2fs -d`, placed as partition
# 1 of a GPT disk that sfdisk writes.
#
# The result goes to a cache folder outside the clone, keyed by the inputs
# (this script, the suites and the package list), so a machine builds it once
# and every later run reuses it:
#   $SAVEOOPS_DEBIAN_GUEST_CACHE (default /var/cache/saveoops-debian-guest)/
#     <key>/disk.img          GPT disk, partition 1 = the ext4 root fs
#     <key>/vmlinuz, initrd.img   the guest's own /boot kernel and initrd
#     <key>/guest.env         RELEASE, ROOT_PARTUUID, FS_UUID, PART_START
#     <key>/.complete         written last
#     current -> <key>
# Run by tools/setup.sh; by hand: tools/build_debian_guest.sh [--print-dir].
# About 8-12 minutes on 2 cores the first time (mostly dpkg inside the chroot,
# then one boot that installs GRUB).
#
# The disk boots two ways: from SeaBIOS through GRUB (installed by
# grub-install inside the guest at its first boot; /boot/grub/grub.cfg is
# update-grub's), or with QEMU's direct kernel boot (-kernel/-initrd, root=
# PARTUUID=...). At boot its unit saveoops-e2e.service runs /run/e2e/step.sh
# from the disk labelled SVOOPSE2E (a FAT image a test makes with mtools), its
# output on the serial console, so a test drives the guest without a network.
# initramfs-tools is set to MODULES=dep (conf.d/saveoops-e2e): the default
# `most` makes each update-initramfs take 13 min under TCG.
set -euo pipefail

SUITE=bookworm
ARCHIVE=${SAVEOOPS_DEBIAN_ARCHIVE:-http://deb.debian.org/debian}
SECURITY=${SAVEOOPS_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
# zstd: initramfs-tools' default compressor (a standard install has it
# through Recommends). grub-pc-bin + grub2-common: GRUB for BIOS, installed on
# the disk at the guest's first boot below (grub-pc itself would ask debconf
# for an install device the chroot does not have).
INCLUDE=systemd-sysv,udev,kmod,initramfs-tools,linux-image-amd64,e2fsprogs,util-linux,dosfstools,zstd,grub-pc-bin,grub2-common
IMAGE_MIB=2048
CACHE=${SAVEOOPS_DEBIAN_GUEST_CACHE:-/var/cache/saveoops-debian-guest}

if [ "${1:-}" = "--help" ]; then
  sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

key=$( (cat "$0"; echo "$SUITE $ARCHIVE $SECURITY $INCLUDE $IMAGE_MIB") | sha256sum | cut -c1-16)
dir=$CACHE/$SUITE-$key
if [ "${1:-}" = "--print-dir" ]; then
  echo "$dir"
  exit 0
fi
if [ -f "$dir/.complete" ]; then
  echo "debian-guest: $SUITE guest already built in $dir"
  $SUDO ln -sfn "$SUITE-$key" "$CACHE/current"
  exit 0
fi

say() { echo "debian-guest [$(date +%T)]: $*"; }
need() { command -v "$1" >/dev/null || { echo "debian-guest: $1 missing: run tools/setup.sh" >&2; exit 1; }; }
need mmdebstrap
need mke2fs
need sfdisk

$SUDO mkdir -p "$CACHE"
$SUDO chmod 0755 "$CACHE"
work=$($SUDO mktemp -d "$CACHE/build.XXXXXX")
cleanup() { $SUDO rm -rf "$work"; }
trap cleanup EXIT
log=$work/mmdebstrap.log

say "mmdebstrap $SUITE ($INCLUDE) into $work/root; log $log"
start=$(date +%s)
# The guest's userspace: a stock Debian 12 with its security and point
# updates, so its kernel is the one an updated machine runs.
if ! $SUDO nice -n 10 mmdebstrap --mode=root --variant=apt --include="$INCLUDE" \
    --customize-hook='chroot "$1" passwd -d root' \
    --customize-hook='echo saveoops-guest > "$1/etc/hostname"' \
    --customize-hook='printf "%s\n" "# Saveoops e2e guest: initrds of the modules this VM uses (MODULES=most" "# takes 13 min per update-initramfs under TCG, dep 1 min)." MODULES=dep > "$1/etc/initramfs-tools/conf.d/saveoops-e2e"' \
    "$SUITE" "$work/root" \
    "deb $ARCHIVE $SUITE main" \
    "deb $ARCHIVE $SUITE-updates main" \
    "deb $SECURITY $SUITE-security main" >"$log" 2>&1; then
  echo "debian-guest: mmdebstrap failed; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
say "rootfs built in $(($(date +%s) - start)) s ($($SUDO du -sh "$work/root" | cut -f1))"

root=$work/root
kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)
release=${kernel##*/vmlinuz-}
[ -f "$root/boot/initrd.img-$release" ] || { echo "debian-guest: no initrd for $release" >&2; exit 1; }

fs_uuid=$(cat /proc/sys/kernel/random/uuid)
part_uuid=$(cat /proc/sys/kernel/random/uuid)
disk_uuid=$(cat /proc/sys/kernel/random/uuid)
$SUDO tee "$root/etc/fstab" >/dev/null <<EOF
UUID=$fs_uuid / ext4 errors=remount-ro 0 1
EOF

# The e2e hook: run the step a test put on its FAT disk, once per boot.
$SUDO tee "$root/etc/systemd/system/saveoops-e2e.service" >/dev/null <<'EOF'
[Unit]
Description=Saveoops e2e step from the SVOOPSE2E disk
After=multi-user.target
ConditionPathExists=/dev/disk/by-label/SVOOPSE2E

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p /run/e2e && mount -o ro /dev/disk/by-label/SVOOPSE2E /run/e2e && exec /bin/sh /run/e2e/step.sh'
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
EOF
$SUDO ln -sf /etc/systemd/system/saveoops-e2e.service \
  "$root/etc/systemd/system/multi-user.target.wants/saveoops-e2e.service"

# GPT: partition 1 (the root fs) from 1 MiB; partition 2, the last MiB
# before the backup table, is GRUB's BIOS boot partition (its core.img).
part_start=2048
part_sectors=$(((IMAGE_MIB - 3) * 2048))
bios_start=$((part_start + part_sectors))
fs_img=$work/root.ext4
say "ext4 root filesystem ($((part_sectors / 2048)) MiB) with mke2fs -d"
$SUDO mke2fs -q -t ext4 -F -U "$fs_uuid" -L saveoops-root -d "$root" "$fs_img" "$((part_sectors / 2))k"
disk=$work/disk.img
truncate -s "${IMAGE_MIB}M" "$disk"
$SUDO sfdisk -q "$disk" <<EOF
label: gpt
label-id: $disk_uuid
start=$part_start, size=$part_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$part_uuid, name=root
start=$bios_start, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=bios-grub
EOF
dd if="$fs_img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
$SUDO rm -f "$fs_img"

$SUDO cp "$kernel" "$work/vmlinuz"
$SUDO cp "$root/boot/initrd.img-$release" "$work/initrd.img"

# First boot (direct kernel boot): install GRUB on the disk as a BIOS install
# does (grub-install /dev/vda, update-grub), so SeaBIOS boots the disk alone.
# GRUB and the kernel speak on the serial line; the menu waits 1 s.
say "first boot: grub-install and update-grub inside the guest"
$SUDO tee "$work/finish.sh" >/dev/null <<'FINISH'
exec >/dev/console 2>&1
set -e
cp /usr/share/grub/default/grub /etc/default/grub
sed -i 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/; s/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="loglevel=6"/; s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0 panic=1"/' /etc/default/grub
printf '%s\n' 'GRUB_TERMINAL=serial' 'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"' >>/etc/default/grub
grub-install --target=i386-pc /dev/vda
update-grub
sync
echo "GUEST-FINISH: ok"
systemctl poweroff
FINISH
$SUDO /sbin/mkfs.vfat -C -n SVOOPSE2E "$work/finish.img" 65536 >/dev/null
$SUDO mcopy -i "$work/finish.img" "$work/finish.sh" ::step.sh
if ! $SUDO timeout -k 5 900 nice -n 10 qemu-system-x86_64 -accel tcg -machine pc -cpu qemu64 \
    -m 1G -smp 1 -kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
    -append "root=PARTUUID=$part_uuid ro console=ttyS0 panic=1" \
    -drive "file=$disk,format=raw,if=virtio" -drive "file=$work/finish.img,format=raw,if=virtio" \
    -display none -monitor none -serial "file:$work/finish.log" -no-reboot -nodefaults \
    </dev/null || ! grep -q "GUEST-FINISH: ok" "$work/finish.log"; then
  echo "debian-guest: the first boot did not install GRUB; last lines of its serial log:" >&2
  tail -n 30 "$work/finish.log" >&2
  exit 1
fi
$SUDO rm -f "$work/finish.img" "$work/finish.sh" "$work/finish.log"
$SUDO tee "$work/guest.env" >/dev/null <<EOF
RELEASE=$release
ROOT_PARTUUID=$part_uuid
FS_UUID=$fs_uuid
DISK_UUID=$disk_uuid
PART_START_SECTOR=$part_start
EOF
$SUDO rm -rf "$root" "$log"
$SUDO chmod 0755 "$work"
$SUDO chmod 0644 "$work"/disk.img "$work"/vmlinuz "$work"/initrd.img "$work"/guest.env
$SUDO rm -rf "$dir"
$SUDO mv "$work" "$dir"
trap - EXIT
$SUDO touch "$dir/.complete"
$SUDO ln -sfn "$SUITE-$key" "$CACHE/current"
say "guest built in $(($(date +%s) - start)) s: $dir (kernel $release)"
