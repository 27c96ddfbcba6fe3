// The kdump baseline's capture initramfs: what a minimal kdump setup would
// boot in its capture kernel (makedumpfile with its shared libraries and the
// dynamic loader, the same store-disk modules as Saveoops' capture
// initramfs) with bench/kdump_init as /init.
//
// It is built with Saveoops' own initramfs builder (initramfs/builder.h), so
// the module set, module list and directory layout are byte for byte the
// ones of Saveoops' capture initramfs; only /init and the extra files
// differ. That makes the size comparison about the capture tools alone.
#ifndef SAVEOOPS_BENCH_KDUMP_INITRAMFS_H_
#define SAVEOOPS_BENCH_KDUMP_INITRAMFS_H_

#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace saveoops {

struct KdumpInitramfsSpec {
  // Host path of the static bench/kdump_init; becomes /init.
  std::string init_path;
  // Host modules directory of the capture kernel, e.g.
  // /lib/modules/6.1.0-56-amd64.
  std::string modules_dir;
  // The makedumpfile to pack, at this same path inside the initramfs
  // (kdump_init runs /usr/bin/makedumpfile).
  std::string makedumpfile = "/usr/bin/makedumpfile";
  // Empty: the default of CaptureInitramfsSpec (the same modules as
  // Saveoops).
  std::vector<std::string> modules;
};

struct KdumpInitramfsSummary {
  size_t total_bytes = 0;
  size_t init_bytes = 0;
  size_t module_bytes = 0;
  size_t module_count = 0;
  // Host path and size of makedumpfile and of each shared library packed.
  std::vector<std::pair<std::string, size_t>> programs;
};

// Shared libraries and the dynamic loader of a dynamic executable, from
// running `ldd PATH` (bench_lib.h ParseLddOutput()). Errors name the path.
absl::StatusOr<std::vector<std::string>> SharedLibrariesOf(const std::string& path);

// Builds the baseline's initramfs. Fails, naming the culprit, if kdump_init,
// makedumpfile or a library is missing, or a module cannot be resolved.
absl::StatusOr<std::vector<uint8_t>> BuildKdumpInitramfs(const KdumpInitramfsSpec& spec,
                                                         KdumpInitramfsSummary* summary = nullptr);

}  // namespace saveoops

#endif  // SAVEOOPS_BENCH_KDUMP_INITRAMFS_H_
