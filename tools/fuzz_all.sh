#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ for SECONDS (default 60) each, one
# after another, with a corpus directory per target kept under OUT.
#   tools/fuzz_all.sh [SECONDS] [OUT]
# Prints one line per target (runs executed, result); exits non-zero if any
# target found a crash (its reproducer is left in OUT/<target>/).
set -uo pipefail
SECONDS_EACH=${1:-60}
OUT=${2:-/tmp/saveoops-fuzz}
cd "$(dirname "$0")/.."
bazel build //fuzz/... || exit 1
mkdir -p "$OUT"
failed=0
for bin in bazel-bin/fuzz/*_fuzz; do
  name=$(basename "$bin")
  mkdir -p "$OUT/$name/corpus"
  echo "[$(date +%T)] $name: fuzzing for ${SECONDS_EACH}s"
  (cd "$OUT/$name" && "$OLDPWD/$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 \
    -print_final_stats=1 corpus >"$OUT/$name/log.txt" 2>&1)
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$OUT/$name/log.txt" | awk '{print $2}')
  if [ "$rc" -eq 0 ]; then
    echo "    ok: ${runs:-?} runs, no finding"
  else
    echo "    FOUND A CRASH (exit $rc): see $OUT/$name/log.txt"
    failed=1
  fi
done
exit $failed
