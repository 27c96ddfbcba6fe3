# --- initramfs fuzzers: newc cpio, depmod indexes (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")

# ParseCpio on arbitrary bytes; accepted archives are re-written with
# CpioWriter, re-parsed and compared (names, modes, data, device numbers),
# and the writer's output must be a fixed point.
cc_fuzz_test(
    name = "cpio_fuzz",
    srcs = ["cpio_fuzz.cc"],
    deps = [
        "//initramfs:cpio",
        "//third_party:absl",
    ],
)

# ParseModulesDep / ParseModulesBuiltin / ParseModulesAlias /
# ParseBuiltinModinfoAliases on arbitrary text; a parsed modules.dep is
# resolved whole and the load order checked (each module once, after all it
# needs; only a dependency cycle may fail).
cc_fuzz_test(
    name = "modules_dep_fuzz",
    srcs = ["modules_dep_fuzz.cc"],
    deps = [
        "//initramfs:modules",
        "//third_party:absl",
    ],
)
