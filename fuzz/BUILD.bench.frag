# --- benchmark parsers fuzzer (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")

# Serial-log markers, the kdump baseline's disk header, ldd and sha_bench
# output (bench/bench_lib.h).
cc_fuzz_test(
    name = "bench_parse_fuzz",
    srcs = ["bench_parse_fuzz.cc"],
    deps = [
        "//bench:bench_lib",
        "//third_party:absl",
    ],
)
