"""Saveoops' external repositories and toolchains, for any WORKSPACE.

Saveoops' own WORKSPACE and a distribution's (examples/distro/WORKSPACE) both call

    load("@saveoops//third_party:deps.bzl", "saveoops_dependencies", "saveoops_register_toolchains")
    saveoops_dependencies()
    saveoops_register_toolchains()

Nothing is downloaded: every repository wraps a Debian-installed package (tools/setup.sh). Labels
are written with Label() so they name this repository wherever the macros are loaded from.
"""

load(":debian_repos.bzl", "debian_rules_cc", "pinned_llvm", "remote_coverage_tools_stub")

def saveoops_dependencies():
    """Declares the repositories Saveoops' BUILD files use."""
    native.local_repository(
        name = "platforms",
        path = "/usr/share/bazel/tools/platforms",
    )
    native.local_repository(
        name = "bazel_skylib",
        path = "/usr/share/bazel/tools/skylib",
    )
    native.local_repository(
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )

    # Debian's rules_cc 0.0.4 calls use_cpp_toolchain(), which Bazel 4.2 lacks;
    # this rule mirrors the package and rewrites those two call sites at fetch time.
    debian_rules_cc(
        name = "rules_cc",
        path = "/usr/share/bazel/rules/cc",
    )

    # Only `bazel coverage` uses it; a stub keeps Bazel from trying to download it.
    remote_coverage_tools_stub(name = "remote_coverage_tools")

    # Checks at fetch time that the pinned LLVM 14 tools exist at their absolute
    # paths and report the pinned version; the toolchains refer to these paths.
    pinned_llvm(
        name = "pinned_llvm",
        version = "14.0.6",
    )

    native.new_local_repository(
        name = "googletest",
        build_file = str(Label("//third_party:googletest.BUILD")),
        path = "/usr/src/googletest",
    )
    native.new_local_repository(
        name = "system_libs",
        build_file = str(Label("//third_party:system_libs.BUILD")),
        path = "/usr",
    )

def saveoops_register_toolchains():
    """Registers the declared clang-14 toolchains (host, freestanding ELF, UEFI PE32+)."""
    native.register_toolchains(
        str(Label("//toolchains:host_clang14_toolchain")),
        str(Label("//toolchains:freestanding_clang14_toolchain")),
        str(Label("//toolchains:uefi_clang14_toolchain")),
    )
