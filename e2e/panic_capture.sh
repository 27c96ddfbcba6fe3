#!/usr/bin/env bash
# End-to-end: a real Debian kernel panics inside QEMU and its log lands on
# disk through Saveoops alone (purgatory, arm, capture kernel, store).
#
# Usage (from Bazel): panic_capture.sh --case=NAME [--smp=N] [--mem=SIZE]
#   [--panic-cpu=N] [--corrupt-segment=N]
# --corrupt-segment arms with a wrong digest for one staged segment: the
# serial log must show the purgatory's refusal and no capture kernel boots.
# --lockdown boots the first kernel with lockdown=integrity: kexec_load is
# refused and `saveoops arm` must fall back to kexec_file_load.
# Every case arms with --store=/dev/vda; the capture must log the UUID match.
# --reformat-store formats the disk again (a new store UUID) after the copy
# arm reads: the capture must refuse it and write nothing.
# --kernel=NAME boots a kernel of the e2e matrix (lib.sh MATRIX_KERNEL)
# instead of the installed one, as first and capture kernel.
set -euo pipefail

CASE=default SMP=1 MEM=1G PANIC_CPU="" CORRUPT="" CRASHKERNEL="" LOCKDOWN="" REFORMAT=""
for arg in "$@"; do
  case "$arg" in
    --case=*) CASE=${arg#*=} ;;
    --smp=*) SMP=${arg#*=} ;;
    --mem=*) MEM=${arg#*=} ;;
    --panic-cpu=*) PANIC_CPU=${arg#*=} ;;
    --corrupt-segment=*) CORRUPT=${arg#*=} ;;
    --crashkernel=*) CRASHKERNEL=${arg#*=} ;;
    --lockdown) LOCKDOWN=1 ;;
    --reformat-store) REFORMAT=1 ;;
    --kernel=*) MATRIX_KERNEL=${arg#*=} ;;
    *) echo "panic_capture: unknown argument $arg" >&2; exit 2 ;;
  esac
done

RUNFILES=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-saveoops}
. "$RUNFILES/e2e/lib.sh"
QEMU_TIMEOUT=${SAVEOOPS_E2E_TIMEOUT:-150}

step "kernel $KERNEL, smp=$SMP, mem=$MEM"
step "building capture initramfs"
"$SAVEOOPS" initramfs --capture-binary="$CAPTURE" --modules-dir="$MODULES_DIR" \
  --out="$WORK/capture.cpio"
step "building bundle"
"$SAVEOOPS" bundle create --kernel="$KERNEL" --initramfs="$WORK/capture.cpio" \
  --purgatory="$PURGATORY" --out="$WORK/saveoops.bundle"

if [ -z "$CRASHKERNEL" ]; then
  # Plan against a saved map of this very guest (1 GiB QEMU PC): the
  # sandbox's own /proc/iomem is unreadable and would not be the guest's.
  CRASHKERNEL=$("$SAVEOOPS" plan --bundle="$WORK/saveoops.bundle" --cpus="$SMP" \
    --memmap="$RUNFILES/common/testdata/iomem_qemu_bios_1g_crashkernel_256m.txt" \
    --print=recommended-mib)
fi
step "crashkernel=${CRASHKERNEL}M (saveoops plan's recommendation: its smallest + margin)"

# Armed with the store: the capture must write only to a store with its UUID.
# The first kernel's test initramfs has no disk drivers, so arm reads the
# store's UUID from a copy of the disk image packed into it (/store.img).
ARM_ARGS="--store=/store.img"
[ -n "$CORRUPT" ] && ARM_ARGS="$ARM_ARGS,--test-corrupt-digest=$CORRUPT"
"$SAVEOOPS" store format --store="$WORK/disk.img" --size=16M >/dev/null
cp "$WORK/disk.img" "$WORK/store-at-arm.img"
if [ -n "$REFORMAT" ]; then
  # The store is formatted again (a new UUID) between arming and the panic.
  "$SAVEOOPS" store format --store="$WORK/disk.img" >/dev/null
fi
"$MKCPIO" "$WORK/guest.cpio" "/init=$GUEST_INIT" "/bin/saveoops=$SAVEOOPS" \
  "/saveoops.bundle=$WORK/saveoops.bundle" "/store.img=$WORK/store-at-arm.img"

APPEND="console=ttyS0 crashkernel=${CRASHKERNEL}M panic=1 loglevel=7"
[ -n "$ARM_ARGS" ] && APPEND="$APPEND saveoops_e2e.arm_args=$ARM_ARGS"
[ -n "$PANIC_CPU" ] && APPEND="$APPEND saveoops_e2e.panic_cpu=$PANIC_CPU"
[ -n "$LOCKDOWN" ] && APPEND="$APPEND lockdown=integrity"

