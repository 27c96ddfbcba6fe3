# --- bzImage and ELF core header fuzzers (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")

# ParseBzImage on arbitrary bytes; every accepted image also goes through
# BuildBootParams, whose zero page must carry the header bytes unchanged.
# Valid images need >= 2560 bytes: run with -max_len=32768, ideally seeded
# with the first setup_size + 4096 bytes of a real bzImage with syssize set
# to 4096 / 16.
cc_fuzz_test(
    name = "bzimage_fuzz",
    srcs = ["bzimage_fuzz.cc"],
    deps = [
        "//common:boot_params",
        "//common:bootproto",
        "//common:bzimage",
        "//third_party:absl",
    ],
)

# ParseElfCoreHeader on arbitrary bytes, plus Build -> Parse round trip on a
# spec drawn from the same bytes.
cc_fuzz_test(
    name = "elfcore_fuzz",
    srcs = ["elfcore_fuzz.cc"],
    deps = [
        "//common:elfcore",
        "//third_party:absl",
    ],
)
