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
# --mkswap-store runs mkswap on the store disk after arming (our superblock
# copy 1 survives it, with the armed UUID): the capture must refuse the swap
# area, say why, and leave every byte of the disk as mkswap left it.
# --kernel=NAME boots a kernel of the e2e matrix (lib.sh MATRIX_KERNEL)
# instead of the installed one, as first and capture kernel (first kernel
# only with --capture-kernel=saveoops).
# --controller=virtio|ahci|nvme|virtio-scsi attaches the store disk to that
# controller (default virtio-blk); the default capture initramfs must reach it.
# --disk-layout=bare|mbr|gpt: the store is the whole disk (default), or
# partition 2 of a 64 MiB MBR or GPT disk whose partitions 1 and 3 hold random
# bytes; every byte outside partition 2 must be unchanged after the capture.
# --disk-layout=ext4-root: the guest's only disk is a GPT disk whose partition
# 1 holds an ext4 file system (mke2fs -d, no loop mounts); the guest mounts it,
# formats a file store in it (`store format --file-store`), arms with that
# file and panics; the capture writes through the file's extents. The record
# is read back from the file (debugfs dump), e2fsck -fn must be clean, and no
# disk byte may have changed but the store file's ring (the guest prints the
# disk's SHA-256 just before the panic; the host compares it with the image
# after the capture, the file's ring blocks zeroed as they were).
# --replace-store-file (with ext4-root): after arming, the guest replaces the
# store file by a new one of the same size the way README says to (`saveoops
# store wipe`, which clears the immutable flag; rm; format again: the new file
# gets other blocks, the old ones keep zeros): the capture must refuse it and
# the image stay byte for byte as the guest left it at the panic.
# --reformat-store-file (with ext4-root): after arming, the guest formats the
# store file again in place (`store format --file-store --force`: a new UUID
# in the same blocks): the capture must refuse it the same way.
# --capture-kernel=saveoops captures with Saveoops' own small kernel (lib.sh
# use_saveoops_capture_kernel; its drivers built in, the initramfs is
# saveoops-capture alone) instead of the first kernel; crashkernel= is what
# `saveoops plan` recommends for that bundle.
set -euo pipefail

CASE=default SMP=1 MEM=1G PANIC_CPU="" CORRUPT="" CRASHKERNEL="" LOCKDOWN="" REFORMAT=""
CONTROLLER=virtio LAYOUT=bare REPLACE_FILE="" REFORMAT_FILE="" CAPTURE_KERNEL_CHOICE=""
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
    --mkswap-store) REFORMAT=mkswap ;;
    --kernel=*) MATRIX_KERNEL=${arg#*=} ;;
    --controller=*) CONTROLLER=${arg#*=} ;;
    --disk-layout=*) LAYOUT=${arg#*=} ;;
    --replace-store-file) REPLACE_FILE=1 ;;
    --reformat-store-file) REFORMAT_FILE=1 ;;
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
# ext4-root: the file system is partition 1 of a 64 MiB GPT disk, at 1 MiB.
FS_START_SECTOR=2048 FS_SECTORS=126976 STORE_FILE=/var/lib/saveoops/store
case "$LAYOUT" in
  ext4-root)
    mkdir -p "$WORK/rootfs/var/lib/saveoops" "$WORK/rootfs/etc"
    echo "saveoops e2e root file system" >"$WORK/rootfs/etc/motd"
    head -c 3000000 /dev/urandom >"$WORK/rootfs/var/lib/filler"
    /usr/sbin/mke2fs -q -F -t ext4 -b 4096 -d "$WORK/rootfs" "$WORK/fs.img" $((FS_SECTORS / 8)) ||
      fail "mke2fs failed"
    truncate -s 64M "$DISK"
    printf 'label: gpt\nstart=%d, size=%d, type=L\n' "$FS_START_SECTOR" "$FS_SECTORS" |
      /usr/sbin/sfdisk -q "$DISK"
    dd if="$WORK/fs.img" of="$DISK" bs=512 seek="$FS_START_SECTOR" conv=notrunc status=none
    ;;
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
case "$LAYOUT" in mbr|gpt) OUTSIDE_BEFORE=$(outside_digest) ;; esac
# Armed with the store: the capture must write only to a store with its UUID.
# The first kernel's test initramfs has no disk drivers, so arm reads the
# store's UUID from a copy of the store region packed into it (/store.img).
ARM_ARGS="--store=/store.img"
[ -n "$CORRUPT" ] && ARM_ARGS="$ARM_ARGS,--test-corrupt-digest=$CORRUPT"
GUEST_FILES=("/init=$GUEST_INIT")
if [ "$LAYOUT" = ext4-root ]; then
  # The guest's own disk and ext4 drivers, packed (with /etc/saveoops/modules,
  # which guest_init loads) by the same builder as the capture initramfs;
  # crc32c_generic is what ext4's metadata checksums ask the crypto API for.
  "$SAVEOOPS" initramfs --capture-binary="$GUEST_INIT" --modules-dir="$MODULES_DIR" \
    --modules=virtio_pci,virtio_blk,crc32c_generic,ext4 --out="$WORK/guest-modules.cpio" >/dev/null
  GUEST_FILES=()
  ARM_ARGS="--store=/mnt$STORE_FILE"
  touch "$WORK/store-at-arm.img"
