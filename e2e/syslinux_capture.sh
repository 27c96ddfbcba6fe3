#!/usr/bin/env bash
# End-to-end, Syslinux backend: `pack --backend=syslinux` builds a disk
# image; QEMU's SeaBIOS boots it from the disk (no -kernel shortcut); Syslinux
# stages the capture bundle as setup_data; saveoops-early-arm (rdinit=) arms
# from it before any other user code; the test initramfs (guest_init with
# saveoops_e2e.skip_arm=1) panics the kernel; the capture kernel writes the
# record to the image's store partition; `saveoops show` reads it on the host.
#
# Usage (from Bazel): syslinux_capture.sh --case=NAME [--corrupt-bundle] [--capture-kernel=saveoops]
# --capture-kernel=saveoops packs Saveoops' own capture kernel (lib.sh
# use_saveoops_capture_kernel) instead of --kernel; pack sizes crashkernel=.
# --corrupt-bundle flips one byte of the capture kernel inside the bundle on
# the packed image: saveoops-early-arm must refuse it, naming the part, and
# the boot must go on (unarmed, so guest_init powers off instead of panicking).
set -euo pipefail

CASE=syslinux CORRUPT="" CAPTURE_KERNEL_CHOICE=""
for arg in "$@"; do
  case "$arg" in
    --case=*) CASE=${arg#*=} ;;
    --corrupt-bundle) CORRUPT=1 ;;
    --capture-kernel=*) CAPTURE_KERNEL_CHOICE=${arg#*=} ;;
    *) echo "syslinux_capture: unknown argument $arg" >&2; exit 2 ;;
  esac
done

RUNFILES=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-saveoops}
. "$RUNFILES/e2e/lib.sh"
IMAGE=$WORK/disk.img
QEMU_TIMEOUT=${SAVEOOPS_E2E_TIMEOUT:-100}

# Unsigned little-endian integer of $2 bytes at byte $1 of the image.
read_le() { od -An -t "u$2" -j "$1" -N "$2" "$IMAGE" | tr -d ' '; }

T0=$(date +%s)

step "kernel $KERNEL; building the test initramfs (guest_init as /init, skip_arm)"
"$MKCPIO" "$WORK/guest.cpio" "/init=$GUEST_INIT" "/bin/saveoops=$SAVEOOPS"

step "packing the Syslinux image"
PACK_CAPTURE_ARGS=()
case "$CAPTURE_KERNEL_CHOICE" in
  "") ;;
  saveoops) use_saveoops_capture_kernel; PACK_CAPTURE_ARGS=(--capture-kernel=saveoops) ;;
  *) fail "unknown --capture-kernel=$CAPTURE_KERNEL_CHOICE" ;;
esac
"$PACK" --backend=syslinux --kernel="$KERNEL" --initrd="$WORK/guest.cpio" \
  --modules-dir="/lib/modules/$RELEASE" --root=none "${PACK_CAPTURE_ARGS[@]}" \
  --append="panic=1 loglevel=7 saveoops_e2e.skip_arm=1" --out="$IMAGE" \
  >"$OUT/pack-$CASE.txt" 2>&1 || { cat "$OUT/pack-$CASE.txt" >&2; fail "pack failed"; }
sed -n 's/^ *\(crashkernel=.*\)/\1/p; s/^ *\(partition .*\)/\1/p' "$OUT/pack-$CASE.txt" |
  while read -r line; do step "pack: $line"; done
BUNDLE_AT=$(sed -n 's/.*saveoops.bundle at image bytes \[\([0-9]*\),.*/\1/p' "$OUT/pack-$CASE.txt")
[ -n "$BUNDLE_AT" ] || fail "pack did not say where the bundle is on the image"
[ "$(dd if="$IMAGE" bs=1 skip="$BUNDLE_AT" count=8 status=none)" = "SVOOPSBN" ] ||
  fail "no bundle magic at image byte $BUNDLE_AT"

if [ -n "$CORRUPT" ]; then
  # The first part table entry (bundle_format.h: 32-byte fixed header, then
  # 56-byte entries: type u32, reserved u32, offset u64, size u64, sha256).
  TYPE=$(read_le $((BUNDLE_AT + 32)) 4)
  POFF=$(read_le $((BUNDLE_AT + 40)) 8)
  PSIZE=$(read_le $((BUNDLE_AT + 48)) 8)
  [ "$TYPE" = 1 ] || fail "first bundle part has type $TYPE, expected 1 (capture_kernel)"
  AT=$((BUNDLE_AT + POFF + PSIZE / 2))
  OLD=$(read_le "$AT" 1)
  printf "$(printf '\\%03o' $((OLD ^ 0xff)))" | dd of="$IMAGE" bs=1 seek="$AT" conv=notrunc status=none
  step "corrupted the capture kernel inside the bundle on the image (byte $AT: $OLD -> $((OLD ^ 0xff)))"
fi

step "booting the image with SeaBIOS (timeout ${QEMU_TIMEOUT}s)"
START=$(date +%s)
qemu-system-x86_64 -accel tcg -machine pc -cpu qemu64 -m 1G -smp 1 \
  -drive "file=$IMAGE,format=raw,if=virtio" \
  -display none -monitor none -serial "file:$SERIAL" -no-reboot -nodefaults \
  </dev/null &
