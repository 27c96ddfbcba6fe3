#!/usr/bin/env bash
# End-to-end on a real Debian 12 system: the guest tools/build_debian_guest.sh
# builds (systemd as PID 1, udev, initramfs-tools, Debian's kernel and its own
# initrd), not a test initramfs of ours.
#
# Usage (from Bazel): debian_guest.sh --case=NAME
#   --case=debian12_boot     the guest boots its own kernel and initrd to
#                            systemd and runs the e2e step: proves the guest.
#   --case=debian12_kexec_install
#       boot 1: install.sh of `pack --backend=kexec` installs Saveoops on the
#               guest (binary, bundle, saveoops-arm.service, the initramfs-tools
#               hook, update-initramfs), then powers off;
#       boot 2: the guest boots the initrd update-initramfs rebuilt, with the
#               crashkernel= pack printed; the initramfs-tools init-bottom script
#               and saveoops-arm.service arm; the step panics the kernel; the
#               capture kernel writes the record to the store disk.
#       On the host `saveoops show` finds the panic in the store.
#   --case=debian12_deb_install
#       boot 1: `apt-get install ./saveoops_*.deb` (pack --format=deb): postinst
#               makes the store file, the bundle, crashkernel= for GRUB
#               (update-grub), initramfs-tools' trigger the initrd;
#       boots 2+: SeaBIOS and the guest's GRUB boot the disk; armed at boot;
#               a panic; the capture kernel writes the store file and
#               reboots; the next boot collects into /var/lib/saveoops and
#               the journal, and powers off.
#   --case=debian12_kernel_upgrade
#       the same, with a newer kernel package (bookworm-backports') installed
#       after the .deb in boot 1: Saveoops' kernel hook builds its bundle and
#       recomputes crashkernel=, GRUB boots it, its panic is captured.
# The guest drives itself: a FAT disk labelled SVOOPSE2E holds step.sh, which
# the image's saveoops-e2e.service runs at each boot (output on the serial
# console). No network, no loop mounts: debugfs reads the guest's files.
set -euo pipefail

CASE=debian12_boot
for arg in "$@"; do
  case "$arg" in
    --case=*) CASE=${arg#*=} ;;
    *) echo "debian_guest: unknown argument $arg" >&2; exit 2 ;;
  esac
done

RUNFILES=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-saveoops}
. "$RUNFILES/e2e/lib.sh"
. "$RUNFILES/e2e/debian_lib.sh"

case "$CASE" in
  debian12_boot)
    cat >"$WORK/step.sh" <<'EOF'
# The serial getty hangs up /dev/ttyS0 (vhangup) when it starts: write to
# /dev/console, which that does not revoke.
exec >/dev/console 2>&1
echo "E2E: kernel $(uname -r)"
echo "E2E: pid1 $(readlink /proc/1/exe)"
echo "E2E: root $(findmnt -n -o SOURCE,FSTYPE /)"
echo "E2E: failed units: $(systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"
echo "E2E: step done"
systemctl poweroff
EOF
    make_step_disk "$WORK/step.img" "$WORK/step.sh"
    boot_guest first "$GUEST_KERNEL" "$GUEST_INITRD" "$BASE_APPEND"
    grep -q "E2E: step done" "$SERIAL" || fail "the guest never ran its e2e step"
    grep -q "E2E: kernel $RELEASE" "$SERIAL" || fail "the guest did not run its own kernel $RELEASE"
    grep -q "E2E: pid1 /usr/lib/systemd/systemd" "$SERIAL" || fail "PID 1 is not systemd"
    grep -q "E2E: root /dev/vda1 ext4" "$SERIAL" || fail "the root filesystem is not /dev/vda1 ext4"
    failed=$(sed -n 's/.*E2E: failed units: //p' "$SERIAL" | tr -d '\r' | xargs)
    [ -z "$failed" ] || fail "units failed at boot: $failed"
    step "PASS: Debian $RELEASE booted its own initrd to systemd, no failed units"
    ;;

  debian12_kexec_install)
    step "pack --backend=kexec"
    "$PACK" --backend=kexec --out="$WORK/pack" --kernel="$KERNEL" >"$OUT/pack-$CASE.log" 2>&1 ||
      fail "pack failed: $(tail -n 5 "$OUT/pack-$CASE.log")"
    CRASHKERNEL=$(sed -n 's/^crashkernel=\([0-9]*\)M$/\1/p' "$WORK/pack/crashkernel.txt")
    [ -n "$CRASHKERNEL" ] || fail "pack wrote no crashkernel.txt"
    STORE=$WORK/store.img
    "$SAVEOOPS" store format --store="$STORE" --size=16M >/dev/null
    STORE_ARGS=(-drive "file=$STORE,format=raw,if=virtio")

    # Boot 1: install as a user would, from a root-owned copy of the pack.
    cat >"$WORK/step.sh" <<'EOF'
