// Building the capture kernel's initramfs: the static saveoops-capture
// program as /init plus exactly the kernel modules needed to reach the
// store disk, as one uncompressed newc archive (initramfs/cpio.h).
//
// Layout of the archive (every entry owned by root, mtime 0):
//   /dev                      0755
//   /dev/console              char 5:1, 0600: the kernel opens it as the
//                             initial stdin/stdout/stderr of /init
//                             (init/main.c, console_on_rootfs()); without
//                             it /init runs with no console
//   /proc /sys                0555, mount points for procfs (/proc/vmcore)
//                             and sysfs
//   /tmp                      01777
//   /init                     the capture binary, 0755 (the kernel runs
//                             /init from the initramfs, init/main.c)
//   /lib/modules/<release>/<path>   each resolved module file, 0644,
//                             compressed ones kept as they are
//   /etc/saveoops/modules     the module list (kCaptureModuleListPath)
//   <extra files>             0755 if the host file is executable, else
//                             0644
//
// Example:
//   CaptureInitramfsSpec spec;
//   spec.capture_binary_path = "bazel-bin/capture/saveoops-capture";
//   ASSIGN_OR_RETURN(spec.modules_dir, DefaultModulesDir("6.1.0-56-amd64"));
//   CaptureInitramfsSummary summary;
//   ASSIGN_OR_RETURN(std::vector<uint8_t> initrd,
//                    BuildCaptureInitramfs(spec, &summary));
//   // summary.total_bytes == initrd.size(): 2.65 MiB for the default
//   // module set of Debian's 6.1.0-56-amd64 (19 modules, 2.55 MiB).
#ifndef SAVEOOPS_INITRAMFS_BUILDER_H_
#define SAVEOOPS_INITRAMFS_BUILDER_H_

#include <stddef.h>
#include <stdint.h>

#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace saveoops {

// Where the capture program finds the modules to load: one absolute path
// inside the initramfs per line ("/lib/modules/<release>/kernel/...ko"),
// each line ending in '\n', in load order (every module after the modules
// it needs); empty if no module is needed. Paths ending in .ko.gz, .ko.xz
// or .ko.zst are compressed: load them with finit_module(fd, "",
// MODULE_INIT_COMPRESSED_FILE).
inline constexpr absl::string_view kCaptureModuleListPath =
    "/etc/saveoops/modules";

// The modules of the disks Saveoops supports out of the box, the default of
// CaptureInitramfsSpec::modules:
//   virtio_pci + virtio_blk  QEMU/KVM virtio disks (the e2e tests)
//   ahci + sd_mod            SATA disks on PCs and servers (and QEMU q35)
//   nvme                     NVMe disks
// A machine whose store disk is known needs only that disk's modules
// (initramfs/device_modules.h finds them).
inline constexpr absl::string_view kDefaultCaptureModules[] = {
    "virtio_pci", "virtio_blk", "ahci", "sd_mod", "nvme"};

// What to put into the capture initramfs.
struct CaptureInitramfsSpec {
  // Host path of the static saveoops-capture ELF executable; becomes /init.
  std::string capture_binary_path;
  // Host modules directory of the capture kernel's release, e.g.
  // "/lib/modules/6.1.0-56-amd64" (see DefaultModulesDir()). Its last path
  // component is taken as the release name inside the initramfs.
  std::string modules_dir;
  // Module names (or aliases) the capture kernel must load to reach the
  // store disk; dependencies are added automatically and built-in modules
  // need nothing. Default: kDefaultCaptureModules.
  std::vector<std::string> modules{std::begin(kDefaultCaptureModules),
                                   std::end(kDefaultCaptureModules)};
  // Additional files: {path inside the initramfs, host path to copy}.
  std::vector<std::pair<std::string, std::string>> extra_files;
};

// Facts about a built initramfs, for progress output and tests.
struct CaptureInitramfsSummary {
  // Size of the archive in bytes.
  size_t total_bytes = 0;
  // The release directory name under /lib/modules in the initramfs.
  std::string release;
  // Module paths in the initramfs, in load order (what the module list
  // file holds).
  std::vector<std::string> module_paths;
  // Sum of the module file sizes.
  size_t module_bytes = 0;
  // Size of /init.
  size_t init_bytes = 0;
};

// Builds the capture initramfs described by `spec` (layout in the file
// comment) and fills `summary` if given. Fails, naming the culprit, if the
// capture binary is missing or not an ELF file, the module index cannot be
// read or a module cannot be resolved or read, an extra file is missing or
// collides with another entry.
absl::StatusOr<std::vector<uint8_t>> BuildCaptureInitramfs(
    const CaptureInitramfsSpec& spec,
    CaptureInitramfsSummary* summary = nullptr);

// The modules directory to use: /lib/modules/<release> if `release` is
// given (it must contain modules.dep), else the newest release under
// /lib/modules that has a modules.dep, "newest" comparing digit runs as
// numbers (6.1.0-56 > 6.1.0-9).
absl::StatusOr<std::string> DefaultModulesDir(const std::string& release = "");

// DefaultModulesDir() looking under `root` instead of /lib/modules (for
// tests and for building from a mounted guest image).
absl::StatusOr<std::string> DefaultModulesDirUnder(const std::string& root,
                                                   const std::string& release);

}  // namespace saveoops

#endif  // SAVEOOPS_INITRAMFS_BUILDER_H_
