// Helpers shared by the programs Saveoops runs as the first process of an
// initramfs: saveoops-capture (capture/capture_main.cc), the e2e guest's
// init (e2e/guest_init.cc) and the benchmark's inits (bench/). No absl: the
// capture binary is built for size.
#ifndef SAVEOOPS_INITRAMFS_INIT_UTIL_H_
#define SAVEOOPS_INITRAMFS_INIT_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

namespace saveoops {

// The whole file at `path` (a /proc file, a module list, a log), or "" if it
// cannot be opened.
std::string ReadFileOrEmpty(const char* path);

// The value of `key`=... on a kernel command line (/proc/cmdline): the
// first occurrence that starts a word, up to the next space or newline, or
// between double quotes if the value starts with one. nullopt if `key` is
// not there.
std::optional<std::string> KernelCmdlineValue(std::string_view cmdline, std::string_view key);

}  // namespace saveoops

#endif  // SAVEOOPS_INITRAMFS_INIT_UTIL_H_
