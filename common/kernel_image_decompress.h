// Host-side decoders for every format the Linux build compresses with: the
// bzImage payload (arch/x86/boot/compressed/Makefile, suffix-$(CONFIG_KERNEL_*))
// and compressed modules (scripts/Makefile.modinst, .ko.xz/.ko.zst/.ko.gz).
// Each wraps the Debian library made for it (liblzma, libzstd, zlib, liblz4,
// libbz2, liblzo2). They run at pack time only: the purgatory keeps its one
// LZ4 decoder, and saveoops-capture links none of them.
//
// Every decoder stops after the first stream and ignores what follows (the
// kernel build appends the unpacked size, scripts/Makefile.lib size_append),
// and never yields more than `max_output` bytes: a hostile payload cannot
// make the host allocate gigabytes.
#ifndef SAVEOOPS_COMMON_KERNEL_IMAGE_DECOMPRESS_H_
#define SAVEOOPS_COMMON_KERNEL_IMAGE_DECOMPRESS_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace saveoops {

enum class Compression {
  kUnknown,
  kGzip,   // RFC 1952 (`gzip -n -9`).
  kXz,     // .xz container (`xz --check=crc32`).
  kLzma,   // legacy .lzma "alone" format (`lzma -9`).
  kZstd,   // one zstd frame (`zstd -22 --ultra`).
  kLz4,    // LZ4 legacy frame (`lz4 -l`), as lib/decompress_unlz4.c reads it.
  kBzip2,  // `bzip2 -9`.
  kLzo,    // lzop file (`lzop -9`), as lib/decompress_unlzo.c reads it.
};

// Every format above but kUnknown, for tests and the fuzz target.
inline constexpr Compression kAllCompressions[] = {
    Compression::kGzip, Compression::kXz,    Compression::kLzma, Compression::kZstd,
    Compression::kLz4,  Compression::kBzip2, Compression::kLzo,
};

// "gzip", "xz", ..., "an unknown format".
const char* CompressionName(Compression c);

// The format `data` starts in, by its magic bytes (lib/decompress.c's table
// plus xz and zstd).
Compression DetectCompression(absl::Span<const uint8_t> data);

// A capture kernel unpacks to 60-70 MiB (vmlinux plus relocations); four
// times that is not a kernel.
inline constexpr uint64_t kMaxUnpackedKernelBytes = 256ull << 20;

// Unpacks `data`, which is in format `c`, to at most `max_output` bytes.
// `what` names the input in errors ("kernel", "module nvme.ko.xz"); every
// error starts with it. Errors: kUnknown, a damaged or truncated stream, an
// output larger than `max_output` (the message gives the bound in MiB).
absl::StatusOr<std::vector<uint8_t>> Decompress(Compression c, absl::Span<const uint8_t> data,
                                                uint64_t max_output, absl::string_view what);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_KERNEL_IMAGE_DECOMPRESS_H_