elif [ "$LAYOUT" = bare ]; then
  cp "$DISK" "$WORK/store-at-arm.img"
else
  dd if="$DISK" of="$WORK/store-at-arm.img" bs=512 skip=34816 count=32768 status=none
fi
if [ -n "$REFORMAT" ]; then
  # The store is formatted again (a new UUID) between arming and the panic.
  [ "$LAYOUT" = bare ] || fail "--reformat-store and --mkswap-store need --disk-layout=bare"
  if [ "$REFORMAT" = mkswap ]; then
    /usr/sbin/mkswap -q "$DISK" >/dev/null
    DISK_AFTER_MKSWAP=$(sha256sum <"$DISK")
  else
    "$SAVEOOPS" store format --store="$DISK" >/dev/null
  fi
fi
"$MKCPIO" "$WORK/guest.cpio" "${GUEST_FILES[@]}" "/bin/saveoops=$SAVEOOPS" \
  "/saveoops.bundle=$WORK/saveoops.bundle" "/store.img=$WORK/store-at-arm.img"
if [ "$LAYOUT" = ext4-root ]; then
  # Two newc archives back to back: the kernel unpacks both.
  cat "$WORK/guest-modules.cpio" "$WORK/guest.cpio" >"$WORK/guest-all.cpio"
  mv "$WORK/guest-all.cpio" "$WORK/guest.cpio"
fi
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
if [ "$LAYOUT" = ext4-root ]; then
  # A serial, as real disks have: arm records it, the capture compares it.
  [ "$CONTROLLER" = virtio ] || fail "--disk-layout=ext4-root needs the virtio controller"
  DISK_ARGS=(-drive "file=$DISK,format=raw,if=none,id=root"
    -device virtio-blk-pci,drive=root,serial=SVOOPS-E2E-ROOT)
fi
step "store: $LAYOUT layout on a $CONTROLLER disk"

APPEND="console=ttyS0 crashkernel=${CRASHKERNEL}M panic=1 loglevel=7"
[ -n "$ARM_ARGS" ] && APPEND="$APPEND saveoops_e2e.arm_args=$ARM_ARGS"
[ -n "$PANIC_CPU" ] && APPEND="$APPEND saveoops_e2e.panic_cpu=$PANIC_CPU"
[ -n "$LOCKDOWN" ] && APPEND="$APPEND lockdown=integrity"
if [ "$LAYOUT" = ext4-root ]; then
  FORMAT_CMD="/bin/saveoops,store,format,--file-store,--store=/mnt$STORE_FILE,--size=16M"
  APPEND="$APPEND saveoops_e2e.modules=1 saveoops_e2e.mount=/dev/vda1"
  APPEND="$APPEND saveoops_e2e.pre_arm=$FORMAT_CMD saveoops_e2e.disk_digest=/dev/vda"
  [ -n "$REPLACE_FILE" ] && APPEND="$APPEND saveoops_e2e.replace=/mnt$STORE_FILE"
  [ -n "$REFORMAT_FILE" ] && APPEND="$APPEND saveoops_e2e.post_arm=$FORMAT_CMD,--force"
fi

