#!/bin/bash
# Checks the rules Saveoops' source tree is written to (run by //tools:tree_test):
#
#   format   every C++ file (.cc .h .c .cpp .hpp) is formatted as .clang-format says, by
#            Debian's clang-format-14 (clang-format-14 --dry-run --Werror). Nothing skips it.
#   include  every #include "..." of a Saveoops header follows the layers of DESIGN.md
#            "Layout" (the matrix below); a quoted include names its header by its path from
#            the workspace root (or is an absl/, gtest/ or gmock/ header).
#
# The layers, from the top (a folder may include the folders on its line, and itself):
#
#   tools/                anything: the two mains and scripts
#   e2e/ bench/ fuzz/     anything but tools/ (tests, benchmarks, fuzz targets)
#   examples/             anything but tools/ (a distribution's view: the public API)
#   backends/<name>/      backends/*.h (the interface, the pack driver), arming/, host/,
#                         capture/, store/, initramfs/, purgatory/, common/ — never another
#                         backends/<other>/: backends are leaves (kexec, syslinux, uefi)
#   backends/*.h|.cc      arming/, host/, capture/, store/, initramfs/, purgatory/, common/
#   arming/               host/, capture/, store/, initramfs/, purgatory/, common/
#   host/                 capture/, store/, initramfs/, purgatory/, common/
#   capture/              store/ (the ring it writes), initramfs/ (init_util), common/
#   store/ initramfs/ purgatory/   common/ only
#   common/               nothing else
#   toolchains/           nothing else (probe sources of the toolchain tests)
#
# So nothing outside tools/ includes tools/, and a C++ file in a folder not named here fails
# until the matrix says where it stands.
#
# Usage:
#   check_tree.sh ROOT        checks the tree at ROOT; prints each offending file and rule,
#                             exits 1 if there is one
#   check_tree.sh --self-test checks fake trees (in $TEST_TMPDIR or a temporary directory)
#                             to prove that each rule passes a good file and fails a bad one
set -u

CLANG_FORMAT=/usr/bin/clang-format-14
HERE=$(dirname "$(readlink -f "$0")")

# The folder a file belongs to for the include rule: backends/<name> for a backend's own
# files, else the first path component.
layer_of() {
  local p=$1
  case "$p" in
    backends/*/*) p=${p#backends/}; echo "backends/${p%%/*}" ;;
    */*) echo "${p%%/*}" ;;
    *) echo "" ;;
  esac
}

