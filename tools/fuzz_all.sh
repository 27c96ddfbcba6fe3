#!/usr/bin/env bash
# Runs libFuzzer campaigns over the targets in fuzz/, one after another, and
# writes a summary of each: coverage when the seed corpus is loaded (the
# INITED line) and at the end, corpus size, executions, and what it found.
set -uo pipefail

usage() {
  cat <<'EOF'
Usage: tools/fuzz_all.sh [--nice=N] [--timeout=S] [--max-len=B] [--no-build]
                         [SECONDS] [OUT] [TARGET...]

Runs each libFuzzer target of fuzz/ (every *_fuzz target, or the TARGETs
named, e.g. store_fuzz printk_fuzz, in that order) for SECONDS (default 60),
one at a time. Each campaign starts from the target's seed corpus (the seeds
of its cc_fuzz_test, copied to OUT/<target>/seeds) plus whatever OUT/<target>/
corpus holds from an earlier campaign; new inputs go to OUT/<target>/corpus.

  --nice=N      run the fuzzers under `nice -n N` (default 10)
  --timeout=S   libFuzzer's -timeout: an input running longer is a finding
                (default 30)
  --max-len=B   libFuzzer's -max_len for every target (default: per target,
                8192 for store_fuzz, 65536 otherwise)
  --no-build    run the fuzz binaries already in bazel-bin/ (do not rebuild)
  -h, --help    this text

OUT (default /tmp/saveoops-fuzz) receives, per target, log.txt (libFuzzer's
output) and any reproducer (crash-*, leak-*, timeout-*, oom-*), and
OUT/summary.tsv / OUT/summary.md: one row per campaign (rows accumulate
over invocations) with cov:/ft: at INITED (seeds loaded) and at the end, the
corpus (inputs/bytes) at both, executions, the exit code and the finding. Prints one line per target; exits 1 if any target
found something, 2 on a usage or build error.
EOF
}

NICE=10
TIMEOUT=30
MAX_LEN=
BUILD=1
positional=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --nice=*) NICE=${arg#--nice=} ;;
    --timeout=*) TIMEOUT=${arg#--timeout=} ;;
    --max-len=*) MAX_LEN=${arg#--max-len=} ;;
    --no-build) BUILD=0 ;;
    -*) echo "fuzz_all.sh: unknown flag $arg (see --help)" >&2; exit 2 ;;
    *) positional+=("$arg") ;;
  esac
done
SECONDS_EACH=${positional[0]:-60}
OUT=${positional[1]:-/tmp/saveoops-fuzz}
targets=("${positional[@]:2}")
for n in "$SECONDS_EACH" "$NICE" "$TIMEOUT" ${MAX_LEN:+"$MAX_LEN"}; do
  if ! [[ "$n" =~ ^[0-9]+$ ]]; then
    echo "fuzz_all.sh: '$n' is not a number (see --help)" >&2
    exit 2
  fi
done

cd "$(dirname "$0")/.."
repo=$PWD
if [ "${#targets[@]}" -eq 0 ]; then
  if [ "$BUILD" -eq 1 ]; then bazel build //fuzz/... || exit 2; fi
  for bin in bazel-bin/fuzz/*_fuzz; do targets+=("$(basename "$bin")"); done
elif [ "$BUILD" -eq 1 ]; then
  labels=()
  for t in "${targets[@]}"; do labels+=("//fuzz:$t"); done
  bazel build "${labels[@]}" || exit 2
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Fields of a libFuzzer status line ("#N INITED cov: C ft: F corp: I/Bb ...").
# An absent field reads "-" (summary.tsv has no empty columns).
field() {
  local v
  v=$(grep -o "$1: [0-9]*" <<<"$2" | head -n 1 | awk '{print $2}')
  echo "${v:--}"
}
corp() {
  local v
  v=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' <<<"$1" | head -n 1 | awk '{print $2}')
  echo "${v:--}"
}

tsv="$OUT/summary.tsv"
md="$OUT/summary.md"
# Rows accumulate over invocations (one campaign at a time, as the machine
# allows); summary.md is rewritten from summary.tsv after every target.
if [ ! -s "$tsv" ]; then
  printf 'date\ttarget\tseconds\tcov_start\tft_start\tcorp_start\tcov_end\tft_end\tcorp_end\texecs\texit\tfinding\n' >"$tsv"
fi
write_md() {
  {
    echo "# Fuzz campaigns (tools/fuzz_all.sh)"
    echo
    echo "| started (UTC) | target | seconds | cov/ft at start | cov/ft at end | corpus start -> end | execs | finding |"
    echo "|---|---|---|---|---|---|---|---|"
    tail -n +2 "$tsv" | while IFS=$'\t' read -r d t s c0 f0 p0 c1 f1 p1 e rc fi; do
      echo "| $d | $t | $s | $c0/$f0 | $c1/$f1 | $p0 -> $p1 | $e | ${fi//|/\\|} |"
    done
  } >"$md"
}

failed=0
for name in "${targets[@]}"; do
  script="$repo/bazel-bin/fuzz/$name"
  if [ ! -x "$script" ]; then
    echo "fuzz_all.sh: no fuzz target $name (bazel-bin/fuzz/$name)" >&2
    exit 2
  fi
  dir="$OUT/$name"
  mkdir -p "$dir/corpus" "$dir/seeds"
  while IFS= read -r seed; do
    if [ -d "$seed" ]; then cp -r "$seed"/. "$dir/seeds/"; elif [ -n "$seed" ]; then cp "$seed" "$dir/seeds/"; fi
  done < <("$script" --list-seeds)
  len=$MAX_LEN
  if [ -z "$len" ]; then
    case "$name" in store_fuzz) len=8192 ;; *) len=65536 ;; esac
  fi
  started=$(date -u '+%Y-%m-%d %H:%M')
  echo "[$(date +%T)] $name: fuzzing for ${SECONDS_EACH}s (max_len $len)"
  (cd "$dir" && nice -n "$NICE" "$script" -max_total_time="$SECONDS_EACH" -max_len="$len" \
    -timeout="$TIMEOUT" -print_final_stats=1 -artifact_prefix="$dir/" corpus seeds \
    >"$dir/log.txt" 2>&1)
  rc=$?
  log=$(cat "$dir/log.txt")
  inited=$(grep -m 1 -E '^#[0-9]+[[:space:]]+INITED ' <<<"$log")
  last=$(grep -E '^#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+cov: ' <<<"$log" | tail -n 1)
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' <<<"$log" | awk '{print $2}')
  artifacts=$(cd "$dir" && ls -1 crash-* leak-* timeout-* oom-* slow-unit-* 2>/dev/null | tr '\n' ' ')
  if [ "$rc" -eq 0 ]; then
    finding=none
    echo "    ok: ${execs:-?} runs, $(field cov "$last") cov, no finding"
  else
    finding=$(grep -m 1 -E '^==[0-9]+==ERROR|^SUMMARY|ERROR: libFuzzer' <<<"$log" | cut -c1-120)
    finding="exit $rc: ${finding:-see log.txt} ${artifacts}"
    echo "    FOUND SOMETHING (exit $rc): see $dir/log.txt ${artifacts}"
    failed=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$started" "$name" \
    "$SECONDS_EACH" "$(field cov "$inited")" "$(field ft "$inited")" "$(corp "$inited")" \
    "$(field cov "$last")" "$(field ft "$last")" "$(corp "$last")" "${execs:-?}" "$rc" \
    "$finding" >>"$tsv"
  write_md
done
echo "summary: $md"
exit $failed
