// Building the prepared capture kernel (kernel_image.h) from a bzImage:
// `pack` and `saveoops bundle create` do this once on the host.
#ifndef SAVEOOPS_COMMON_KERNEL_IMAGE_PREPARE_H_
#define SAVEOOPS_COMMON_KERNEL_IMAGE_PREPARE_H_

#include <stdint.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/bundle.h"
#include "common/kernel_image.h"

namespace saveoops {

// What PrepareKernelImage found, for progress output.
struct KernelImageSummary {
  uint64_t unpacked_bytes = 0;  // The payload as the decompressor yields it.
  uint64_t image_size = 0;
  uint64_t span = 0;
  uint64_t lz4_size = 0;
  int load_segments = 0;
};

// Builds the kernel image part for `bzimage`: unpacks the payload (any format
// the x86 kernel build makes, common/kernel_image_decompress.h, at most
// kMaxUnpackedKernelBytes), lays
// out the vmlinux PT_LOAD segments at their offsets from the first one
// (trailing zeroes dropped: the purgatory zero-fills up to `span`), and
// compresses that with LZ4 HC. The result is decoded again with Saveoops'
// own decoder and compared, so a part that leaves here is one the purgatory
// unpacks. Errors name what is unsupported or malformed: a payload in an
// unknown format (kUnimplemented), a damaged or oversized one, a vmlinux that is not a 64-bit x86
// executable, segments out of order or out of the file, an entry point outside the image.
absl::StatusOr<std::vector<uint8_t>> PrepareKernelImage(absl::Span<const uint8_t> bzimage,
                                                        KernelImageSummary* summary = nullptr);

// The --kernel-image flag of `pack` and `saveoops bundle create`.
inline constexpr char kKernelImageFlagHelp[] =
    "auto: stage the capture kernel prepared (unpacked at pack time, LZ4 for the purgatory) "
    "when it can be, else the bzImage; lz4: prepared or fail; none: the bzImage";

// Sets bundle->capture_kernel_image from bundle->capture_kernel as `mode`
// ("auto", "lz4" or "none") says, and returns one line for the user saying
// what was staged and why. Errors: an unknown mode, or "lz4" with a kernel
// that cannot be prepared.
absl::StatusOr<std::string> AttachKernelImage(BundleContents* bundle, const std::string& mode);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_KERNEL_IMAGE_PREPARE_H_
