# --- UEFI backend fuzzers (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")

# saveoops.cfg (read by saveoops.efi), the SaveoopsBundle efivarfs file (read
# by the arming program), the EFI-stub check on the first kernel, and the
# arming initrd, whose archive must parse back file for file.
cc_fuzz_test(
    name = "uefi_boot_fuzz",
    srcs = ["uefi_boot_fuzz.cc"],
    deps = [
        "//backends/uefi:arming_initrd",
        "//backends/uefi:boot_config",
        "//backends/uefi:firmware_record",
        "//backends/uefi:uefi_pack_config",
        "//initramfs:cpio",
        "//third_party:absl",
    ],
)

# ReadGpt on raw bytes, and on valid GPTs built from the input then patched
# and re-signed (both CRC32s recomputed) to reach the deep checks.
cc_fuzz_test(
    name = "gpt_fuzz",
    srcs = ["gpt_fuzz.cc"],
    deps = [
        "//backends/uefi:gpt",
        "//store",
        "//third_party:absl",
    ],
)
