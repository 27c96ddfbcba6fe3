#!/bin/bash
# Every file flag of saveoops and pack pointed at a directory, /dev/zero and
# a missing path fails with exit 1 or 2 (never a signal) and an error that
# names the flag or the path; pack refuses an --out someone else can change.
set -u
saveoops=tools/saveoops
pack=tools/pack
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/bad_paths.XXXXXX")
chmod 0755 "$tmp"
dir=$tmp/dir
mkdir "$dir"
: >"$tmp/empty"  # a regular file for the required flags not under test
fail=0

check() {  # flag path cmd...
  local flag=$1 path=$2
  shift 2
  local rc=0
  timeout 20 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
  if [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ]; then
    echo "FAIL: $* exited $rc (want 1 or 2): $(head -c 300 "$tmp/err")"
    fail=1
  elif ! grep -q -e "$flag" -e "$path" "$tmp/err"; then
    echo "FAIL: $*: stderr names neither $flag nor $path: $(head -c 300 "$tmp/err")"
    fail=1
  fi
}

for bad in "$dir" /dev/zero "$tmp/missing"; do
  for f in --kernel --initrd --purgatory --memmap; do
    check "$f" "$bad" "$saveoops" plan "$f=$bad"
  done
  check --bundle "$bad" "$saveoops" plan "--bundle=$bad"
  for f in --kernel --initramfs --purgatory; do
    check "$f" "$bad" "$saveoops" bundle create --initramfs="$tmp/empty" "$f=$bad" --out="$tmp/b"
  done
  check --bundle "$bad" "$saveoops" bundle verify "--bundle=$bad"
  check --capture-binary "$bad" "$saveoops" initramfs "--capture-binary=$bad" --out="$tmp/i"
  for b in kexec syslinux uefi; do
    for f in --kernel --initrd --capture-kernel; do
      check "$f" "$bad" "$pack" --backend=$b "$f=$bad" --out="$tmp/p-$b"
    done
  done
done

# --out owned by another user (root: chown to nobody), else a 0777 directory
# without the sticky bit: both refused before anything is read.
other=$tmp/other
mkdir "$other"
if [ "$(id -u)" -eq 0 ]; then
  chown 65534 "$other"
  want="owned by uid 65534"
else
  chmod 0777 "$other"
  want="writable by group or others"
fi
for b in kexec syslinux uefi; do
  check --out "$other" "$pack" --backend=$b --out="$other"
  grep -q "$want" "$tmp/err" || { echo "FAIL: $b --out=$other: no '$want'"; fail=1; }
done
open=$tmp/open
mkdir "$open"
chmod 0777 "$open"
check --out "$open" "$pack" --backend=kexec --out="$open"
grep -q "writable by group or others" "$tmp/err" || { echo "FAIL: 0777 --out accepted"; fail=1; }
check --out "$open" "$pack" --backend=syslinux --out="$open/disk.img"
grep -q "writable by group or others" "$tmp/err" || { echo "FAIL: 0777 --out dir accepted"; fail=1; }

[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