# The serial getty hangs up /dev/ttyS0 (vhangup) when it starts: write to
# /dev/console, which that does not revoke.
exec >/dev/console 2>&1
set -e
rm -rf /root/saveoops-kexec
cp -r /run/e2e/pack /root/saveoops-kexec
chmod -R go-w /root/saveoops-kexec
chown -R root:root /root/saveoops-kexec
echo "E2E: install.sh begins"
start=$(date +%s)
/root/saveoops-kexec/install.sh
echo "E2E: install.sh took $(($(date +%s) - start)) s"
# The store disk and the capture action, as a user sets them.
sed -i 's|^#store=.*|store=/dev/vdc|; s|^#capture_action=.*|capture_action=poweroff|' \
  /etc/saveoops/saveoops.conf
grep -v '^#' /etc/saveoops/saveoops.conf | sed 's/^/E2E conf: /'
echo "E2E: arm unit $(systemctl is-enabled saveoops-arm.service)"
echo "E2E: collect unit $(systemctl is-enabled saveoops-collect.service)"
echo "E2E: hook in initrd $(lsinitramfs /boot/initrd.img-$(uname -r) | grep -c 'sbin/saveoops$')"
sync
echo "E2E: step done"
systemctl poweroff
EOF
    make_step_disk "$WORK/step.img" "$WORK/step.sh" "$WORK/pack"
    boot_guest install "$GUEST_KERNEL" "$GUEST_INITRD" "$BASE_APPEND" "${STORE_ARGS[@]}"
    grep -q "E2E: step done" "$SERIAL" || fail "install.sh did not complete in the guest"
    grep -q "E2E: arm unit enabled" "$SERIAL" || fail "saveoops-arm.service is not enabled"
    grep -q "E2E: hook in initrd 1" "$SERIAL" ||
      fail "update-initramfs did not put saveoops into the guest's initrd"

    # The initrd update-initramfs rebuilt, read out of the guest's root fs.
    /usr/sbin/debugfs -R "dump /boot/initrd.img-$RELEASE $WORK/initrd-installed.img" "$ROOTFS" 2>/dev/null
    [ -s "$WORK/initrd-installed.img" ] || fail "cannot read the guest's rebuilt initrd"

    # Boot 2: armed at boot (with the configured store and capture action),
    # then a panic.
    cat >"$WORK/step.sh" <<'EOF'
