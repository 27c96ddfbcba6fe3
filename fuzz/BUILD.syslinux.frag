# --- Syslinux backend fuzzer (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")

# saveoops-early-arm's parsers of kernel-provided text (setup_data type,
# /proc/cmdline options), pack's flag parsing (--console, --append) and the
# MBR writer read back by the store's partition table reader; plus
# VerifyStagedBundle == ParseBundle on the raw input.
cc_fuzz_test(
    name = "syslinux_fuzz",
    srcs = ["syslinux_fuzz.cc"],
    deps = [
        "//backends/syslinux:boot_config",
        "//backends/syslinux:early_arm",
        "//backends/syslinux:mbr",
        "//common:bundle",
        "//store",
        "//third_party:absl",
    ],
)
