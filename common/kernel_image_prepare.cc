#include "common/kernel_image_prepare.h"

#include <lz4hc.h>
#include <lzma.h>
#include <stddef.h>
#include <string.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/bootproto.h"
#include "common/bzimage.h"
#include "common/lz4_block.h"

namespace saveoops {
namespace {

constexpr uint8_t kXzMagic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};

// The unpacked payload (vmlinux plus relocation records) of today's kernels
// is 60-70 MiB; anything near this bound is not a kernel.
constexpr uint64_t kMaxUnpackedSize = 512ull << 20;

// The x86-64 kernel maps itself with 2 MiB pages and stops early if its
// load address is not a multiple of that (__startup_64).
constexpr uint64_t kMinKernelAlignment = 2ull << 20;

const char* PayloadFormat(absl::Span<const uint8_t> p) {
  if (p.size() >= 2 && p[0] == 0x1f && p[1] == 0x8b) return "gzip";
  if (p.size() >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) return "zstd";
  if (p.size() >= 4 && p[0] == 0x02 && p[1] == 0x21 && p[2] == 0x4c && p[3] == 0x18) return "lz4";
  if (p.size() >= 3 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h') return "bzip2";
  if (p.size() >= 3 && p[0] == 0x89 && p[1] == 'L' && p[2] == 'Z') return "lzo";
  if (p.size() >= 3 && p[0] == 0x5d && p[1] == 0 && p[2] == 0) return "lzma";
  return "an unknown format";
}

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

absl::StatusOr<std::vector<uint8_t>> UnpackXz(absl::Span<const uint8_t> payload) {
  if (payload.size() < sizeof(kXzMagic) || memcmp(payload.data(), kXzMagic, sizeof(kXzMagic)) != 0) {
    return absl::UnimplementedError(absl::StrCat(
        "kernel: payload is compressed with ", PayloadFormat(payload),
        "; Saveoops prepares xz-compressed kernels only"));
  }
  lzma_stream stream = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&stream, UINT64_MAX, 0) != LZMA_OK) {
    return absl::InternalError("kernel: cannot start the xz decoder");
  }
  std::vector<uint8_t> out(64ull << 20);
  stream.next_in = payload.data();
  stream.avail_in = payload.size();
  stream.next_out = out.data();
  stream.avail_out = out.size();
  lzma_ret ret;
  for (;;) {
    ret = lzma_code(&stream, LZMA_FINISH);
    if (ret != LZMA_OK) break;
    if (stream.avail_out == 0) {
      const size_t used = out.size();
      if (used >= kMaxUnpackedSize) {
        lzma_end(&stream);
        return absl::InvalidArgumentError(
            absl::StrCat("kernel: payload unpacks to more than ", kMaxUnpackedSize >> 20, " MiB"));
      }
      out.resize(std::min<uint64_t>(used * 2, kMaxUnpackedSize));
      stream.next_out = out.data() + used;
      stream.avail_out = out.size() - used;
    }
  }
  const size_t produced = out.size() - stream.avail_out;
  lzma_end(&stream);
  // The kernel build appends the unpacked size after the xz stream; the
  // decoder stops at the end of the stream and leaves those bytes alone.
  if (ret != LZMA_STREAM_END) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel: xz payload does not unpack (liblzma error ", ret, ")"));
  }
  out.resize(produced);
  return out;
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> PrepareKernelImage(absl::Span<const uint8_t> bzimage,
                                                        KernelImageSummary* summary) {
  absl::StatusOr<BzImageInfo> info = ParseBzImage(bzimage);
  if (!info.ok()) return info.status();
  absl::StatusOr<absl::Span<const uint8_t>> payload = CompressedPayload(bzimage, *info);
  if (!payload.ok()) return payload.status();
  absl::StatusOr<std::vector<uint8_t>> unpacked = UnpackXz(*payload);
  if (!unpacked.ok()) return unpacked.status();

  absl::StatusOr<LaidOutKernel> laid_out = LayOutKernelElf(*unpacked);
  if (!laid_out.ok()) return laid_out.status();
  const std::vector<uint8_t>& image = laid_out->image;
  if (image.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel: image is ", image.size(), " bytes, more than one LZ4 block holds"));
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
  const Lz4Error decoded = Lz4DecodeBlockExact(part.data() + sizeof(KernelImageHeader),
                                               static_cast<size_t>(lz4_size), check.data(),
                                               check.size());
  if (decoded != Lz4Error::kOk || check != image) {
    return absl::InternalError(absl::StrCat("kernel: LZ4 image does not decode back: ",
                                            Lz4ErrorName(decoded)));
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
  if (mode == "none") return std::string("capture kernel: staged as the bzImage (--kernel-image=none)");
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
