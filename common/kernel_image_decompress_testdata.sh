#!/usr/bin/env bash
# Writes OUTDIR/payload.raw and that input compressed with each tool the
# kernel build uses, with its flags (scripts/Makefile.lib cmd_gzip ...
# cmd_zstd22, scripts/xz_wrap.sh), each followed by the 4-byte little-endian
# unpacked size the build appends (size_append). The tools are Debian's
# (tools/setup.sh). Usage: kernel_image_decompress_testdata.sh OUTDIR
set -euo pipefail
out=$1
raw=$out/payload.raw
# 9.5 MiB of text and a run of zeroes, as in a vmlinux: two LZ4 legacy
# blocks, many lzop blocks.
{ seq 1 1100000; head -c 2097152 /dev/zero; seq 7 3 900000; } >"$out/input"
head -c 9961472 "$out/input" >"$raw"
rm "$out/input"
size=$(stat -c %s "$raw")
le32() {
  printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) \
    $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}
compress() {
  local ext=$1; shift
  { "$@" <"$raw"; le32 "$size"; } >"$out/payload.$ext"
}
compress gz gzip -n -f -9 -c
compress bz2 bzip2 -9 -c
compress lzma xz --format=lzma -9 -c  # what xz-utils installs as `lzma -9`
compress xz xz --check=crc32 --x86 --lzma2=,dict=32MiB -c
compress lzo lzop -9 -c
compress lz4 lz4 -l -9 --favor-decSpeed -c
compress zst zstd -22 --ultra -q -c
