#include "common/kernel_image_prepare.h"

#include <lz4hc.h>
#include <stddef.h>
#include <string.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/bootproto.h"
#include "common/bzimage.h"
#include "common/elf64.h"
#include "common/kernel_image_decompress.h"
#include "common/lz4_block.h"

namespace saveoops {
namespace {

// The x86-64 kernel maps itself with 2 MiB pages and stops early if its
// load address is not a multiple of that (__startup_64).
constexpr uint64_t kMinKernelAlignment = 2ull << 20;

// The compressed payload inside the bzImage (setup header payload_offset and
// payload_length, relative to the protected-mode code).
absl::StatusOr<absl::Span<const uint8_t>> CompressedPayload(absl::Span<const uint8_t> bzimage,
                                                            const BzImageInfo& info) {
  const size_t field = kSetupHeaderOffset + offsetof(SetupHeader, payload_offset);
  uint32_t offset, length;
  memcpy(&offset, bzimage.data() + field, 4);
  memcpy(&length, bzimage.data() + field + 4, 4);
  if (offset > info.payload_size || length > info.payload_size - offset || length == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel: compressed payload [%#x, +%#x) lies outside the %#x-byte protected-mode code",
        offset, length, info.payload_size));
  }
  return bzimage.subspan(info.payload_offset + offset, length);
}

// Unpacks the payload in whichever format the kernel was built with
// (CONFIG_KERNEL_GZIP ... CONFIG_KERNEL_ZSTD). kUnimplemented: a format
// Saveoops does not know; the caller stages the bzImage instead.
absl::StatusOr<std::vector<uint8_t>> UnpackPayload(absl::Span<const uint8_t> payload) {
  // CONFIG_KERNEL_UNCOMPRESSED: the payload is the vmlinux itself.
  if (payload.size() >= sizeof(kElfMagic) &&
      memcmp(payload.data(), kElfMagic, sizeof(kElfMagic)) == 0) {
    if (payload.size() > kMaxUnpackedKernelBytes) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "kernel: uncompressed payload is more than %u MiB; a capture kernel is at most %u MiB",
          kMaxUnpackedKernelBytes >> 20, kMaxUnpackedKernelBytes >> 20));
    }
    return std::vector<uint8_t>(payload.begin(), payload.end());
  }
  const Compression c = DetectCompression(payload);
  if (c == Compression::kUnknown) {
    return absl::UnimplementedError(
        "kernel: payload is compressed in an unknown format (Saveoops prepares gzip, xz, lzma, "
        "zstd, lz4, bzip2, lzo and uncompressed kernels)");
  }
  absl::StatusOr<std::vector<uint8_t>> out =
      Decompress(c, payload, kMaxUnpackedKernelBytes, "kernel");
  if (absl::IsResourceExhausted(out.status())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel: %s payload unpacks to more than %u MiB; a capture kernel is at most %u MiB "
        "unpacked",
        CompressionName(c), kMaxUnpackedKernelBytes >> 20, kMaxUnpackedKernelBytes >> 20));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> PrepareKernelImage(absl::Span<const uint8_t> bzimage,
                                                        KernelImageSummary* summary) {
  absl::StatusOr<BzImageInfo> info = ParseBzImage(bzimage);
  if (!info.ok()) return info.status();
  absl::StatusOr<absl::Span<const uint8_t>> payload = CompressedPayload(bzimage, *info);
  if (!payload.ok()) return payload.status();
  absl::StatusOr<std::vector<uint8_t>> unpacked = UnpackPayload(*payload);
  if (!unpacked.ok()) return unpacked.status();

  absl::StatusOr<LaidOutKernel> laid_out = LayOutKernelElf(*unpacked);
  if (!laid_out.ok()) return laid_out.status();
  const std::vector<uint8_t>& image = laid_out->image;
  if (image.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel: image is ", image.size(), " bytes, more than one LZ4 block holds"));
  }

  std::vector<uint8_t> part(sizeof(KernelImageHeader) +
                            LZ4_compressBound(static_cast<int>(image.size())));
  const int lz4_size = LZ4_compress_HC(
      reinterpret_cast<const char*>(image.data()),
      reinterpret_cast<char*>(part.data() + sizeof(KernelImageHeader)),
      static_cast<int>(image.size()), static_cast<int>(part.size() - sizeof(KernelImageHeader)),
      LZ4HC_CLEVEL_DEFAULT);
  if (lz4_size <= 0) return absl::InternalError("kernel: LZ4 compression failed");
  part.resize(sizeof(KernelImageHeader) + lz4_size);

  // The purgatory's decoder must reproduce the image exactly; check it here,
  // where a failure is a message and not a lost capture.
  std::vector<uint8_t> check(image.size());
  const Lz4Error decoded =
      Lz4DecodeBlockExact(part.data() + sizeof(KernelImageHeader), static_cast<size_t>(lz4_size),
                          check.data(), check.size());
  if (decoded != Lz4Error::kOk || check != image) {
    return absl::InternalError(
        absl::StrCat("kernel: LZ4 image does not decode back: ", Lz4ErrorName(decoded)));
  }

  KernelImageHeader h{};
  memcpy(h.magic, kKernelImageMagic, sizeof(h.magic));
  h.version = kKernelImageVersion;
  h.header_size = sizeof(KernelImageHeader);
  h.entry_offset = laid_out->entry_offset;
  h.image_size = image.size();
  h.span = laid_out->span;
  h.alignment = std::max<uint64_t>(info->kernel_alignment, kMinKernelAlignment);
  h.lz4_size = static_cast<uint64_t>(lz4_size);
  memcpy(part.data(), &h, sizeof(h));
  if (summary != nullptr) {
    summary->unpacked_bytes = unpacked->size();
    summary->image_size = h.image_size;
    summary->span = h.span;
    summary->lz4_size = h.lz4_size;
    summary->load_segments = laid_out->load_segments;
  }
  return part;
}

absl::StatusOr<std::string> AttachKernelImage(BundleContents* bundle, const std::string& mode) {
  bundle->capture_kernel_image.clear();
  if (mode == "none")
    return std::string("capture kernel: staged as the bzImage (--kernel-image=none)");
  if (mode != "auto" && mode != "lz4") {
    return absl::InvalidArgumentError(
        absl::StrCat("--kernel-image=", mode, ": need auto, lz4 or none"));
  }
  KernelImageSummary summary;
  absl::StatusOr<std::vector<uint8_t>> part = PrepareKernelImage(bundle->capture_kernel, &summary);
  if (!part.ok()) {
    if (mode == "lz4") return part.status();
    return absl::StrCat("capture kernel: staged as the bzImage (", part.status().message(), ")");
  }
  bundle->capture_kernel_image = *std::move(part);
  return absl::StrFormat(
      "capture kernel: prepared, %.1f MiB image in %.1f MiB of LZ4 (%d segments, %.1f MiB span)",
      summary.image_size / 1048576.0, summary.lz4_size / 1048576.0, summary.load_segments,
      summary.span / 1048576.0);
}

}  // namespace saveoops
