#!/usr/bin/env bash
# End-to-end, UEFI backend: `pack --backend=uefi` builds a GPT disk image;
# QEMU with OVMF (a writable copy of OVMF_VARS per run) boots it from the
# disk: saveoops.efi (\EFI\BOOT\BOOTX64.EFI) verifies the bundle, records the
# verdict in the SaveoopsBundle EFI variable and boots the Debian kernel
# through its EFI stub, serving the initrd plus the arming archive through
# LoadFile2; saveoops-uefi-arm (rdinit=) checks the bundle against the
# variable and arms before any other user code; the test initramfs
# (guest_init with saveoops_e2e.skip_arm=1) panics the kernel; the capture
# kernel writes the record to the image's store partition; `saveoops show`
# reads it on the host.
#
# Usage (from Bazel): uefi_capture.sh --case=NAME [--corrupt-bundle] [--capture-kernel=saveoops]
# --capture-kernel=saveoops packs Saveoops' own capture kernel (lib.sh
# use_saveoops_capture_kernel) instead of --kernel; pack sizes crashkernel=.
# --corrupt-bundle flips one byte of the capture kernel inside the bundle on
# the ESP (with mtools): saveoops.efi must report it, naming the part, and
# boot the kernel unarmed (guest_init then powers off instead of panicking).
set -euo pipefail

CASE=uefi CORRUPT="" CAPTURE_KERNEL_CHOICE=""
for arg in "$@"; do
  case "$arg" in
    --case=*) CASE=${arg#*=} ;;
    --corrupt-bundle) CORRUPT=1 ;;
    --capture-kernel=*) CAPTURE_KERNEL_CHOICE=${arg#*=} ;;
    *) echo "uefi_capture: unknown argument $arg" >&2; exit 2 ;;
  esac
done

RUNFILES=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-saveoops}
. "$RUNFILES/e2e/lib.sh"
IMAGE=$WORK/disk.img
OVMF_CODE=${SAVEOOPS_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${SAVEOOPS_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
# The ESP starts at 1 MiB (backends/uefi/uefi_image.h, kUefiEspOffset).
ESP="$IMAGE@@1M"
QEMU_TIMEOUT=${SAVEOOPS_E2E_TIMEOUT:-150}
export MTOOLS_SKIP_CHECK=1

# The serial log without OVMF's escape sequences and CRs.
serial() { sed 's/\x1b\[[0-9;=]*[a-zA-Z]//g' "$SERIAL" 2>/dev/null | tr -d '\r'; }
# Not grep -q: it would stop reading early, and under pipefail the SIGPIPE
# that kills sed would turn a match into a failure.
seen() { serial | grep -a -- "$1" >/dev/null; }

for f in "$OVMF_CODE" "$OVMF_VARS"; do
  [ -r "$f" ] || fail "$f missing: run tools/setup.sh (ovmf)"
done
command -v mcopy >/dev/null || fail "mcopy missing: run tools/setup.sh (mtools)"

step "kernel $KERNEL; building the test initramfs (guest_init as /init, skip_arm)"
"$MKCPIO" "$WORK/guest.cpio" "/init=$GUEST_INIT" "/bin/saveoops=$SAVEOOPS"

step "packing the UEFI image"
PACK_CAPTURE_ARGS=()
case "$CAPTURE_KERNEL_CHOICE" in
  "") ;;
  saveoops) use_saveoops_capture_kernel; PACK_CAPTURE_ARGS=(--capture-kernel=saveoops) ;;
  *) fail "unknown --capture-kernel=$CAPTURE_KERNEL_CHOICE" ;;
esac
"$PACK" --backend=uefi --kernel="$KERNEL" --initrd="$WORK/guest.cpio" \
  --modules-dir="/lib/modules/$RELEASE" --root=none "${PACK_CAPTURE_ARGS[@]}" \
  --append="panic=1 loglevel=7 saveoops_e2e.skip_arm=1" --out="$IMAGE" \
  >"$OUT/pack-$CASE.txt" 2>&1 || { cat "$OUT/pack-$CASE.txt" >&2; fail "pack failed"; }
sed -n 's/^ *\(crashkernel=.*\)/\1/p; s/^ *\(GPT: .*\)/\1/p' "$OUT/pack-$CASE.txt" |
  while read -r line; do step "pack: $line"; done

if [ -n "$CORRUPT" ]; then
  mcopy -i "$ESP" ::/EFI/saveoops/saveoops.bundle "$WORK/bundle" || fail "cannot read the bundle off the ESP"
  # The first part table entry (bundle_format.h: 32-byte fixed header, then
  # 56-byte entries: type u32, reserved u32, offset u64, size u64, sha256).
  read_le() { od -An -t "u$2" -j "$1" -N "$2" "$WORK/bundle" | tr -d ' '; }
  TYPE=$(read_le 32 4) POFF=$(read_le 40 8) PSIZE=$(read_le 48 8)
  [ "$TYPE" = 1 ] || fail "first bundle part has type $TYPE, expected 1 (capture_kernel)"
  AT=$((POFF + PSIZE / 2))
  OLD=$(read_le "$AT" 1)
  printf "$(printf '\\%03o' $((OLD ^ 0xff)))" | dd of="$WORK/bundle" bs=1 seek="$AT" conv=notrunc status=none
  mcopy -o -i "$ESP" "$WORK/bundle" ::/EFI/saveoops/saveoops.bundle || fail "cannot write the bundle back"
  step "corrupted the capture kernel inside the bundle on the ESP (bundle byte $AT: $OLD -> $((OLD ^ 0xff)))"
fi

