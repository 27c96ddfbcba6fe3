#!/bin/bash
# Writers that fail midway leave nothing that looks valid: each command runs
# under a file size limit (ulimit -f; a write past it fails with EFBIG, as a
# full disk fails with ENOSPC) and must exit 1 leaving its output directory
# as it was: no OUT, no OUT.tmp*, no half-written file.
set -u
saveoops=tools/saveoops
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/failed_writes.XXXXXX")
fail=0

limited() {  # KiB cmd...: runs cmd with writes limited to KiB per file
  local kib=$1
  shift
  (trap '' XFSZ; ulimit -f "$kib"; exec "$@") >"$tmp/out" 2>"$tmp/err" </dev/null
}

expect_nothing_left() {  # what dir expected-names...
  local what=$1 dir=$2
  shift 2
  local got
  got=$(cd "$dir" && ls -A | tr '\n' ' ')
  if [ "$got" != "$*" ]; then
    echo "FAIL: $what left '$got' in $dir (want '$*')"
    fail=1
  fi
}

# initramfs --out: the capture initramfs is megabytes; 256 KiB stops it.
mkdir "$tmp/i"
rc=0
limited 256 "$saveoops" initramfs --out="$tmp/i/capture.cpio" || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: initramfs under the limit exited $rc: $(head -c 300 "$tmp/err")"; fail=1; }
expect_nothing_left "initramfs --out" "$tmp/i"
# ...and over an existing file, which stays as it was.
echo previous >"$tmp/i/capture.cpio"
rc=0
limited 256 "$saveoops" initramfs --out="$tmp/i/capture.cpio" || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: initramfs over a file exited $rc"; fail=1; }
expect_nothing_left "initramfs --out over a file" "$tmp/i" "capture.cpio "
[ "$(cat "$tmp/i/capture.cpio")" = previous ] || { echo "FAIL: the previous capture.cpio changed"; fail=1; }

# store format of a new file store: 1 MiB under a 64 KiB limit.
mkdir "$tmp/s"
rc=0
limited 64 "$saveoops" store format --store="$tmp/s/store" --size=1M || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: store format under the limit exited $rc: $(head -c 300 "$tmp/err")"; fail=1; }
expect_nothing_left "store format" "$tmp/s"

# bundle create --out: the bundle holds a kernel; 256 KiB stops it.
mkdir "$tmp/b"
"$saveoops" initramfs --modules= --out="$tmp/capture.cpio" >/dev/null 2>&1 ||
  { echo "FAIL: initramfs without the limit failed"; fail=1; }
rc=0
limited 256 "$saveoops" bundle create --initramfs="$tmp/capture.cpio" --out="$tmp/b/x.bundle" || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: bundle create under the limit exited $rc: $(head -c 300 "$tmp/err")"; fail=1; }
expect_nothing_left "bundle create --out" "$tmp/b"

[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
