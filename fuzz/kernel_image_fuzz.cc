// Fuzzes the parsers behind a prepared capture kernel: every payload
// decoder (Decompress; the first byte picks the format, its magic is put
// before the rest), LayOutKernelElf on an arbitrary "vmlinux" and ParseKernelImage on
// an arbitrary bundle part. Whatever they accept must satisfy their
// documented guarantees; no decoder yields more than its bound.
#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "absl/strings/match.h"
#include "common/kernel_image.h"
#include "common/kernel_image_decompress.h"
#include "fuzz/allocation_meter.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr size_t kFormats =
    sizeof(saveoops::kAllCompressions) / sizeof(saveoops::kAllCompressions[0]);

// Small enough that an input that unpacks far cannot exhaust the fuzzer's
// memory; the bound is what is under test, not its size.
constexpr uint64_t kDecodeBound = 1u << 20;

std::vector<uint8_t> Magic(saveoops::Compression c) {
  using saveoops::Compression;
  switch (c) {
    case Compression::kGzip:
      return {0x1f, 0x8b, 0x08};
    case Compression::kXz:
      return {0xfd, '7', 'z', 'X', 'Z', 0x00};
    case Compression::kLzma:
      return {0x5d};
    case Compression::kZstd:
      return {0x28, 0xb5, 0x2f, 0xfd};
    case Compression::kLz4:
      return {0x02, 0x21, 0x4c, 0x18};
    case Compression::kBzip2:
      return {'B', 'Z', 'h'};
    case Compression::kLzo:
      return {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
    case Compression::kUnknown:
      break;
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  const absl::Span<const uint8_t> bytes(data, size);
  if (size >= 1) {
    const Compression c = kAllCompressions[data[0] % kFormats];
    // The format's magic, then the rest of the input: mutations reach the
    // decoder's stream parsing instead of dying on the magic check.
    std::vector<uint8_t> in = Magic(c);
    in.insert(in.end(), data + 1, data + size);
    absl::StatusOr<std::vector<uint8_t>> out = Decompress(c, in, kDecodeBound, "fuzz");
    if (out.ok()) {
      Check(out->size() <= kDecodeBound);
    } else {
      Check(absl::StartsWith(out.status().message(), "fuzz: "));
    }
  }
  // Whatever the program headers claim, the layout costs at most the
  // input plus the slack a linker's gaps may need (kernel_image.h).
  saveoops::AllocationMeter meter;
  absl::StatusOr<LaidOutKernel> k = LayOutKernelElf(bytes);
  CheckAllocatedAtMost(meter, size + kKernelImageMaxSlack + kFixedAllocationSlack);
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
