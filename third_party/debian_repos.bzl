"""Repository rules that wrap Debian-installed Bazel rule sets and tools."""

def _mirror_tree(rctx, src_root, patch):
    """Symlinks every file under src_root into the repository, except the
    files named in `patch`, which are written with their text rewritten."""
    root = str(rctx.path(src_root))
    res = rctx.execute(["/usr/bin/find", root, "-type", "f"])
    if res.return_code != 0:
        fail("cannot list %s: %s (run tools/setup.sh)" % (root, res.stderr))
    found = {}
    for f in res.stdout.splitlines():
        rel = f[len(root) + 1:]
        if rel in patch:
            text = rctx.read(f)
            for old, new in patch[rel]:
                if old not in text:
                    fail("%s: expected text %r not found; Debian's rules_cc changed" % (rel, old))
                text = text.replace(old, new)
            rctx.file(rel, text, executable = False)
            found[rel] = True
        else:
            rctx.symlink(f, rel)
    for rel in patch:
        if rel not in found:
            fail("%s/%s is missing; Debian's rules_cc changed" % (root, rel))

_USE_CPP = [
    (', "use_cpp_toolchain")', ")"),
    ("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]'),
]

def _debian_rules_cc_impl(rctx):
    _mirror_tree(rctx, rctx.attr.path, {
        "cc/private/rules_impl/cc_flags_supplier.bzl": _USE_CPP,
        "cc/private/rules_impl/compiler_flag.bzl": _USE_CPP,
    })

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(mandatory = True)},
    doc = "Debian's bazel-rules-cc, made loadable by Bazel 4.2.",
)

def _remote_coverage_tools_stub_impl(rctx):
    rctx.file("WORKSPACE", 'workspace(name = "remote_coverage_tools")\n')
    rctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])
filegroup(name = "coverage_report_generator", srcs = [])
filegroup(name = "lcov_merger", srcs = [])
filegroup(name = "Main", srcs = [])
""")

remote_coverage_tools_stub = repository_rule(
    implementation = _remote_coverage_tools_stub_impl,
    doc = "Empty stand-in for the coverage tools repository (bazel coverage is unused).",
)

_LLVM_BIN = "/usr/lib/llvm-14/bin"
_LLVM_TOOLS = ["clang", "clang++", "ld.lld", "lld-link", "llvm-ar", "llvm-nm", "llvm-objcopy", "llvm-objdump", "llvm-strip", "llvm-readelf"]

def _pinned_llvm_impl(rctx):
    for tool in _LLVM_TOOLS:
        p = rctx.path(_LLVM_BIN + "/" + tool)
        if not p.exists:
            fail("pinned tool %s/%s is missing: run tools/setup.sh" % (_LLVM_BIN, tool))
    res = rctx.execute([_LLVM_BIN + "/clang", "--version"])
    if res.return_code != 0:
        fail("%s/clang --version failed: %s" % (_LLVM_BIN, res.stderr))
    first = res.stdout.split("\n")[0]
    if ("clang version " + rctx.attr.version) not in first:
        fail("pinned clang must be %s, found: %s" % (rctx.attr.version, first))
    res_dir = rctx.execute([_LLVM_BIN + "/clang", "-print-resource-dir"]).stdout.strip()
    rctx.file("BUILD", 'exports_files(["versions.bzl"])\n')
    rctx.file("versions.bzl", "\n".join([
        'LLVM_BIN = "%s"' % _LLVM_BIN,
        'CLANG_VERSION = "%s"' % rctx.attr.version,
        'CLANG_VERSION_LINE = "%s"' % first.replace('"', '\\"'),
        'CLANG_RESOURCE_DIR = "%s"' % res_dir,
        "",
    ]))

pinned_llvm = repository_rule(
    implementation = _pinned_llvm_impl,
    attrs = {"version": attr.string(mandatory = True)},
    local = True,
    doc = "Verifies the pinned LLVM toolchain and records its paths for the cc toolchains.",
)
