// saveoops.bundle: the one file that carries everything needed to stage a
// capture kernel (kernel, initramfs, command line, purgatory), each part
// covered by a SHA-256 digest. This header is the format's specification and
// its freestanding reader, usable inside the UEFI application (no libc, no
// allocation). Host code writes and reads whole bundles with common/bundle.h.
//
// Layout (all integers little-endian, the x86 byte order of every consumer):
//
//   offset 0                 BundleFixedHeader (32 bytes)
//   offset 32                part_count x BundlePartEntry (56 bytes each)
//   offset 32 + 56*n         header_sha256 (32 bytes): SHA-256 of bytes
//                            [0, 32 + 56*n), i.e. everything before it
//   offset header_size       (zero padding up to the first 4096 boundary)
//   parts[0].offset          part 0 data, then zero padding to 4096
//   parts[1].offset          part 1 data, ...
//
//   header_size = 32 + 56 * part_count + 32.
//
// Why these rules:
//   - The header digest makes every header byte (including part digests,
//     offsets and sizes) tamper- and corruption-evident before any of it is
//     trusted; the part digests then cover the data, and a loader can hand
//     them on (e.g. to the purgatory) without rehashing on the host.
//   - Part data sits at 4096-aligned offsets so a loader can map or read each
//     part page by page (EFI AllocatePages, mmap), and parts appear in the
//     order of the table so a reader can stream the file front to back.
//   - file_size is stored so a truncated copy (interrupted write, short read
//     from a FAT ESP) is detected before any digest is computed.
//   - flags must be 0 and reserved fields 0 so a future version can give them
//     meaning without an old reader silently misinterpreting a new file.
//   - The command line is at most 4096 bytes (one page) and has no NUL:
//     loaders copy it into a page of their own, append elfcorehdr= and the
//     like, and NUL-terminate it there. The kernel's own limit,
//     "cmdline_size" in Documentation/arch/x86/boot.rst (the maximum length
//     without the terminating zero; 2047 on x86, whose COMMAND_LINE_SIZE is
//     2048), depends on the kernel, so loaders check it against the kernel.
//   - Padding bytes (after the header and between parts) are written as
//     zeros but not checked by readers: nothing reads them.
#ifndef SAVEOOPS_COMMON_BUNDLE_FORMAT_H_
#define SAVEOOPS_COMMON_BUNDLE_FORMAT_H_

#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

