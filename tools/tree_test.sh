#!/bin/bash
# //tools:tree_test: proves each rule of tools/check_tree.sh can fail (its self-test on fake
# trees), then checks the real source tree. The tree is found through the real path of a
# runfile (README.md), so the test reads the files as they are now; it is never cached.
set -u
RUNFILES=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-saveoops}
ROOT=$(dirname "$(readlink -f "$RUNFILES/README.md")")
CHECK=$(readlink -f "$RUNFILES/tools/check_tree.sh")
[ -f "$ROOT/WORKSPACE" ] || { echo "tree_test: $ROOT is not the workspace root"; exit 1; }

"$CHECK" --self-test || exit 1
echo
"$CHECK" "$ROOT"
