// Facts about the machine a host tool runs on that pack's image backends use
// as defaults.
#ifndef SAVEOOPS_HOST_MACHINE_H_
#define SAVEOOPS_HOST_MACHINE_H_

#include <string>

namespace saveoops {

// root= of the machine pack runs on (from /proc/cmdline), or "" if none:
// the default for image backends, whose images most often boot the same root
// file system (a rescue stick, a VM of this install).
std::string HostRoot();

}  // namespace saveoops

#endif  // SAVEOOPS_HOST_MACHINE_H_
