#include "bench/kdump_initramfs.h"

#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "bench/bench_lib.h"
#include "initramfs/builder.h"

namespace saveoops {
namespace {

absl::StatusOr<size_t> FileSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat '", path, "'"));
  }
  return static_cast<size_t>(st.st_size);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SharedLibrariesOf(const std::string& path) {
  if (path.find('\'') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("path '", path, "' has a quote"));
  }
  const std::string command = absl::StrCat("ldd '", path, "' 2>&1");
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return absl::ErrnoToStatus(errno, "cannot run ldd");
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  const int status = pclose(p);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("ldd '", path, "' failed: ", text));
  }
  absl::StatusOr<std::vector<std::string>> libs = ParseLddOutput(text);
  if (!libs.ok()) {
    return absl::Status(libs.status().code(), absl::StrCat(path, ": ", libs.status().message()));
  }
  return libs;
}

absl::StatusOr<std::vector<uint8_t>> BuildKdumpInitramfs(const KdumpInitramfsSpec& spec,
                                                         KdumpInitramfsSummary* summary) {
  CaptureInitramfsSpec capture;
  capture.capture_binary_path = spec.init_path;
  capture.modules_dir = spec.modules_dir;
  if (!spec.modules.empty()) capture.modules = spec.modules;
  absl::StatusOr<std::vector<std::string>> libs = SharedLibrariesOf(spec.makedumpfile);
  if (!libs.ok()) return libs.status();
  KdumpInitramfsSummary facts;
  std::vector<std::string> programs = {spec.makedumpfile};
  programs.insert(programs.end(), libs->begin(), libs->end());
  for (const std::string& p : programs) {
    absl::StatusOr<size_t> size = FileSize(p);
    if (!size.ok()) return size.status();
    // Same path inside as on the host: the loader path is the one
    // makedumpfile's PT_INTERP names, and the libraries sit where the
    // loader's built-in search path looks.
    capture.extra_files.push_back({p, p});
    facts.programs.push_back({p, *size});
  }
  CaptureInitramfsSummary built;
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(capture, &built);
  if (!archive.ok()) {
    return absl::Status(archive.status().code(),
                        absl::StrCat("kdump baseline initramfs: ", archive.status().message()));
  }
  facts.total_bytes = built.total_bytes;
  facts.init_bytes = built.init_bytes;
  facts.module_bytes = built.module_bytes;
  facts.module_count = built.module_paths.size();
  if (summary != nullptr) *summary = std::move(facts);
  return archive;
}

}  // namespace saveoops