namespace saveoops {

// The 8 magic bytes at offset 0: "SVOOPSBN" (no NUL).
inline constexpr uint8_t kBundleMagic[8] = {'S', 'V', 'O', 'O', 'P', 'S', 'B', 'N'};

// The only format version this reader accepts.
inline constexpr uint32_t kBundleFormatVersion = 1;

// Part data offsets are multiples of this.
inline constexpr uint64_t kBundlePartAlignment = 4096;

// Most part table entries a bundle may have.
inline constexpr uint32_t kBundleMaxParts = 16;

// Largest capture_cmdline part, in bytes (no terminating NUL in the file).
inline constexpr uint64_t kBundleMaxCmdlineSize = 4096;

// Part types (BundlePartEntry::type). Each appears at most once, and all four
// are required in format version 1.
inline constexpr uint32_t kBundlePartCaptureKernel = 1;     // bzImage.
inline constexpr uint32_t kBundlePartCaptureInitramfs = 2;  // newc cpio.
inline constexpr uint32_t kBundlePartCaptureCmdline = 3;    // Text, no NUL.
inline constexpr uint32_t kBundlePartPurgatory = 4;         // purgatory/ flat blob.
// Optional: the capture kernel prepared for the purgatory to unpack
// (KernelImageHeader + LZ4 block, common/kernel_image.h). Loaders that find
// it stage it instead of the bzImage's compressed payload.
inline constexpr uint32_t kBundlePartCaptureKernelImage = 5;

// The fixed part of the header, at file offset 0.
struct __attribute__((packed)) BundleFixedHeader {
  uint8_t magic[8];         // kBundleMagic.
  uint32_t format_version;  // kBundleFormatVersion.
  uint32_t header_size;     // 32 + 56 * part_count + 32.
  uint32_t part_count;      // 1 .. kBundleMaxParts.
  uint32_t flags;           // 0; no flags are defined in version 1.
  uint64_t file_size;       // Size of the whole bundle file in bytes.
};
static_assert(sizeof(BundleFixedHeader) == 32, "fixed header is 32 bytes");
static_assert(offsetof(BundleFixedHeader, magic) == 0x00, "magic at 0x00");
static_assert(offsetof(BundleFixedHeader, format_version) == 0x08, "format_version at 0x08");
static_assert(offsetof(BundleFixedHeader, header_size) == 0x0c, "header_size at 0x0c");
static_assert(offsetof(BundleFixedHeader, part_count) == 0x10, "part_count at 0x10");
static_assert(offsetof(BundleFixedHeader, flags) == 0x14, "flags at 0x14");
static_assert(offsetof(BundleFixedHeader, file_size) == 0x18, "file_size at 0x18");

// One part table entry; the table follows the fixed header.
struct __attribute__((packed)) BundlePartEntry {
  uint32_t type;       // kBundlePart*.
  uint32_t reserved;   // 0.
  uint64_t offset;     // File offset of the data; multiple of 4096.
  uint64_t size;       // Data size in bytes (padding not included).
  uint8_t sha256[32];  // SHA-256 of the `size` data bytes.
};
static_assert(sizeof(BundlePartEntry) == 56, "part entry is 56 bytes");
static_assert(offsetof(BundlePartEntry, type) == 0x00, "type at 0x00");
static_assert(offsetof(BundlePartEntry, reserved) == 0x04, "reserved at 0x04");
static_assert(offsetof(BundlePartEntry, offset) == 0x08, "offset at 0x08");
static_assert(offsetof(BundlePartEntry, size) == 0x10, "size at 0x10");
static_assert(offsetof(BundlePartEntry, sha256) == 0x18, "sha256 at 0x18");

// header_size for a bundle with `part_count` parts: the fixed header, the
// table and the trailing header digest. Four parts: 32 + 224 + 32 = 288.
constexpr uint32_t BundleHeaderSize(uint32_t part_count) {
  return static_cast<uint32_t>(sizeof(BundleFixedHeader) + part_count * sizeof(BundlePartEntry) +
                               kSha256DigestSize);
}

// What ParseBundleHeader() or VerifyBundlePart() found wrong. kOk is 0.
enum class BundleError : uint8_t {
  kOk = 0,
  kTruncated,             // Fewer bytes than the fixed header/header_size.
  kBadMagic,              // magic is not "SVOOPSBN".
  kUnsupportedVersion,    // format_version != 1.
  kBadPartCount,          // part_count is 0 or > kBundleMaxParts.
  kBadHeaderSize,         // header_size != BundleHeaderSize(part_count).
  kFileSizeMismatch,      // file_size != the number of bytes given.
  kNonZeroFlags,          // flags != 0.
  kHeaderDigestMismatch,  // header_sha256 does not match the header bytes.
  kNonZeroReserved,       // A part entry's reserved field is not 0.
  kUnknownPartType,       // A part entry's type is not a kBundlePart*.
  kDuplicatePartType,     // Two entries have the same type.
  kMisalignedPart,        // A part offset is not a multiple of 4096.
  kPartOverlapsHeader,    // A part starts before header_size.
  kPartOutOfRange,        // offset + size runs past file_size.
  kPartsOutOfOrder,       // A part starts before the previous one.
  kPartsOverlap,          // A part starts before the previous one ends.
  kMissingPart,           // One of the four required types is absent.
  kEmptyPart,             // A part other than the command line has size 0.
  kCmdlineTooLong,        // capture_cmdline is > 4096 bytes.
  kCmdlineHasNul,         // capture_cmdline contains a NUL byte.
  kBadPartIndex,          // VerifyBundlePart() index not in the table.
  kPartDigestMismatch,    // A part's data does not match its SHA-256.
};

// A validated part: where its data is and what it must hash to.
struct BundlePartView {
  uint32_t type;  // kBundlePart*.
  uint64_t offset;
  uint64_t size;
  const uint8_t* data;  // Points into the bytes given to ParseBundleHeader().
  Sha256Digest sha256;  // Expected digest, from the part table.
};

// The result of ParseBundleHeader(). Holds pointers into the caller's bytes,
// which must outlive it; no allocation.
struct BundleView {
  const uint8_t* data;  // The whole bundle.
  size_t size;          // == file_size after a successful parse.
  uint32_t header_size;
  uint32_t part_count;
  BundlePartView parts[kBundleMaxParts];  // First part_count are valid.
  // When ParseBundleHeader() fails on one part table entry, its index;
  // otherwise -1. Lets callers name the entry in their error message.
  int failed_part;
};

// Validates the bundle header in data[0, size), which must be the whole file:
// magic, version, part_count, header_size, file_size == size, flags, the
// header digest, then every part entry (reserved 0, known type at most once,
// 4096-aligned offset past the header, inside the file, in table order
// without overlap, non-empty kernel/initramfs/purgatory, all four types
// present) and the command line (<= 4096 bytes, no NUL). The header digest is
// checked before any table field is interpreted, so a corrupted table reports
// kHeaderDigestMismatch. Does NOT hash part data: call VerifyBundlePart() for
// each part before using it.
//
// Reads only inside data[0, size) for any input. On success fills *out and
// returns kOk; on failure returns the first problem found and sets
// out->failed_part (other fields of *out are unspecified).
BundleError ParseBundleHeader(const uint8_t* data, size_t size, BundleView* out);

// Hashes part `index` of a parsed bundle (with Sha256BestEngine()) and
// compares it to the part table: kOk, kPartDigestMismatch, or kBadPartIndex
// if index is not in [0, part_count).
BundleError VerifyBundlePart(const BundleView& view, int index);

// The part of `type` in a parsed bundle, or null if absent.
const BundlePartView* FindBundlePart(const BundleView& view, uint32_t type);

// A short human-readable description of `error`, e.g. "header SHA-256
// mismatch"; never null.
const char* BundleErrorName(BundleError error);

// The part type's name as used in messages ("capture_kernel",
// "capture_initramfs", "capture_cmdline", "purgatory"), or "unknown".
const char* BundlePartTypeName(uint32_t type);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_BUNDLE_FORMAT_H_
