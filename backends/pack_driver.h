// The pack entry point: what //tools:pack runs, and what a distribution's own
// pack binary runs with its own defaults and only the backends it links.
//
// pack does the common work once — the capture initramfs, the bundle, the
// planner's crashkernel= figure — and hands it to the backend named by
// --backend (backends/backend.h). The backends a binary offers are the
// plugin libraries it links (//backends/kexec:pack, //backends/syslinux:pack,
// //backends/uefi:pack; each registers itself).
//
// Example (a distribution's pack binary, offering kexec and syslinux):
//   int main(int argc, char** argv) {
//     saveoops::PackDefaults defaults;
//     defaults.program = "acme-pack";
//     defaults.capture_cmdline = "nokaslr nr_cpus=1 reset_devices panic=1";
//     return saveoops::PackMain(argc, argv, defaults);
//   }
#ifndef SAVEOOPS_BACKENDS_PACK_DRIVER_H_
#define SAVEOOPS_BACKENDS_PACK_DRIVER_H_

#include <string>

#include "arming/capture_defaults.h"

namespace saveoops {

struct PackDefaults {
  // The name messages and --help use.
  std::string program = "pack";
  // --capture-cmdline's default.
  std::string capture_cmdline = kDefaultCaptureCmdline;
};

// Parses argv (--backend=NAME and the flags of pack and that backend), packs,
// and returns the process exit code: 0 done, 1 failed (the error is printed),
// 2 bad command line.
int PackMain(int argc, char** argv, const PackDefaults& defaults);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_PACK_DRIVER_H_
