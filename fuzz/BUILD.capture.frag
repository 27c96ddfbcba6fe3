# --- capture fuzzers: vmcore, VMCOREINFO, printk ring (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")

# ParseVmcoreInfo on arbitrary text, every typed accessor on every key, and a
# write-back -> parse round trip of the entries.
# Seed: capture/testdata/vmcoreinfo-6.1.txt.
cc_fuzz_test(
    name = "vmcoreinfo_fuzz",
    srcs = ["vmcoreinfo_fuzz.cc"],
    deps = [
        "//capture:vmcoreinfo",
        "//third_party:absl",
    ],
)

# Vmcore::Open on arbitrary bytes (reads through every accepted segment),
# plus build -> Open round trip of notes, segments and memory drawn from the
# same bytes.
cc_fuzz_test(
    name = "vmcore_fuzz",
    srcs = ["vmcore_fuzz.cc"],
    deps = [
        "//capture:test_vmcore",
        "//capture:vmcore",
        "//third_party:absl",
    ],
)

# ReadPrintkLog over a fuzzer-provided memory image (prb at its first byte,
# mapped both as kernel image and direct map) with a fixed 6.1 VMCOREINFO.
cc_fuzz_test(
    name = "printk_fuzz",
    srcs = ["printk_fuzz.cc"],
    deps = [
        "//capture:printk",
        "//capture:test_vmcore",
        "//capture:vmcore",
        "//capture:vmcoreinfo",
        "//third_party:absl",
    ],
)
