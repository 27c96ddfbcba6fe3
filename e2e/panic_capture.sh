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
# Every case arms with --store (a copy of the store region); the capture must log the UUID match.
# --reformat-store formats the disk again (a new store UUID) after the copy
# arm reads: the capture must refuse it and write nothing.
# --kernel=NAME boots a kernel of the e2e matrix (lib.sh MATRIX_KERNEL)
# instead of the installed one, as first and capture kernel (first kernel
# only with --capture-kernel=saveoops).
# --controller=virtio|ahci|nvme|virtio-scsi attaches the store disk to that
# controller (default virtio-blk); the default capture initramfs must reach it.
# --disk-layout=bare|mbr|gpt: the store is the whole disk (default), or
# partition 2 of a 64 MiB MBR or GPT disk whose partitions 1 and 3 hold random
# bytes; every byte outside partition 2 must be unchanged after the capture.
# --capture-kernel=saveoops captures with Saveoops' own small kernel (lib.sh
# use_saveoops_capture_kernel; its drivers built in, the initramfs is
# saveoops-capture alone) instead of the first kernel; crashkernel= is what
# `saveoops plan` recommends for that bundle.
set -euo pipefail

CASE=default SMP=1 MEM=1G PANIC_CPU="" CORRUPT="" CRASHKERNEL="" LOCKDOWN="" REFORMAT=""
CONTROLLER=virtio LAYOUT=bare CAPTURE_KERNEL_CHOICE=""
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
    --controller=*) CONTROLLER=${arg#*=} ;;
    --disk-layout=*) LAYOUT=${arg#*=} ;;
    --capture-kernel=*) CAPTURE_KERNEL_CHOICE=${arg#*=} ;;
    *) echo "panic_capture: unknown argument $arg" >&2; exit 2 ;;
  esac
done

RUNFILES=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-saveoops}
. "$RUNFILES/e2e/lib.sh"
QEMU_TIMEOUT=${SAVEOOPS_E2E_TIMEOUT:-150}

step "kernel $KERNEL, smp=$SMP, mem=$MEM"
case "$CAPTURE_KERNEL_CHOICE" in
  "")
    step "building capture initramfs"
    "$SAVEOOPS" initramfs --capture-binary="$CAPTURE" --modules-dir="$MODULES_DIR" \
      --out="$WORK/capture.cpio"
    step "building bundle"
    "$SAVEOOPS" bundle create --kernel="$KERNEL" --initramfs="$WORK/capture.cpio" \
      --purgatory="$PURGATORY" --out="$WORK/saveoops.bundle"
    ;;
  saveoops)
    use_saveoops_capture_kernel
    step "building bundle with Saveoops' capture kernel $CAPTURE_KERNEL"
    "$SAVEOOPS" bundle create --capture-kernel=saveoops --capture-binary="$CAPTURE" \
      --purgatory="$PURGATORY" --out="$WORK/saveoops.bundle" | tee "$WORK/bundle.txt"
    grep -q "saveoops-capture alone" "$WORK/bundle.txt" ||
      fail "the bundle's initramfs is not saveoops-capture alone"
    ;;
  *) fail "unknown --capture-kernel=$CAPTURE_KERNEL_CHOICE" ;;
esac

if [ -z "$CRASHKERNEL" ]; then
  # Plan against a saved map of this very guest (1 GiB QEMU PC): the
  # sandbox's own /proc/iomem is unreadable and would not be the guest's.
  CRASHKERNEL=$("$SAVEOOPS" plan --bundle="$WORK/saveoops.bundle" --cpus="$SMP" \
    --memmap="$RUNFILES/common/testdata/iomem_qemu_bios_1g_crashkernel_256m.txt" \
    --print=recommended-mib)
fi
step "crashkernel=${CRASHKERNEL}M (saveoops plan's recommendation: its smallest + margin)"

DISK=$WORK/disk.img
case "$LAYOUT" in
  bare) "$SAVEOOPS" store format --store="$DISK" --size=16M >/dev/null ;;
  mbr|gpt)
    # 64 MiB: partition 1 at 1 MiB (16 MiB), the store as partition 2 (16 MiB),
    # partition 3 the rest; 1 and 3 filled with random bytes that must survive.
    truncate -s 64M "$DISK"
    if [ "$LAYOUT" = mbr ]; then
      printf 'label: dos\nstart=2048, size=32768, type=83\nstart=34816, size=32768, type=da\nstart=67584, type=83\n'
    else
      printf 'label: gpt\nstart=2048, size=32768, type=L\nstart=34816, size=32768, type=L\nstart=67584, type=L\n'
    fi | /usr/sbin/sfdisk -q "$DISK"
    dd if=/dev/urandom of="$DISK" bs=512 seek=2048 count=32768 conv=notrunc status=none
    dd if=/dev/urandom of="$DISK" bs=512 seek=67584 count=$((131072 - 67584 - 34)) \
      conv=notrunc status=none
    "$SAVEOOPS" store format --store="$DISK" --partition=2 >/dev/null
    ;;
  *) fail "unknown --disk-layout=$LAYOUT" ;;