# The serial getty hangs up /dev/ttyS0 (vhangup) when it starts: write to
# /dev/console, which that does not revoke.
exec >/dev/console 2>&1
echo "E2E: arm unit $(systemctl is-active saveoops-arm.service)"
journalctl -b -u saveoops-arm.service --no-pager -o cat | sed 's/^/E2E arm: /'
echo "E2E: kexec_crash_loaded $(cat /sys/kernel/kexec_crash_loaded)"
echo "E2E: boot id $(cat /proc/sys/kernel/random/boot_id)"
echo "E2E: triggering panic"
sync
echo c > /proc/sysrq-trigger
EOF
    make_step_disk "$WORK/step.img" "$WORK/step.sh"
    boot_guest panic "$GUEST_KERNEL" "$WORK/initrd-installed.img" \
      "$BASE_APPEND crashkernel=${CRASHKERNEL}M" "${STORE_ARGS[@]}"
    grep -q "E2E: arm unit active" "$SERIAL" || fail "saveoops-arm.service did not arm at boot"
    grep -q "E2E arm: saveoops arm: store /dev/vdc (store= of /etc/saveoops/saveoops.conf)" \
      "$SERIAL" || fail "arm did not take the store from /etc/saveoops/saveoops.conf"
    grep -q "E2E arm: saveoops arm: capture action poweroff" "$SERIAL" ||
      fail "arm did not take capture_action= from the config"
    grep -q "E2E: kexec_crash_loaded 1" "$SERIAL" || fail "no capture kernel loaded at the panic"
    grep -q "E2E: triggering panic" "$SERIAL" || fail "the guest never reached the panic"
    CRASHED_BOOT=$(sed -n 's/.*E2E: boot id \([0-9a-f-]*\).*/\1/p' "$SERIAL" | head -n 1)
    grep -q "saveoops purgatory: verified" "$SERIAL" || fail "purgatory did not verify the segments"
    grep -q "saveoops-capture: store UUID .* matches the armed store" "$SERIAL" ||
      fail "the capture did not find the armed store"
    grep -q "reboot: Power down" "$SERIAL" ||
      fail "the capture kernel did not power off (capture_action=poweroff)"
    "$SAVEOOPS" show --store="$STORE" >"$OUT/record-$CASE.txt" 2>&1 ||
      fail "saveoops show found no record: $(tail -n 3 "$OUT/record-$CASE.txt")"
    RECORD=$OUT/record-$CASE.txt
    grep -q "Kernel panic - not syncing: sysrq triggered crash" "$RECORD" ||
      fail "record lacks the panic line"
    grep -q "sysrq_handle_crash" "$RECORD" || fail "record lacks the sysrq_handle_crash frame"
    grep -q "release: $RELEASE" "$RECORD" || fail "record's kernel release is not $RELEASE"
    grep -q "systemd" "$RECORD" || fail "record's log does not show the guest's systemd boot"
    SIGNATURE=$(grep -o "Signature: *[0-9a-f]\{16\}" "$RECORD" | head -n 1 | awk '{print $2}')
    step "captured; signature ${SIGNATURE:-?}"

    # Boot 3: saveoops-collect.service moves the record into
    # /var/lib/saveoops/records and into the real journald.
    cat >"$WORK/step.sh" <<'EOF'
exec >/dev/console 2>&1
echo "E2E: collect unit $(systemctl show -p Result --value saveoops-collect.service)"
journalctl -b -u saveoops-collect.service --no-pager -o cat | sed 's/^/E2E collect: /'
for d in /var/lib/saveoops/records/*/; do
  echo "E2E: record dir $(stat -c %a "$d") $(basename "$d")"
  for f in "$d"dmesg.txt "$d"record.json; do echo "E2E: record file $(stat -c %a "$f") ${f##*/}"; done
  grep -c "sysrq triggered crash" "$d"dmesg.txt | sed 's/^/E2E: panic lines in dmesg.txt /'
done
journalctl MESSAGE_ID=0a5408bae23243a592f789604e67cc94 --no-pager -o verbose |
  grep -E '^ *(PRIORITY|SAVEOOPS_SIGNATURE|KERNEL_RELEASE|SAVEOOPS_SEQ|SAVEOOPS_BOOT_ID|MESSAGE)=' |
  sed 's/^ */E2E journal: /'
