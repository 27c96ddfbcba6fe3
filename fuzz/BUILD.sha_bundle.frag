# --- bundle fuzzer (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")

# Parses arbitrary bytes as saveoops.bundle (raw, header re-signed, parts and
# header re-signed) and round-trips every successful parse; also writes the
# input cut into four parts and reads it back. Inputs need > 4096 bytes to
# form a complete bundle: run with -max_len=65536.
cc_fuzz_test(
    name = "bundle_fuzz",
    srcs = ["bundle_fuzz.cc"],
    deps = [
        "//common:bundle",
        "//common:bundle_format",
        "//common:sha256",
        "//third_party:absl",
    ],
)
