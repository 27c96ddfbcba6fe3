# Shared by the e2e scripts (panic_capture.sh, syslinux_capture.sh,
# uefi_capture.sh); sourced after CASE is set and RUNFILES points at the
# Bazel runfiles tree. Provides the tools under test, scratch and output
# places, progress and failure reporting, and the guest kernel.

SAVEOOPS=$RUNFILES/tools/saveoops
PACK=$RUNFILES/tools/pack
CAPTURE=$RUNFILES/capture/saveoops-capture
PURGATORY=$RUNFILES/purgatory/purgatory.bin
GUEST_INIT=$RUNFILES/e2e/guest_init
MKCPIO=$RUNFILES/e2e/mkcpio
OUT=${TEST_UNDECLARED_OUTPUTS_DIR:-$(mktemp -d)}
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/e2e.XXXXXX")
SERIAL=$OUT/serial-$CASE.log

step() { echo "[$(date +%T)] $CASE: $*"; }

# Reports the failure with the tail of the serial log (without the ANSI
# escapes and CRs firmware consoles paint with) and ends the test.
fail() {
  echo "FAIL ($CASE): $*" >&2
  if [ -f "$SERIAL" ]; then
    echo "---- last 60 lines of the serial log ($SERIAL) ----" >&2
    sed 's/\x1b\[[0-9;=]*[a-zA-Z]//g' "$SERIAL" | tr -d '\r' | tail -n 60 >&2
  fi
  exit 1
}

# The guest kernel: the newest installed Debian kernel (linux-image-amd64).
KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$KERNEL" ] || fail "no /boot/vmlinuz-*: run tools/setup.sh (linux-image-amd64)"
[ -r "$KERNEL" ] || fail "$KERNEL is not readable"
RELEASE=${KERNEL#/boot/vmlinuz-}

# The e2e kernel matrix: with MATRIX_KERNEL=NAME (panic_capture.sh
# --kernel=NAME; a name of tools/setup.sh's MATRIX_KERNELS, e.g. trixie-cloud)
# the guest boots that Debian kernel instead, as first and capture kernel
# alike, from the cache setup.sh unpacked it into. A missing cache fails the
# test: setup.sh always creates it. MODULES_DIR is the capture kernel's
# modules tree either way.
MODULES_DIR=/lib/modules/$RELEASE
if [ -n "${MATRIX_KERNEL:-}" ]; then
  KERNEL_CACHE=${SAVEOOPS_KERNEL_CACHE:-/var/cache/saveoops-kernels}
  MATRIX_TREE=$KERNEL_CACHE/$MATRIX_KERNEL
  [ -f "$MATRIX_TREE/.complete" ] ||
    fail "no kernel '$MATRIX_KERNEL' in $KERNEL_CACHE: run tools/setup.sh"
  KERNEL=$(ls "$MATRIX_TREE"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
  [ -n "$KERNEL" ] && [ -r "$KERNEL" ] || fail "no readable vmlinuz in $MATRIX_TREE/boot"
  RELEASE=${KERNEL##*/vmlinuz-}
  # Debian 13 keeps its modules in /usr/lib/modules.
  MODULES_DIR=$MATRIX_TREE/usr/lib/modules/$RELEASE
  [ -d "$MODULES_DIR" ] || MODULES_DIR=$MATRIX_TREE/lib/modules/$RELEASE
  [ -f "$MODULES_DIR/modules.dep" ] || fail "no $MODULES_DIR/modules.dep: run tools/setup.sh"
fi

# Saveoops' own capture kernel (--capture-kernel=saveoops in the scripts):
# the bzImage tools/build_capture_kernel.sh (run by tools/setup.sh) left in
# its cache, or $SAVEOOPS_CAPTURE_KERNEL. Exported, so the saveoops and pack
# binaries under test find the same one. A missing kernel fails the test:
# setup.sh always builds it.
use_saveoops_capture_kernel() {
  local cache=${SAVEOOPS_CAPTURE_KERNEL_CACHE:-/var/cache/saveoops-capture-kernel}
  CAPTURE_KERNEL=${SAVEOOPS_CAPTURE_KERNEL:-$cache/current/bzImage}
  [ -r "$CAPTURE_KERNEL" ] ||
    fail "no Saveoops capture kernel at $CAPTURE_KERNEL: run tools/build_capture_kernel.sh (tools/setup.sh runs it)"
  export SAVEOOPS_CAPTURE_KERNEL=$CAPTURE_KERNEL
}