step "booting QEMU (timeout ${QEMU_TIMEOUT}s)"
START=$(date +%s)
qemu-system-x86_64 -accel tcg -machine pc \
  -cpu qemu64 -m "$MEM" -smp "$SMP" -kernel "$KERNEL" -initrd "$WORK/guest.cpio" \
  -append "$APPEND" -drive "file=$WORK/disk.img,format=raw,if=virtio" \
  -display none -monitor none -serial "file:$SERIAL" -no-reboot -nodefaults \
  </dev/null &
QEMU_PID=$!
# A halted purgatory never powers the guest off: once it has refused, give a
# capture kernel (which must not come) a few seconds, then stop the guest.
QEMU_RC="" REFUSED_AT=""
while :; do
  if ! kill -0 "$QEMU_PID" 2>/dev/null; then
    wait "$QEMU_PID"; QEMU_RC=$?; break
  fi
  NOW=$(date +%s)
  if [ -z "$REFUSED_AT" ] && grep -q "saveoops purgatory: REFUSING" "$SERIAL" 2>/dev/null; then
    REFUSED_AT=$NOW
  fi
  if [ -n "$REFUSED_AT" ] && [ $((NOW - REFUSED_AT)) -ge 5 ]; then
    kill "$QEMU_PID"; wait "$QEMU_PID" 2>/dev/null; QEMU_RC=halted; break
  fi
  if [ $((NOW - START)) -ge "$QEMU_TIMEOUT" ]; then
    kill -9 "$QEMU_PID"; wait "$QEMU_PID" 2>/dev/null
    fail "QEMU timed out after ${QEMU_TIMEOUT}s"
  fi
  sleep 0.5
done
step "QEMU exited ($QEMU_RC) after $(( $(date +%s) - START ))s"

if [ -n "$LOCKDOWN" ]; then
  # Under lockdown only signed images may be loaded, and on a BIOS machine
  # the kernel trusts no key that signs the Debian kernel: the fallback must
  # be tried and fail with an error that says so.
  grep -q "kexec_load(KEXEC_ON_CRASH) failed: EPERM" "$SERIAL" || fail "kexec_load was not refused"
  grep -q "falling back to kexec_file_load" "$SERIAL" || fail "arm did not fall back to kexec_file_load"
  grep -q "only loads signed capture kernels" "$SERIAL" || fail "no clear error about signed kernels"
  step "PASS: locked-down kernel refused kexec_load, arm fell back to kexec_file_load and explained the refusal"
  exit 0
fi

grep -q "saveoops-e2e: triggering panic" "$SERIAL" || fail "the first kernel never reached the panic"

if [ -n "$CORRUPT" ]; then
  grep -q "saveoops purgatory: REFUSING capture kernel: segment" "$SERIAL" ||
    fail "purgatory did not refuse the corrupted segment"
  if grep -q "saveoops-capture:" "$SERIAL"; then fail "a capture kernel ran despite a bad digest"; fi
  if "$SAVEOOPS" list --store="$WORK/disk.img" | grep -q "^seq"; then
    fail "a record was written despite a bad digest"
  fi
  step "PASS: purgatory refused segment $CORRUPT and nothing booted"
  exit 0
fi

grep -q "saveoops purgatory: verified" "$SERIAL" || fail "purgatory did not verify the segments"
if [ -n "$REFORMAT" ]; then
  grep -q "saveoops-capture: refusing store .* on /dev/vda .*armed for store" "$SERIAL" ||
    fail "the capture did not refuse the reformatted store"
  grep -q "saveoops-capture: no store: no block device holds the armed store" "$SERIAL" ||
    fail "the capture did not say why nothing was written"
  if "$SAVEOOPS" show --store="$WORK/disk.img" >/dev/null 2>&1; then
    fail "a record landed in the reformatted store"
  fi
  step "PASS: the capture refused the reformatted store and wrote nothing"
  exit 0
fi
grep -q "saveoops-capture: store UUID .* on /dev/vda matches the armed store" "$SERIAL" ||
  fail "the capture did not log the armed store's UUID match"
# The bundle carries the prepared kernel: the purgatory, not the bzImage's
# decompressor, unpacked it.
grep -q "saveoops purgatory: unpacked kernel image" "$SERIAL" ||
  fail "purgatory did not unpack the prepared capture kernel"
"$SAVEOOPS" show --store="$WORK/disk.img" >"$OUT/record-$CASE.txt" ||
  fail "saveoops show found no valid record: $(cat "$OUT/record-$CASE.txt")"
RECORD=$OUT/record-$CASE.txt
grep -q "Kernel panic - not syncing: sysrq triggered crash" "$RECORD" ||
  fail "record lacks the panic line"
grep -q "Call Trace:" "$RECORD" || fail "record lacks the call trace"
grep -q "sysrq_handle_crash" "$RECORD" || fail "record lacks the sysrq_handle_crash frame"
grep -q "release: $RELEASE" "$RECORD" || fail "record's kernel release is not $RELEASE"
if [ -n "$PANIC_CPU" ]; then
  grep -q "CPU: $PANIC_CPU PID" "$RECORD" || fail "panic was not raised on CPU $PANIC_CPU"
fi
step "PASS: record with $(wc -l <"$RECORD") lines, panic line and call trace present"