echo "E2E: step done"
systemctl poweroff
EOF
    make_step_disk "$WORK/step.img" "$WORK/step.sh"
    boot_guest collect "$GUEST_KERNEL" "$WORK/initrd-installed.img" \
      "$BASE_APPEND crashkernel=${CRASHKERNEL}M" "${STORE_ARGS[@]}"
    grep -q "E2E: step done" "$SERIAL" || fail "the collect boot never ran its step"
    grep -q "E2E: collect unit success" "$SERIAL" || fail "saveoops-collect.service did not succeed"
    grep -q "E2E: record dir 700 [0-9]\{8\}T[0-9]\{6\}Z-" "$SERIAL" ||
      fail "no 0700 record directory <UTC>-<seq> in /var/lib/saveoops/records"
    [ "$(grep -c "E2E: record file 600" "$SERIAL")" -eq 2 ] ||
      fail "dmesg.txt and record.json are not both 0600"
    grep -q "E2E: panic lines in dmesg.txt [1-9]" "$SERIAL" || fail "dmesg.txt lacks the panic line"
    grep -q "E2E journal: PRIORITY=2" "$SERIAL" || fail "no journal entry at priority crit"
    grep -q "E2E journal: KERNEL_RELEASE=$RELEASE" "$SERIAL" ||
      fail "the journal entry lacks KERNEL_RELEASE=$RELEASE"
    if [ -n "$SIGNATURE" ]; then
      grep -q "E2E journal: SAVEOOPS_SIGNATURE=$SIGNATURE" "$SERIAL" ||
        fail "the journal entry's signature is not $SIGNATURE"
    fi
    # arm puts the running boot's id on the capture command line; the record
    # and the journal entry name the boot that panicked.
    [ -n "$CRASHED_BOOT" ] || fail "the guest printed no boot id before the panic"
    grep -qi "E2E journal: SAVEOOPS_BOOT_ID=\($CRASHED_BOOT\|$(echo "$CRASHED_BOOT" | tr -d -)\)" \
      "$SERIAL" || fail "the journal entry's boot id is not the crashed boot's $CRASHED_BOOT"
    step "PASS: installed with install.sh on Debian $RELEASE, armed at boot from saveoops.conf, panic captured, collected at the next boot into /var/lib/saveoops/records and the journal"
    ;;
  debian12_deb_install | debian12_kernel_upgrade)
    # The release the panic boot runs: the guest's own, or after the upgrade
    # the newer kernel package's (GRUB's default is the newest kernel).
    PANIC_RELEASE=$RELEASE
    mkdir -p "$WORK/add"
    if [ "$CASE" = debian12_kernel_upgrade ]; then
      UPGRADE=${SAVEOOPS_KERNEL_CACHE:-/var/cache/saveoops-kernels}/debs/bookworm-backports/current
      [ -f "$UPGRADE/.complete" ] || fail "no upgrade kernel packages in $UPGRADE: run tools/setup.sh"
      NEW_DEB=$(ls "$UPGRADE"/linux-image-*.deb)
      PANIC_RELEASE=$(dpkg-deb -f "$NEW_DEB" Package | sed 's/^linux-image-//')
      mkdir -p "$WORK/add/kernel" && cp "$UPGRADE"/*.deb "$WORK/add/kernel/"
      step "kernel upgrade to $PANIC_RELEASE ($(basename "$NEW_DEB"))"
    fi
    echo "$PANIC_RELEASE" >"$WORK/add/panic-release"
    step "pack --backend=kexec --format=deb"
    "$PACK" --backend=kexec --format=deb --out="$WORK/deb" >"$OUT/pack-$CASE.log" 2>&1 ||
      fail "pack --format=deb failed: $(tail -n 5 "$OUT/pack-$CASE.log")"
    DEB=$(ls "$WORK"/deb/saveoops_*_amd64.deb)
    cp "$DEB" "$WORK/add/"

    # Boot 1: apt installs the package as a user would; postinst runs here.
    cat >"$WORK/step.sh" <<'EOF'
exec >/dev/console 2>&1
echo "E2E: apt-get install begins"
start=$(date +%s)
cp /run/e2e/add/saveoops_*_amd64.deb /root/
if apt-get install -y /root/saveoops_*_amd64.deb </dev/null; then
  echo "E2E: apt-get install ok"
else
  echo "E2E: apt-get install failed"
fi
echo "E2E: install took $(($(date +%s) - start)) s"
# The upgrade case: a newer kernel package, as apt installs one; its
# postinst runs /etc/kernel/postinst.d (Saveoops' hook, initramfs-tools,
# zz-update-grub).
if [ -d /run/e2e/add/kernel ]; then
  cp /run/e2e/add/kernel/*.deb /root/
  echo "E2E: kernel upgrade begins"
  start=$(date +%s)
  # linux-base from backports only if the guest's is older than the kernel needs.
  debs=$(ls /root/linux-image-*.deb)
  dpkg --compare-versions "$(dpkg-query -W -f='${Version}' linux-base)" ge 4.12~ ||
    debs="$(ls /root/linux-base_*.deb) $debs"
  # shellcheck disable=SC2086
  if apt-get install -y $debs </dev/null; then
    echo "E2E: kernel upgrade ok"
  else
    echo "E2E: kernel upgrade failed"
  fi
  echo "E2E: kernel upgrade took $(($(date +%s) - start)) s"
fi
new=$(cat /run/e2e/add/panic-release)
echo "E2E: package $(dpkg-query -W -f='${Status} ${Version}' saveoops)"
echo "E2E: arm unit $(systemctl is-enabled saveoops-arm.service)"
echo "E2E: collect unit $(systemctl is-enabled saveoops-collect.service)"
ls /var/lib/saveoops/bundles | sed 's/^/E2E bundle: /'
stat -c 'E2E: store %a %s %n' /var/lib/saveoops/store
lsattr /var/lib/saveoops/store | sed 's/^/E2E: store attrs /'
sed 's/^/E2E grub.d: /' /etc/default/grub.d/saveoops.cfg
grep -m1 -o 'linux\s.*crashkernel=[0-9]*M' /boot/grub/grub.cfg | sed 's/^/E2E grub.cfg: /'
echo "E2E: bundle in initrd $(lsinitramfs /boot/initrd.img-$new | grep -c "var/lib/saveoops/bundles/$new.bundle")"
sync
echo "E2E: step done"
systemctl poweroff
EOF
    make_step_disk "$WORK/step.img" "$WORK/step.sh" "$WORK/add"
    boot_guest install "$GUEST_KERNEL" "$GUEST_INITRD" "$BASE_APPEND"
    grep -q "E2E: step done" "$SERIAL" || fail "the install step did not complete"
    grep -q "E2E: apt-get install ok" "$SERIAL" || fail "apt-get install of the .deb failed"
    grep -q "E2E: package install ok installed" "$SERIAL" || fail "dpkg does not list saveoops as installed"
    grep -q "saveoops: created the store file /var/lib/saveoops/store (16 MiB)" "$SERIAL" ||
      fail "postinst did not create the store file"
    grep -q "E2E: store 600 16777216 /var/lib/saveoops/store" "$SERIAL" || fail "the store file is not 0600, 16 MiB"
    grep -q "E2E: store attrs ....i" "$SERIAL" || fail "the store file is not immutable"
    grep -q "E2E bundle: $RELEASE.bundle" "$SERIAL" || fail "postinst built no bundle for $RELEASE"
    if [ "$CASE" = debian12_kernel_upgrade ]; then
      grep -q "E2E: kernel upgrade ok" "$SERIAL" || fail "apt-get install of the kernel packages failed"
      grep -q "saveoops: bundle of $PANIC_RELEASE: /var/lib/saveoops/bundles/$PANIC_RELEASE.bundle" "$SERIAL" ||
        fail "the kernel hook built no bundle for $PANIC_RELEASE"
      grep -q "E2E bundle: $PANIC_RELEASE.bundle" "$SERIAL" || fail "no bundle of $PANIC_RELEASE after the upgrade"
      grep -q "crashkernel=[0-9]*M in /etc/default/grub.d/saveoops.cfg (for 2 bundle(s))" "$SERIAL" ||
        fail "the kernel hook did not recompute crashkernel= for both kernels' bundles"
      grep -q "E2E grub.cfg: linux.*/boot/vmlinuz-$PANIC_RELEASE " "$SERIAL" ||
        fail "GRUB's first entry is not the new kernel $PANIC_RELEASE"
      step "kernel upgrade: $(sed -n 's/.*E2E: kernel upgrade took //p' "$SERIAL" | tr -d '\r')"
    fi
    grep -q "capture initramfs: the drivers of /dev/vda1" "$SERIAL" ||
      fail "update-bundles did not take the modules of the store's disk"
    CRASHKERNEL=$(sed -n 's/.*E2E grub.d: GRUB_CMDLINE_LINUX_DEFAULT=.*crashkernel=\([0-9]*\)M.*/\1/p' "$SERIAL" | tr -d '\r')
    [ -n "$CRASHKERNEL" ] || fail "postinst wrote no crashkernel= into /etc/default/grub.d/saveoops.cfg"
    grep -q "E2E grub.cfg: .*crashkernel=${CRASHKERNEL}M" "$SERIAL" ||
      fail "update-grub did not put crashkernel=${CRASHKERNEL}M into /boot/grub/grub.cfg"
    grep -q "E2E: arm unit enabled" "$SERIAL" || fail "saveoops-arm.service is not enabled"
    grep -q "E2E: collect unit enabled" "$SERIAL" || fail "saveoops-collect.service is not enabled"
    grep -q "E2E: bundle in initrd 1" "$SERIAL" ||
      fail "the initrd of $PANIC_RELEASE does not carry its bundle"
    step "installed; crashkernel=${CRASHKERNEL}M ($(sed -n 's/.*E2E: install took //p' "$SERIAL" | tr -d '\r'))"

    # Boots 2-3, one run: SeaBIOS and GRUB boot the disk with the
    # crashkernel= update-grub wrote; the guest panics, the capture kernel
    # writes the store file and reboots; the next boot collects and powers off.
    cat >"$WORK/step.sh" <<'EOF'
