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
//                             always a plain .ko: a .ko.xz, .ko.zst or
//                             .ko.gz (Debian 13 ships .ko.xz) is unpacked
//                             here, at build time, so the capture program
//                             never needs a decompressor or the kernel's
//                             CONFIG_MODULE_DECOMPRESS
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
//   // summary.total_bytes == initrd.size(): 5.5 MiB for the default
//   // module set of Debian's 6.1.0-57-amd64 (29 modules, 4.6 MiB).
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
// it needs); empty if no module is needed. BuildCaptureInitramfs writes
// plain .ko paths only; a list made otherwise may name .ko.gz, .ko.xz or
// .ko.zst files, which are compressed: load them with finit_module(fd, "",
// MODULE_INIT_COMPRESSED_FILE).
inline constexpr absl::string_view kCaptureModuleListPath = "/etc/saveoops/modules";

// The modules of the disks Saveoops supports out of the box, the default of
// CaptureInitramfsSpec::modules, each with its modules.dep closure:
//   virtio_pci + virtio_blk  QEMU/KVM virtio disks (the e2e tests)
//   virtio_scsi + sd_mod     virtio-scsi disks (GCE, many KVM clouds)
//   ahci + sd_mod            SATA disks on PCs and servers (and QEMU q35)
//   nvme                     NVMe disks (and EC2 Nitro volumes)
//   hv_storvsc               Hyper-V and Azure disks
//   xen_blkfront             Xen disks (older EC2 instances)
//   vmw_pvscsi               VMware paravirtual SCSI
//   mpt3sas, megaraid_sas    the common server SAS/RAID HBAs
// With their dependencies: 29 module files, 4.6 MiB (5.5 MiB initramfs) for
// Debian 12's 6.1.0-57-amd64; 20 files, 5.3 MiB unpacked (6.2 MiB) for
// Debian 13's 6.12. A member the kernel has neither as a module nor built in
// (Debian's -cloud flavour has no HBA drivers) is skipped; a module named
// any other way must exist. A machine whose store disk is known needs only
// that disk's modules (initramfs/device_modules.h finds them).
inline constexpr absl::string_view kDefaultCaptureModules[] = {
    "virtio_pci", "virtio_blk",   "virtio_scsi", "sd_mod",  "ahci",        "nvme",
    "hv_storvsc", "xen_blkfront", "vmw_pvscsi",  "mpt3sas", "megaraid_sas"};

// The default set and its cost, for --help.
inline constexpr char kDefaultCaptureModulesHelp[] =
    "the default set reaches virtio-blk, virtio-scsi, SATA (ahci), NVMe, Hyper-V/Azure "
    "(hv_storvsc), Xen (xen-blkfront), VMware (vmw_pvscsi) and SAS/RAID HBA (mpt3sas, "
    "megaraid_sas) disks: with dependencies 29 modules, 4.6 MiB for Debian 12's 6.1 (a 5.5 MiB "
    "initramfs); members a kernel lacks are skipped";

// The largest module file the builder unpacks; Debian's largest storage
// modules are under 2 MiB.
inline constexpr uint64_t kMaxUnpackedModuleBytes = 64ull << 20;

// What to put into the capture initramfs.
struct CaptureInitramfsSpec {
  // Host path of the static saveoops-capture ELF executable; becomes /init.
  std::string capture_binary_path;
  // Host modules directory of the capture kernel's release, e.g.
  // "/lib/modules/6.1.0-56-amd64" (see DefaultModulesDir()). Its last path
  // component is taken as the release name inside the initramfs. Empty,
  // with `modules` empty too: a kernel with every driver built in and no
  // modules (Saveoops' own capture kernel); the initramfs carries /init and
  // an empty module list, and nothing is read from /lib/modules.
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
  // Sum of the module file sizes (unpacked).
  size_t module_bytes = 0;
  // How many of them were compressed on the host and unpacked here.
  int unpacked_modules = 0;
  // Members of kDefaultCaptureModules in spec.modules that this kernel has
  // neither as a module nor built in, left out.
  std::vector<std::string> skipped_modules;
  // Size of /init.
  size_t init_bytes = 0;
};

// Builds the capture initramfs described by `spec` (layout in the file
// comment) and fills `summary` if given. Fails, naming the culprit, if the
// capture binary is missing or not an ELF file, the module index cannot be
// read (without modules.dep: the depmod command to run), a module outside
// kDefaultCaptureModules cannot be resolved, a module cannot be read or
// unpacked, an extra file is missing or collides with another entry.
absl::StatusOr<std::vector<uint8_t>> BuildCaptureInitramfs(
    const CaptureInitramfsSpec& spec, CaptureInitramfsSummary* summary = nullptr);

// The modules directory to use: /lib/modules/<release> if `release` is
// given (it must contain modules.dep), else the newest release under
// /lib/modules that has a modules.dep, "newest" comparing digit runs as
// numbers (6.1.0-56 > 6.1.0-9). /usr/lib/modules, where Debian 13 keeps
// them, is looked at too when /lib/modules has none (on a merged-/usr
// system the two are one directory).
absl::StatusOr<std::string> DefaultModulesDir(const std::string& release = "");

// DefaultModulesDir() looking under `root` instead of /lib/modules (for
// tests and for building from a mounted guest image).
absl::StatusOr<std::string> DefaultModulesDirUnder(const std::string& root,
                                                   const std::string& release);

}  // namespace saveoops

#endif  // SAVEOOPS_INITRAMFS_BUILDER_H_