# A guest of several vCPUs runs them round-robin in one host thread
# (thread=single). With one host thread per vCPU, a 4-vCPU guest on this
# 2-core machine beside another guest once lost a vCPU for good: CPU 3 stopped
# in idle at 1.4 s and never woke, RCU stalled and the panic never came. One
# thread still emulates every CPU, the IPIs and the NMI shootdown the crash
# path sends, and it needs one host core, not SMP of them.
ACCEL=tcg
[ "$SMP" -gt 1 ] && ACCEL=tcg,thread=single
step "booting QEMU (-accel $ACCEL, timeout ${QEMU_TIMEOUT}s)"
START=$(date +%s)
qemu-system-x86_64 -accel "$ACCEL" -machine pc \
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
if [ "$LAYOUT" = ext4-root ]; then
  # The disk as the guest left it at the panic, and as the capture left it.
  AT_PANIC=$(sed -n 's/.*disk digest before the panic: \/dev\/vda [0-9]* bytes sha256 \([0-9a-f]*\).*/\1/p' \
    "$SERIAL" | tail -n 1)
  [ -n "$AT_PANIC" ] || fail "the guest printed no disk digest before the panic"
  DISK_GUID=$(/usr/sbin/sfdisk --disk-id "$DISK" | tr A-F a-f)
  grep -q "saveoops arm: file store .* extent(s) on disk GPT $DISK_GUID partition 1 (serial SVOOPS-E2E-ROOT)" \
    "$SERIAL" || fail "arm did not map the file store with its disk's identity and serial"
  dd if="$DISK" of="$WORK/fs-after.img" bs=512 skip="$FS_START_SECTOR" count="$FS_SECTORS" \
    status=none
  /usr/sbin/e2fsck -fn "$WORK/fs-after.img" >"$OUT/e2fsck-$CASE.txt" 2>&1 ||
    fail "e2fsck -fn found problems: $(tail -n 20 "$OUT/e2fsck-$CASE.txt")"
  step "e2fsck -fn: the file system is clean"
  /usr/sbin/debugfs -R "dump $STORE_FILE $WORK/store-file" "$WORK/fs-after.img" 2>/dev/null
  [ -s "$WORK/store-file" ] || fail "debugfs could not copy $STORE_FILE out of the image"
  if [ -n "$REPLACE_FILE$REFORMAT_FILE" ]; then
    if [ -n "$REPLACE_FILE" ]; then
      grep -q "saveoops-e2e: deleted /mnt$STORE_FILE after arming" "$SERIAL" ||
        fail "the guest did not replace the store file"
      grep -q "saveoops-capture: refusing disk /dev/vda: no store superblock through the armed extents" \
        "$SERIAL" || fail "the capture did not refuse the replaced store file"
    else
      grep -q "saveoops-capture: refusing disk /dev/vda: the superblock through the armed extents is store .*, armed for store" \
        "$SERIAL" || fail "the capture did not refuse the store file formatted again"
    fi
    grep -q "saveoops: note: a capture kernel is armed; arm again with --store=" "$SERIAL" ||
      fail "formatting a file store while armed did not say to arm again"
    grep -q "saveoops-capture: no store: no disk holds the armed file store .*nothing written" \
      "$SERIAL" || fail "the capture did not say that nothing was written"
    [ "$(sha256sum <"$DISK" | cut -d' ' -f1)" = "$AT_PANIC" ] ||
      fail "the disk changed after the panic although the capture refused the store"
    step "every byte of the disk is as the guest left it at the panic"
    if "$SAVEOOPS" list --store="$WORK/store-file" | grep -q "^seq"; then
      fail "the new store file holds a record"
    fi
    step "PASS: the capture refused the $([ -n "$REPLACE_FILE" ] && echo replaced ||
      echo reformatted) store file and wrote nothing"
    exit 0
  fi
  grep -q "saveoops-capture: file store .* /dev/vda matches the armed disk" "$SERIAL" ||
    fail "the capture did not find the file store's disk"
  grep -q "saveoops-capture: record 1 written to the file store on /dev/vda" "$SERIAL" ||
    fail "the capture did not write the record through the extents"
  # The store's ring (file bytes from 8192, store_format.h kRingStartOffset)
  # was zeros at the panic; zeroing it again in a copy must give the disk
  # digest the guest printed: then no other byte changed.
  /usr/sbin/debugfs -R "blocks $STORE_FILE" "$WORK/fs-after.img" 2>/dev/null >"$WORK/blocks.txt"
  [ "$(wc -w <"$WORK/blocks.txt")" -eq 4096 ] ||
    fail "debugfs lists $(wc -w <"$WORK/blocks.txt") blocks of the 16 MiB store file, not 4096"
  cp "$DISK" "$WORK/disk-ring-zeroed.img"
  tr ' ' '\n' <"$WORK/blocks.txt" | grep . | tail -n +3 |
    awk -v base=$((FS_START_SECTOR / 8)) '
      { b = $1 + base; if (n && b == last + 1) { last = b; len++ } else { if (n) print first, len;
        first = b; last = b; len = 1; n = 1 } }
      END { if (n) print first, len }' |
    while read -r first len; do
      dd if=/dev/zero of="$WORK/disk-ring-zeroed.img" bs=4096 seek="$first" count="$len" \
        conv=notrunc status=none
    done
  [ "$(sha256sum <"$WORK/disk-ring-zeroed.img" | cut -d' ' -f1)" = "$AT_PANIC" ] ||
    fail "bytes outside the store file's ring changed during the capture"
  step "no disk byte outside the store file's extents changed (nor its superblocks)"
  DISK=$WORK/store-file
