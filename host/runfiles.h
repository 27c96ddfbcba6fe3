// Where Saveoops' own files are found (next to the binary, in Bazel runfiles, or
// installed under /usr/lib/saveoops).
#ifndef SAVEOOPS_HOST_RUNFILES_H_
#define SAVEOOPS_HOST_RUNFILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace saveoops {

// A file shipped with Saveoops: `name` next to /proc/self/exe, in its Bazel
// runfiles (`runfiles_path`), or under /usr/lib/saveoops; the first that
// exists, else the runfiles guess (so errors name a sensible path).
std::string FindSaveoopsFile(const std::string& name, const std::string& runfiles_path);

std::string DefaultPurgatoryPath();      // purgatory.bin
std::string DefaultCaptureBinaryPath();  // saveoops-capture
// The newest /boot/vmlinuz-* (or "" if none).
std::string DefaultKernelPath();

// Where tools/build_capture_kernel.sh keeps Saveoops' own capture kernel:
// $SAVEOOPS_CAPTURE_KERNEL_CACHE, else /var/cache/saveoops-capture-kernel.
inline constexpr char kCaptureKernelCacheEnv[] = "SAVEOOPS_CAPTURE_KERNEL_CACHE";
inline constexpr char kDefaultCaptureKernelCache[] = "/var/cache/saveoops-capture-kernel";
// A bzImage that overrides the cache's (CI, tests, a kernel built elsewhere).
inline constexpr char kCaptureKernelEnv[] = "SAVEOOPS_CAPTURE_KERNEL";

// The value of --capture-kernel that names Saveoops' own capture kernel.
inline constexpr char kSaveoopsCaptureKernelName[] = "saveoops";

// Saveoops' own capture kernel's bzImage: $SAVEOOPS_CAPTURE_KERNEL if set,
// else <cache>/current/bzImage. NotFound if that file is not readable, naming
// it and what to run (tools/build_capture_kernel.sh, which tools/setup.sh
// runs).
absl::StatusOr<std::string> SaveoopsCaptureKernelPath();

// The bzImage a --capture-kernel value names: "saveoops" is
// SaveoopsCaptureKernelPath(), anything else a path, returned as is.
absl::StatusOr<std::string> CaptureKernelPathOf(const std::string& value);

}  // namespace saveoops

#endif  // SAVEOOPS_HOST_RUNFILES_H_
