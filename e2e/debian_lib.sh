# Shared by the e2e scripts that boot the real Debian 12 guest
# (tools/build_debian_guest.sh): debian_guest.sh and debian_secure_boot.sh.
# Sourced after e2e/lib.sh. Provides the guest (GUEST, RELEASE, ROOT_PARTUUID,
# ... of its guest.env), a scratch copy of its disk (DISK, and ROOTFS for
# debugfs), make_step_disk and boot_guest.

# Per boot; install.sh's update-initramfs alone takes minutes under TCG.
QEMU_TIMEOUT=${SAVEOOPS_E2E_TIMEOUT:-1500}

GUEST_CACHE=${SAVEOOPS_DEBIAN_GUEST_CACHE:-/var/cache/saveoops-debian-guest}
GUEST=$GUEST_CACHE/current
[ -f "$GUEST/.complete" ] ||
  fail "no Debian guest in $GUEST_CACHE: run tools/setup.sh (tools/build_debian_guest.sh)"
# shellcheck disable=SC1091
. "$GUEST/guest.env"
step "Debian guest $GUEST (kernel $RELEASE)"

# The guest's disk: a sparse copy of the cached image, which stays untouched.
DISK=$WORK/debian.img
cp --sparse=always "$GUEST/disk.img" "$DISK"
ROOTFS="$DISK?offset=$((PART_START_SECTOR * 512))"
GUEST_KERNEL=$GUEST/vmlinuz
GUEST_INITRD=$GUEST/initrd.img

# The step disk: a FAT image with step.sh and whatever the case gives it.
make_step_disk() {  # make_step_disk IMG STEP_SCRIPT [DIR_TO_ADD]
  local kib=65536
  if [ -n "${3:-}" ]; then kib=$(($(du -sk "$3" | cut -f1) + 32768)); fi
  rm -f "$1"
  /sbin/mkfs.vfat -C -n SVOOPSE2E "$1" "$kib" >/dev/null
  mcopy -i "$1" "$2" ::step.sh
  if [ -n "${3:-}" ]; then mcopy -s -i "$1" "$3" ::; fi
}

# boot_guest NAME KERNEL INITRD APPEND [extra QEMU args...]: one boot, until
# the guest powers off or reboots (-no-reboot), or QEMU_TIMEOUT.
boot_guest() {
  local name=$1 kernel=$2 initrd=$3 append=$4
  shift 4
  SERIAL=$OUT/serial-$CASE-$name.log
  step "boot '$name' (timeout ${QEMU_TIMEOUT}s)"
  local start; start=$(date +%s)
  timeout -k 5 "$QEMU_TIMEOUT" qemu-system-x86_64 -accel tcg -machine pc -cpu qemu64 \
    -m 1G -smp 1 -kernel "$kernel" -initrd "$initrd" -append "$append" \
    -drive "file=$DISK,format=raw,if=virtio" -drive "file=$WORK/step.img,format=raw,if=virtio" \
    "$@" -display none -monitor none -serial "file:$SERIAL" -no-reboot -nodefaults \
    </dev/null || {
    local rc=$?
    [ "$rc" -eq 124 ] && fail "boot '$name' timed out after ${QEMU_TIMEOUT}s"
    fail "QEMU failed (rc $rc) in boot '$name'"
  }
  step "boot '$name' ended after $(($(date +%s) - start))s"
}

# boot_disk NAME MAX_KERNELS [extra QEMU args...]: SeaBIOS boots the disk
# (its GRUB, its /boot/grub/grub.cfg), and the guest may reboot by itself
# (a capture kernel's reboot, a reboot after that) until it powers off. A
# boot loop is cut short: QEMU is stopped when a kernel starts after
# MAX_KERNELS have (first kernels and capture kernels alike), or at
# QEMU_TIMEOUT.
boot_disk() {
  local name=$1 max=$2
  shift 2
  SERIAL=$OUT/serial-$CASE-$name.log
  : >"$SERIAL"
  step "boot '$name' from the disk (SeaBIOS, GRUB; at most $max kernels; timeout ${QEMU_TIMEOUT}s)"
  local start; start=$(date +%s)
  qemu-system-x86_64 -accel tcg -machine pc -cpu qemu64 -m 1G -smp 1 \
    -drive "file=$DISK,format=raw,if=virtio" -drive "file=$WORK/step.img,format=raw,if=virtio" \
    "$@" -display none -monitor none -serial "file:$SERIAL" -nodefaults </dev/null &
  local qemu=$! kernels=0 seen=0
  while kill -0 "$qemu" 2>/dev/null; do
    sleep 2
    kernels=$(grep -ac "Linux version " "$SERIAL" || true)
    if [ "$kernels" -gt "$seen" ]; then
      seen=$kernels
      step "  kernel $kernels started ($(($(date +%s) - start))s)"
    fi
    if [ "$kernels" -gt "$max" ]; then
      kill "$qemu"; wait "$qemu" 2>/dev/null
      fail "boot '$name': a boot loop ($kernels kernels started, at most $max expected)"
    fi
    if [ $(($(date +%s) - start)) -gt "$QEMU_TIMEOUT" ]; then
      kill "$qemu"; wait "$qemu" 2>/dev/null
      fail "boot '$name' timed out after ${QEMU_TIMEOUT}s"
    fi
  done
  wait "$qemu" || fail "QEMU failed (rc $?) in boot '$name'"
  step "boot '$name' ended after $(($(date +%s) - start))s ($kernels kernels)"
}

BASE_APPEND="root=PARTUUID=$ROOT_PARTUUID ro console=ttyS0 panic=1 loglevel=6"
