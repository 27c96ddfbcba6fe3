// Defaults that make Saveoops work out of the box on a Debian machine, and
// where its own files are found (next to the binary, in Bazel runfiles, or
// installed under /usr/lib/saveoops).
#ifndef SAVEOOPS_TOOLS_DEFAULTS_H_
#define SAVEOOPS_TOOLS_DEFAULTS_H_

#include <string>

namespace saveoops {

// The capture kernel's command line before `arm` adds console= (copied from
// the first kernel) and elfcorehdr=. Why each:
//   nokaslr        decompress exactly where the planner reserved init_size
//   nr_cpus=1      one CPU boots fastest and needs least memory
//   reset_devices  drivers reset hardware the dead kernel left mid-flight
//   irqpoll        interrupts routed to the dead kernel's CPU still arrive
//   panic=1        a capture kernel that panics reboots instead of hanging
//   saveoops.action=reboot  after the record is written
inline constexpr char kDefaultCaptureCmdline[] =
    "nokaslr nr_cpus=1 reset_devices irqpoll panic=1 saveoops.action=reboot";

// A file shipped with Saveoops: `name` next to /proc/self/exe, in its Bazel
// runfiles (`runfiles_path`), or under /usr/lib/saveoops; the first that
// exists, else the runfiles guess (so errors name a sensible path).
std::string FindSaveoopsFile(const std::string& name, const std::string& runfiles_path);

std::string DefaultPurgatoryPath();       // purgatory.bin
std::string DefaultCaptureBinaryPath();   // saveoops-capture
// The newest /boot/vmlinuz-* (or "" if none).
std::string DefaultKernelPath();

}  // namespace saveoops

#endif  // SAVEOOPS_TOOLS_DEFAULTS_H_
