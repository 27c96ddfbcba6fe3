// The default capture bundle: the capture kernel, the capture initramfs
// (static saveoops-capture as /init + the modules that reach the store
// disk), the purgatory and the capture command line, with the kernel
// prepared for the purgatory when it can be. `pack`, `saveoops plan`,
// `saveoops bundle create` and the benchmark all build it here, so a bundle
// built by one of them is the bundle the others plan for.
//
// Every file is read with common/files.h ReadFileBounded, named in errors
// by the flag that gave it ("--capture-kernel /x: is a directory, not a
// file").
//
// Example (what pack does):
//   DefaultCaptureBundleSpec spec;
//   spec.capture_kernel_path = "/boot/vmlinuz-6.1.0-56-amd64";
//   spec.capture_binary_path = DefaultCaptureBinaryPath();
//   spec.purgatory_path = DefaultPurgatoryPath();
//   spec.step = [](const std::string& s) { std::printf("%s\n", s.c_str()); };
//   ASSIGN_OR_RETURN(DefaultCaptureBundle built, BuildDefaultCaptureBundle(spec));
//   WriteBundleFile(out, built.bundle);
#ifndef SAVEOOPS_ARMING_CAPTURE_BUNDLE_H_
#define SAVEOOPS_ARMING_CAPTURE_BUNDLE_H_

#include <stdint.h>

#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arming/capture_defaults.h"
#include "common/bundle.h"
#include "initramfs/builder.h"

namespace saveoops {

// Limits of the files Saveoops' host programs read whole. Far above what
// they hold (a distribution kernel is 8 to 15 MiB, a capture initramfs a
// few MiB, a bundle both, purgatory.bin tens of KiB); low enough that a
// wrong path (a disk image, /dev/sda given as a kernel) fails at once
// instead of filling memory.
inline constexpr uint64_t kMaxKernelFileBytes = 512ull << 20;
inline constexpr uint64_t kMaxInitramfsFileBytes = 512ull << 20;
inline constexpr uint64_t kMaxBundleFileBytes = 512ull << 20;
inline constexpr uint64_t kMaxPurgatoryFileBytes = 16ull << 20;
// Text such as a memory map in /proc/iomem format or an armed-state file.
inline constexpr uint64_t kMaxTextFileBytes = 16ull << 20;

struct DefaultCaptureBundleSpec {
  // The capture kernel's bzImage, and the flag that named it (for errors).
  std::string capture_kernel_path;
  std::string capture_kernel_flag = "--capture-kernel";

  // A capture initramfs built already (`saveoops bundle create --initramfs`,
  // `saveoops plan --initrd`): used as is, and the fields after it up to
  // `cmdline` are ignored. Empty: build the default one.
  std::string initramfs_path;
  std::string initramfs_flag = "--initramfs";
  // The static saveoops-capture executable, /init of the initramfs.
  std::string capture_binary_path;
  // /lib/modules/RELEASE of the capture kernel; empty: the one named by the
  // capture kernel's own release (DefaultModulesDir).
  std::string modules_dir;
  // Modules (names or aliases) that reach the store disk; dependencies are
  // added from modules.dep. For Saveoops' own capture kernel (release
  // "*-saveoops", IsSaveoopsCaptureKernel), which has its drivers built in and
  // no modules, this, modules_dir and store_device are ignored: the
  // initramfs is saveoops-capture alone.
  std::vector<std::string> modules{std::begin(kDefaultCaptureModules),
                                   std::end(kDefaultCaptureModules)};
  // The store's block device on this machine (e.g. /dev/vda2): the modules
  // of its drivers, read from /sys, are added to `modules`.
  std::string store_device;

  std::string cmdline = kDefaultCaptureCmdline;
  // AttachKernelImage's mode: "auto", "lz4" or "none" (kKernelImageFlagHelp).
  std::string kernel_image_mode = "auto";
  // purgatory.bin, and the name errors give it.
  std::string purgatory_path;
  std::string purgatory_flag = "--purgatory";

  // Called before each long step ("building the capture initramfs for
  // 6.1.0-56-amd64", "preparing the capture kernel (...)"), and with
  // details of what was decided (what was staged and why; the store
  // device's drivers).
  std::function<void(const std::string&)> step = [](const std::string&) {};
  std::function<void(const std::string&)> detail = [](const std::string&) {};
};

struct DefaultCaptureBundle {
  // Every part filled; not written anywhere (WriteBundleFile).
  BundleContents bundle;
  // The capture kernel's version string and its release ("6.1.0-56-amd64").
  std::string kernel_version;
  std::string release;
  // Whether the initramfs was built here, and from what.
  bool built_initramfs = false;
  std::string modules_dir;
  std::vector<std::string> modules;
  CaptureInitramfsSummary initramfs_summary;
  // AttachKernelImage's line: what was staged and why.
  std::string kernel_image_note;
};

// Builds the bundle `spec` describes. Errors name the flag and the path
// ("--capture-kernel /boot/vmlinuz-x: not a bzImage: ..."), a missing
// modules directory, or the module that cannot be resolved.
absl::StatusOr<DefaultCaptureBundle> BuildDefaultCaptureBundle(
    const DefaultCaptureBundleSpec& spec);

// The modules the block device `device` needs on this machine, from /sys
// and the module index of `modules_dir`; `detail` receives one line per
// driver in the chain ("store device vda: virtio2 driver virtio_blk, module
// virtio_blk").
absl::StatusOr<std::vector<std::string>> StoreDeviceModules(
    const std::string& device, const std::string& modules_dir,
    const std::function<void(const std::string&)>& detail);

// "6.1.0-56-amd64 (debian-kernel@...) #1 SMP ..." -> "6.1.0-56-amd64".
std::string KernelReleaseOf(const std::string& kernel_version);

}  // namespace saveoops

#endif  // SAVEOOPS_ARMING_CAPTURE_BUNDLE_H_
