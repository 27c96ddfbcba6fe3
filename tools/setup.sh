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
  # Pack time: unpack the capture kernel's payload (xz, lzma, zstd, gzip,
  # LZ4, bzip2, LZO) and compressed modules, recompress the kernel as LZ4.
  liblzma-dev liblz4-dev libzstd-dev zlib1g-dev libbz2-dev liblzo2-dev
  # `store format` / `arm`: refuse a region holding another signature.
  libblkid-dev
  # Unit tests build payloads of each format with the command-line tools.
  # (xz-utils also makes .lzma files: `xz --format=lzma`, its `lzma`.)
  xz-utils zstd gzip lz4 bzip2 lzop
  # Images, boot loaders and emulation for e2e tests.
  qemu-system-x86 qemu-utils ovmf syslinux syslinux-common extlinux isolinux
  syslinux-utils mtools dosfstools fdisk cpio kmod binutils file
  # The real Debian 12 guest (tools/build_debian_guest.sh): built from
  # Debian's archive, its ext4 root made and read without loop mounts.
  mmdebstrap
  # The Debian package (pack --backend=kexec --format=deb): built with
  # dpkg-deb, checked by lintian and its scripts by shellcheck (//tools:deb_test).
  lintian shellcheck
  # The file-store e2e cases: mke2fs -d builds the guest's ext4 root file
  # system, debugfs copies the store file out, e2fsck -fn checks it.
  e2fsprogs
  # The guest kernel used by the e2e tests.
  linux-image-amd64
  # Saveoops' own capture kernel (tools/build_capture_kernel.sh): Debian's
  # kernel source and what building it needs.
  linux-source-6.1 gcc make bc bison flex libelf-dev libssl-dev
  # The benchmark baseline (kdump stack).
  kexec-tools makedumpfile gnuplot-nox
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# The e2e kernel matrix (e2e/BUILD.bazel, _KERNEL_CASES): Debian kernels of
# other releases, fetched without installing them and unpacked into a cache
# outside the clone, so it survives between CI runs on this machine. Keyed
# by package version: <cache>/<package>_<version>/ holds the `dpkg -x` tree
# (depmod run on it), and <cache>/<name> is a symlink to the current one,
# which e2e/lib.sh follows. A second run finds every symlink and downloads
# nothing; delete the cache to refresh it.
KERNEL_CACHE=${SAVEOOPS_KERNEL_CACHE:-/var/cache/saveoops-kernels}
# name suite metapackage (its linux-image-<release>-<flavour> dependency is
# the package fetched)
MATRIX_KERNELS=(
  "bullseye bullseye linux-image-amd64"
  "trixie trixie linux-image-amd64"
  "trixie-cloud trixie linux-image-cloud-amd64"
  "trixie-rt trixie linux-image-rt-amd64"
)