fi
if [ "$REFORMAT" = mkswap ]; then
  grep -q "saveoops-capture: refusing: .*/dev/vda.*reformatted by another tool: block 0 holds a swap signature" "$SERIAL" ||
    fail "the capture did not say it refused the swap area"
  grep -q "saveoops-capture: no store: no block device holds the armed store" "$SERIAL" ||
    fail "the capture did not say why nothing was written"
  [ "$(sha256sum <"$DISK")" = "$DISK_AFTER_MKSWAP" ] || fail "the capture wrote into the swap area"
  step "PASS: the capture refused the disk mkswap reformatted and wrote no byte into it"
  exit 0
fi
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
if [ "$LAYOUT" != ext4-root ]; then
  grep -q "saveoops-capture: store UUID .* on /dev/[a-z0-9]* matches the armed store" "$SERIAL" ||
    fail "the capture did not log the armed store's UUID match"
fi
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
if [ "$LAYOUT" = ext4-root ]; then
  grep -q "Signature: *[0-9a-f]\{16\}" "$RECORD" || fail "record shows no crash signature"
elif [ "$LAYOUT" != bare ]; then
  [ "$(outside_digest)" = "$OUTSIDE_BEFORE" ] ||
    fail "bytes outside the store partition changed during the capture"
  step "every byte outside partition 2 is unchanged"
fi
# The next boot's saveoops-collect.service, run on the host over the disk:
# settings from a config file, the record into records/<UTC time>-<seq>/.
COLLECT_DIR=$WORK/collected
printf 'store=%s\nretention=5\ncollect_dir=%s\n' "$DISK" "$COLLECT_DIR" >"$WORK/saveoops.conf"
chmod 0600 "$WORK/saveoops.conf"
"$SAVEOOPS" collect --config="$WORK/saveoops.conf" --journal-socket=none \
  >"$OUT/collect-$CASE.txt" 2>&1 || fail "saveoops collect failed: $(cat "$OUT/collect-$CASE.txt")"
REC_DIRS=("$COLLECT_DIR"/records/*)
[ "${#REC_DIRS[@]}" -eq 1 ] || fail "collect made ${#REC_DIRS[@]} record directories, not 1"
REC_DIR=${REC_DIRS[0]}
[[ "${REC_DIR##*/}" =~ ^[0-9]{8}T[0-9]{6}Z-1$ ]] || fail "record directory ${REC_DIR##*/} is not <UTC time>-1"
[ "$(stat -c %a "$REC_DIR")" = 700 ] || fail "$REC_DIR is not 0700"
for f in dmesg.txt record.json; do
  [ "$(stat -c %a "$REC_DIR/$f")" = 600 ] || fail "$REC_DIR/$f is not 0600"
done
"$SAVEOOPS" show --raw --store="$DISK" | cmp -s - "$REC_DIR/dmesg.txt" ||
  fail "dmesg.txt is not the record's log"
grep -q "Kernel panic - not syncing: sysrq triggered crash" "$REC_DIR/dmesg.txt" ||
  fail "dmesg.txt lacks the panic line"
JSON=$REC_DIR/record.json
grep -qF "\"kernel_release\": \"$RELEASE\"," "$JSON" || fail "record.json's kernel_release is not $RELEASE"
grep -q '"panic_reason": "[^"]*sysrq triggered crash' "$JSON" || fail "record.json lacks the panic reason"
grep -q '"sequence": 1,' "$JSON" || fail "record.json's sequence is not 1"
SIG=$(sed -n 's/^Signature: *\([0-9a-f]\{16\}\).*/\1/p' "$RECORD")
[ -n "$SIG" ] || fail "saveoops show printed no signature"
grep -qF "\"signature\": \"$SIG\"," "$JSON" || fail "record.json's signature is not show's $SIG"
grep -q '"signature_frames": \[[^]]*"sysrq_handle_crash"' "$JSON" ||
  fail "record.json's signature frames lack sysrq_handle_crash"
"$SAVEOOPS" collect --config="$WORK/saveoops.conf" --journal-socket=none | grep -q "^collected 0 new" ||
  fail "a second collect collected the record again"
step "collect: ${REC_DIR##*/}/dmesg.txt and record.json (signature $SIG); a second collect adds nothing"
step "PASS: record with $(wc -l <"$RECORD") lines, panic line and call trace present"
