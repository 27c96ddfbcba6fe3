"""Declared clang-14 C++ toolchains for Saveoops.

Three toolchains, all pinned to absolute LLVM 14 paths (verified at fetch time by
@pinned_llvm) so nothing comes from $PATH, $CC or Bazel's auto-detection:
  host          x86_64 Linux, C++17, for tools and tests
  freestanding  x86_64 ELF, no libc, for purgatory (position independent)
  uefi          x86_64 PE32+ EFI application, gnu-efi headers
"""

load(
    "@rules_cc//cc:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
    "with_feature_set",
)
load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")
load("@pinned_llvm//:versions.bzl", "CLANG_RESOURCE_DIR", "LLVM_BIN")

_COMPILE_ACTIONS = [
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
]

_CXX_ACTIONS = [
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
]

_LINK_ACTIONS = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _flags(actions, flags, features = None):
    return flag_set(
        actions = actions,
        flag_groups = [flag_group(flags = flags)],
        with_features = [with_feature_set(features = features)] if features else [],
    )

def _impl(ctx):
    kind = ctx.attr.kind
    tool_paths = [
        tool_path(name = "gcc", path = LLVM_BIN + "/clang++"),
        tool_path(name = "cpp", path = LLVM_BIN + "/clang-cpp"),
        tool_path(name = "ld", path = LLVM_BIN + ("/lld-link" if kind == "uefi" else "/ld.lld")),
        tool_path(name = "ar", path = LLVM_BIN + "/llvm-ar"),
        tool_path(name = "nm", path = LLVM_BIN + "/llvm-nm"),
        tool_path(name = "objcopy", path = LLVM_BIN + "/llvm-objcopy"),
        tool_path(name = "objdump", path = LLVM_BIN + "/llvm-objdump"),
        tool_path(name = "strip", path = LLVM_BIN + "/llvm-strip"),
        tool_path(name = "gcov", path = LLVM_BIN + "/llvm-cov"),
        tool_path(name = "dwp", path = LLVM_BIN + "/llvm-dwp"),
    ]

    common_compile = [
        "-no-canonical-prefixes",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wno-unused-parameter",
        # Reproducible builds: no timestamps baked into objects.
        "-Wno-builtin-macro-redefined",
        "-D__DATE__=\"redacted\"",
        "-D__TIMESTAMP__=\"redacted\"",
        "-D__TIME__=\"redacted\"",
    ]
    if kind == "host":
        compile_flags = common_compile + [
            "--target=x86_64-linux-gnu",
            "-fno-omit-frame-pointer",
            "-fstack-protector-strong",
            # Lets static initramfs binaries drop unused code (--gc-sections).
            "-ffunction-sections",
            "-fdata-sections",
        ]
        link_flags = [
            "--target=x86_64-linux-gnu",
            "-no-canonical-prefixes",
            "-fuse-ld=lld",
            "-lstdc++",
            "-lm",
            "-pthread",
        ]
    elif kind == "freestanding":
        compile_flags = common_compile + [
            "--target=x86_64-unknown-none-elf",
            "-ffreestanding",
            "-nostdlibinc",
            "-fno-exceptions",
            "-fno-rtti",
            "-fno-stack-protector",
            "-fno-builtin",
            "-mno-red-zone",
            "-mno-mmx",
            "-mno-sse",
            "-mno-sse2",
            "-mcmodel=small",
            "-fpie",
            "-fno-asynchronous-unwind-tables",
            "-DSAVEOOPS_FREESTANDING=1",
        ]
        link_flags = [
            "--target=x86_64-unknown-none-elf",
            "-no-canonical-prefixes",
            "-nostdlib",
            "-static",
            "-fuse-ld=lld",
            "-Wl,--build-id=none",
            "-Wl,-z,norelro",
        ]
    else:
        compile_flags = common_compile + [
            "--target=x86_64-unknown-windows",
            "-ffreestanding",
            "-nostdlibinc",
            "-isystem",
            "/usr/include/efi",
            "-isystem",
            "/usr/include/efi/x86_64",
            "-fshort-wchar",
            "-fno-exceptions",
            "-fno-rtti",
            "-fno-stack-protector",
            "-fno-builtin",
            "-mno-red-zone",
            "-mno-mmx",
            "-mno-sse",
            "-DSAVEOOPS_FREESTANDING=1",
            "-DSAVEOOPS_UEFI=1",
            "-DGNU_EFI_USE_MS_ABI",
        ]
        link_flags = [
            "--target=x86_64-unknown-windows",
            "-no-canonical-prefixes",
            "-nostdlib",
            "-fuse-ld=lld",
            "-Wl,-subsystem:efi_application",
            "-Wl,-entry:efi_main",
        ]

    features = [
        feature(name = "dbg"),
        feature(name = "opt"),
        feature(name = "fastbuild"),
        feature(
            name = "default_compile_flags",
            enabled = True,
            flag_sets = [
                _flags(_COMPILE_ACTIONS, compile_flags),
                _flags(_CXX_ACTIONS, ["-std=c++17"]),
                _flags(_COMPILE_ACTIONS, ["-g"], ["dbg"]),
                _flags(_COMPILE_ACTIONS, ["-O2", "-DNDEBUG", "-ffunction-sections", "-fdata-sections"], ["opt"]),
                # Freestanding code is always optimised: purgatory runs with no
                # debugger and the unoptimised SHA-256 is needlessly slow.
                _flags(_COMPILE_ACTIONS, ["-O1"] if kind == "host" else ["-O2"], ["fastbuild"]),
            ],
        ),
        feature(
            name = "default_link_flags",
            enabled = True,
            flag_sets = [_flags(_LINK_ACTIONS, link_flags)],
        ),
        # For binaries that ship in initramfs images: features = ["strip_all"].
        # A -Wl,--strip-all in linkopts does not work: Bazel's own -Wl,-S
        # (strip_debug_symbols) comes after it, and the linker obeys the last
        # of the two. This feature's flag comes after both.
        feature(
            name = "strip_all",
            flag_sets = [_flags(_LINK_ACTIONS, ["-Wl,--strip-all"])],
        ),
    ]
    if kind == "host":
        features += [
            feature(name = "supports_pic", enabled = True),
            feature(name = "supports_start_end_lib", enabled = True),
        ]

    builtin_includes = [CLANG_RESOURCE_DIR + "/include", CLANG_RESOURCE_DIR + "/share"]
    if kind == "host":
        builtin_includes += [
            "/usr/include",
            "/usr/local/include",
            "/usr/lib/gcc/x86_64-linux-gnu/12",
        ]
    elif kind == "uefi":
        builtin_includes += ["/usr/include/efi"]

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        features = features,
        cxx_builtin_include_directories = builtin_includes,
        toolchain_identifier = "saveoops-clang14-" + kind,
        host_system_name = "x86_64-linux-gnu",
        target_system_name = {
            "host": "x86_64-linux-gnu",
            "freestanding": "x86_64-unknown-none-elf",
            "uefi": "x86_64-unknown-windows",
        }[kind],
        target_cpu = "k8",
        target_libc = "glibc" if kind == "host" else "none",
        compiler = "clang",
        abi_version = "clang-14",
        abi_libc_version = "glibc" if kind == "host" else "none",
        tool_paths = tool_paths,
    )

saveoops_cc_toolchain_config = rule(
    implementation = _impl,
    attrs = {
        "kind": attr.string(mandatory = True, values = ["host", "freestanding", "uefi"]),
    },
    provides = [CcToolchainConfigInfo],
)
