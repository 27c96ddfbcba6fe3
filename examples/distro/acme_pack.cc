// acme-pack: Saveoops' pack for the ACME distribution. It offers the backends
// this binary links (kexec and syslinux, see BUILD.bazel) and boots ACME's
// capture kernel with ACME's command line unless --capture-cmdline says otherwise.
#include "backends/pack_driver.h"

int main(int argc, char** argv) {
  saveoops::PackDefaults defaults;
  defaults.program = "acme-pack";
  // ACME's capture kernels have no serial console; keep one CPU and reset devices.
  defaults.capture_cmdline = "nokaslr nr_cpus=1 reset_devices panic=5 acme.capture=1";
  return saveoops::PackMain(argc, argv, defaults);
}
