#include "arming/capture_bundle.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "arming/sizing.h"
#include "common/bzimage.h"
#include "common/files.h"
#include "common/kernel_image_prepare.h"
#include "initramfs/device_modules.h"
#include "initramfs/modules.h"

namespace saveoops {
namespace {

// The capture initramfs `spec` asks to build, for the kernel `release`.
absl::Status BuildInitramfs(const DefaultCaptureBundleSpec& spec, DefaultCaptureBundle* out) {
  spec.step(absl::StrCat("building the capture initramfs for ", out->release));
  CaptureInitramfsSpec initramfs;
  initramfs.capture_binary_path = spec.capture_binary_path;
  if (IsSaveoopsCaptureKernel(out->kernel_version)) {
    // Every store driver is built into Saveoops' own kernel, which has no
    // modules: /init alone.
    initramfs.modules.clear();
    spec.detail(absl::StrCat(out->release,
                             " has its store drivers built in: the initramfs is saveoops-capture "
                             "alone (--modules, --modules-dir, --store-device do not apply)"));
    absl::StatusOr<std::vector<uint8_t>> cpio =
        BuildCaptureInitramfs(initramfs, &out->initramfs_summary);
    if (!cpio.ok()) return cpio.status();
    out->bundle.capture_initramfs = *std::move(cpio);
    out->built_initramfs = true;
    return absl::OkStatus();
  }
  if (spec.modules_dir.empty()) {
    absl::StatusOr<std::string> dir = DefaultModulesDir(out->release);
    if (!dir.ok()) return dir.status();
    initramfs.modules_dir = *dir;
  } else {
    initramfs.modules_dir = spec.modules_dir;
  }
  initramfs.modules = spec.modules;
  if (!spec.store_device.empty()) {
    absl::StatusOr<std::vector<std::string>> found =
        StoreDeviceModules(spec.store_device, initramfs.modules_dir, spec.detail);
    if (!found.ok()) return found.status();
    initramfs.modules.insert(initramfs.modules.end(), found->begin(), found->end());
  }
  absl::StatusOr<std::vector<uint8_t>> cpio =
      BuildCaptureInitramfs(initramfs, &out->initramfs_summary);
  if (!cpio.ok()) return cpio.status();
  out->bundle.capture_initramfs = *std::move(cpio);
  out->built_initramfs = true;
  out->modules_dir = initramfs.modules_dir;
  out->modules = initramfs.modules;
  return absl::OkStatus();
}

}  // namespace

std::string KernelReleaseOf(const std::string& kernel_version) {
  return kernel_version.substr(0, kernel_version.find(' '));
}

absl::StatusOr<std::vector<std::string>> StoreDeviceModules(
    const std::string& device, const std::string& modules_dir,
    const std::function<void(const std::string&)>& detail) {
  absl::StatusOr<std::string> name = BlockDeviceName(device);
  if (!name.ok()) return name.status();
  absl::StatusOr<std::vector<DeviceDriver>> drivers = DriversOfBlockDevice("/sys", *name);
  if (!drivers.ok()) return drivers.status();
  absl::StatusOr<ModuleIndex> index = LoadModuleIndex(modules_dir);
  if (!index.ok()) return index.status();
  for (const DeviceDriver& d : *drivers) {
    detail(absl::StrCat(
        "store device ", *name, ": ", d.device, " driver ", d.driver,
        d.module.empty() ? " (built into this kernel)" : absl::StrCat(", module ", d.module)));
  }
  return ModulesForDrivers(*index, *drivers);
}

absl::StatusOr<DefaultCaptureBundle> BuildDefaultCaptureBundle(
    const DefaultCaptureBundleSpec& spec) {
  DefaultCaptureBundle out;
  absl::StatusOr<std::vector<uint8_t>> kernel =
      ReadFileBounded(spec.capture_kernel_path, kMaxKernelFileBytes, spec.capture_kernel_flag);
  if (!kernel.ok()) return absl::Status(kernel.status());
  absl::StatusOr<BzImageInfo> info = ParseBzImage(*kernel);
  if (!info.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.capture_kernel_path, ": ", info.status().message()));
  }
  out.kernel_version = info->kernel_version;
  out.release = KernelReleaseOf(info->kernel_version);

  if (!spec.initramfs_path.empty()) {
    absl::StatusOr<std::vector<uint8_t>> initramfs =
        ReadFileBounded(spec.initramfs_path, kMaxInitramfsFileBytes, spec.initramfs_flag);
    if (!initramfs.ok()) return absl::Status(initramfs.status());
    out.bundle.capture_initramfs = *std::move(initramfs);
  } else if (absl::Status built = BuildInitramfs(spec, &out); !built.ok()) {
    return built;
  }

  spec.step("preparing the capture kernel (unpacking it once, here, instead of after a panic)");
  out.bundle.capture_kernel = *std::move(kernel);
  absl::StatusOr<std::string> staged = AttachKernelImage(&out.bundle, spec.kernel_image_mode);
  if (!staged.ok()) return staged.status();
  out.kernel_image_note = *staged;
  spec.detail(*staged);

  absl::StatusOr<std::vector<uint8_t>> purgatory =
      ReadFileBounded(spec.purgatory_path, kMaxPurgatoryFileBytes, spec.purgatory_flag);
  if (!purgatory.ok()) return absl::Status(purgatory.status());
  out.bundle.purgatory = *std::move(purgatory);
  out.bundle.capture_cmdline = spec.cmdline;
  return out;
}

}  // namespace saveoops
