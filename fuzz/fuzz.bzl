"""libFuzzer targets that also run, briefly, as part of `bazel test //...`."""

load("@rules_cc//cc:defs.bzl", "cc_test")

_FUZZ_FLAGS = ["-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all"]

def cc_fuzz_test(name, srcs, deps = [], runs = 20000, **kwargs):
    """A libFuzzer target built with ASan+UBSan.

    Under `bazel test` it runs `runs` inputs from a fixed seed, a smoke test
    that a crash-free parser stays crash-free; the real campaign is
    `bazel run //fuzz:NAME -- -max_total_time=60` (see README).
    """
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps,
        copts = _FUZZ_FLAGS + ["-g", "-O1"],
        linkopts = _FUZZ_FLAGS,
        args = ["-runs=%d" % runs, "-seed=1", "-print_final_stats=1"],
        tags = ["fuzz"],
        **kwargs
    )
