"""Builds a target for another platform (freestanding ELF or UEFI PE32+).

`bazel build //...` builds host code for the host platform; a freestanding or
UEFI binary is reached through `platform_binary`, whose transition switches
the platform (and so the resolved clang-14 toolchain) for that one dependency.
"""

def _platform_transition_impl(settings, attr):
    # Host-only flags (--config=asan's -fsanitize=..., for example) must not
    # leak into freestanding or UEFI code, which has no sanitizer runtime: the
    # declared toolchain alone decides those flags.
    return {
        "//command_line_option:platforms": str(attr.platform),
        "//command_line_option:copt": [],
        "//command_line_option:cxxopt": [],
        "//command_line_option:conlyopt": [],
        "//command_line_option:linkopt": [],
    }

_platform_transition = transition(
    implementation = _platform_transition_impl,
    inputs = [],
    outputs = [
        "//command_line_option:platforms",
        "//command_line_option:copt",
        "//command_line_option:cxxopt",
        "//command_line_option:conlyopt",
        "//command_line_option:linkopt",
    ],
)

def _platform_binary_impl(ctx):
    src = ctx.attr.binary[0][DefaultInfo].files.to_list()
    if len(src) != 1:
        fail("%s must produce exactly one file, got %d" % (ctx.attr.binary[0].label, len(src)))
    out = ctx.actions.declare_file(ctx.attr.out or ctx.label.name)
    ctx.actions.symlink(output = out, target_file = src[0])
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

platform_binary = rule(
    implementation = _platform_binary_impl,
    attrs = {
        "binary": attr.label(mandatory = True, cfg = _platform_transition),
        "platform": attr.label(mandatory = True),
        "out": attr.string(doc = "Output file name; defaults to the rule's name."),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    doc = "The single output of `binary`, built for `platform`.",
)

# Built for size: the binary and everything it links (its libraries are
# compiled again in this configuration). No exception unwind tables: the
# binaries this is for never catch an exception, and one thrown still ends in
# std::terminate as before.
_SIZE_COPTS = [
    "-Os",
    "-fno-exceptions",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
]

def _size_transition_impl(settings, attr):
    return {"//command_line_option:copt": settings["//command_line_option:copt"] + _SIZE_COPTS}

_size_transition = transition(
    implementation = _size_transition_impl,
    inputs = ["//command_line_option:copt"],
    outputs = ["//command_line_option:copt"],
)

size_optimized_binary = rule(
    implementation = _platform_binary_impl,
    attrs = {
        "binary": attr.label(mandatory = True, cfg = _size_transition),
        "out": attr.string(doc = "Output file name; defaults to the rule's name."),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    doc = "The single output of `binary`, compiled (with its whole closure) for size.",
)

def _cc_toolchain_report_impl(ctx):
    cc = ctx.toolchains["@bazel_tools//tools/cpp:toolchain_type"]
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.write(out, "compiler=%s\ntarget=%s\nlinker=%s\n" % (
        cc.compiler_executable,
        cc.target_gnu_system_name,
        cc.ld_executable,
    ))
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

cc_toolchain_report = rule(
    implementation = _cc_toolchain_report_impl,
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    doc = "Writes which C++ toolchain resolution picked for this target's platform.",
)

def _report_for_platform_impl(ctx):
    src = ctx.attr.report[0][DefaultInfo].files.to_list()[0]
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.symlink(output = out, target_file = src)
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

report_for_platform = rule(
    implementation = _report_for_platform_impl,
    attrs = {
        "report": attr.label(mandatory = True, cfg = _platform_transition),
        "platform": attr.label(mandatory = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    doc = "A cc_toolchain_report resolved for `platform`.",
)

def _flat_binary_impl(ctx):
    elf = ctx.attr.elf[0][DefaultInfo].files.to_list()
    if len(elf) != 1:
        fail("%s must produce exactly one file" % ctx.attr.elf[0].label)
    cc = ctx.toolchains["@bazel_tools//tools/cpp:toolchain_type"]
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.run(
        executable = cc.objcopy_executable,
        arguments = ["-O", "binary", elf[0].path, out.path],
        inputs = elf,
        outputs = [out],
        mnemonic = "FlatBinary",
        progress_message = "Flattening %s" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

flat_binary = rule(
    implementation = _flat_binary_impl,
    attrs = {
        "elf": attr.label(mandatory = True, cfg = _platform_transition),
        "platform": attr.label(mandatory = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    doc = "`elf` built for `platform`, then flattened with objcopy -O binary.",
)
