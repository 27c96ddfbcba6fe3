#!/usr/bin/env bash
# End-to-end under UEFI Secure Boot on the real Debian 12 guest
# (tools/build_debian_guest.sh): the Debian package installed in the guest,
# then the guest booted by OVMF with Secure Boot enforcing and Microsoft's
# keys enrolled, through Debian's signed shim and signed GRUB, into Debian's
# signed kernel, which locks itself down.
#
# Usage (from Bazel): debian_secure_boot.sh [--case=NAME]
#   boot 1 (direct kernel boot, SeaBIOS): `apt-get install ./saveoops_*.deb`
#          (pack --format=deb) in the guest: postinst makes the store file on
#          the ext4 root, a bundle for the installed kernel, crashkernel= in
#          /etc/default/grub.d/saveoops.cfg; the initrd is rebuilt with the
#          hook. The step sets capture_action=poweroff and powers off.
#   boot 2 (OVMF secboot, q35 + SMM, a copy of OVMF_VARS_4M.ms.fd): the ESP
#          (a second disk written with mtools) holds \EFI\BOOT\BOOTX64.EFI =
#          shimx64.efi.signed, grubx64.efi.signed beside it and the
#          grub.cfg where the signed GRUB looks (its prefix /EFI/debian),
#          which boots /boot/vmlinuz-R and the rebuilt initrd of the guest's
#          root with the crashkernel= postinst chose. The kernel says Secure
#          Boot is on and is locked down ([integrity]); kexec_load is refused,
#          saveoops-arm.service falls back to kexec_file_load, whose signature
#          check passes with Debian's Secure Boot CA (in the .platform keyring,
#          from shim's MokListRT); sysrq-c; the capture kernel writes the
#          record into the store file and powers off.
#   boot 3 (Secure Boot again): saveoops-collect.service puts the record into
#          /var/lib/saveoops/records and the journal.
# Signed shim and GRUB come from tools/setup.sh's cache
# (/var/cache/saveoops-secureboot/current, $SAVEOOPS_SECURE_BOOT_CACHE).
set -euo pipefail

CASE=debian12_secure_boot
for arg in "$@"; do
  case "$arg" in
    --case=*) CASE=${arg#*=} ;;
    *) echo "debian_secure_boot: unknown argument $arg" >&2; exit 2 ;;
  esac
done

RUNFILES=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-saveoops}
. "$RUNFILES/e2e/lib.sh"
. "$RUNFILES/e2e/debian_lib.sh"

SB_CACHE=${SAVEOOPS_SECURE_BOOT_CACHE:-/var/cache/saveoops-secureboot}
SB=$SB_CACHE/current
[ -f "$SB/.complete" ] ||
  fail "no signed shim and GRUB in $SB_CACHE: run tools/setup.sh (fetch_secure_boot_loaders)"
SHIM=$SB/usr/lib/shim/shimx64.efi.signed
MOKMANAGER=$SB/usr/lib/shim/mmx64.efi.signed
GRUB_EFI=$SB/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
for f in "$SHIM" "$MOKMANAGER" "$GRUB_EFI" "$OVMF_CODE" "$OVMF_VARS"; do
  [ -r "$f" ] || fail "missing $f: run tools/setup.sh"
done
step "signed loaders from $(readlink -f "$SB")"

# boot_secure NAME: one boot under OVMF with Secure Boot enforcing, through
# the ESP, until the guest powers off or reboots (-no-reboot), or
# QEMU_TIMEOUT. OVMF connects only the devices of QEMU's boot order, so
# every disk GRUB and the kernel need gets a bootindex.
boot_secure() {
  local name=$1
  SERIAL=$OUT/serial-$CASE-$name.log
  step "boot '$name' under OVMF Secure Boot (timeout ${QEMU_TIMEOUT}s)"
  local start; start=$(date +%s)
  timeout -k 5 "$QEMU_TIMEOUT" qemu-system-x86_64 -accel tcg -machine q35,smm=on -cpu qemu64 \
    -m 1G -smp 1 -global driver=cfi.pflash01,property=secure,value=on \
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
    -drive "if=pflash,format=raw,unit=1,file=$WORK/vars.fd" \
    -drive "file=$WORK/esp.img,format=raw,if=none,id=esp" -device virtio-blk-pci,drive=esp,bootindex=0 \
    -drive "file=$DISK,format=raw,if=none,id=root" -device virtio-blk-pci,drive=root,bootindex=1 \
    -drive "file=$WORK/step.img,format=raw,if=none,id=step" \
    -device virtio-blk-pci,drive=step,bootindex=2 \
    -display none -monitor none -serial "file:$SERIAL" -no-reboot -nodefaults </dev/null || {
    local rc=$?
    [ "$rc" -eq 124 ] && fail "boot '$name' timed out after ${QEMU_TIMEOUT}s"
    fail "QEMU failed (rc $rc) in boot '$name'"
  }
  step "boot '$name' ended after $(($(date +%s) - start))s"
}

