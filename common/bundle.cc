#include "common/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/bundle_format.h"
#include "common/files.h"
#include "common/sha256.h"

namespace saveoops {
namespace {

// The bundle is read by the static `saveoops` binary (also run inside
// initramfs images), so it hashes with the freestanding SHA-256, whose SHA-NI
// engine matches BoringSSL's speed (bench/), rather than linking BoringSSL.
Sha256Digest HashBytes(absl::Span<const uint8_t> bytes) {
  return Sha256Hash(bytes.data(), bytes.size(), Sha256BestEngine());
}

std::string DigestHex(const Sha256Digest& d) {
  char hex[65];
  Sha256ToHex(d, hex);
  return hex;
}

// Part types every bundle has, in the order SerializeBundle() lays them
// out; the optional prepared kernel image follows them.
constexpr uint32_t kRequiredParts[] = {
    kBundlePartCaptureKernel,
    kBundlePartCaptureInitramfs,
    kBundlePartCaptureCmdline,
    kBundlePartPurgatory,
};
constexpr uint32_t kMaxPartCount = sizeof(kRequiredParts) / sizeof(kRequiredParts[0]) + 1;

uint64_t AlignUp(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

absl::Span<const uint8_t> AsBytes(absl::string_view text) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// The bytes of part `type` in `contents`.
absl::Span<const uint8_t> PartBytes(const BundleContents& contents, uint32_t type) {
  switch (type) {
    case kBundlePartCaptureKernel:
      return contents.capture_kernel;
    case kBundlePartCaptureInitramfs:
      return contents.capture_initramfs;
    case kBundlePartCaptureCmdline:
      return AsBytes(contents.capture_cmdline);
    case kBundlePartPurgatory:
      return contents.purgatory;
    case kBundlePartCaptureKernelImage:
      return contents.capture_kernel_image;
  }
  return {};
}

// Reads the fixed header; the caller has checked that it is all there.
BundleFixedHeader ReadFixedHeader(absl::Span<const uint8_t> bytes) {
  BundleFixedHeader fixed;
  memcpy(&fixed, bytes.data(), sizeof(fixed));
  return fixed;
}

// Reads part table entry `index`; the caller has checked that it is there.
BundlePartEntry ReadPartEntry(absl::Span<const uint8_t> bytes, int index) {
  BundlePartEntry entry;
  memcpy(&entry,
         bytes.data() + sizeof(BundleFixedHeader) +
             static_cast<size_t>(index) * sizeof(BundlePartEntry),
         sizeof(entry));
  return entry;
}

Sha256Digest DigestFromBytes(const uint8_t* bytes) {
  Sha256Digest digest;
  memcpy(digest.bytes, bytes, kSha256DigestSize);
  return digest;
}

// Describes a failure of ParseBundleHeader() with the offending values. The
// header checks are repeated here only far enough to pick the message; which
// check failed is decided by `error`.
std::string DescribeHeaderError(absl::Span<const uint8_t> bytes, BundleError error,
                                int failed_part) {
  const bool have_fixed = bytes.size() >= sizeof(BundleFixedHeader);
  const BundleFixedHeader fixed = have_fixed ? ReadFixedHeader(bytes) : BundleFixedHeader{};

  if (failed_part >= 0) {
    const BundlePartEntry entry = ReadPartEntry(bytes, failed_part);
    const std::string where =
        absl::StrFormat("part '%s' (table entry %d)", BundlePartTypeName(entry.type), failed_part);
    const BundlePartEntry previous =
        failed_part > 0 ? ReadPartEntry(bytes, failed_part - 1) : entry;
    switch (error) {
      case BundleError::kNonZeroReserved:
        return absl::StrFormat("%s: field 'reserved' is %#x, need 0", where, entry.reserved);
      case BundleError::kUnknownPartType:
        return absl::StrFormat(
            "table entry %d: field 'type' is %u, need 1 (capture_kernel), 2 "
            "(capture_initramfs), 3 (capture_cmdline), 4 (purgatory) or 5 "
            "(capture_kernel_image)",
            failed_part, entry.type);
      case BundleError::kDuplicatePartType:
        return absl::StrFormat(
            "%s: field 'type' is %u, which an earlier "
            "entry already has; each part type may appear "
            "once",
            where, entry.type);
      case BundleError::kMisalignedPart:
        return absl::StrFormat("%s: field 'offset' is %#x, need a multiple of %u", where,
                               entry.offset, kBundlePartAlignment);
      case BundleError::kPartOverlapsHeader:
        return absl::StrFormat("%s: field 'offset' is %#x, inside the %u-byte header", where,
                               entry.offset, fixed.header_size);
      case BundleError::kPartOutOfRange:
        return absl::StrFormat("%s: fields 'offset' %#x + 'size' %#x run past file_size %#x", where,
                               entry.offset, entry.size, fixed.file_size);
      case BundleError::kPartsOutOfOrder:
        return absl::StrFormat(
            "%s: field 'offset' is %#x, before the previous part '%s' at "
            "%#x; parts must be stored in table order",
            where, entry.offset, BundlePartTypeName(previous.type), previous.offset);
      case BundleError::kPartsOverlap:
        return absl::StrFormat(
            "%s: field 'offset' is %#x, inside the previous part '%s' "
            "[%#x, %#x)",
            where, entry.offset, BundlePartTypeName(previous.type), previous.offset,
            previous.offset + previous.size);
      case BundleError::kEmptyPart:
        return absl::StrFormat("%s: field 'size' is 0, the part is required", where);
      case BundleError::kCmdlineTooLong:
        return absl::StrFormat(
            "%s: field 'size' is %u, the command line may be at most %u "
            "bytes",
            where, entry.size, kBundleMaxCmdlineSize);
      case BundleError::kCmdlineHasNul: {
        const absl::Span<const uint8_t> text =
            bytes.subspan(static_cast<size_t>(entry.offset), static_cast<size_t>(entry.size));
        size_t nul = 0;
        while (nul < text.size() && text[nul] != 0) ++nul;
        return absl::StrFormat("%s: the command line has a NUL byte at offset %u", where, nul);
      }
      default:
        return absl::StrFormat("%s: %s", where, BundleErrorName(error));
    }
  }

  switch (error) {
    case BundleError::kTruncated:
      if (!have_fixed) {
        return absl::StrFormat("truncated: %u bytes, shorter than the %u-byte fixed header",
                               bytes.size(), sizeof(BundleFixedHeader));
      }
      if (bytes.size() < fixed.header_size) {
        return absl::StrFormat("truncated: %u bytes, shorter than header_size %u", bytes.size(),
                               fixed.header_size);
      }
      return absl::StrFormat("truncated: %u bytes, but field 'file_size' is %u", bytes.size(),
                             fixed.file_size);
    case BundleError::kBadMagic:
      return absl::StrFormat("field 'magic' is \"%s\", need \"SVOOPSBN\" (not a saveoops bundle)",
                             absl::CHexEscape(absl::string_view(
                                 reinterpret_cast<const char*>(fixed.magic), sizeof(fixed.magic))));
    case BundleError::kUnsupportedVersion:
      return absl::StrFormat("field 'format_version' is %u, need %u", fixed.format_version,
                             kBundleFormatVersion);
    case BundleError::kBadPartCount:
      return absl::StrFormat("field 'part_count' is %u, need 1..%u", fixed.part_count,
                             kBundleMaxParts);
    case BundleError::kBadHeaderSize:
      return absl::StrFormat("field 'header_size' is %u, need %u for part_count %u",
                             fixed.header_size, BundleHeaderSize(fixed.part_count),
                             fixed.part_count);
    case BundleError::kFileSizeMismatch:
      return absl::StrFormat("field 'file_size' is %u, but there are %u bytes (trailing data)",
                             fixed.file_size, bytes.size());
    case BundleError::kNonZeroFlags:
      return absl::StrFormat("field 'flags' is %#x, need 0", fixed.flags);
    case BundleError::kHeaderDigestMismatch: {
      const size_t digest_offset = fixed.header_size - kSha256DigestSize;
      return absl::StrCat("header SHA-256 mismatch (header corrupted): header says ",
                          DigestHex(DigestFromBytes(bytes.data() + digest_offset)),
                          ", header bytes hash to ",
                          DigestHex(HashBytes(bytes.first(digest_offset))));
    }
    case BundleError::kMissingPart: {
      std::string missing;
      for (uint32_t type : kRequiredParts) {
        bool present = false;
        for (uint32_t i = 0; i < fixed.part_count; ++i) {
          if (ReadPartEntry(bytes, static_cast<int>(i)).type == type) {
            present = true;
          }
        }
        if (!present) {
          absl::StrAppend(&missing, missing.empty() ? "" : ", ", "'", BundlePartTypeName(type),
                          "'");
        }
      }
      return absl::StrCat("required part ", missing, " missing");
    }
    default:
      return BundleErrorName(error);
  }
}

absl::StatusCode CodeFor(BundleError error) {
  switch (error) {
    case BundleError::kTruncated:
    case BundleError::kHeaderDigestMismatch:
    case BundleError::kPartDigestMismatch:
      return absl::StatusCode::kDataLoss;
    default:
      return absl::StatusCode::kInvalidArgument;
  }
}

// ParseBundle() with `prefix` ("bundle" or "bundle '<path>'") before each
// message.
absl::StatusOr<BundleContents> ParseBundleWithPrefix(absl::Span<const uint8_t> bytes,
                                                     absl::string_view prefix) {
  BundleView view;
  const BundleError error = ParseBundleHeader(bytes.data(), bytes.size(), &view);
  if (error != BundleError::kOk) {
    return absl::Status(
        CodeFor(error),
        absl::StrCat(prefix, ": ", DescribeHeaderError(bytes, error, view.failed_part)));
  }

  BundleContents contents;
  for (uint32_t i = 0; i < view.part_count; ++i) {
    const BundlePartView& part = view.parts[i];
    if (VerifyBundlePart(view, static_cast<int>(i)) != BundleError::kOk) {
      const Sha256Digest actual =
          HashBytes(absl::Span<const uint8_t>(part.data, static_cast<size_t>(part.size)));
      return absl::DataLossError(absl::StrCat(
          prefix, ": part '", BundlePartTypeName(part.type), "' SHA-256 mismatch: header says ",
          DigestHex(part.sha256), ", data hashes to ", DigestHex(actual)));
    }
    contents.verified_sha256[part.type] = part.sha256;
    const uint8_t* begin = part.data;
    const uint8_t* end = part.data + part.size;
    switch (part.type) {
      case kBundlePartCaptureKernel:
        contents.capture_kernel.assign(begin, end);
        break;
      case kBundlePartCaptureInitramfs:
        contents.capture_initramfs.assign(begin, end);
        break;
      case kBundlePartCaptureCmdline:
        contents.capture_cmdline.assign(begin, end);
        break;
      case kBundlePartPurgatory:
        contents.purgatory.assign(begin, end);
        break;
      case kBundlePartCaptureKernelImage:
        contents.capture_kernel_image.assign(begin, end);
        break;
    }
  }
  return contents;
}

// Checks `contents` against the rules ParseBundleHeader() enforces, so the
// writer never produces a bundle the reader rejects.
absl::Status CheckContents(const BundleContents& contents) {
  for (uint32_t type : kRequiredParts) {
    if (type != kBundlePartCaptureCmdline && PartBytes(contents, type).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle: part '", BundlePartTypeName(type), "' is empty"));
    }
  }
  const std::string& cmdline = contents.capture_cmdline;
  if (cmdline.size() > kBundleMaxCmdlineSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bundle: part 'capture_cmdline' is %u bytes, at most %u allowed",
                        cmdline.size(), kBundleMaxCmdlineSize));
  }
  const size_t nul = cmdline.find('\0');
  if (nul != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bundle: part 'capture_cmdline' has a NUL byte at offset %u", nul));
  }
  return absl::OkStatus();
}

// Closes a file descriptor when it goes out of scope unless released.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close()'s result: on some file systems a write
  // error only shows up here.
  int Close() {
    const int result = close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, absl::Span<const uint8_t> bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(
          errno, absl::StrFormat("bundle: cannot write '%s' at offset %u", path, done));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// The directory holding `path`, for fsync after rename.
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WriteFileAtomically(const std::string& path, absl::Span<const uint8_t> bytes) {
  const std::string tmp_path = path + ".tmp";
  ScopedFd fd(open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bundle: cannot create '", tmp_path, "'"));
  }
  absl::Status status = WriteAll(fd.get(), bytes, tmp_path);
  if (status.ok() && fsync(fd.get()) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("bundle: cannot fsync '", tmp_path, "'"));
  }
  if (fd.Close() != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("bundle: cannot close '", tmp_path, "'"));
  }
  if (status.ok() && rename(tmp_path.c_str(), path.c_str()) != 0) {
    status = absl::ErrnoToStatus(
        errno, absl::StrCat("bundle: cannot rename '", tmp_path, "' to '", path, "'"));
  }
  if (!status.ok()) {
    unlink(tmp_path.c_str());
    return status;
  }