exec >/dev/console 2>&1
if [ -z "$(ls /var/lib/saveoops/records 2>/dev/null)" ]; then
  echo "E2E: panic boot: cmdline $(cat /proc/cmdline)"
  echo "E2E: arm unit $(systemctl is-active saveoops-arm.service)"
  journalctl -b -u saveoops-arm.service --no-pager -o cat | sed 's/^/E2E arm: /'
  saveoops status | sed 's/^/E2E status: /'
  echo "E2E: kexec_crash_loaded $(cat /sys/kernel/kexec_crash_loaded)"
  echo "E2E: boot id $(cat /proc/sys/kernel/random/boot_id)"
  echo "E2E: triggering panic"
  sync
  echo c >/proc/sysrq-trigger
  exit 0
fi
echo "E2E: collect boot"
echo "E2E: collect unit $(systemctl show -p Result --value saveoops-collect.service)"
journalctl -b -u saveoops-collect.service --no-pager -o cat | sed 's/^/E2E collect: /'
for d in /var/lib/saveoops/records/*/; do
  echo "E2E: record dir $(stat -c %a "$d") $(basename "$d")"
  for f in "$d"dmesg.txt "$d"record.json; do echo "E2E: record file $(stat -c %a "$f") ${f##*/}"; done
  grep -c "sysrq triggered crash" "$d"dmesg.txt | sed 's/^/E2E: panic lines in dmesg.txt /'