esac
# The bytes outside the store: before the first boot and after the capture.
outside_digest() {
  { head -c $((34816 * 512)) "$DISK"; tail -c +$((67584 * 512 + 1)) "$DISK"; } | sha256sum
}
[ "$LAYOUT" = bare ] || OUTSIDE_BEFORE=$(outside_digest)
# Armed with the store: the capture must write only to a store with its UUID.
# The first kernel's test initramfs has no disk drivers, so arm reads the
# store's UUID from a copy of the store region packed into it (/store.img).
ARM_ARGS="--store=/store.img"
[ -n "$CORRUPT" ] && ARM_ARGS="$ARM_ARGS,--test-corrupt-digest=$CORRUPT"
if [ "$LAYOUT" = bare ]; then
  cp "$DISK" "$WORK/store-at-arm.img"
else
  dd if="$DISK" of="$WORK/store-at-arm.img" bs=512 skip=34816 count=32768 status=none
fi
if [ -n "$REFORMAT" ]; then
  # The store is formatted again (a new UUID) between arming and the panic.
  [ "$LAYOUT" = bare ] || fail "--reformat-store needs --disk-layout=bare"
  "$SAVEOOPS" store format --store="$DISK" >/dev/null
fi
"$MKCPIO" "$WORK/guest.cpio" "/init=$GUEST_INIT" "/bin/saveoops=$SAVEOOPS" \
  "/saveoops.bundle=$WORK/saveoops.bundle" "/store.img=$WORK/store-at-arm.img"
case "$CONTROLLER" in
  virtio) DISK_ARGS=(-drive "file=$DISK,format=raw,if=virtio") ;;
  ahci) DISK_ARGS=(-device ahci,id=ahci0 -drive "file=$DISK,format=raw,if=none,id=store"
    -device ide-hd,drive=store,bus=ahci0.0) ;;
  nvme) DISK_ARGS=(-drive "file=$DISK,format=raw,if=none,id=store"
    -device nvme,drive=store,serial=saveoops-e2e) ;;
  virtio-scsi) DISK_ARGS=(-device virtio-scsi-pci,id=scsi0
    -drive "file=$DISK,format=raw,if=none,id=store" -device scsi-hd,drive=store,bus=scsi0.0) ;;
  *) fail "unknown --controller=$CONTROLLER" ;;
esac
step "store: $LAYOUT layout on a $CONTROLLER disk"

APPEND="console=ttyS0 crashkernel=${CRASHKERNEL}M panic=1 loglevel=7"
[ -n "$ARM_ARGS" ] && APPEND="$APPEND saveoops_e2e.arm_args=$ARM_ARGS"
[ -n "$PANIC_CPU" ] && APPEND="$APPEND saveoops_e2e.panic_cpu=$PANIC_CPU"
[ -n "$LOCKDOWN" ] && APPEND="$APPEND lockdown=integrity"

step "booting QEMU (timeout ${QEMU_TIMEOUT}s)"
START=$(date +%s)
qemu-system-x86_64 -accel tcg -machine pc \
  -cpu qemu64 -m "$MEM" -smp "$SMP" -kernel "$KERNEL" -initrd "$WORK/guest.cpio" \
  -append "$APPEND" "${DISK_ARGS[@]}" \
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
if [ "$CAPTURE_KERNEL_CHOICE" = saveoops ] && [ -z "$CORRUPT" ]; then
  grep -q "Linux version [0-9.]*-saveoops " "$SERIAL" ||
    fail "Saveoops' capture kernel never booted"
  step "Saveoops' capture kernel booted: $(grep -o 'Linux version [0-9.]*-saveoops' "$SERIAL" | head -n 1)"
fi

if [ -n "$CORRUPT" ]; then
  grep -q "saveoops purgatory: REFUSING capture kernel: segment" "$SERIAL" ||
    fail "purgatory did not refuse the corrupted segment"
  if grep -q "saveoops-capture:" "$SERIAL"; then fail "a capture kernel ran despite a bad digest"; fi
  if "$SAVEOOPS" list --store="$DISK" | grep -q "^seq"; then
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
  if "$SAVEOOPS" show --store="$DISK" >/dev/null 2>&1; then
    fail "a record landed in the reformatted store"
  fi
  step "PASS: the capture refused the reformatted store and wrote nothing"
  exit 0
fi
grep -q "saveoops-capture: store UUID .* on /dev/[a-z0-9]* matches the armed store" "$SERIAL" ||
  fail "the capture did not log the armed store's UUID match"
# The bundle carries the prepared kernel: the purgatory, not the bzImage's
# decompressor, unpacked it.
grep -q "saveoops purgatory: unpacked kernel image" "$SERIAL" ||
  fail "purgatory did not unpack the prepared capture kernel"
"$SAVEOOPS" show --store="$DISK" >"$OUT/record-$CASE.txt" ||
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
if [ "$LAYOUT" != bare ]; then
  [ "$(outside_digest)" = "$OUTSIDE_BEFORE" ] ||
    fail "bytes outside the store partition changed during the capture"
  step "every byte outside partition 2 is unchanged"
fi
step "PASS: record with $(wc -l <"$RECORD") lines, panic line and call trace present"
