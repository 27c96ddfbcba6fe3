# --- sha256 + bundle (merge into common/BUILD.bazel) ---
# load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")

# Freestanding SHA-256 (portable + SHA-NI engines). Includes only
# <stddef.h>, <stdint.h>, <immintrin.h>, <cpuid.h>; no libc, no deps, so the
# purgatory and UEFI toolchains can build it too.
cc_library(
    name = "sha256",
    srcs = ["sha256.cc"],
    hdrs = ["sha256.h"],
    visibility = ["//visibility:public"],
)

# Host-only: hashing files and buffers with BoringSSL, hex formatting.
cc_library(
    name = "sha256_file",
    srcs = ["sha256_file.cc"],
    hdrs = ["sha256_file.h"],
    visibility = ["//visibility:public"],
    deps = [
        ":sha256",
        "//third_party:absl",
        "//third_party:boringssl",
    ],
)

cc_test(
    name = "sha256_test",
    size = "small",
    srcs = ["sha256_test.cc"],
    deps = [
        ":sha256",
        ":sha256_file",
        "//third_party:absl",
        "//third_party:gtest_main",
    ],
)

# Freestanding saveoops.bundle format definition and header reader (UEFI app,
# kexec backend).
cc_library(
    name = "bundle_format",
    srcs = ["bundle_format.cc"],
    hdrs = ["bundle_format.h"],
    visibility = ["//visibility:public"],
    deps = [":sha256"],
)

# Host-only bundle writer/reader.
cc_library(
    name = "bundle",
    srcs = ["bundle.cc"],
    hdrs = ["bundle.h"],
    visibility = ["//visibility:public"],
    deps = [
        ":bundle_format",
        ":sha256",
        "//third_party:absl",
    ],
)

cc_test(
    name = "bundle_test",
    size = "small",
    srcs = ["bundle_test.cc"],
    deps = [
        ":bundle",
        ":bundle_format",
        ":sha256",
        ":sha256_file",
        "//third_party:absl",
        "//third_party:gtest_main",
    ],
)
