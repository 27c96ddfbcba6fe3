// Where Saveoops' own files are found (next to the binary, in Bazel runfiles, or
// installed under /usr/lib/saveoops).
#ifndef SAVEOOPS_HOST_RUNFILES_H_
#define SAVEOOPS_HOST_RUNFILES_H_

#include <string>

namespace saveoops {

// A file shipped with Saveoops: `name` next to /proc/self/exe, in its Bazel
// runfiles (`runfiles_path`), or under /usr/lib/saveoops; the first that
// exists, else the runfiles guess (so errors name a sensible path).
std::string FindSaveoopsFile(const std::string& name, const std::string& runfiles_path);

std::string DefaultPurgatoryPath();      // purgatory.bin
std::string DefaultCaptureBinaryPath();  // saveoops-capture
// The newest /boot/vmlinuz-* (or "" if none).
std::string DefaultKernelPath();

}  // namespace saveoops

#endif  // SAVEOOPS_HOST_RUNFILES_H_