# The archive URI of the machine's own Debian sources (deb822 or one-line).
debian_archive_uri() {
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' \
      /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# apt-get/apt-cache under a private configuration rooted at $1 (one suite):
# its own sources list, lists and cache; nothing under /etc is read for
# sources or preferences, nothing is written there, and dpkg's status is
# not consulted (nothing is installed).
private_apt() {
  local root=$1; shift
  "$@" -o Dir::Etc::SourceList="$root/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::Etc::PreferencesParts=/dev/null -o Dir::Etc::Preferences=/dev/null \
    -o Dir::State::Lists="$root/lists" -o Dir::Cache="$root/cache" \
    -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Architecture=amd64 \
    -o APT::Sandbox::User=root
}

fetch_matrix_kernels() {
  local todo=()
  for entry in "${MATRIX_KERNELS[@]}"; do
    read -r name _ _ <<<"$entry"
    if [ -L "$KERNEL_CACHE/$name" ] && [ -f "$KERNEL_CACHE/$name/.complete" ]; then continue; fi
    todo+=("$entry")
  done
  if [ "${#todo[@]}" -eq 0 ]; then
    echo "setup: matrix kernels already in $KERNEL_CACHE"
    return
  fi
  $SUDO mkdir -p "$KERNEL_CACHE"
  $SUDO chmod a+rx "$KERNEL_CACHE"
  local uri; uri=$(debian_archive_uri)
  local updated=" "
  for entry in "${todo[@]}"; do
    read -r name suite meta <<<"$entry"
    local apt_root="$KERNEL_CACHE/apt/$suite"
    # Fresh lists once per run that fetches anything: older ones may name a
    # version the archive no longer has.
    if [[ "$updated" != *" $suite "* ]]; then
      updated+="$suite "
      echo "setup: reading the $suite package lists from $uri"
      $SUDO mkdir -p "$apt_root/lists/partial" "$apt_root/cache/archives/partial"
      echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" |
        $SUDO tee "$apt_root/sources.list" >/dev/null
      $SUDO env -u APT_CONFIG bash -c "$(declare -f private_apt); private_apt '$apt_root' apt-get update -q"
    fi
    # linux-image-amd64 depends on exactly one linux-image-<release>-amd64.
    local pkg
    pkg=$(private_apt "$apt_root" apt-cache depends "$meta" |
      awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
    [ -n "$pkg" ] || { echo "setup: $meta in $suite names no linux-image-<release>" >&2; exit 1; }
    local version
    version=$(private_apt "$apt_root" apt-cache show --no-all-versions "$pkg" |
      awk '/^Version:/ {print $2; exit}')
    local tree="$KERNEL_CACHE/${pkg}_${version}"
    if [ ! -f "$tree/.complete" ]; then
      echo "setup: fetching $pkg $version ($name)"
      local dl; dl=$($SUDO mktemp -d "$KERNEL_CACHE/download.XXXXXX")
      (cd "$dl" && $SUDO bash -c "$(declare -f private_apt); private_apt '$apt_root' apt-get download -q '$pkg=$version'")
      $SUDO rm -rf "$tree"
      $SUDO dpkg -x "$dl"/*.deb "$tree"
      $SUDO rm -rf "$dl"
      # Debian 13 moved the modules to /usr/lib/modules.
      local release="" dir
      for dir in "$tree"/lib/modules/* "$tree"/usr/lib/modules/*; do
        [ -d "$dir" ] && release=${dir##*/}
      done
      [ -n "$release" ] || { echo "setup: $pkg has no modules tree" >&2; exit 1; }
      # This host's depmod reads <base>/lib/modules only: give a /usr-only
      # tree the merged-/usr link its own system has.
      [ -e "$tree/lib" ] || $SUDO ln -s usr/lib "$tree/lib"
      $SUDO depmod -b "$tree" "$release"
      $SUDO chmod -R a+rX "$tree"
      $SUDO touch "$tree/.complete"
    fi
    $SUDO ln -sfn "${pkg}_${version}" "$KERNEL_CACHE/$name"
    echo "setup: $name kernel is $pkg $version in $KERNEL_CACHE/$name"
  done
}

# The kernel-upgrade e2e case (//e2e:debian12_kernel_upgrade) installs a newer
# kernel package into the Debian 12 guest: bookworm-backports' linux-image-amd64
# target and the linux-base it pre-depends on, kept as .deb files in
# $KERNEL_CACHE/debs/bookworm-backports/ (current -> the fetched set).
UPGRADE_SUITE=bookworm-backports
fetch_upgrade_kernel_debs() {
  local base="$KERNEL_CACHE/debs/$UPGRADE_SUITE"
  if [ -f "$base/current/.complete" ]; then
    echo "setup: upgrade kernel packages already in $base/current"
    return
  fi
  local uri; uri=$(debian_archive_uri)
  local apt_root="$KERNEL_CACHE/apt/$UPGRADE_SUITE"
  $SUDO mkdir -p "$apt_root/lists/partial" "$apt_root/cache/archives/partial" "$base"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $UPGRADE_SUITE main" |
    $SUDO tee "$apt_root/sources.list" >/dev/null
  echo "setup: reading the $UPGRADE_SUITE package lists from $uri"
  $SUDO env -u APT_CONFIG bash -c "$(declare -f private_apt); private_apt '$apt_root' apt-get update -q"
  local pkg
  pkg=$(private_apt "$apt_root" apt-cache depends linux-image-amd64 |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
  [ -n "$pkg" ] || { echo "setup: linux-image-amd64 in $UPGRADE_SUITE names no linux-image-<release>" >&2; exit 1; }
  local dir="$base/$pkg"
  echo "setup: fetching $pkg and linux-base from $UPGRADE_SUITE (about 110 MB)"
  $SUDO rm -rf "$dir" && $SUDO mkdir -p "$dir"
  (cd "$dir" && $SUDO bash -c "$(declare -f private_apt); private_apt '$apt_root' apt-get download -q '$pkg' linux-base/$UPGRADE_SUITE")
  ls "$dir"/linux-image-*.deb "$dir"/linux-base_*.deb >/dev/null ||
    { echo "setup: the $UPGRADE_SUITE kernel packages did not download" >&2; exit 1; }
  $SUDO chmod -R a+rX "$dir"
  $SUDO touch "$dir/.complete"
  $SUDO ln -sfn "$pkg" "$base/current"
  echo "setup: upgrade kernel packages in $dir"
}

# The Secure Boot e2e case (e2e/debian_secure_boot.sh): Debian's signed shim
# (shimx64.efi.signed, Microsoft's signature), MokManager (shim-helpers) and
# signed GRUB (grubx64.efi.signed, Debian's signature), fetched with
# `apt-get download` and unpacked with `dpkg -x`, never installed: their
# maintainer scripts would change this machine's boot. Keyed by the three
# package versions: <cache>/<key>/ holds the unpacked trees, <cache>/current
# links to the one in use. A second run with the same candidate versions
# downloads nothing.
SECURE_BOOT_CACHE=${SAVEOOPS_SECURE_BOOT_CACHE:-/var/cache/saveoops-secureboot}
SECURE_BOOT_PACKAGES=(shim-signed shim-helpers-amd64-signed grub-efi-amd64-signed)

fetch_secure_boot_loaders() {
  local key="" pkg version
  for pkg in "${SECURE_BOOT_PACKAGES[@]}"; do
    version=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
    [ -n "$version" ] || { echo "setup: no $pkg in the package lists (apt-get update?)" >&2; exit 1; }
    key+="${key:+_}${pkg}-${version}"
  done
  key=${key//[^A-Za-z0-9._+-]/-}
  local tree="$SECURE_BOOT_CACHE/$key"
  if [ ! -f "$tree/.complete" ]; then
    echo "setup: fetching ${SECURE_BOOT_PACKAGES[*]} into $tree"
    $SUDO mkdir -p "$SECURE_BOOT_CACHE"
    $SUDO chmod a+rx "$SECURE_BOOT_CACHE"
    local dl; dl=$($SUDO mktemp -d "$SECURE_BOOT_CACHE/download.XXXXXX")
    (cd "$dl" && $SUDO apt-get download -q -o APT::Sandbox::User=root "${SECURE_BOOT_PACKAGES[@]}")
    $SUDO rm -rf "$tree"
    local deb
    for deb in "$dl"/*.deb; do $SUDO dpkg -x "$deb" "$tree"; done
    $SUDO rm -rf "$dl"
    local f
    for f in usr/lib/shim/shimx64.efi.signed usr/lib/shim/mmx64.efi.signed \
      usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed; do
      [ -f "$tree/$f" ] || { echo "setup: the Secure Boot packages lack $f" >&2; exit 1; }
    done
    $SUDO chmod -R a+rX "$tree"
    $SUDO touch "$tree/.complete"
  fi
  $SUDO ln -sfn "$key" "$SECURE_BOOT_CACHE/current"
  echo "setup: signed shim and GRUB in $SECURE_BOOT_CACHE/current ($key)"
}

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
  $SUDO apt-get update -q
  # kexec-tools asks whether to load a kernel at reboot; answer no without a prompt.
  echo "kexec-tools kexec-tools/load_kexec boolean false" | $SUDO debconf-set-selections || true
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

fetch_matrix_kernels
fetch_upgrade_kernel_debs
fetch_secure_boot_loaders

# Saveoops' own capture kernel, into a cache keyed by the source version and
# kernel/capture.config's hash: built once per machine (about 17 minutes measured on 2
# cores), reused by every later run and clone.
SAVEOOPS_CAPTURE_KERNEL_CACHE=${SAVEOOPS_CAPTURE_KERNEL_CACHE:-/var/cache/saveoops-capture-kernel}
$SUDO mkdir -p "$SAVEOOPS_CAPTURE_KERNEL_CACHE"
$SUDO env SAVEOOPS_CAPTURE_KERNEL_CACHE="$SAVEOOPS_CAPTURE_KERNEL_CACHE" \
  "$(dirname "$0")/build_capture_kernel.sh"

# The real Debian 12 guest of e2e/debian_guest.sh (mmdebstrap, about 4 minutes
# on 2 cores), built once per set of inputs into $SAVEOOPS_DEBIAN_GUEST_CACHE
# (default /var/cache/saveoops-debian-guest).
"$(dirname "$0")/build_debian_guest.sh"

# The guest kernel must be readable by the (non-root) Bazel sandbox user too.
for k in /boot/vmlinuz-*; do
  [ -e "$k" ] && { [ -r "$k" ] || $SUDO chmod a+r "$k" || true; }
done
echo "setup: done"
