#!/bin/bash
# //tools:embed_test: builds examples/distro — a distribution's own workspace that names this
# repository with local_repository — with a nested Bazel of its own output root, offline,
# then runs its pack binary (acme_pack): --help must offer only the backends it links (kexec
# and syslinux) and its own capture command line, and one kexec pack must write the bundle
# and install.sh. The example is copied so that its local_repository can point at this
# source tree wherever it is checked out.
#
# A user.bazelrc at the workspace root (a developer's disk cache, say) is used by the nested
# build too; nothing else is shared, so the first run builds everything it needs.
set -u
RUNFILES=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-saveoops}
ROOT=$(dirname "$(readlink -f "$RUNFILES/README.md")")
WORK=${TEST_TMPDIR:-$(mktemp -d)}/embed
BAZEL=${SAVEOOPS_BAZEL:-/usr/bin/bazel}

fail() { echo "embed_test: $*" >&2; exit 1; }
[ -f "$ROOT/examples/distro/WORKSPACE" ] || fail "$ROOT/examples/distro/WORKSPACE is missing"
[ -x "$BAZEL" ] || fail "$BAZEL is missing"

rm -rf "$WORK" && mkdir -p "$WORK/home" "$WORK/distro"
tar -C "$ROOT/examples/distro" --exclude='./bazel-*' -cf - . | tar -C "$WORK/distro" -xf - ||
  fail "cannot copy examples/distro"
grep -q 'path = "\.\./\.\."' "$WORK/distro/WORKSPACE" ||
  fail "examples/distro/WORKSPACE no longer names this repository as path = \"../..\""
sed -i "s|path = \"\.\./\.\.\"|path = \"$ROOT\"|" "$WORK/distro/WORKSPACE"
[ -f "$ROOT/user.bazelrc" ] && cp "$ROOT/user.bazelrc" "$WORK/distro/user.bazelrc"

# The nested Bazel and the binaries it built run in a clean environment: none of this test's
# TEST_* / RUNFILES_* variables (Bazel reads TEST_TMPDIR, pack its runfiles from them).
clean_env() { env -i PATH=/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 "$@"; }
nested_bazel() {
  (cd "$WORK/distro" &&
    clean_env "$BAZEL" --output_user_root="$WORK/root" --max_idle_secs=60 "$@")
}
trap 'nested_bazel shutdown >/dev/null 2>&1' EXIT

T0=$(date +%s)
echo "embed_test: building //:acme_pack in $WORK/distro against $ROOT"
nested_bazel build --color=no --curses=no //:acme_pack >"$WORK/build.log" 2>&1 || {
  grep -v "linux-sandbox" "$WORK/build.log" | tail -50 >&2
  fail "the nested build of //:acme_pack failed (log above)"
}
T1=$(date +%s)
echo "embed_test: built in $((T1 - T0)) s on a clean output root"
PACK=$WORK/distro/bazel-bin/acme_pack
[ -x "$PACK" ] || fail "$PACK was not built"

HELP=$(clean_env "$PACK" --help) || fail "acme_pack --help failed"
echo "$HELP" | grep -q "Backends: kexec, syslinux\." ||
  fail "acme_pack --help does not offer exactly kexec and syslinux:"$'\n'"$HELP"
echo "$HELP" | grep -q "^  backend kexec " || fail "no kexec backend in --help"
echo "$HELP" | grep -q "^  backend syslinux " || fail "no syslinux backend in --help"
echo "$HELP" | grep -q "backend uefi" && fail "acme_pack offers the uefi backend it does not link"
CMDLINE=$(sed -n 's/.*defaults\.capture_cmdline = "\([^"]*\)";.*/\1/p' \
  "$WORK/distro/acme_pack.cc")
[ -n "$CMDLINE" ] || fail "cannot read the capture command line from acme_pack.cc"
echo "$HELP" | grep -qF -- "--capture-cmdline=VALUE    capture kernel command line (default: $CMDLINE)" ||
  fail "--capture-cmdline's default is not '$CMDLINE':"$'\n'"$HELP"
echo "embed_test: --help offers kexec and syslinux, capture command line '$CMDLINE'"

ls /boot/vmlinuz-* >/dev/null 2>&1 || fail "no /boot/vmlinuz-* to pack (tools/setup.sh)"
clean_env "$PACK" --backend=kexec --out="$WORK/out" >"$WORK/pack.log" 2>&1 || {
  cat "$WORK/pack.log" >&2
  fail "acme_pack --backend=kexec failed (log above)"
}
for f in saveoops.bundle install.sh bin/saveoops; do
  [ -s "$WORK/out/$f" ] || { cat "$WORK/pack.log" >&2; fail "the kexec pack wrote no $f"; }
done
grep -aqF -- "$CMDLINE" "$WORK/out/saveoops.bundle" ||
  fail "the bundle does not carry the capture command line '$CMDLINE'"
echo "embed_test: kexec pack wrote saveoops.bundle and install.sh in $(($(date +%s) - T1)) s"
