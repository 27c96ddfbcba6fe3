#include "arming/sizing.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/boot_params.h"
#include "common/bootproto.h"
#include "common/elfcore.h"

namespace saveoops {
namespace {

// Room on the capture command line for what arming appends besides
// elfcorehdr= and is not known while sizing: the first kernel's console=
// and `saveoops arm --append`. Capped by the kernel's cmdline_size anyway.
constexpr size_t kAppendedArgumentsAllowance = 4096;

// Entries the capture kernel's e820 table has beyond the first kernel's
// regions (CaptureKernelMemoryMap): the reservation split around the
// preserved pieces, the low 640 KiB, and a crashkernel=,low range.
constexpr size_t kCaptureMapExtraRegions = 8;

// Program headers of the ELF core header besides one per crash note and one
// per RAM range: the VMCOREINFO note and the kernel text (ElfCoreHeaderSize).
constexpr size_t kElfCoreFixedHeaders = 2;

}  // namespace

absl::StatusOr<CaptureKernel> ParseCaptureKernel(const BundleContents& bundle) {
  CaptureKernel out;
  absl::StatusOr<BzImageInfo> bzimage = ParseBzImage(bundle.capture_kernel);
  if (!bzimage.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle's capture kernel: ", bzimage.status().message()));
  }
  out.bzimage = *std::move(bzimage);
  if (!bundle.capture_kernel_image.empty()) {
    absl::StatusOr<KernelImage> image = ParseKernelImage(bundle.capture_kernel_image);
    if (!image.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("bundle: ", image.status().message()));
    }
    out.prepared = *image;
  }
  return out;
}

bool IsSaveoopsCaptureKernel(absl::string_view kernel_version) {
  const absl::string_view release = kernel_version.substr(0, kernel_version.find(' '));
  return absl::EndsWith(release, kSaveoopsKernelReleaseSuffix);
}

uint64_t RuntimeHeadroomFor(const CaptureKernel& kernel) {
  return IsSaveoopsCaptureKernel(kernel.bzimage.kernel_version) ? kSaveoopsKernelRuntimeHeadroom
                                                                : kDefaultRuntimeHeadroom;
}

uint64_t PreparedKernelPieceSize(const KernelImage& image, uint64_t image_part_size) {
  return std::max(PageAlign(image.span), PageAlign(image.image_size) + PageAlign(image_part_size));
}

CaptureSizes CaptureSizesFor(const BundleContents& bundle, const CaptureKernel& kernel,
                             size_t first_kernel_regions, size_t crash_notes, size_t ram_ranges,
                             uint64_t runtime_headroom) {
  const BzImageInfo& bz = kernel.bzimage;
  CaptureSizes s;
  s.purgatory_size = bundle.purgatory.size();
  const size_t cmdline_len =
      bundle.capture_cmdline.size() + 1 + kElfcorehdrArgLength + kAppendedArgumentsAllowance;
  s.boot_params_size = BootParamsBlobSize(std::min<size_t>(cmdline_len, bz.cmdline_size),
                                          first_kernel_regions + kCaptureMapExtraRegions);
  s.elfcorehdr_size = ElfCoreHeaderSize(crash_notes + ram_ranges + kElfCoreFixedHeaders);
  s.backup_size = 0;  // Kernels >= 5.x keep low 1 MiB reserved with crashkernel=.
  if (kernel.prepared.has_value()) {
    s.kernel_init_size =
        PreparedKernelPieceSize(*kernel.prepared, bundle.capture_kernel_image.size());
    s.kernel_payload_size = PageAlign(bundle.capture_kernel_image.size());
    s.kernel_alignment = kernel.prepared->alignment;
  } else {
    s.kernel_init_size = bz.init_size;
    s.kernel_payload_size = bz.payload_size;
    s.kernel_alignment = bz.kernel_alignment;
  }
  s.initrd_size = bundle.capture_initramfs.size();
  s.initrd_addr_max = bz.initrd_addr_max;
  s.initrd_above_4g_ok = (bz.xloadflags & kXlfCanBeLoadedAbove4G) != 0;
  // The initramfs exists twice while the capture kernel unpacks it: the
  // archive (a planned piece) and its files in the rootfs (free memory).
  s.runtime_headroom = runtime_headroom + PageAlign(bundle.capture_initramfs.size());
  return s;
}

CaptureSizes CaptureSizesForUnknownSystem(const BundleContents& bundle, const CaptureKernel& kernel,
                                          uint64_t runtime_headroom) {
  const long cpus = sysconf(_SC_NPROCESSORS_CONF);
  return CaptureSizesFor(bundle, kernel, kAssumedFirstKernelRegions,
                         cpus > 0 ? static_cast<size_t>(cpus) : 1, kAssumedRamRanges,
                         runtime_headroom);
}

}  // namespace saveoops
