// Freestanding reader for saveoops.bundle; the format is specified in
// bundle_format.h. No libc: byte copies are loops, hashing is common/sha256.
#include "common/bundle_format.h"

#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

namespace saveoops {
namespace {

// The on-disk integers are little-endian and are read by copying into the
// packed structs, which is only right on a little-endian machine (every
// consumer is x86).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "bundle fields are read in host byte order");

// Copies n bytes; a loop because freestanding code has no memcpy. Copying
// into a packed struct avoids unaligned loads from the caller's buffer.
void CopyBytes(void* dst, const uint8_t* src, size_t n) {
  uint8_t* d = static_cast<uint8_t*>(dst);
  for (size_t i = 0; i < n; ++i) d[i] = src[i];
}

bool IsKnownPartType(uint32_t type) {
  return type >= kBundlePartCaptureKernel && type <= kBundlePartCaptureKernelImage;
}

// Every part but the command line must have data: an empty kernel,
// initramfs or purgatory can only be a packaging mistake.
bool MayBeEmpty(uint32_t type) { return type == kBundlePartCaptureCmdline; }

// Checks one table entry against the rules of bundle_format.h. `previous` is
// the already validated part before it in the table, or null for the first.
BundleError CheckPartEntry(const BundlePartEntry& entry, const BundlePartView* previous,
                           uint32_t header_size, uint64_t file_size) {
  if (entry.reserved != 0) return BundleError::kNonZeroReserved;
  if (!IsKnownPartType(entry.type)) return BundleError::kUnknownPartType;
  if (entry.offset % kBundlePartAlignment != 0) {
    return BundleError::kMisalignedPart;
  }
  if (entry.offset < header_size) return BundleError::kPartOverlapsHeader;
  // Written so that no sum can wrap: offset + size <= file_size.
  if (entry.size > file_size || entry.offset > file_size - entry.size) {
    return BundleError::kPartOutOfRange;
  }
  if (previous != nullptr) {
    if (entry.offset < previous->offset) return BundleError::kPartsOutOfOrder;
    // previous->offset + previous->size <= file_size was checked above.
    if (entry.offset < previous->offset + previous->size) {
      return BundleError::kPartsOverlap;
    }
  }
  if (entry.size == 0 && !MayBeEmpty(entry.type)) {
    return BundleError::kEmptyPart;
  }
  return BundleError::kOk;
}

// The command line is passed to the kernel as a C string, so an embedded NUL
// would silently cut it short.
BundleError CheckCmdline(const uint8_t* text, uint64_t size) {
  if (size > kBundleMaxCmdlineSize) return BundleError::kCmdlineTooLong;
  for (uint64_t i = 0; i < size; ++i) {
    if (text[i] == 0) return BundleError::kCmdlineHasNul;
  }
  return BundleError::kOk;
}

}  // namespace

BundleError ParseBundleHeader(const uint8_t* data, size_t size, BundleView* out) {
  out->data = data;
  out->size = size;
  out->header_size = 0;
  out->part_count = 0;
  out->failed_part = -1;

  // Fields that locate the header digest are checked first (they must be
  // read before the digest can be); everything else after the digest.
  BundleFixedHeader fixed;
  if (data == nullptr || size < sizeof(fixed)) return BundleError::kTruncated;
  CopyBytes(&fixed, data, sizeof(fixed));
  for (size_t i = 0; i < sizeof(kBundleMagic); ++i) {
    if (fixed.magic[i] != kBundleMagic[i]) return BundleError::kBadMagic;
  }
  if (fixed.format_version != kBundleFormatVersion) {
    return BundleError::kUnsupportedVersion;
  }
  if (fixed.part_count == 0 || fixed.part_count > kBundleMaxParts) {
    return BundleError::kBadPartCount;
  }
  if (fixed.header_size != BundleHeaderSize(fixed.part_count)) {
    return BundleError::kBadHeaderSize;
  }
  if (size < fixed.header_size) return BundleError::kTruncated;

  const size_t digest_offset = fixed.header_size - kSha256DigestSize;
  Sha256Digest stored_digest;
  CopyBytes(stored_digest.bytes, data + digest_offset, kSha256DigestSize);
  if (Sha256Hash(data, digest_offset, Sha256BestEngine()) != stored_digest) {
    return BundleError::kHeaderDigestMismatch;
  }

  // From here on the header is the one the writer signed.
  if (fixed.flags != 0) return BundleError::kNonZeroFlags;
  if (fixed.file_size > size) return BundleError::kTruncated;
  if (fixed.file_size != size) return BundleError::kFileSizeMismatch;

  out->header_size = fixed.header_size;
  uint32_t types_seen = 0;  // Bit t set once type t has been seen.
  for (uint32_t i = 0; i < fixed.part_count; ++i) {
    BundlePartEntry entry;
    CopyBytes(&entry, data + sizeof(BundleFixedHeader) + i * sizeof(BundlePartEntry),
              sizeof(entry));
    out->failed_part = static_cast<int>(i);
    // No struct copies here: at -O0/-Os the compiler would turn them into
    // memcpy calls, which freestanding code cannot link.
    BundleError error = CheckPartEntry(entry, i > 0 ? &out->parts[i - 1] : nullptr,
                                       fixed.header_size, fixed.file_size);
    if (error != BundleError::kOk) return error;
    // CheckPartEntry accepted the type, so it is 1..4 and the shift is safe.
    const uint32_t type_bit = uint32_t{1} << entry.type;
    if ((types_seen & type_bit) != 0) return BundleError::kDuplicatePartType;
    types_seen |= type_bit;
    if (entry.type == kBundlePartCaptureCmdline) {
      error = CheckCmdline(data + entry.offset, entry.size);
      if (error != BundleError::kOk) return error;
    }

    BundlePartView& part = out->parts[i];
    part.type = entry.type;
    part.offset = entry.offset;
    part.size = entry.size;
    part.data = data + entry.offset;
    CopyBytes(part.sha256.bytes, entry.sha256, kSha256DigestSize);
    out->part_count = i + 1;
  }
  out->failed_part = -1;

  for (uint32_t type = kBundlePartCaptureKernel; type <= kBundlePartPurgatory; ++type) {
    if ((types_seen & (uint32_t{1} << type)) == 0) {
      return BundleError::kMissingPart;
    }
  }
  return BundleError::kOk;
}

BundleError VerifyBundlePart(const BundleView& view, int index) {
  if (index < 0 || static_cast<uint32_t>(index) >= view.part_count) {
    return BundleError::kBadPartIndex;
  }
  const BundlePartView& part = view.parts[index];
  const Sha256Digest actual =
      Sha256Hash(part.data, static_cast<size_t>(part.size), Sha256BestEngine());
  return actual == part.sha256 ? BundleError::kOk : BundleError::kPartDigestMismatch;
}

const BundlePartView* FindBundlePart(const BundleView& view, uint32_t type) {
  for (uint32_t i = 0; i < view.part_count && i < kBundleMaxParts; ++i) {
    if (view.parts[i].type == type) return &view.parts[i];
  }
  return nullptr;
}

const char* BundleErrorName(BundleError error) {
  switch (error) {
    case BundleError::kOk:
      return "ok";
    case BundleError::kTruncated:
      return "truncated";
    case BundleError::kBadMagic:
      return "bad magic (not a saveoops bundle)";
    case BundleError::kUnsupportedVersion:
      return "unsupported format version";
    case BundleError::kBadPartCount:
      return "bad part count";
    case BundleError::kBadHeaderSize:
      return "bad header size";
    case BundleError::kFileSizeMismatch:
      return "file size mismatch";
    case BundleError::kNonZeroFlags:
      return "unknown flags set";
    case BundleError::kHeaderDigestMismatch:
      return "header SHA-256 mismatch";
    case BundleError::kNonZeroReserved:
      return "reserved field not zero";
    case BundleError::kUnknownPartType:
      return "unknown part type";
    case BundleError::kDuplicatePartType:
      return "duplicate part type";
    case BundleError::kMisalignedPart:
      return "part offset not 4096-aligned";
    case BundleError::kPartOverlapsHeader:
      return "part overlaps header";
    case BundleError::kPartOutOfRange:
      return "part extends past end of file";
    case BundleError::kPartsOutOfOrder:
      return "parts not in table order";
    case BundleError::kPartsOverlap:
      return "parts overlap";
    case BundleError::kMissingPart:
      return "required part missing";
    case BundleError::kEmptyPart:
      return "required part empty";
    case BundleError::kCmdlineTooLong:
      return "command line too long";
    case BundleError::kCmdlineHasNul:
      return "command line contains NUL";
    case BundleError::kBadPartIndex:
      return "part index out of range";
    case BundleError::kPartDigestMismatch:
      return "part SHA-256 mismatch";
  }
  return "unknown bundle error";
}

const char* BundlePartTypeName(uint32_t type) {
  switch (type) {
    case kBundlePartCaptureKernel:
      return "capture_kernel";
    case kBundlePartCaptureInitramfs:
      return "capture_initramfs";
    case kBundlePartCaptureCmdline:
      return "capture_cmdline";
    case kBundlePartPurgatory:
      return "purgatory";
    case kBundlePartCaptureKernelImage:
      return "capture_kernel_image";
  }
  return "unknown";
}

}  // namespace saveoops
