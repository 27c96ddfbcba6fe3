// pack: builds a Saveoops artifact for one backend.
//
//   bazel run //tools:pack -- --backend=kexec|syslinux|uefi [flags]
#include "backends/pack_driver.h"

int main(int argc, char** argv) { return saveoops::PackMain(argc, argv, saveoops::PackDefaults{}); }