done
journalctl MESSAGE_ID=0a5408bae23243a592f789604e67cc94 --no-pager -o verbose |
  grep -E '^ *(PRIORITY|SAVEOOPS_SIGNATURE|KERNEL_RELEASE|SAVEOOPS_BOOT_ID|MESSAGE)=' |
  sed 's/^ */E2E journal: /'
if [ ! -d /run/e2e/add/kernel ]; then
  # The package's life after the capture: an upgrade (a reinstall) keeps the
  # store and its record; remove keeps them and drops the reservation;
  # purge removes the store and keeps the collected records.
  apt-get install -y --reinstall /root/saveoops_*_amd64.deb </dev/null >/tmp/reinstall.log 2>&1 &&
    echo "E2E: reinstall ok" || echo "E2E: reinstall failed"
  grep -c "created the store file" /tmp/reinstall.log | sed 's/^/E2E: reinstall created the store: /'
  saveoops list --store=/var/lib/saveoops/store 2>&1 | grep -c "sysrq triggered crash" |
    sed 's/^/E2E: records in the store after reinstall: /'
  apt-get remove -y saveoops </dev/null >/tmp/remove.log 2>&1 && echo "E2E: remove ok" || echo "E2E: remove failed"
  sed 's/^/E2E remove: /' /tmp/remove.log | grep "saveoops:"
  echo "E2E: after remove: store $([ -f /var/lib/saveoops/store ] && echo kept || echo gone), records $(ls /var/lib/saveoops/records | wc -l), grub.d $([ -e /etc/default/grub.d/saveoops.cfg ] && echo kept || echo gone), bundles $([ -e /var/lib/saveoops/bundles ] && echo kept || echo gone), crashkernel in grub.cfg $(grep -c crashkernel= /boot/grub/grub.cfg), saveoops in initrd $(lsinitramfs /boot/initrd.img-$(uname -r) | grep -c 'sbin/saveoops$')"
  apt-get purge -y saveoops </dev/null >/tmp/purge.log 2>&1 && echo "E2E: purge ok" || echo "E2E: purge failed"
  sed 's/^/E2E purge: /' /tmp/purge.log | grep "saveoops:"
  echo "E2E: after purge: store $([ -e /var/lib/saveoops/store ] && echo kept || echo gone), records $(ls /var/lib/saveoops/records | wc -l), conf $([ -e /etc/saveoops/saveoops.conf ] && echo kept || echo gone), package $(dpkg-query -W -f='${Status}' saveoops 2>/dev/null || echo none)"
