#!/usr/bin/env bash
# Installs every Debian package Saveoops needs to build, test and benchmark.
# Idempotent: packages already present are left alone; safe to run twice.
set -euo pipefail

PACKAGES=(
  # Build system and its Debian-packaged rule sets.
  bazel-bootstrap bazel-rules-cc bazel-rules-java bazel-platforms bazel-skylib
  # Declared toolchains: host C++17 (clang-14), freestanding ELF and UEFI PE32+.
  clang-14 lld-14 llvm-14 libclang-rt-14-dev gnu-efi
  # The formatter //tools:tree_test checks every C++ file with (.clang-format).
  clang-format-14
  # Libraries wrapped in third_party/.
  googletest libabsl-dev android-libboringssl-dev libunicorn-dev
  # Pack time: unpack the capture kernel (xz) and recompress it (LZ4).
  liblzma-dev liblz4-dev
  # Images, boot loaders and emulation for e2e tests.
  qemu-system-x86 qemu-utils ovmf syslinux syslinux-common extlinux isolinux
  syslinux-utils mtools dosfstools fdisk cpio kmod binutils file
  # The guest kernel used by the e2e tests.
  linux-image-amd64
  # The benchmark baseline (kdump stack).
  kexec-tools makedumpfile gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
else
  echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  # kexec-tools asks whether to load a kernel at reboot; answer no without a prompt.
  echo "kexec-tools kexec-tools/load_kexec boolean false" | $SUDO debconf-set-selections || true
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The guest kernel must be readable by the (non-root) Bazel sandbox user too.
for k in /boot/vmlinuz-*; do
  [ -e "$k" ] && { [ -r "$k" ] || $SUDO chmod a+r "$k" || true; }
done
echo "setup: done"
