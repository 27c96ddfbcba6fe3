# --- boot protocol, bzImage, boot_params, ELF core header (merge into common/BUILD.bazel) ---
# load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")
# Uses the existing ":e820" target (common/e820.h).

# Freestanding: struct setup_header / boot_params / setup_data with their
# constants. Only <stddef.h>/<stdint.h>; usable by purgatory and UEFI builds.
cc_library(
    name = "bootproto",
    hdrs = ["bootproto.h"],
    deps = [":e820"],
)

# Host: parse and validate a bzImage for 64-bit entry.
cc_library(
    name = "bzimage",
    srcs = ["bzimage.cc"],
    hdrs = ["bzimage.h"],
    deps = [
        ":bootproto",
        "//third_party:absl",
    ],
)

# Host: build the capture kernel's zero page + SETUP_E820_EXT + cmdline blob.
cc_library(
    name = "boot_params",
    srcs = ["boot_params.cc"],
    hdrs = ["boot_params.h"],
    deps = [
        ":bootproto",
        ":bzimage",
        ":e820",
        "//third_party:absl",
    ],
)

# Host: write and strictly read the elfcorehdr= ELF64 core header.
cc_library(
    name = "elfcore",
    srcs = ["elfcore.cc"],
    hdrs = ["elfcore.h"],
    deps = ["//third_party:absl"],
)

# Reads the distro kernel /boot/vmlinuz-* (must exist: linux-image-amd64).
cc_test(
    name = "bzimage_test",
    size = "small",
    srcs = ["bzimage_test.cc"],
    deps = [
        ":bootproto",
        ":bzimage",
        "//third_party:absl",
        "//third_party:gtest_main",
    ],
)

# Reads the distro kernel /boot/vmlinuz-* (must exist: linux-image-amd64).
cc_test(
    name = "boot_params_test",
    size = "small",
    srcs = ["boot_params_test.cc"],
    deps = [
        ":boot_params",
        ":bootproto",
        ":bzimage",
        ":e820",
        "//third_party:absl",
        "//third_party:gtest_main",
    ],
)

# Runs /usr/bin/readelf (binutils) on a written header.
cc_test(
    name = "elfcore_test",
    size = "small",
    srcs = ["elfcore_test.cc"],
    deps = [
        ":elfcore",
        "//third_party:absl",
        "//third_party:gtest_main",
    ],
)