  // Make the rename itself durable (rename(2) only updates the directory in
  // the page cache).
  const std::string dir = DirectoryOf(path);
  ScopedFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || fsync(dir_fd.get()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bundle: cannot fsync directory '", dir, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> ReadWholeFile(const std::string& path) {
  // Bounded, and a directory, FIFO or device is refused (common/files.h).
  StatusOr<std::vector<uint8_t>> bytes = ReadFileBounded(path, 512ull << 20, "bundle");
  if (!bytes.ok()) return absl::Status(bytes.status());
  return *std::move(bytes);
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> SerializeBundle(const BundleContents& contents) {
  absl::Status status = CheckContents(contents);
  if (!status.ok()) return status;

  uint32_t types[kMaxPartCount];
  uint32_t part_count = 0;
  for (uint32_t type : kRequiredParts) types[part_count++] = type;
  if (!contents.capture_kernel_image.empty()) {
    types[part_count++] = kBundlePartCaptureKernelImage;
  }
  const uint32_t header_size = BundleHeaderSize(part_count);
  BundleFixedHeader fixed = {};
  memcpy(fixed.magic, kBundleMagic, sizeof(fixed.magic));
  fixed.format_version = kBundleFormatVersion;
  fixed.header_size = header_size;
  fixed.part_count = part_count;
  fixed.flags = 0;

  BundlePartEntry entries[kMaxPartCount] = {};
  uint64_t end = header_size;
  for (uint32_t i = 0; i < part_count; ++i) {
    const absl::Span<const uint8_t> data = PartBytes(contents, types[i]);
    entries[i].type = types[i];
    entries[i].reserved = 0;
    entries[i].offset = AlignUp(end, kBundlePartAlignment);
    entries[i].size = data.size();
    memcpy(entries[i].sha256, HashBytes(data).bytes, kSha256DigestSize);
    end = entries[i].offset + entries[i].size;
  }
  fixed.file_size = end;

  // Zero-filled, so padding needs no extra work.
  std::vector<uint8_t> bytes(static_cast<size_t>(fixed.file_size), 0);
  memcpy(bytes.data(), &fixed, sizeof(fixed));
  memcpy(bytes.data() + sizeof(fixed), entries, part_count * sizeof(entries[0]));
  const size_t digest_offset = header_size - kSha256DigestSize;
  const Sha256Digest header_digest =
      HashBytes(absl::Span<const uint8_t>(bytes.data(), digest_offset));
  memcpy(bytes.data() + digest_offset, header_digest.bytes, kSha256DigestSize);
  for (uint32_t i = 0; i < part_count; ++i) {
    const absl::Span<const uint8_t> data = PartBytes(contents, types[i]);
    if (!data.empty()) {
      memcpy(bytes.data() + entries[i].offset, data.data(), data.size());
    }
  }
  return bytes;
}

absl::StatusOr<BundleContents> ParseBundle(absl::Span<const uint8_t> bytes) {
  return ParseBundleWithPrefix(bytes, "bundle");
}

absl::Status WriteBundleFile(const std::string& path, const BundleContents& contents) {
  absl::StatusOr<std::vector<uint8_t>> bytes = SerializeBundle(contents);
  if (!bytes.ok()) return bytes.status();
  return WriteFileAtomically(path, *bytes);
}

absl::StatusOr<BundleContents> ReadBundleFile(const std::string& path) {
  absl::StatusOr<std::vector<uint8_t>> bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  return ParseBundleWithPrefix(*bytes, absl::StrCat("bundle '", path, "'"));
}

}  // namespace saveoops
