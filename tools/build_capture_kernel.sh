#!/usr/bin/env bash
# Builds Saveoops' own capture kernel (`--capture-kernel=saveoops`) from Debian's
# linux-source-6.1 package: `make tinyconfig`, then kernel/capture.config merged on top,
# then `make olddefconfig`, then bzImage. Run by tools/setup.sh; safe to run again.
#
# The result lands in a cache outside the clone, keyed by the source package's version
# and the SHA-256 of the fragment's option lines (not its comments), so a machine builds
# it once and every later run (and every clone) reuses it:
#
#   <cache>/<version>-<16 hex of that SHA-256>/bzImage   the kernel
#                                                     .../config    its final .config
#                                                     .../build.log the whole make log
#   <cache>/current -> <version>-<hash>               the one the fragment names now
#
# e2e tests, CI and `saveoops bundle create --capture-kernel=saveoops` find it through
# SAVEOOPS_CAPTURE_KERNEL (a bzImage) or, without it, <cache>/current/bzImage.
#
# Usage: build_capture_kernel.sh [--cache DIR] [--jobs N] [--print-path]
#   --cache DIR    the cache folder (default $SAVEOOPS_CAPTURE_KERNEL_CACHE or
#                  /var/cache/saveoops-capture-kernel)
#   --jobs N       make -j N (default 2; the build runs under nice -n 19 either way)
#   --print-path   print the bzImage path the current fragment builds and exit (0 if it
#                  is built, 1 if not); builds nothing
# Needs: linux-source-6.1 gcc make bc bison flex libelf-dev libssl-dev cpio xz-utils
# (tools/setup.sh installs them). Prints one line per phase; on a failed step it prints
# the tail of that step's log and exits 1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
FRAGMENT=$HERE/../kernel/capture.config
SOURCE_PACKAGE=linux-source-6.1
SOURCE_TARBALL=/usr/src/linux-source-6.1.tar.xz
CACHE=${SAVEOOPS_CAPTURE_KERNEL_CACHE:-/var/cache/saveoops-capture-kernel}
JOBS=2
PRINT_PATH=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --cache) CACHE=$2; shift 2 ;;
    --cache=*) CACHE=${1#*=}; shift ;;
    --jobs) JOBS=$2; shift 2 ;;
    --jobs=*) JOBS=${1#*=}; shift ;;
    --print-path) PRINT_PATH=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build_capture_kernel: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "build_capture_kernel: $*"; }
die() { echo "build_capture_kernel: $*" >&2; exit 1; }

[ -r "$FRAGMENT" ] || die "the fragment $FRAGMENT is missing"
VERSION=$(dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE" 2>/dev/null || true)
[ -n "$VERSION" ] && [ -r "$SOURCE_TARBALL" ] ||
  die "$SOURCE_PACKAGE is not installed ($SOURCE_TARBALL missing): run tools/setup.sh"
# The options only, not their comments: rewording a reason rebuilds nothing.
HASH=$(grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set$)' "$FRAGMENT" |
  sha256sum | cut -c1-16)
KEY=$VERSION-$HASH
OUT=$CACHE/$KEY

if [ "$PRINT_PATH" = 1 ]; then
  echo "$OUT/bzImage"
  [ -f "$OUT/.complete" ]
  exit
fi

if [ -f "$OUT/.complete" ]; then
  ln -sfn "$KEY" "$CACHE/current"
  say "capture kernel already built: $OUT/bzImage ($(stat -c %s "$OUT/bzImage") bytes)"
  exit 0
fi

START=$(date +%s)
phase() { say "[$(($(date +%s) - START))s] $*"; }

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/src
LOG=$WORK/build.log
: >"$LOG"

# Runs "$@" with its output in the build log; on failure prints the log's tail.
run_logged() {
  local what=$1; shift
  echo "=== $what: $*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    echo "build_capture_kernel: $what failed; the last 40 lines of its log:" >&2
    tail -n 40 "$LOG" >&2
    echo "build_capture_kernel: (whole log: $LOG, kept)" >&2
    trap - EXIT
    exit 1
  fi
}

phase "building the capture kernel from $SOURCE_PACKAGE $VERSION, fragment $HASH, into $OUT"
phase "extracting $SOURCE_TARBALL"
mkdir -p "$SRC"
run_logged extract tar -xJf "$SOURCE_TARBALL" -C "$SRC" --strip-components=1

KMAKE=(make -C "$SRC" ARCH=x86_64 -j"$JOBS")
phase "make tinyconfig"
run_logged tinyconfig nice -n 19 "${KMAKE[@]}" tinyconfig
phase "merging kernel/capture.config"
# -m: merge only; olddefconfig below resolves the dependencies.
run_logged merge bash -c "cd '$SRC' && ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config '$FRAGMENT'"
run_logged olddefconfig nice -n 19 "${KMAKE[@]}" olddefconfig

phase "checking every option of the fragment survived into .config"
lost=()
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*)
      grep -qxF "$line" "$SRC/.config" || lost+=("$line (have: $(grep -E "^(# )?${line%%=*}[= ]" "$SRC/.config" || echo absent))")
      ;;
    "# CONFIG_"*" is not set")
      opt=${line#\# }; opt=${opt%% *}
      if grep -qE "^$opt=" "$SRC/.config"; then lost+=("$line (have: $(grep -E "^$opt=" "$SRC/.config"))"); fi
      ;;
  esac
done <"$FRAGMENT"
if [ "${#lost[@]}" -gt 0 ]; then
  echo "build_capture_kernel: ${#lost[@]} option(s) of $FRAGMENT did not survive make olddefconfig" \
    "(a dependency is missing from the fragment):" >&2
  printf '  %s\n' "${lost[@]}" >&2
  exit 1
fi

phase "make bzImage (nice -n 19, -j$JOBS; log: $LOG)"
# A line every two minutes with how many objects are built, so a long build shows life.
(
  while sleep 120; do
    phase "  ... $(grep -c '^  CC' "$LOG" || true) files compiled"
  done
) &
TICKER=$!
trap 'kill $TICKER 2>/dev/null || true; rm -rf "$WORK"' EXIT
run_logged bzImage nice -n 19 "${KMAKE[@]}" bzImage
kill "$TICKER" 2>/dev/null || true

phase "installing into $OUT"
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
cp "$SRC/arch/x86/boot/bzImage" "$OUT.tmp/bzImage"
cp "$SRC/.config" "$OUT.tmp/config"
cp "$SRC/System.map" "$OUT.tmp/System.map"
cp "$LOG" "$OUT.tmp/build.log"
echo "$SOURCE_PACKAGE $VERSION" >"$OUT.tmp/source"
chmod -R a+rX "$OUT.tmp"
touch "$OUT.tmp/.complete"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
ln -sfn "$KEY" "$CACHE/current"
chmod a+rx "$CACHE"
phase "done: $OUT/bzImage ($(stat -c %s "$OUT/bzImage") bytes)"
