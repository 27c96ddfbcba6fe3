# --- memory-map fuzzers (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")
# Each parsed map must give a valid e820 table (sorted, disjoint, merged)
# that ParseE820Entries reads back to itself (fuzz/memmap_fuzz_check.h).
# Seeds: common/testdata/iomem_*.txt, uefi_memmap_ovmf_8g.bin (prefix the
# two bytes 0x10 0x00 for descriptor size 48, version 1),
# zeropage_e820_ovmf_8g.bin.

# ParseProcIomem on arbitrary text; with a "Crash kernel" range it also plans
# a capture and checks the capture kernel's memory map.
cc_fuzz_test(
    name = "iomem_fuzz",
    srcs = [
        "iomem_fuzz.cc",
        "memmap_fuzz_check.h",
    ],
    deps = [
        "//common:e820",
        "//common:memmap",
        "//common:planner",
        "//third_party:absl",
    ],
)

# ParseUefiMemoryMap; the first two bytes pick descriptor size and version.
cc_fuzz_test(
    name = "uefi_memmap_fuzz",
    srcs = [
        "memmap_fuzz_check.h",
        "uefi_memmap_fuzz.cc",
    ],
    deps = [
        "//common:e820",
        "//common:memmap",
        "//third_party:absl",
    ],
)

# ParseE820Table on raw zero-page e820 bytes.
cc_fuzz_test(
    name = "e820_fuzz",
    srcs = [
        "e820_fuzz.cc",
        "memmap_fuzz_check.h",
    ],
    deps = [
        "//common:e820",
        "//common:memmap",
        "//third_party:absl",
    ],
)
