"""libFuzzer targets that also run, briefly, as part of `bazel test //...`.

The code under test is compiled with the fuzzer's coverage instrumentation
and ASan+UBSan, not only the target's own file: `cc_fuzz_test` builds its
binary through a transition that adds `-fsanitize=fuzzer-no-link,address,
undefined` to every C++ compile in the binary's closure. Without it libFuzzer
sees only the few edges of the target's own file and is blind inside the
parser (a blind target reaches `cov:` of a few dozen at most).

Under `bazel test` each target runs a fixed-seed smoke pass and fails if it
reaches less coverage (`cov:` in libFuzzer's final line) than its floor in
fuzz/coverage_floors.bzl, so a target that goes blind again is caught. Given
arguments (`bazel run //fuzz:NAME -- -max_total_time=600 CORPUS`, or
tools/fuzz_all.sh) it runs them as a campaign instead; `--list-seeds` alone
prints its seed files and directories, one a line (tools/fuzz_all.sh starts
each campaign from them).
"""

load("@rules_cc//cc:defs.bzl", "cc_binary")
load("//fuzz:coverage_floors.bzl", "COVERAGE_FLOORS")

# Every C++ compile in the fuzz binary's closure.
_INSTRUMENT_COPTS = [
    "-fsanitize=fuzzer-no-link,address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
    "-g",
    "-O1",
    "-DSAVEOOPS_SANITIZERS=1",
]

# The fuzz binary's own link: libFuzzer's main plus the sanitizer runtimes.
_FUZZER_LINKOPTS = ["-fsanitize=fuzzer,address,undefined"]

def _instrumented_transition_impl(settings, attr):
    copts = settings["//command_line_option:copt"]
    return {"//command_line_option:copt": copts + [c for c in _INSTRUMENT_COPTS if c not in copts]}

_instrumented_transition = transition(
    implementation = _instrumented_transition_impl,
    inputs = ["//command_line_option:copt"],
    outputs = ["//command_line_option:copt"],
)

_SCRIPT = """#!/usr/bin/env bash
# {name}: libFuzzer smoke pass with a coverage floor, or a campaign with arguments.
set -uo pipefail
runfiles="${{TEST_SRCDIR:-${{RUNFILES_DIR:-$0.runfiles}}}}"
bin="$runfiles/{workspace}/{binary}"
if [ "$#" -eq 1 ] && [ "$1" = "--list-seeds" ]; then
  # For tools/fuzz_all.sh: the smoke pass's seed files and directories.
  for seed in {seeds}; do echo "$seed"; done
  exit 0
fi
if [ "$#" -gt 0 ]; then exec "$bin" "$@"; fi
log="${{TEST_UNDECLARED_OUTPUTS_DIR:-${{TMPDIR:-/tmp}}}}/{name}.log"
# A fresh corpus directory first (libFuzzer adds new inputs to the first
# one); seed files are copied into it, seed directories read after it.
corpus=$(mktemp -d "${{TEST_TMPDIR:-${{TMPDIR:-/tmp}}}}/{name}.XXXXXX")
dirs=()
for seed in {seeds}; do
  if [ -d "$seed" ]; then dirs+=("$seed"); else cp "$seed" "$corpus/"; fi
done
"$bin" -runs={runs} -seed=1 -print_final_stats=1 "$corpus" "${{dirs[@]}}" >"$log" 2>&1
rc=$?
cat "$log"
if [ "$rc" -ne 0 ]; then echo "{name}: the fuzzer failed (exit $rc)"; exit "$rc"; fi
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | awk '{{print $2}}')
if [ -z "$cov" ]; then echo "{name}: no 'cov:' figure in libFuzzer's output"; exit 1; fi
if [ "$cov" -lt {floor} ]; then
  echo "{name}: coverage $cov is below the floor of {floor} (fuzz/coverage_floors.bzl):" \\
       "is the code under test still instrumented, and still reached?"
  exit 1
fi
echo "{name}: coverage $cov (floor {floor})"
"""

def _fuzz_test_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo]
    exe = binary.files_to_run.executable
    seeds = " ".join(['"$runfiles/%s/%s"' % (ctx.workspace_name, f.short_path) for f in ctx.files.seeds])
    script = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(
        output = script,
        is_executable = True,
        content = _SCRIPT.format(
            name = ctx.label.name,
            workspace = ctx.workspace_name,
            binary = exe.short_path,
            runs = ctx.attr.runs,
            floor = ctx.attr.floor,
            seeds = seeds,
        ),
    )
    runfiles = ctx.runfiles(files = [exe] + ctx.files.seeds).merge(binary.default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

_fuzz_test = rule(
    implementation = _fuzz_test_impl,
    test = True,
    attrs = {
        "binary": attr.label(mandatory = True, cfg = _instrumented_transition),
        "runs": attr.int(default = 20000),
        "floor": attr.int(mandatory = True),
        "seeds": attr.label_list(allow_files = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def cc_fuzz_test(name, srcs, deps = [], runs = 20000, seeds = [], size = "small", **kwargs):
    """A libFuzzer target whose whole closure is instrumented (see above).

    `seeds`: files or directories the smoke pass starts its corpus from.
    The coverage floor comes from COVERAGE_FLOORS[name]; a target without one
    is an error.
    """
    if name not in COVERAGE_FLOORS:
        fail("%s has no coverage floor: add one to fuzz/coverage_floors.bzl " % name +
             "(a little below the cov: of its smoke pass)")
    cc_binary(
        name = name + "_bin",
        srcs = srcs,
        deps = deps,
        linkopts = _FUZZER_LINKOPTS,
        tags = ["manual"],
        testonly = True,
        **kwargs
    )
    _fuzz_test(
        name = name,
        binary = ":" + name + "_bin",
        runs = runs,
        floor = COVERAGE_FLOORS[name],
        seeds = seeds,
        size = size,
        tags = ["fuzz"],
    )