fi
echo "E2E: step done"
systemctl poweroff
EOF
    make_step_disk "$WORK/step.img" "$WORK/step.sh" "$WORK/add"
    boot_disk panic-collect 3
    grep -q "E2E: panic boot: cmdline .*crashkernel=${CRASHKERNEL}M" "$SERIAL" ||
      fail "GRUB did not boot with crashkernel=${CRASHKERNEL}M"
    grep -q "E2E: arm unit active" "$SERIAL" || fail "saveoops-arm.service did not arm at boot"
    grep -q "E2E arm: saveoops arm: store /var/lib/saveoops/store (store= of /etc/saveoops/saveoops.conf)" \
      "$SERIAL" || fail "arm did not take the store file from saveoops.conf"
    grep -q "E2E status: .*armed" "$SERIAL" || fail "saveoops status does not say armed"
    grep -q "E2E: kexec_crash_loaded 1" "$SERIAL" || fail "no capture kernel loaded at the panic"
    CRASHED_BOOT=$(sed -n 's/.*E2E: boot id \([0-9a-f-]*\).*/\1/p' "$SERIAL" | head -n 1)
    grep -q "saveoops purgatory: verified" "$SERIAL" || fail "purgatory did not verify the segments"
    grep -q "saveoops-capture: .*record .* written" "$SERIAL" || fail "the capture wrote no record"
    grep -q "E2E: collect boot" "$SERIAL" || fail "the guest did not reboot into a collect boot"
    grep -q "E2E: step done" "$SERIAL" || fail "the collect boot never finished its step"
    grep -q "E2E: collect unit success" "$SERIAL" || fail "saveoops-collect.service did not succeed"
    grep -q "E2E: record dir 700 [0-9]\{8\}T[0-9]\{6\}Z-" "$SERIAL" ||
      fail "no 0700 record directory in /var/lib/saveoops/records"
    [ "$(grep -c "E2E: record file 600" "$SERIAL")" -eq 2 ] || fail "dmesg.txt and record.json are not both 0600"
    grep -q "E2E: panic lines in dmesg.txt [1-9]" "$SERIAL" || fail "dmesg.txt lacks the panic line"
    grep -q "E2E journal: PRIORITY=2" "$SERIAL" || fail "no journal entry at priority crit"
    grep -q "E2E journal: KERNEL_RELEASE=$PANIC_RELEASE" "$SERIAL" ||
      fail "the journal entry lacks KERNEL_RELEASE=$PANIC_RELEASE"
    grep -q "E2E journal: MESSAGE=.*Kernel panic - not syncing: sysrq triggered crash" "$SERIAL" ||
      fail "the journal entry lacks the panic line"
    grep -q "E2E journal: SAVEOOPS_SIGNATURE=[0-9a-f]\{16\}" "$SERIAL" || fail "the journal entry has no signature"
    [ -n "$CRASHED_BOOT" ] || fail "the guest printed no boot id before the panic"
    grep -qi "E2E journal: SAVEOOPS_BOOT_ID=\($CRASHED_BOOT\|$(echo "$CRASHED_BOOT" | tr -d -)\)" "$SERIAL" ||
      fail "the journal entry's boot id is not the crashed boot's $CRASHED_BOOT"
    if [ "$CASE" = debian12_deb_install ]; then
      grep -q "E2E: reinstall ok" "$SERIAL" || fail "apt-get install --reinstall failed"
      grep -q "E2E: reinstall created the store: 0" "$SERIAL" || fail "the reinstall made a new store file"
      grep -q "E2E: records in the store after reinstall: [1-9]" "$SERIAL" ||
        fail "the record is not in the store after the reinstall"
      grep -q "E2E: remove ok" "$SERIAL" || fail "apt-get remove failed"
      grep -q "E2E: after remove: store kept, records 1, grub.d gone, bundles gone, crashkernel in grub.cfg 0, saveoops in initrd 0" \
        "$SERIAL" || fail "remove did not keep the store and records and drop the rest: $(grep -a "E2E: after remove" "$SERIAL")"
      grep -q "E2E: purge ok" "$SERIAL" || fail "apt-get purge failed"
      grep -q "E2E purge: saveoops: removing the store file /var/lib/saveoops/store" "$SERIAL" ||
        fail "purge did not say it removes the store file"
      grep -q "E2E purge: saveoops: the collected records stay in /var/lib/saveoops/records" "$SERIAL" ||
        fail "purge did not say where the records stay"
      grep -q "E2E: after purge: store gone, records 1, conf gone, package \(none\|unknown ok not-installed\)" "$SERIAL" ||
        fail "purge left: $(grep -a "E2E: after purge" "$SERIAL")"
      step "reinstall kept the store and its record; remove kept store and records, dropped crashkernel= and the initrd hook; purge removed store and settings, kept the records"
    else
      # The store file itself, read out of the guest's root file system.
      /usr/sbin/debugfs -R "dump /var/lib/saveoops/store $WORK/store" "$ROOTFS" 2>/dev/null
      "$SAVEOOPS" show --store="$WORK/store" >"$OUT/record-$CASE.txt" 2>&1 ||
        fail "saveoops show finds no record in the guest's store file: $(tail -n 3 "$OUT/record-$CASE.txt")"
      grep -q "release: $PANIC_RELEASE" "$OUT/record-$CASE.txt" ||
        fail "the stored record's release is not $PANIC_RELEASE"
    fi
    [ "$CASE" = debian12_kernel_upgrade ] &&
      step "PASS: after the upgrade to $PANIC_RELEASE the kernel hook built its bundle, GRUB booted it armed, and its panic was captured and collected with its release"
    step "PASS: apt installed the .deb on Debian 12 (store file, bundle, crashkernel=${CRASHKERNEL}M via update-grub, initrd); SeaBIOS+GRUB booted it armed; the panic was captured into the store file, the guest rebooted by itself and collected it into /var/lib/saveoops/records and the journal"
    ;;
  *) fail "unknown --case=$CASE" ;;
esac
