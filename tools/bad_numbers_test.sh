#!/bin/bash
# Every numeric flag of saveoops and pack refuses a negative, an overflowing
# and an out-of-range value before doing anything: exit 2, never a signal,
# an error naming the flag and its range, and nothing printed on stdout that
# looks like a result (plan --cpus=99999999999 once printed crashkernel=5340666M).
set -u
saveoops=tools/saveoops
pack=tools/pack
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/bad_numbers.XXXXXX")
fail=0

check() {  # flag range cmd...: refused with exit 2, stderr names the flag and the range
  local flag=$1 range=$2
  shift 2
  local rc=0
  timeout 20 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
  if [ "$rc" -ne 2 ]; then
    echo "FAIL: $* exited $rc (want 2): $(head -c 300 "$tmp/err")"
    fail=1
  elif ! grep -q -e "$flag" "$tmp/err" || ! grep -q -F -- "$range" "$tmp/err"; then
    echo "FAIL: $*: stderr names not both $flag and $range: $(head -c 300 "$tmp/err")"
    fail=1
  elif grep -q -e crashkernel= -e formatted -e armed "$tmp/out"; then
    echo "FAIL: $*: printed a result: $(head -c 300 "$tmp/out")"
    fail=1
  fi
}

for v in -5 0 8193 99999999999 99999999999999999999999 five; do
  check --cpus 1..8192 "$saveoops" plan "--cpus=$v"
done
for v in -1 -1M 5G 99999999999T 3Q; do
  check --headroom 0..4G "$saveoops" plan "--headroom=$v"
  check --headroom 0..4G "$saveoops" arm "--headroom=$v" --dry-run
done
for v in -2 2147483648 99999999999999999999; do
  check --test-corrupt-digest -1..2147483647 "$saveoops" arm "--test-corrupt-digest=$v" --dry-run
done
for v in -1 99999999999T 9223372036854775808; do
  check --offset 0..9223372036854775807 "$saveoops" store format --store="$tmp/s" "--offset=$v"
  check --size 0..9223372036854775807 "$saveoops" store format --store="$tmp/s" "--size=$v"
done
for v in -1 2147483648 99999999999; do
  check --partition 0..2147483647 "$saveoops" store format --store="$tmp/s" "--partition=$v"
done
[ -e "$tmp/s" ] && { echo "FAIL: a refused store format created $tmp/s"; fail=1; }

for v in -1 3T 99999999999T -16M; do
  for f in --fat-size --store-size --image-size; do
    check "$f" 0..2T "$pack" --backend=syslinux "$f=$v" --out="$tmp/p-syslinux"
  done
done
for v in -1 65T 99999999999T; do
  check --min-memory 0..64T "$pack" --backend=syslinux "--min-memory=$v" --out="$tmp/p-syslinux"
done
for v in -1 17T 99999999999T; do
  for f in --esp-size --store-size --image-size; do
    check "$f" 0..16T "$pack" --backend=uefi "$f=$v" --out="$tmp/p-uefi"
  done
done
for p in "$tmp"/p-*; do
  [ -e "$p" ] && { echo "FAIL: a refused pack left $p"; fail=1; }
done

# --help states each range.
"$saveoops" plan --help | grep -q -F -- "CPUs with crash notes (1..8192" ||
  { echo "FAIL: plan --help does not state --cpus's range"; fail=1; }
"$pack" --backend=syslinux --help | grep -q -F -- "record store partition size (0..2T" ||
  { echo "FAIL: pack --help does not state --store-size's range"; fail=1; }

# show's record number is a sequence number: "-1" is not one.
"$saveoops" store format --store="$tmp/store" --size=1M >/dev/null || { echo "FAIL: store format"; fail=1; }
rc=0
"$saveoops" show --store="$tmp/store" -- -1 >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "'-1' is not a record number" "$tmp/err"; then
  echo "FAIL: show -1 exited $rc: $(head -c 300 "$tmp/err")"
  fail=1
fi

[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
