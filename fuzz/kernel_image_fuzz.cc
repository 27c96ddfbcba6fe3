// Fuzzes the two parsers behind a prepared capture kernel: LayOutKernelElf
// on an arbitrary "vmlinux" and ParseKernelImage on an arbitrary bundle
// part. Whatever they accept must satisfy their documented guarantees.
#include <stddef.h>
#include <stdint.h>

#include "absl/strings/match.h"
#include "common/kernel_image.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  const absl::Span<const uint8_t> bytes(data, size);
  absl::StatusOr<LaidOutKernel> k = LayOutKernelElf(bytes);
  if (k.ok()) {
    Check(k->span <= kKernelImageMaxSpan);
    Check(k->image.size() <= k->span);
    Check(k->entry_offset < k->image.size());
    Check(!k->image.empty() && k->image.back() != 0);
    Check(k->load_segments >= 1);
  } else {
    Check(absl::StartsWith(k.status().message(), "kernel: "));
  }
  absl::StatusOr<KernelImage> image = ParseKernelImage(bytes);
  if (image.ok()) {
    Check(image->image_size > 0 && image->image_size <= image->span);
    Check(image->span <= kKernelImageMaxSpan);
    Check(image->entry_offset < image->image_size);
    Check(image->alignment >= 4096 && (image->alignment & (image->alignment - 1)) == 0);
    Check(image->lz4.data() == data + sizeof(KernelImageHeader));
    Check(image->lz4.size() + sizeof(KernelImageHeader) == size);
  } else {
    Check(absl::StartsWith(image.status().message(), "kernel image: "));
  }
  return 0;
}
