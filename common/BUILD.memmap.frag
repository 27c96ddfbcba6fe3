# --- memory maps and capture placement (merge into common/BUILD.bazel) ---
# load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")
# Uses the existing ":e820" target (common/e820.h).

# Host: Range / MemoryMap, parsers for /proc/iomem, the zero-page e820 table
# and the UEFI memory map, and MemoryMap::ToE820().
cc_library(
    name = "memmap",
    srcs = ["memmap.cc"],
    hdrs = ["memmap.h"],
    deps = [
        ":e820",
        "//third_party:absl",
    ],
)

# Host: places the capture pieces inside the crash reservation, sizes the
# crashkernel= reservation, derives the capture kernel's memory map.
cc_library(
    name = "planner",
    srcs = ["planner.cc"],
    hdrs = ["planner.h"],
    deps = [
        ":e820",
        ":memmap",
        "//third_party:absl",
    ],
)

# Real /proc/iomem files (QEMU BIOS 1 GiB + crashkernel=256M, QEMU OVMF 8 GiB
# + crashkernel=512M,high), a real OVMF UEFI memory map and zero-page e820
# table, and a synthetic 2-socket server.
filegroup(
    name = "memmap_testdata",
    srcs = glob([
        "testdata/iomem_*.txt",
        "testdata/uefi_memmap_*.bin",
        "testdata/zeropage_e820_*.bin",
    ]),
)

cc_test(
    name = "memmap_test",
    size = "small",
    srcs = ["memmap_test.cc"],
    data = [":memmap_testdata"],
    deps = [
        ":e820",
        ":memmap",
        "//third_party:absl",
        "//third_party:gtest_main",
    ],
)

cc_test(
    name = "planner_test",
    size = "small",
    srcs = ["planner_test.cc"],
    data = [":memmap_testdata"],
    deps = [
        ":e820",
        ":memmap",
        ":planner",
        "//third_party:absl",
        "//third_party:gtest_main",
    ],
)
