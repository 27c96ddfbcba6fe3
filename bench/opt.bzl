"""`opt_binary`: one binary built with --compilation_mode=opt.

Benchmarks measure optimised code whatever mode `bazel run` was given (the
default, fastbuild, builds host code at -O1). The transition applies to the
binary and everything it links, e.g. //common:sha256, which then compiles at
-O2 like the purgatory that ships it.
"""

def _opt_transition_impl(settings, attr):
    return {"//command_line_option:compilation_mode": "opt"}

_opt_transition = transition(
    implementation = _opt_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:compilation_mode"],
)

def _opt_binary_impl(ctx):
    src = ctx.attr.binary[0][DefaultInfo].files.to_list()
    if len(src) != 1:
        fail("%s must produce exactly one file, got %d" % (ctx.attr.binary[0].label, len(src)))
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = src[0], is_executable = True)
    return [DefaultInfo(executable = out, files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

opt_binary = rule(
    implementation = _opt_binary_impl,
    attrs = {
        "binary": attr.label(mandatory = True, cfg = _opt_transition),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    executable = True,
    doc = "The single output of `binary`, built with -c opt.",
)