QEMU_PID=$!
# Also when Bazel's own timeout (SIGTERM) or a failed check ends the script.
trap 'kill -9 "$QEMU_PID" 2>/dev/null || true' EXIT
QEMU_RC="" SEEN=""
report() {  # progress lines as the guest reaches each stage
  local pattern=$1 what=$2
  case " $SEEN " in *" $what "*) return ;; esac
  if grep -aq "$pattern" "$SERIAL" 2>/dev/null; then
    SEEN="$SEEN $what"
    step "  +$(( $(date +%s) - START ))s $what"
  fi
}
while :; do
  report "Loading saveoops.bundle... ok" "Syslinux loaded the bundle"
  report "Run /saveoops-early-arm as init process" "first kernel runs saveoops-early-arm"
  report "saveoops-early-arm: armed:" "armed from setup_data"
  report "saveoops-early-arm: REFUSING" "early arm refused the bundle"
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

grep -aq "Loading saveoops.bundle... ok" "$SERIAL" || fail "Syslinux did not load the bundle"
grep -aq "Run /saveoops-early-arm as init process" "$SERIAL" ||
  fail "the first kernel did not run saveoops-early-arm as its first program"
grep -aq "saveoops-e2e: first kernel up" "$SERIAL" ||
  fail "boot did not continue to the initrd's /init after saveoops-early-arm"

if [ -n "$CORRUPT" ]; then
  grep -aq "saveoops-early-arm: REFUSING the staged bundle: .*part 'capture_kernel' SHA-256 mismatch" "$SERIAL" ||
    fail "saveoops-early-arm did not refuse the corrupted bundle naming the part"
  grep -aq "^\[ *[0-9.]*\] saveoops-early-arm: REFUSING" "$SERIAL" ||
    fail "the refusal did not reach the kernel log (/dev/kmsg)"
  grep -aq "saveoops status: not armed" "$SERIAL" || fail "a capture kernel was armed from a corrupted bundle"
  if grep -aq "saveoops-e2e: triggering panic" "$SERIAL"; then fail "the unarmed kernel was panicked"; fi
  [ "$QEMU_RC" = 0 ] || fail "the guest did not power off cleanly (QEMU exit $QEMU_RC)"
  if "$SAVEOOPS" list --store="$IMAGE" | grep -q "^seq"; then fail "a record was written"; fi
  step "PASS: corrupted bundle refused (part named, on console and in the kernel log), boot went on; total $(( $(date +%s) - T0 ))s"
  exit 0
fi

CAPTURE_RELEASE=$RELEASE
[ "$CAPTURE_KERNEL_CHOICE" = saveoops ] && CAPTURE_RELEASE="[0-9.]*-saveoops"
grep -aq "saveoops-early-arm: armed: capture kernel $CAPTURE_RELEASE" "$SERIAL" ||
  fail "saveoops-early-arm did not arm from the staged bundle"
grep -aq "saveoops status: armed" "$SERIAL" || fail "the distro /init did not find the kernel armed"
grep -aq "saveoops-e2e: triggering panic" "$SERIAL" || fail "the first kernel never reached the panic"
grep -aq "saveoops purgatory: verified" "$SERIAL" || fail "purgatory did not verify the segments"
grep -aq "saveoops purgatory: unpacked kernel image" "$SERIAL" ||
  fail "purgatory did not unpack the prepared capture kernel"
# Pack put the image's store UUID in the bundle's store map: the capture
# writes only there.
STORE_UUID=$("$SAVEOOPS" list --store="$IMAGE" | sed -n 's/^store \([0-9a-f-]*\) .*/\1/p')
[ -n "$STORE_UUID" ] || fail "no store on the image"
grep -aq "saveoops-capture: store UUID $STORE_UUID on /dev/[a-z0-9]* matches the armed store" "$SERIAL" ||
  fail "the capture did not log the image's store UUID matching the armed one"
if grep -aq "the store is unverified" "$SERIAL"; then fail "the capture ran without a store map"; fi
RECORD=$OUT/record-$CASE.txt
"$SAVEOOPS" show --store="$IMAGE" >"$RECORD" 2>&1 ||
  fail "saveoops show found no valid record on the image: $(cat "$RECORD")"
grep -q "Kernel panic - not syncing: sysrq triggered crash" "$RECORD" || fail "record lacks the panic line"
grep -q "Call Trace:" "$RECORD" || fail "record lacks the call trace"
grep -q "sysrq_handle_crash" "$RECORD" || fail "record lacks the sysrq_handle_crash frame"
grep -q "Kernel release: $RELEASE" "$RECORD" || fail "record's kernel release is not $RELEASE"
grep -q "rdinit=/saveoops-early-arm" "$RECORD" || fail "record is not from the Syslinux-booted kernel"
if [ "$CAPTURE_KERNEL_CHOICE" = saveoops ]; then
  grep -aq "Linux version [0-9.]*-saveoops " "$SERIAL" || fail "Saveoops' capture kernel never booted"
fi
step "PASS: record with $(wc -l <"$RECORD") lines (panic line, call trace, release $RELEASE); total $(( $(date +%s) - T0 ))s"
