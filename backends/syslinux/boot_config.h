// The first kernel's command line and the syslinux.cfg that boots it with
// the capture bundle staged as setup_data (see staging.h).
//
// Example, for crashkernel 112 MiB and the default console:
//   SERIAL 0 115200
//   DEFAULT saveoops
//   ...
//   LABEL saveoops
//     COM32 linux.c32
//     APPEND vmlinuz initrd=early.cpio,initrd.img blob.1398161998=saveoops.bundle
//            crashkernel=112M rdinit=/saveoops-early-arm console=ttyS0,115200
//   (one line)
#ifndef SAVEOOPS_BACKENDS_SYSLINUX_BOOT_CONFIG_H_
#define SAVEOOPS_BACKENDS_SYSLINUX_BOOT_CONFIG_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace saveoops {

struct FirstKernelBoot {
  // Bytes for crashkernel=; a multiple of 1 MiB (PackContext rounds it).
  uint64_t crashkernel_bytes = 0;
  // console= values in order, e.g. {"tty0", "ttyS0,115200"}; the last one
  // becomes /dev/console (Documentation/admin-guide/serial-console.rst).
  std::vector<std::string> consoles;
  // root= value ("UUID=...", "/dev/sda2"); empty: none.
  std::string root;
  // The user's extra arguments (--append), copied verbatim.
  std::string append;
};

// The arguments pack chooses plus --append: "crashkernel=NM
// rdinit=/saveoops-early-arm console=... root=... APPEND". Fails if --append
// sets crashkernel= or rdinit= itself (pack owns both: the first is the
// planner's figure, the second starts the arming program) or holds a
// character syslinux.cfg cannot carry on one line, or if a console or root
// value is not a single printable word.
absl::StatusOr<std::string> FirstKernelArguments(const FirstKernelBoot& boot);

// The Syslinux serial port directive matching the first serial console
// ("ttyS1,57600n8" -> "SERIAL 1 57600"), so Syslinux's own messages appear
// where the kernel's will; "" if no console is a ttyS.
std::string SerialDirective(const std::vector<std::string>& consoles);

// linux.c32's arguments after COM32: the kernel file, initrd= (early.cpio
// first, then the distro's), blob.<type>= and `arguments`.
std::string LinuxC32Arguments(const std::string& arguments);

// The command line the kernel receives: linux.c32 replaces the kernel file
// name with BOOT_IMAGE=<name> and passes every other argument through
// (com32/modules/linux.c, make_cmdline()).
std::string BootedCommandLine(const std::string& arguments);

// Fails if BootedCommandLine(arguments) is longer than the kernel's
// cmdline_size (boot.rst; 2047 for x86), which would cut it silently.
absl::Status CheckCommandLineFits(const std::string& arguments, uint32_t cmdline_size);

// linux.c32's arguments for the fallback entry: as LinuxC32Arguments but
// without the blob, plus kStagingFailedArgument so saveoops-early-arm can
// say why there is no bundle.
std::string UnstagedArguments(const std::string& arguments);

// The whole syslinux.cfg: no prompt; the "saveoops" entry boots at once. If
// it fails (linux.c32 cannot read the bundle, or memory runs out), Syslinux
// falls back to its boot: prompt, which after 3 s boots "saveoops-unstaged",
// the same kernel and initrds without the bundle: a damaged boot disk costs
// the crash capture, never the boot.
// (ONERROR does not help here: Syslinux 6.04 does not run it when a COM32
// label returns failure; the prompt's timeout does run. Tried in QEMU.)
std::string SyslinuxConfig(const std::string& arguments, const std::vector<std::string>& consoles);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_SYSLINUX_BOOT_CONFIG_H_