# The step prints what it ran into the serial log; `E2E` lines without the
# console's CRs.
e2e_lines() { tr -d '\r' <"$SERIAL" | grep -a "E2E" || true; }

step "pack --backend=kexec --format=deb"
"$PACK" --backend=kexec --format=deb --out="$WORK/deb" >"$OUT/pack-$CASE.log" 2>&1 ||
  fail "pack failed: $(tail -n 5 "$OUT/pack-$CASE.log")"
DEB=$(ls "$WORK"/deb/saveoops_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || fail "pack wrote no saveoops_*_amd64.deb into $WORK/deb"
mkdir -p "$WORK/debdir"
cp "$DEB" "$WORK/debdir/"

# ---- Boot 1: install the package as a user would ----------------------------
cat >"$WORK/step.sh" <<'EOF'
# The serial getty hangs up /dev/ttyS0 (vhangup) when it starts: write to
# /dev/console, which that does not revoke.
exec >/dev/console 2>&1
set -e
# A failed command ends the boot at once, not at the test's timeout (the
# unit runs this with /bin/sh: an EXIT trap, no ERR).
trap 'rc=$?; if [ "$rc" -ne 0 ]; then echo "E2E: step failed (rc $rc)"; systemctl poweroff; fi' EXIT
mkdir -p /root/deb
cp /run/e2e/debdir/saveoops_*_amd64.deb /root/deb/
echo "E2E: apt-get install begins"
start=$(date +%s)
# The guest has no network: apt needs nothing but the package itself.
DEBIAN_FRONTEND=noninteractive apt-get install -y /root/deb/saveoops_*_amd64.deb
echo "E2E: apt-get install took $(($(date +%s) - start)) s"
sed -i 's|^#capture_action=.*|capture_action=poweroff|' /etc/saveoops/saveoops.conf
grep -v '^#' /etc/saveoops/saveoops.conf | sed 's/^/E2E conf: /'
echo "E2E: $(grep -o 'crashkernel=[0-9]*M' /etc/default/grub.d/saveoops.cfg)"
echo "E2E: bundle $(ls /var/lib/saveoops/bundles/)"
echo "E2E: arm unit $(systemctl is-enabled saveoops-arm.service)"
echo "E2E: collect unit $(systemctl is-enabled saveoops-collect.service)"
echo "E2E: hook in initrd $(lsinitramfs /boot/initrd.img-$(uname -r) | grep -c 'sbin/saveoops$')"
sync
echo "E2E: step done"
systemctl poweroff
EOF
make_step_disk "$WORK/step.img" "$WORK/step.sh" "$WORK/debdir"
boot_guest install "$GUEST_KERNEL" "$GUEST_INITRD" "$BASE_APPEND"
grep -q "E2E: step failed" "$SERIAL" && fail "the install step failed in the guest (see its output above)"
grep -q "E2E: step done" "$SERIAL" || fail "the package's installation did not complete in the guest"
grep -q "E2E: bundle $RELEASE.bundle" "$SERIAL" || fail "postinst built no bundle for $RELEASE"
grep -q "E2E: arm unit enabled" "$SERIAL" || fail "saveoops-arm.service is not enabled"
grep -q "E2E: collect unit enabled" "$SERIAL" || fail "saveoops-collect.service is not enabled"
grep -q "E2E: hook in initrd 1" "$SERIAL" || fail "the initramfs-tools trigger did not put saveoops into the initrd"
CRASHKERNEL=$(tr -d '\r' <"$SERIAL" | sed -n 's/.*E2E: crashkernel=\([0-9]*\)M$/\1/p' | head -n 1)
[ -n "$CRASHKERNEL" ] || fail "postinst wrote no crashkernel=NM into /etc/default/grub.d/saveoops.cfg"
step "installed; postinst chose crashkernel=${CRASHKERNEL}M"

# ---- The ESP and the Secure Boot variables ---------------------------------
# A GPT disk with one EFI system partition at 1 MiB, its FAT written with
# mtools (no loop mounts). Shim loads grubx64.efi from its own folder; the
# signed GRUB's embedded config reads $prefix/grub.cfg, prefix /EFI/debian
# of the device it was loaded from.
cat >"$WORK/grub.cfg" <<EOF
set timeout=0
search --no-floppy --fs-uuid --set=root $FS_UUID
echo "grub: booting /boot/vmlinuz-$RELEASE from $FS_UUID"
linux /boot/vmlinuz-$RELEASE $BASE_APPEND crashkernel=${CRASHKERNEL}M
initrd /boot/initrd.img-$RELEASE
boot
echo "grub: boot failed"
halt
EOF
ESP=$WORK/esp.img
truncate -s 34M "$ESP"
printf 'label: gpt\nstart=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ESP"\n' |
  /sbin/sfdisk -q "$ESP"
mformat -i "$ESP@@1M" -F -v ESP ::
mmd -i "$ESP@@1M" ::/EFI ::/EFI/BOOT ::/EFI/debian
mcopy -i "$ESP@@1M" "$SHIM" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$ESP@@1M" "$GRUB_EFI" ::/EFI/BOOT/grubx64.efi
mcopy -i "$ESP@@1M" "$MOKMANAGER" ::/EFI/BOOT/mmx64.efi
mcopy -i "$ESP@@1M" "$WORK/grub.cfg" ::/EFI/debian/grub.cfg
mdir -/ -i "$ESP@@1M" :: >"$OUT/esp-$CASE.txt"
cp "$WORK/grub.cfg" "$OUT/grub-$CASE.cfg"
cp "$OVMF_VARS" "$WORK/vars.fd"

# ---- Boot 2: Secure Boot, locked down, armed with kexec_file_load, panic ----
cat >"$WORK/step.sh" <<'EOF'
exec >/dev/console 2>&1
echo "E2E: lockdown $(cat /sys/kernel/security/lockdown)"
dmesg | grep -E 'secureboot: Secure boot enabled|Kernel is locked down|Loaded X.509 cert' |
  sed 's/^\[[ 0-9.]*\] /E2E dmesg: /'
# The keyrings kexec_file_load checks the capture kernel's signature against
# (.secondary_trusted_keys, which links .builtin_trusted_keys and .machine,
# then .platform) and the certificates in them.
grep -E ' (keyring|asymmetri) ' /proc/keys | grep -E ' (keyring +\.|asymmetri)' | cut -c 50- |
  sed 's/^/E2E keys: /'
echo "E2E: arm unit $(systemctl is-active saveoops-arm.service)"
journalctl -b -u saveoops-arm.service --no-pager -o cat | sed 's/^/E2E arm: /'
echo "E2E: kexec_crash_loaded $(cat /sys/kernel/kexec_crash_loaded)"
echo "E2E: boot id $(cat /proc/sys/kernel/random/boot_id)"
echo "E2E: triggering panic"
sync
echo c > /proc/sysrq-trigger
EOF
make_step_disk "$WORK/step.img" "$WORK/step.sh"
boot_secure panic
e2e_lines >"$OUT/e2e-$CASE-panic.txt"
grep -qa "EFI stub: UEFI Secure Boot is enabled" "$SERIAL" ||
  fail "the kernel's EFI stub did not see Secure Boot enabled (shim, GRUB or OVMF?)"
grep -q "E2E dmesg: secureboot: Secure boot enabled" "$SERIAL" || fail "the kernel did not log 'Secure boot enabled'"
grep -q "E2E: lockdown .*\[\(integrity\|confidentiality\)\]" "$SERIAL" ||
  fail "the kernel is not locked down: $(sed -n 's/.*E2E: lockdown //p' "$SERIAL")"
grep -q "E2E dmesg: .*Loaded X.509 cert 'Debian Secure Boot CA" "$SERIAL" ||
  fail "Debian's Secure Boot CA was not loaded into the kernel's keyrings (shim's MokListRT)"
grep -q "E2E keys: asymmetri Debian Secure Boot CA" "$SERIAL" ||
  fail "/proc/keys lists no Debian Secure Boot CA key"
grep -q "E2E keys: keyring *\.machine: [1-9]" "$SERIAL" ||
  fail "the .machine keyring (shim's MokListRT, linked into .secondary_trusted_keys) is empty"
grep -q "E2E: arm unit active" "$SERIAL" || fail "saveoops-arm.service is not active"
# IMA's Secure Boot policy refuses kexec_load (EACCES) before lockdown
# would (EPERM).
grep -q "E2E arm: .*kexec_load(KEXEC_ON_CRASH) failed: E\(ACCES\|PERM\)" "$SERIAL" ||
  fail "the locked-down kernel did not refuse kexec_load (or arm did not say so)"
grep -q "E2E arm: .*falling back to kexec_file_load" "$SERIAL" ||
  fail "arm's journal does not say it fell back to kexec_file_load"
grep -q "E2E arm: saveoops arm: capture action poweroff" "$SERIAL" ||
  fail "arm did not take capture_action= from the config"
grep -q "E2E: kexec_crash_loaded 1" "$SERIAL" || fail "no capture kernel loaded at the panic"
grep -q "E2E: triggering panic" "$SERIAL" || fail "the guest never reached the panic"
CRASHED_BOOT=$(sed -n 's/.*E2E: boot id \([0-9a-f-]*\).*/\1/p' "$SERIAL" | head -n 1)
grep -qa "saveoops-capture: file store .* matches the armed disk and the superblock through its .* carries the armed UUID" \
  "$SERIAL" || fail "the capture did not find the armed store file"
grep -qa "saveoops-capture: record [0-9]* written to the file store" "$SERIAL" ||
  fail "the capture wrote no record into the store file"
grep -qa "reboot: Power down" "$SERIAL" ||
  fail "the capture kernel did not power off (capture_action=poweroff)"
LOCKDOWN=$(sed -n 's/.*E2E: lockdown .*\[\([a-z]*\)\].*/\1/p' "$SERIAL" | head -n 1)
step "Secure Boot on, lockdown $LOCKDOWN, armed with kexec_file_load, captured"

# The record in the store file, read out of the guest's root with debugfs.
/usr/sbin/debugfs -R "dump /var/lib/saveoops/store $WORK/store" "$ROOTFS" 2>/dev/null
[ -s "$WORK/store" ] || fail "debugfs could not copy /var/lib/saveoops/store out of the guest's root"
RECORD=$OUT/record-$CASE.txt
"$SAVEOOPS" show --store="$WORK/store" >"$RECORD" 2>&1 ||
  fail "saveoops show found no record in the store file: $(tail -n 3 "$RECORD")"
grep -q "Kernel panic - not syncing: sysrq triggered crash" "$RECORD" || fail "record lacks the panic line"
grep -q "release: $RELEASE" "$RECORD" || fail "record's kernel release is not $RELEASE"
grep -qE "Secure boot enabled|locked down|Lockdown:" "$RECORD" ||
  fail "the recorded log is not the locked-down Secure Boot boot's"
SIGNATURE=$(grep -o "Signature: *[0-9a-f]\{16\}" "$RECORD" | head -n 1 | awk '{print $2}')
step "record in the store file; signature ${SIGNATURE:-?}"

# ---- Boot 3: Secure Boot again; collect ------------------------------------
cat >"$WORK/step.sh" <<'EOF'
exec >/dev/console 2>&1
echo "E2E: lockdown $(cat /sys/kernel/security/lockdown)"
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
boot_secure collect
e2e_lines >"$OUT/e2e-$CASE-collect.txt"
grep -q "E2E: step done" "$SERIAL" || fail "the collect boot never ran its step"
grep -q "E2E: lockdown .*\[\(integrity\|confidentiality\)\]" "$SERIAL" ||
  fail "the collect boot is not locked down (not under Secure Boot?)"
grep -q "E2E: collect unit success" "$SERIAL" || fail "saveoops-collect.service did not succeed"
grep -q "E2E: record dir 700 [0-9]\{8\}T[0-9]\{6\}Z-" "$SERIAL" ||
  fail "no 0700 record directory <UTC>-<seq> in /var/lib/saveoops/records"
[ "$(grep -c "E2E: record file 600" "$SERIAL")" -eq 2 ] ||
  fail "dmesg.txt and record.json are not both 0600"
grep -q "E2E: panic lines in dmesg.txt [1-9]" "$SERIAL" || fail "dmesg.txt lacks the panic line"
grep -q "E2E journal: PRIORITY=2" "$SERIAL" || fail "no journal entry at priority crit"
grep -q "E2E journal: KERNEL_RELEASE=$RELEASE" "$SERIAL" ||
  fail "the journal entry lacks KERNEL_RELEASE=$RELEASE"
grep -q "E2E journal: MESSAGE=.*sysrq triggered crash" "$SERIAL" ||
  fail "the journal entry's message lacks the panic line"
if [ -n "$SIGNATURE" ]; then
  grep -q "E2E journal: SAVEOOPS_SIGNATURE=$SIGNATURE" "$SERIAL" ||
    fail "the journal entry's signature is not $SIGNATURE"
fi
[ -n "$CRASHED_BOOT" ] || fail "the guest printed no boot id before the panic"
grep -qi "E2E journal: SAVEOOPS_BOOT_ID=\($CRASHED_BOOT\|$(echo "$CRASHED_BOOT" | tr -d -)\)" \
  "$SERIAL" || fail "the journal entry's boot id is not the crashed boot's $CRASHED_BOOT"
step "PASS: the .deb installed on Debian $RELEASE; under Secure Boot (shim, signed GRUB, signed kernel, lockdown) arm fell back to kexec_file_load, the panic was captured into the store file and collected into /var/lib/saveoops/records and the journal"
