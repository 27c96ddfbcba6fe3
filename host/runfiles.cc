#include "host/runfiles.h"

#include <glob.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace saveoops {
namespace {

std::string SelfDir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string p(buf, n);
  return p.substr(0, p.rfind('/'));
}

bool Exists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

// Orders "6.1.0-9" before "6.1.0-10": compare digit runs numerically.
bool VersionLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (isdigit(a[i]) && isdigit(b[j])) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && isdigit(a[i2])) ++i2;
      while (j2 < b.size() && isdigit(b[j2])) ++j2;
      const std::string x = a.substr(i, i2 - i), y = b.substr(j, j2 - j);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

std::string FindSaveoopsFile(const std::string& name, const std::string& runfiles_path) {
  const std::string self = SelfDir();
  std::vector<std::string> candidates = {self + "/" + name};
  // Bazel: BINARY.runfiles/WORKSPACE/... next to the binary, or the
  // RUNFILES_DIR of a test.
  char exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) candidates.push_back(std::string(exe, n) + ".runfiles/saveoops/" + runfiles_path);
  if (const char* r = getenv("RUNFILES_DIR"))
    candidates.push_back(absl::StrCat(r, "/saveoops/", runfiles_path));
  if (const char* r = getenv("TEST_SRCDIR"))
    candidates.push_back(absl::StrCat(r, "/saveoops/", runfiles_path));
  candidates.push_back(self + "/../" + runfiles_path);
  candidates.push_back("/usr/lib/saveoops/" + name);
  for (const std::string& c : candidates) {
    if (Exists(c)) return c;
  }
  return candidates[1];
}

std::string DefaultPurgatoryPath() {
  return FindSaveoopsFile("purgatory.bin", "purgatory/purgatory.bin");
}

std::string DefaultCaptureBinaryPath() {
  return FindSaveoopsFile("saveoops-capture", "capture/saveoops-capture");
}

std::string DefaultKernelPath() {
  glob_t g{};
  std::vector<std::string> kernels;
  if (glob("/boot/vmlinuz-*", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) kernels.push_back(g.gl_pathv[i]);
  }
  globfree(&g);
  if (kernels.empty()) return "";
  return *std::max_element(kernels.begin(), kernels.end(), VersionLess);
}

absl::StatusOr<std::string> SaveoopsCaptureKernelPath() {
  if (const char* env = getenv(kCaptureKernelEnv); env != nullptr && *env != '\0') {
    if (Exists(env)) return std::string(env);
    return absl::NotFoundError(
        absl::StrCat(kCaptureKernelEnv, "=", env, ": no such readable file (Saveoops' capture ",
                     "kernel: tools/build_capture_kernel.sh prints where it builds it)"));
  }
  const char* cache = getenv(kCaptureKernelCacheEnv);
  const std::string path = absl::StrCat(
      cache != nullptr && *cache != '\0' ? cache : kDefaultCaptureKernelCache, "/current/bzImage");
  if (Exists(path)) return path;
  return absl::NotFoundError(absl::StrCat(
      "Saveoops' capture kernel is not built (no ", path,
      "): run tools/build_capture_kernel.sh (tools/setup.sh runs it; about 17 minutes on 2 "
      "cores, once per machine), or set ",
      kCaptureKernelEnv, " to its bzImage"));
}

absl::StatusOr<std::string> CaptureKernelPathOf(const std::string& value) {
  if (value == kSaveoopsCaptureKernelName) return SaveoopsCaptureKernelPath();
  return value;
}

}  // namespace saveoops