# OVMF keeps its variable store in the second flash device; every run gets
# its own copy so runs never see each other's boot entries or variables.
cp "$OVMF_VARS" "$WORK/ovmf_vars.fd"
step "booting the image with OVMF (timeout ${QEMU_TIMEOUT}s)"
START=$(date +%s)
qemu-system-x86_64 -accel tcg -machine q35 -cpu qemu64 -m 1G -smp 1 \
  -drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
  -drive "if=pflash,format=raw,file=$WORK/ovmf_vars.fd" \
  -drive "file=$IMAGE,format=raw,if=virtio" \
  -display none -monitor none -serial "file:$SERIAL" -no-reboot -nodefaults \
  </dev/null &
QEMU_PID=$!
QEMU_RC="" SEEN=""
report() {  # progress lines as the guest reaches each stage
  local pattern=$1 what=$2
  case " $SEEN " in *" $what "*) return ;; esac
  if seen "$pattern"; then
    SEEN="$SEEN $what"
    step "  +$(( $(date +%s) - START ))s $what"
  fi
}
while :; do
  report "saveoops.efi: Saveoops UEFI stage" "OVMF started saveoops.efi"
  report "saveoops.efi: bundle verified" "saveoops.efi verified the bundle"
  report "saveoops.efi: BUNDLE REJECTED" "saveoops.efi rejected the bundle"
  report "EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID" "EFI stub took the initrd via LoadFile2"
  report "saveoops-uefi-arm: armed:" "saveoops-uefi-arm armed the capture kernel"
  report "saveoops-e2e: first kernel up" "distro /init (guest_init) runs"
  report "saveoops purgatory: verified" "purgatory verified, capture kernel entered"
  report "saveoops-capture: record" "capture kernel wrote the record"
  if ! kill -0 "$QEMU_PID" 2>/dev/null; then
    QEMU_RC=0; wait "$QEMU_PID" || QEMU_RC=$?; break
  fi
  if [ $(( $(date +%s) - START )) -ge "$QEMU_TIMEOUT" ]; then
    kill -9 "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null || true
    fail "QEMU timed out after ${QEMU_TIMEOUT}s"
  fi
  sleep 0.5
done
step "QEMU exited ($QEMU_RC) after $(( $(date +%s) - START ))s"

seen "saveoops.efi: Saveoops UEFI stage" || fail "OVMF did not start saveoops.efi from the ESP"
seen "EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path" ||
  fail "the kernel's EFI stub did not take the initrd through LoadFile2"
seen "saveoops-e2e: first kernel up" || fail "boot did not reach the initrd's /init"

if [ -n "$CORRUPT" ]; then
  seen "saveoops.efi: BUNDLE REJECTED: part capture_kernel: part SHA-256 mismatch" ||
    fail "saveoops.efi did not report the corrupted capture kernel"
  seen "saveoops.efi: booting the kernel UNARMED" || fail "saveoops.efi did not say it boots unarmed"
  if seen "rdinit=/saveoops/arm"; then fail "the arming program was started despite a bad bundle"; fi
  seen "saveoops status: not armed" || fail "the first kernel is armed despite a bad bundle"
  if "$SAVEOOPS" list --store="$IMAGE" | grep -q "^seq"; then
    fail "a record was written despite a bad bundle"
  fi
  step "PASS: the corrupted bundle was reported, the kernel booted on unarmed ($(( $(date +%s) - START ))s)"
  exit 0
fi

# Five parts: the four every bundle has and the prepared capture kernel.
seen "saveoops.efi: bundle verified: 5 parts" || fail "saveoops.efi did not verify the bundle"
seen "saveoops-uefi-arm: bundle matches the firmware record" ||
  fail "the arming program did not check the bundle against the SaveoopsBundle EFI variable"
seen "saveoops-uefi-arm: armed:" || fail "the arming program did not arm"
seen "saveoops purgatory: verified" || fail "purgatory did not verify the segments"
seen "saveoops purgatory: unpacked kernel image" ||
  fail "purgatory did not unpack the prepared capture kernel"
# Pack put the image's store UUID in the bundle's store map: the capture
# writes only there.
STORE_UUID=$("$SAVEOOPS" list --store="$IMAGE" | sed -n 's/^store \([0-9a-f-]*\) .*/\1/p')
[ -n "$STORE_UUID" ] || fail "no store on the image"
seen "saveoops-capture: store UUID $STORE_UUID on /dev/[a-z0-9]* matches the armed store" ||
  fail "the capture did not log the image's store UUID matching the armed one"
if seen "the store is unverified"; then fail "the capture ran without a store map"; fi
RECORD=$OUT/record-$CASE.txt
"$SAVEOOPS" show --store="$IMAGE" >"$RECORD" 2>&1 ||
  fail "saveoops show found no valid record on the image: $(cat "$RECORD")"
grep -q "Kernel panic - not syncing: sysrq triggered crash" "$RECORD" || fail "record lacks the panic line"
grep -q "Call Trace:" "$RECORD" || fail "record lacks the call trace"
grep -q "sysrq_handle_crash" "$RECORD" || fail "record lacks the sysrq_handle_crash frame"
grep -q "release: $RELEASE" "$RECORD" || grep -q "Kernel release: $RELEASE" "$RECORD" ||
  fail "record's kernel release is not $RELEASE"
# The arming program logs to the kernel log, so the dead kernel's record
# proves the panicking kernel is the one it armed.
grep -q "saveoops-uefi-arm: armed:" "$RECORD" || fail "record lacks the arming program's log line"
if [ "$CAPTURE_KERNEL_CHOICE" = saveoops ]; then
  seen "Linux version [0-9.]*-saveoops " || fail "Saveoops' capture kernel never booted"
fi
step "PASS: record with $(wc -l <"$RECORD") lines on the image's store partition ($(( $(date +%s) - START ))s)"