MID="capture store initramfs purgatory common"
# allowed FROM: the folders (besides itself) FROM may include; "*" anything, "*-tools"
# anything but tools.
allowed() {
  case "$1" in
    tools) echo "*" ;;
    e2e|bench|fuzz|examples) echo "*-tools" ;;
    backends/*) echo "backends arming host $MID" ;;
    backends) echo "arming host $MID" ;;
    arming) echo "host $MID" ;;
    host) echo "$MID" ;;
    capture) echo "store initramfs common" ;;
    store|initramfs|purgatory) echo "common" ;;
    common|toolchains) echo "" ;;
    *) echo "?" ;;
  esac
}

KNOWN_ROOTS="tools e2e bench fuzz examples backends arming host capture store initramfs purgatory common toolchains"

# Prints "FILE: RULE: why" for each violation in the tree at $1; returns 1 if any.
check_tree() {
  local root=$1 bad=0 f rel from to inc allow
  [ -x "$CLANG_FORMAT" ] || { echo "check_tree: $CLANG_FORMAT is missing (tools/setup.sh)"; return 1; }
  [ -f "$root/.clang-format" ] || { echo "$root/.clang-format: format: missing"; return 1; }
  local files
  files=$(cd "$root" && find . \( -name 'bazel-*' -o -name .git \) -prune -o -type f \
    \( -name '*.cc' -o -name '*.h' -o -name '*.c' -o -name '*.cpp' -o -name '*.hpp' \) -print |
    sed 's|^\./||' | LC_ALL=C sort)
  [ -n "$files" ] || { echo "$root: no C++ files found"; return 1; }
  # One clang-format run for the tree; it names each unformatted file in its warnings
  # ("FILE:LINE:COL: error: code should be clang-formatted").
  local unformatted
  unformatted=$(cd "$root" && "$CLANG_FORMAT" --dry-run --Werror --style=file $files 2>&1 |
    sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*clang-format.*/\1/p' | LC_ALL=C sort -u)
  if ! (cd "$root" && "$CLANG_FORMAT" --dry-run --Werror --style=file $files >/dev/null 2>&1) &&
    [ -z "$unformatted" ]; then
    echo "$root: format: $CLANG_FORMAT failed on the tree"
    bad=1
  fi
  for rel in $unformatted; do
    echo "$rel: format: not formatted (run $CLANG_FORMAT -i --style=file $rel)"
    bad=1
  done
  for rel in $files; do
    f=$root/$rel
    from=$(layer_of "$rel")
    allow=$(allowed "$from")
    if [ "$allow" = "?" ]; then
      echo "$rel: include: folder '${from:-.}' is not in tools/check_tree.sh's layer matrix"
      bad=1
      continue
    fi
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
      case "$inc" in absl/*|gtest/*|gmock/*) continue ;; esac
      to=$(layer_of "$inc")
      case " $KNOWN_ROOTS " in
        *" ${inc%%/*} "*) ;;
        *) echo "$rel: include: \"$inc\" is not named by its path from the workspace root"
           bad=1; continue ;;
      esac
      [ "$to" = "$from" ] && continue
      if [ "${to%%/*}" = tools ] && [ "$from" != tools ]; then
        echo "$rel: include: \"$inc\": nothing outside tools/ includes tools/"
        bad=1; continue
      fi
      case "$from:$to" in
        backends/*:backends/*)
          echo "$rel: include: \"$inc\": a backend never includes another backend"
          bad=1; continue ;;
      esac
      case "$allow" in
        "*"|"*-tools") continue ;;
      esac
      case " $allow " in
        *" $to "*) continue ;;
      esac
      echo "$rel: include: \"$inc\": ${from}/ is below ${to}/ (layers: DESIGN.md \"Layout\")"
      bad=1
    done
  done
  return $bad
}

# ---- self-test --------------------------------------------------------------------------

self_test() {
  local tmp=${TEST_TMPDIR:-$(mktemp -d)}/check_tree_self_test failures=0
  rm -rf "$tmp" && mkdir -p "$tmp"
  local style=$HERE/../.clang-format
  [ -f "$style" ] || style=${CHECK_TREE_STYLE:-}
  [ -f "$style" ] || { echo "self-test: no .clang-format next to $HERE"; return 1; }

  # A small tree every rule passes.
  local good=$tmp/good
  mkdir -p "$good"/{common,host,arming,backends/kexec,backends/syslinux,tools,e2e}
  cp "$style" "$good/.clang-format"
  printf '#include "common/a.h"\n\nint A() { return 1; }\n' >"$good/common/a.cc"
  printf '// A.\nint A();\n' >"$good/common/a.h"
  printf '#include "common/a.h"\n' >"$good/host/h.h"
  printf '#include "common/a.h"\n#include "host/h.h"\n' >"$good/arming/arm.h"
  printf '#include "arming/arm.h"\n' >"$good/backends/backend.h"
  printf '#include "backends/backend.h"\n#include "host/h.h"\n' >"$good/backends/kexec/pack.cc"
  printf '#include "backends/backend.h"\n' >"$good/backends/syslinux/pack.cc"
  printf '#include "backends/kexec/k.h"\n#include "tools/t.h"\n' >"$good/tools/main.cc"
  printf '#include "absl/status/status.h"\n#include "backends/syslinux/s.h"\n' \
    >"$good/e2e/t.cc"

  # expect NAME STATUS PATTERN: runs the check on $tmp/NAME, wants exit STATUS and (for a
  # failure) an output line matching PATTERN.
  expect() {
    local name=$1 want=$2 pattern=$3 out rc
    out=$(check_tree "$tmp/$name" 2>&1)
    rc=$?
    if [ "$want" = 0 ] && [ $rc -ne 0 ]; then
      echo "self-test $name: FAILED: wanted a pass, got:"; echo "$out"; failures=$((failures + 1))
    elif [ "$want" != 0 ] && { [ $rc -eq 0 ] || ! printf '%s\n' "$out" | grep -q -- "$pattern"; }; then
      echo "self-test $name: FAILED: wanted a failure matching '$pattern', got (exit $rc):"
      echo "$out"; failures=$((failures + 1))
    else
      echo "self-test $name: ok${out:+ ($(printf '%s' "$out" | head -1))}"
    fi
  }
  # variant NAME FILE TEXT: a copy of the good tree with FILE written as TEXT.
  variant() {
    rm -rf "$tmp/$1" && cp -r "$good" "$tmp/$1"
    mkdir -p "$(dirname "$tmp/$1/$2")"
    printf '%b' "$3" >"$tmp/$1/$2"
  }

  expect good 0 ""
  variant misformatted common/b.cc 'int   B( ) {return 2;}\n'
  expect misformatted 1 '^common/b.cc: format:'
  variant too_wide common/b.h "int B(int $(printf 'a%.0s' $(seq 1 50)), int $(printf 'b%.0s' $(seq 1 50)));\n"
  expect too_wide 1 '^common/b.h: format:'
  variant backend_includes_backend backends/syslinux/pack.cc '#include "backends/kexec/k.h"\n'
  expect backend_includes_backend 1 '^backends/syslinux/pack.cc: include: .*another backend'
  variant common_includes_tools common/c.cc '#include "tools/t.h"\n'
  expect common_includes_tools 1 '^common/c.cc: include: .*tools/'
  variant e2e_includes_tools e2e/u.cc '#include "tools/t.h"\n'
  expect e2e_includes_tools 1 '^e2e/u.cc: include: .*tools/'
  variant host_includes_arming host/x.cc '#include "arming/arm.h"\n'
  expect host_includes_arming 1 '^host/x.cc: include: .*host/ is below arming/'
  variant common_includes_host common/d.cc '#include "host/h.h"\n'
  expect common_includes_host 1 '^common/d.cc: include: .*common/ is below host/'
  variant store_includes_capture store/r.cc '#include "capture/vmcore.h"\n'
  expect store_includes_capture 1 '^store/r.cc: include: .*store/ is below capture/'
  variant interface_includes_backend backends/backend.cc '#include "backends/uefi/u.h"\n'
  expect interface_includes_backend 1 '^backends/backend.cc: include: .*below backends/uefi/'
  variant unknown_folder newdir/n.cc 'int N();\n'
  expect unknown_folder 1 '^newdir/n.cc: include: .*layer matrix'
  variant relative_include arming/r.cc '#include "arm.h"\n'
  expect relative_include 1 '^arming/r.cc: include: .*path from the workspace root'

  if [ $failures -ne 0 ]; then
    echo "self-test: $failures case(s) failed"
    return 1
  fi
  echo "self-test: every rule passes a good tree and fails its bad file"
}

case "${1:-}" in
  --self-test) self_test ;;
  ""|-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  *)
    if check_tree "$1"; then
      echo "check_tree: $1: every C++ file formatted, every include within its layers"
    else
      echo "check_tree: $1: the files above break the rules in tools/check_tree.sh's header"
      exit 1
    fi
    ;;
esac
