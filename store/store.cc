// The Saveoops record store. Format and rules: store/store_format.h.
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/format.h"
#include "common/sha256.h"
#include "common/status.h"
#include "store/store_format.h"

namespace saveoops {
namespace {

constexpr uint64_t kBlock = kStoreBlockSize;
constexpr uint64_t kHeaderSize = sizeof(RecordHeader);
// Logs are read and hashed in pieces of this size, so verifying a record
// never needs a second copy of it in memory.
constexpr uint64_t kReadChunk = uint64_t{1} << 20;
// Caps on partition-table walks, so a hostile table cannot make us read
// without end: the GPT entry array (the spec's minimum is 16 KiB; 4 MiB is
// 32768 entries of 128 bytes), the entry size, and the EBR chain length.
constexpr uint64_t kMaxGptEntryArrayBytes = uint64_t{4} << 20;
constexpr uint32_t kMaxGptEntrySize = 4096;
constexpr int kMaxLogicalPartitions = 128;

std::string ErrnoText(int err) { return strerror(err); }

uint64_t RoundUpToBlock(uint64_t n) {
  return (n + kBlock - 1) / kBlock * kBlock;
}

// The magic bytes as C-escaped text, for error messages.
std::string QuoteBytes(const void* data, size_t len) {
  return Concat(
      "\"", HexEscape(absl::string_view(static_cast<const char*>(data), len)),
      "\"");
}

// How errors name a store region.
std::string StoreName(const StoreLocation& location) {
  if (location.offset == 0) return Format("store '%s'", location.path);
  return Format("store '%s' at offset %u", location.path, location.offset);
}

// The SHA-256 engine, chosen once per process. Sha256BestEngine() executes
// CPUID, which costs a VM exit (45-80 us measured on this project's
// virtual machines), far more than hashing a header; this is host/capture
// code, so a function-local static (thread-safe initialization) is fine.
// Hashing functions below take the engine as a parameter so that one
// public call uses one engine throughout.
Sha256Engine StoreEngine() {
  static const Sha256Engine engine = Sha256BestEngine();
  return engine;
}

// --- File descriptors and byte sources ---------------------------------------

// Owns a file descriptor.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { Reset(); }

  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A bounded, random-access view of bytes: a region of a file/device or an
// in-memory buffer. Every read is checked against size(); errors start
// with name() and give the offset relative to the view.
class Reader {
 public:
  static Reader OfSpan(absl::Span<const uint8_t> bytes, std::string name) {
    Reader r;
    r.span_ = bytes;
    r.size_ = bytes.size();
    r.name_ = std::move(name);
    return r;
  }
  static Reader OfFd(int fd, uint64_t base, uint64_t size, std::string name) {
    Reader r;
    r.fd_ = fd;
    r.base_ = base;
    r.size_ = size;
    r.name_ = std::move(name);
    return r;
  }

  uint64_t size() const { return size_; }
  const std::string& name() const { return name_; }

  // The sub-view [offset, offset + size) clipped to this view, renamed.
  Reader Slice(uint64_t offset, uint64_t size, std::string name) const {
    Reader r = *this;
    offset = std::min(offset, size_);
    size = std::min(size, size_ - offset);
    if (fd_ < 0) r.span_ = span_.subspan(offset, size);
    r.base_ = base_ + offset;
    r.size_ = size;
    r.name_ = std::move(name);
    return r;
  }

  Status ReadAt(uint64_t offset, absl::Span<uint8_t> out) const {
    if (offset > size_ || out.size() > size_ - offset) {
      return OutOfRangeError(
          Format("%s: read of %u bytes at byte %u is outside its %u bytes",
                 name_, out.size(), offset, size_));
    }
    if (out.empty()) return OkStatus();
    if (fd_ < 0) {
      memcpy(out.data(), span_.data() + offset, out.size());
      return OkStatus();
    }
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = pread(fd_, out.data() + done, out.size() - done,
                        static_cast<off_t>(base_ + offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return DataLossError(
            Format("%s: read of %u bytes at byte %u failed: %s", name_,
                   out.size(), offset, ErrnoText(errno)));
      }
      if (n == 0) {
        return DataLossError(Format(
            "%s: read of %u bytes at byte %u hit end of file after %u bytes "
            "(did the file shrink?)",
            name_, out.size(), offset, done));
      }
      done += static_cast<size_t>(n);
    }
    return OkStatus();
  }

  template <typename T>
  Status ReadStruct(uint64_t offset, T* out) const {
    return ReadAt(offset, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(out),
                                              sizeof(T)));
  }

 private:
  Reader() = default;

  int fd_ = -1;
  absl::Span<const uint8_t> span_;
  uint64_t base_ = 0;  // absolute file offset of byte 0 (fd views)
  uint64_t size_ = 0;
  std::string name_;
};

// An open store region: [offset, offset + size) of `fd`.
struct OpenedRegion {
  ScopedFd fd;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string name;

  Reader reader() const { return Reader::OfFd(fd.get(), offset, size, name); }
};

enum class OpenMode { kRead, kWrite, kFormat };

// Opens location.path and resolves the region. kFormat may create or
// extend a regular file to offset + size (size != 0).
StatusOr<OpenedRegion> OpenRegion(const StoreLocation& location,
                                  OpenMode mode) {
  OpenedRegion region;
  region.name = StoreName(location);
  int flags = O_CLOEXEC | (mode == OpenMode::kRead ? O_RDONLY : O_RDWR);
  if (mode == OpenMode::kFormat && location.size != 0) flags |= O_CREAT;
  region.fd = ScopedFd(open(location.path.c_str(), flags, 0600));
  if (region.fd.get() < 0) {
    return NotFoundError(Format("%s: cannot open for %s: %s", region.name,
                                mode == OpenMode::kRead ? "reading" : "writing",
                                ErrnoText(errno)));
  }
  struct stat st;
  if (fstat(region.fd.get(), &st) != 0) {
    return InternalError(
        Format("%s: fstat failed: %s", region.name, ErrnoText(errno)));
  }
  uint64_t total = 0;
  if (S_ISBLK(st.st_mode)) {
    if (ioctl(region.fd.get(), BLKGETSIZE64, &total) != 0) {
      return InternalError(Format("%s: ioctl(BLKGETSIZE64) failed: %s",
                                  region.name, ErrnoText(errno)));
    }
  } else if (S_ISREG(st.st_mode)) {
    total = static_cast<uint64_t>(st.st_size);
    uint64_t want = 0;
    if (mode == OpenMode::kFormat && location.size != 0 &&
        !__builtin_add_overflow(location.offset, location.size, &want) &&
        want > total) {
      if (ftruncate(region.fd.get(), static_cast<off_t>(want)) != 0) {
        return InternalError(
            Format("%s: cannot extend the file to %u bytes: %s", region.name,
                   want, ErrnoText(errno)));
      }
      total = want;
    }
  } else {
    return InvalidArgumentError(Format(
        "%s: is neither a regular file nor a block device", region.name));
  }
  if (location.offset > total) {
    return OutOfRangeError(Format(
        "%s: offset %u is past the end of the %u-byte %s", region.name,
        location.offset, total, S_ISBLK(st.st_mode) ? "device" : "file"));
  }
  region.offset = location.offset;
  region.size = total - location.offset;
  if (location.size != 0) {
    if (location.size > region.size) {
      return OutOfRangeError(Format(
          "%s: size %u runs past the end: only %u bytes from offset %u to "
          "the end of the %u-byte %s",
          region.name, location.size, region.size, location.offset, total,
          S_ISBLK(st.st_mode) ? "device" : "file"));
    }
    region.size = location.size;
  }
  return region;
}

Status WriteAll(int fd, uint64_t file_offset, absl::Span<const uint8_t> data,
                const std::string& name, uint64_t store_offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = pwrite(fd, data.data() + done, data.size() - done,
                       static_cast<off_t>(file_offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return DataLossError(Format(
          "%s: write of %u bytes at store byte %u failed after %u bytes: %s",
          name, data.size(), store_offset, done,
          n < 0 ? ErrnoText(errno) : std::string("no progress")));
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status SyncData(int fd, const std::string& name) {
  // fdatasync() on a block device also flushes the device's volatile write
  // cache (blkdev_fsync -> blkdev_issue_flush, block/fops.c).
  if (fdatasync(fd) != 0) {
    return DataLossError(
        Format("%s: fdatasync failed: %s", name, ErrnoText(errno)));
  }
  return OkStatus();
}

// --- Superblock --------------------------------------------------------------

StoreSuperblock BuildSuperblock(uint64_t store_size, const Uuid& uuid, int copy,
                                Sha256Engine engine) {
  StoreSuperblock sb;
  memset(&sb, 0, sizeof(sb));
  memcpy(sb.magic, kSuperblockMagic, sizeof(sb.magic));
  sb.format_version = kStoreFormatVersion;
  sb.block_size = kStoreBlockSize;
  sb.store_size = store_size;
  sb.ring_start = kRingStartOffset;
  sb.ring_end = store_size / kBlock * kBlock;
  memcpy(sb.uuid, uuid.data(), kUuidSize);
  sb.copy_index = static_cast<uint32_t>(copy);
  Sha256Digest d = Sha256Hash(&sb, offsetof(StoreSuperblock, sha256), engine);
  memcpy(sb.sha256, d.bytes, sizeof(sb.sha256));
  return sb;
}

// Why `sb`, read from block `copy`, is not a usable superblock for a
// region of region_size bytes, or OK.
Status CheckSuperblock(const StoreSuperblock& sb, int copy,
                       uint64_t region_size, Sha256Engine engine) {
  if (memcmp(sb.magic, kSuperblockMagic, sizeof(sb.magic)) != 0) {
    return FailedPreconditionError(Format("magic is %s, expected %s",
                                          QuoteBytes(sb.magic, 8),
                                          QuoteBytes(kSuperblockMagic, 8)));
  }
  Sha256Digest d = Sha256Hash(&sb, offsetof(StoreSuperblock, sha256), engine);
  if (memcmp(d.bytes, sb.sha256, sizeof(sb.sha256)) != 0) {
    return FailedPreconditionError("SHA-256 mismatch (damaged superblock)");
  }
  if (sb.format_version != kStoreFormatVersion) {
    return FailedPreconditionError(
        Format("format_version is %u, this program reads %u", sb.format_version,
               kStoreFormatVersion));
  }
  if (sb.copy_index != static_cast<uint32_t>(copy)) {
    return FailedPreconditionError(Format(
        "copy_index is %u but this is block %d: the store starts %d bytes "
        "from here, not at the given offset",
        sb.copy_index, copy,
        (copy - static_cast<int64_t>(sb.copy_index)) * int64_t{kBlock}));
  }
  if (sb.block_size != kStoreBlockSize) {
    return FailedPreconditionError(Format("block_size is %u, expected %u",
                                          sb.block_size, kStoreBlockSize));
  }
  if (sb.ring_start != kRingStartOffset) {
    return FailedPreconditionError(Format("ring_start is %u, expected %u",
                                          sb.ring_start, kRingStartOffset));
  }
  if (sb.ring_end % kBlock != 0) {
    return FailedPreconditionError(
        Format("ring_end %u is not a multiple of the %u-byte block",
               sb.ring_end, kBlock));
  }
  if (sb.ring_end > sb.store_size) {
    return FailedPreconditionError(Format("ring_end %u exceeds store_size %u",
                                          sb.ring_end, sb.store_size));
  }
  if (sb.ring_end < sb.ring_start + kMinRingBlocks * kBlock) {
    return FailedPreconditionError(
        Format("ring [%u, %u) is smaller than the minimum of %u blocks",
               sb.ring_start, sb.ring_end, kMinRingBlocks));
  }
  if (sb.store_size > region_size) {
    return FailedPreconditionError(
        Format("store_size is %u bytes but the region holds only %u (truncated "
               "image, or wrong offset/size?)",
               sb.store_size, region_size));
  }
  return OkStatus();
}

StoreInfo InfoFromSuperblock(const StoreSuperblock& sb, int copy) {
  StoreInfo info;
  memcpy(info.uuid.data(), sb.uuid, kUuidSize);
  info.store_size = sb.store_size;
  info.ring_start = sb.ring_start;
  info.ring_end = sb.ring_end;
  info.max_record_bytes =
      (sb.ring_end - sb.ring_start) / kBlock / kRingFractionPerRecord * kBlock;
  info.superblock_used = copy;
  return info;
}

// Copy 0 if it verifies, else copy 1, else an error giving both reasons.
StatusOr<StoreInfo> ReadSuperblock(const Reader& r, Sha256Engine engine) {
  std::vector<std::string> reasons;
  for (int copy = 0; copy < kSuperblockCopies; ++copy) {
    const uint64_t at = static_cast<uint64_t>(copy) * kBlock;
    std::string why;
    StoreSuperblock sb;
    if (r.size() < at + sizeof(sb)) {
      why = Format("the region is only %u bytes", r.size());
    } else if (Status s = r.ReadStruct(at, &sb); !s.ok()) {
      why = std::string(s.message());
    } else if (Status c = CheckSuperblock(sb, copy, r.size(), engine);
               !c.ok()) {
      why = std::string(c.message());
    } else {
      return InfoFromSuperblock(sb, copy);
    }
    reasons.push_back(Format("copy %d (store byte %u): %s", copy, at, why));
  }
  return FailedPreconditionError(
      Format("%s: no valid superblock (not a Saveoops store, or "
             "both copies damaged): %s",
             r.name(), Join(reasons, "; ")));
}

// --- Records -----------------------------------------------------------------

CaptureRecord RecordFromHeader(const RecordHeader& h, uint64_t offset) {
  CaptureRecord r;
  r.sequence = h.sequence;
  memcpy(r.store_uuid.data(), h.store_uuid, kUuidSize);
  memcpy(r.boot_id.data(), h.boot_id, kUuidSize);
  r.capture_time_unix = h.capture_time_unix;
  r.kernel_release.assign(h.kernel_release, h.kernel_release_len);
  r.panic_reason.assign(h.panic_reason, h.panic_reason_len);
  r.log_truncated = (h.flags & kRecordFlagLogTruncated) != 0;
  r.kernel_release_truncated = (h.flags & kRecordFlagReleaseTruncated) != 0;
  r.panic_reason_truncated = (h.flags & kRecordFlagReasonTruncated) != 0;
  r.original_log_size = h.original_log_size;
  memcpy(r.log_sha256.data(), h.log_sha256, sizeof(h.log_sha256));
  r.offset_in_store = offset;
  r.record_bytes = RoundUpToBlock(kHeaderSize + h.log_size);
  return r;
}

// Result of examining the header at one block boundary.
enum class HeaderVerdict {
  kNoMagic,  // not a record start
  kCorrupt,  // record magic, but unusable
  kForeign,  // verified header of another store
  kOk,       // verified, ours, fields in range; log still to check
};

struct HeaderCheck {
  HeaderVerdict verdict = HeaderVerdict::kNoMagic;
  // The header's own digest verified and the UUID is ours, so `sequence`
  // is trustworthy even if something else is wrong.
  bool sequence_trusted = false;
  std::string why;
};

HeaderCheck CheckHeader(const RecordHeader& h, const StoreInfo& info,
                        uint64_t pos, Sha256Engine engine) {
  HeaderCheck c;
  if (memcmp(h.magic, kRecordMagic, sizeof(h.magic)) != 0) return c;
  c.verdict = HeaderVerdict::kCorrupt;
  if (h.header_version != kRecordHeaderVersion) {
    c.why = Format("header_version is %u, expected %u", h.header_version,
                   kRecordHeaderVersion);
    return c;
  }
  if (h.header_size != kHeaderSize) {
    c.why =
        Format("header_size is %u, expected %u", h.header_size, kHeaderSize);
    return c;
  }
  Sha256Digest d =
      Sha256Hash(&h, offsetof(RecordHeader, header_sha256), engine);
  if (memcmp(d.bytes, h.header_sha256, sizeof(h.header_sha256)) != 0) {
    c.why = "header SHA-256 mismatch";
    return c;
  }
  if (memcmp(h.store_uuid, info.uuid.data(), kUuidSize) != 0) {
    c.verdict = HeaderVerdict::kForeign;
    c.why = "record of another store (earlier format)";
    return c;
  }
  c.sequence_trusted = true;
  if (h.kernel_release_len > kKernelReleaseCapacity) {
    c.why = Format("kernel_release_len is %u, maximum %u", h.kernel_release_len,
                   kKernelReleaseCapacity);
    return c;
  }
  if (h.panic_reason_len > kPanicReasonCapacity) {
    c.why = Format("panic_reason_len is %u, maximum %u", h.panic_reason_len,
                   kPanicReasonCapacity);
    return c;
  }
  if (h.original_log_size < h.log_size ||
      ((h.flags & kRecordFlagLogTruncated) == 0 &&
       h.original_log_size != h.log_size)) {
    c.why = Format(
        "original_log_size %u is inconsistent with log_size %u (flags 0x%x)",
        h.original_log_size, h.log_size, h.flags);
    return c;
  }
  // pos + kHeaderSize <= ring_end holds: pos is a block start in the ring.
  if (h.log_size > info.ring_end - pos - kHeaderSize) {
    c.why =
        Format("log_size %u runs past ring_end %u", h.log_size, info.ring_end);
    return c;
  }
  const uint64_t record_bytes = RoundUpToBlock(kHeaderSize + h.log_size);
  if (record_bytes > info.max_record_bytes) {
    c.why =
        Format("record of %u bytes exceeds the per-record limit of %u bytes",
               record_bytes, info.max_record_bytes);
    return c;
  }
  c.verdict = HeaderVerdict::kOk;
  return c;
}

// Reads and hashes the log of a header-verified record; fills `text` if
// non-null. Returns false (with `why`) if the digest does not match or the
// read fails.
bool VerifyLog(const Reader& r, const RecordHeader& h, uint64_t pos,
               Sha256Engine engine, std::string* text, std::string* why) {
  Sha256 hash(engine);
  std::vector<uint8_t> chunk;
  if (text != nullptr) {
    text->resize(h.log_size);
  } else {
    chunk.resize(std::min<uint64_t>(h.log_size, kReadChunk));
  }
  const uint64_t start = pos + kHeaderSize;
  for (uint64_t done = 0; done < h.log_size;) {
    const uint64_t n = std::min(h.log_size - done, kReadChunk);
    uint8_t* dst = text != nullptr
                       ? reinterpret_cast<uint8_t*>(&(*text)[0]) + done
                       : chunk.data();
    if (Status s = r.ReadAt(start + done, absl::Span<uint8_t>(dst, n));
        !s.ok()) {
      *why = std::string(s.message());
      return false;
    }
    hash.Update(dst, n);
    done += n;
  }
  Sha256Digest d = hash.Finish();
  if (memcmp(d.bytes, h.log_sha256, sizeof(h.log_sha256)) != 0) {
    *why = Format("log SHA-256 mismatch (sequence %u, %u log bytes)",
                  h.sequence, h.log_size);
    return false;
  }
  return true;
}

// Reads the superblock and scans the whole ring (store_format.h, "Appending"
// step 1). Log texts are kept only if keep_logs.
StatusOr<StoreListing> ScanStore(const Reader& r, bool keep_logs,
                                 Sha256Engine engine) {
  StoreListing listing;
  StatusOr<StoreInfo> info = ReadSuperblock(r, engine);
  if (!info.ok()) return info.status();
  listing.info = *info;
  const StoreInfo& si = listing.info;

  auto skip = [&](uint64_t pos, const std::string& why, bool corrupt) {
    if (corrupt) {
      ++listing.skipped_corrupt;
    } else {
      ++listing.skipped_foreign;
    }
    listing.problems.push_back(
        Format("record at store byte %u skipped: %s", pos, why));
  };

  uint64_t pos = si.ring_start;
  while (pos < si.ring_end) {
    RecordHeader h;
    if (Status s = r.ReadStruct(pos, &h); !s.ok()) {
      skip(pos, std::string(s.message()), /*corrupt=*/true);
      pos += kBlock;
      continue;
    }
    HeaderCheck check = CheckHeader(h, si, pos, engine);
    if (check.sequence_trusted) {
      listing.highest_sequence_seen =
          std::max(listing.highest_sequence_seen, h.sequence);
    }
    if (check.verdict == HeaderVerdict::kNoMagic) {
      pos += kBlock;
      continue;
    }
    if (check.verdict != HeaderVerdict::kOk) {
      skip(pos, check.why, check.verdict == HeaderVerdict::kCorrupt);
      pos += kBlock;
      continue;
    }
    CaptureRecord record = RecordFromHeader(h, pos);
    std::string why;
    if (!VerifyLog(r, h, pos, engine, keep_logs ? &record.log_text : nullptr,
                   &why)) {
      // Step one block only: a torn write may have left older records
      // intact inside the extent this header claims.
      skip(pos, why, /*corrupt=*/true);
      pos += kBlock;
      continue;
    }
    pos += record.record_bytes;
    listing.records.push_back(std::move(record));
  }
  std::stable_sort(listing.records.begin(), listing.records.end(),
                   [](const CaptureRecord& a, const CaptureRecord& b) {
                     return a.sequence < b.sequence;
                   });
  return listing;
}

// Copies at most `capacity` bytes of `text` into `field` and returns how
// many (text.size() > result means it was cut).
uint32_t CopyCapped(const std::string& text, char* field, size_t capacity) {
  const size_t n = std::min(text.size(), capacity);
  memcpy(field, text.data(), n);
  return static_cast<uint32_t>(n);
}

// Builds the write for `record` given the current state of the store
// (store_format.h, "Appending" steps 2-3).
StatusOr<PlannedRecordWrite> PlanFromListing(const StoreListing& listing,
                                             const NewRecord& record,
                                             const std::string& name,
                                             Sha256Engine engine) {
  const StoreInfo& si = listing.info;
  if (listing.highest_sequence_seen == std::numeric_limits<uint64_t>::max()) {
    return FailedPreconditionError(
        Format("%s: sequence numbers exhausted (a record claims sequence %u); "
               "reformat the store",
               name, listing.highest_sequence_seen));
  }

  RecordHeader h;
  memset(&h, 0, sizeof(h));
  memcpy(h.magic, kRecordMagic, sizeof(h.magic));
  h.header_version = kRecordHeaderVersion;
  h.header_size = kHeaderSize;
  h.sequence = listing.highest_sequence_seen + 1;
  memcpy(h.store_uuid, si.uuid.data(), kUuidSize);
  memcpy(h.boot_id, record.boot_id.data(), kUuidSize);
  h.capture_time_unix = record.capture_time_unix;
  h.kernel_release_len = CopyCapped(record.kernel_release, h.kernel_release,
                                    kKernelReleaseCapacity);
  if (h.kernel_release_len < record.kernel_release.size()) {
    h.flags |= kRecordFlagReleaseTruncated;
  }
  h.panic_reason_len =
      CopyCapped(record.panic_reason, h.panic_reason, kPanicReasonCapacity);
  if (h.panic_reason_len < record.panic_reason.size()) {
    h.flags |= kRecordFlagReasonTruncated;
  }
  // Keep the END of an over-long log: the panic and its backtrace are the
  // last lines printed.
  const uint64_t max_log = si.max_record_bytes - kHeaderSize;
  absl::string_view log = record.log_text;
  if (log.size() > max_log) {
    log.remove_prefix(log.size() - max_log);
    h.flags |= kRecordFlagLogTruncated;
  }
  h.log_size = log.size();
  h.original_log_size = record.log_text.size();
  Sha256Digest log_digest = Sha256Hash(log.data(), log.size(), engine);
  memcpy(h.log_sha256, log_digest.bytes, sizeof(h.log_sha256));
  Sha256Digest header_digest =
      Sha256Hash(&h, offsetof(RecordHeader, header_sha256), engine);
  memcpy(h.header_sha256, header_digest.bytes, sizeof(h.header_sha256));

  const uint64_t record_bytes = RoundUpToBlock(kHeaderSize + log.size());
  uint64_t pos = si.ring_start;
  if (!listing.records.empty()) {
    const CaptureRecord& newest = listing.records.back();
    pos = newest.offset_in_store + newest.record_bytes;
  }
  if (si.ring_end - pos < record_bytes) pos = si.ring_start;

  PlannedRecordWrite plan;
  plan.offset_in_store = pos;
  plan.bytes.assign(record_bytes, 0);
  memcpy(plan.bytes.data(), &h, sizeof(h));
  if (!log.empty()) {
    memcpy(plan.bytes.data() + kHeaderSize, log.data(), log.size());
  }
  plan.record = RecordFromHeader(h, pos);
  plan.record.log_text = std::string(log);
  return plan;
}

// --- Collecting --------------------------------------------------------------

std::string HexBytes(const uint8_t* p, size_t n) {
  return HexString(absl::string_view(reinterpret_cast<const char*>(p), n));
}

bool IsZero(const Uuid& u) {
  return std::all_of(u.begin(), u.end(), [](uint8_t b) { return b == 0; });
}

std::string FormatUtc(uint64_t unix_seconds) {
  if (unix_seconds >
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Concat(unix_seconds, " (unix seconds, out of range)");
  }
  // Proleptic Gregorian calendar from the day count: shift the epoch to
  // 0000-03-01 so each 400-year era (146097 days) ends with the leap day,
  // then split the era into years, the year into 153-day month pairs.
  const int64_t days = static_cast<int64_t>(unix_seconds / 86400) + 719468;
  const int64_t seconds_of_day = static_cast<int64_t>(unix_seconds % 86400);
  const int64_t era = days / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era = (day_of_era - day_of_era / 1460 +
                               day_of_era / 36524 - day_of_era / 146096) /
                              365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
  const int64_t month =
      month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return Format("%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day,
                seconds_of_day / 3600, seconds_of_day / 60 % 60,
                seconds_of_day % 60);
}

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one
// (RFC 3629, section 4: no overlongs, no surrogates, <= U+10FFFF).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
  }
  return n;
}

// A JSON string literal (RFC 8259, section 7). Bytes that are not valid
// UTF-8 become U+FFFD, so the file is always valid JSON.
std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += Format("\\u%04x", c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (size_t n = Utf8SequenceLength(s, i); n != 0) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += "\"";
  return out;
}

// Control characters shown as '?', for one-line display fields.
std::string PrintableLine(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const uint8_t u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty()) {
    return InvalidArgumentError("collect: empty directory");
  }
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string prefix = dir.substr(0, i);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return PermissionDeniedError(
          Format("collect: cannot create directory '%s': %s", prefix,
                 ErrnoText(errno)));
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(
        Format("collect: '%s' is not a directory", dir));
  }
  return OkStatus();
}

// Writes `contents` to dir/name via a temporary file, fsync() and rename().
Status WriteFileAtomically(const std::string& dir, const std::string& name,
                           absl::string_view contents) {
  const std::string path = Concat(dir, "/", name);
  const std::string tmp = Concat(dir, "/.", name, ".tmp");
  ScopedFd fd(
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return PermissionDeniedError(
        Format("collect: cannot create '%s': %s", tmp, ErrnoText(errno)));
  }
  Status s = WriteAll(
      fd.get(), 0,
      absl::Span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(contents.data()), contents.size()),
      Format("collect: '%s'", tmp), 0);
  if (!s.ok()) return s;
  if (fsync(fd.get()) != 0) {
    return DataLossError(
        Format("collect: fsync '%s' failed: %s", tmp, ErrnoText(errno)));
  }
  fd.Reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return InternalError(Format("collect: rename '%s' to '%s' failed: %s", tmp,
                                path, ErrnoText(errno)));
  }
  return OkStatus();
}

// --- Partition tables --------------------------------------------------------

std::string PartitionName(const PartitionExtent& p) {
  return Format("%s partition %d (image byte %u, %u bytes)",
                p.scheme == "gpt" ? "GPT" : "MBR", p.number, p.offset, p.size);
}

StatusOr<std::vector<PartitionExtent>> ParseGpt(const Reader& r,
                                                const GptHeader& h,
                                                uint64_t header_offset,
                                                uint64_t lba) {
  const std::string where =
      Format("%s: GPT header at byte %u", r.name(), header_offset);
  if (h.header_size < sizeof(GptHeader)) {
    return InvalidArgumentError(Format("%s: HeaderSize is %u, minimum %u",
                                       where, h.header_size,
                                       sizeof(GptHeader)));
  }
  const uint32_t esize = h.size_of_partition_entry;
  if (esize < kGptMinEntrySize || esize > kMaxGptEntrySize ||
      (esize & (esize - 1)) != 0) {
    return InvalidArgumentError(
        Format("%s: SizeOfPartitionEntry is %u, need 128 * 2^n up to %u", where,
               esize, kMaxGptEntrySize));
  }
  const uint64_t array_bytes = uint64_t{h.number_of_partition_entries} * esize;
  if (array_bytes > kMaxGptEntryArrayBytes) {
    return InvalidArgumentError(
        Format("%s: %u entries of %u bytes exceed the %u-byte limit", where,
               h.number_of_partition_entries, esize, kMaxGptEntryArrayBytes));
  }
  uint64_t array_offset = 0;
  if (__builtin_mul_overflow(h.partition_entry_lba, lba, &array_offset) ||
      array_offset > r.size() || array_bytes > r.size() - array_offset) {
    return OutOfRangeError(Format(
        "%s: partition entry array (LBA %u, %u bytes) lies outside the %u-byte "
        "image",
        where, h.partition_entry_lba, array_bytes, r.size()));
  }
  std::vector<uint8_t> array(array_bytes);
  if (Status s = r.ReadAt(array_offset, absl::MakeSpan(array)); !s.ok()) {
    return s;
  }
  std::vector<PartitionExtent> out;
  for (uint32_t i = 0; i < h.number_of_partition_entries; ++i) {
    GptPartitionEntry e;
    memcpy(&e, array.data() + uint64_t{i} * esize, sizeof(e));
    const bool unused = std::all_of(std::begin(e.partition_type_guid),
                                    std::end(e.partition_type_guid),
                                    [](uint8_t b) { return b == 0; });
    if (unused || e.ending_lba < e.starting_lba) continue;
    PartitionExtent p;
    p.scheme = "gpt";
    p.number = static_cast<int>(i) + 1;
    uint64_t blocks = e.ending_lba - e.starting_lba;
    if (__builtin_mul_overflow(e.starting_lba, lba, &p.offset) ||
        __builtin_add_overflow(blocks, 1, &blocks) ||
        __builtin_mul_overflow(blocks, lba, &p.size)) {
      continue;  // cannot describe a byte range; certainly not in the image
    }
    out.push_back(p);
  }
  return out;
}

StatusOr<std::vector<PartitionExtent>> ParsePartitions(const Reader& r) {
  // GPT: primary header in LBA 1 (UEFI 2.10, 5.3.1) for 512- and 4096-byte
  // logical blocks, else the backup header in the last LBA (512 bytes).
  std::vector<std::pair<uint64_t, uint64_t>> gpt_candidates = {{512, 512},
                                                               {4096, 4096}};
  if (r.size() >= uint64_t{3} * 512) {
    gpt_candidates.push_back({r.size() / 512 * 512 - 512, 512});
  }
  for (const auto& [at, lba] : gpt_candidates) {
    GptHeader h;
    if (r.size() < at + sizeof(h)) continue;
    if (Status s = r.ReadStruct(at, &h); !s.ok()) return s;
    if (memcmp(h.signature, kGptSignature, sizeof(h.signature)) != 0) continue;
    return ParseGpt(r, h, at, lba);
  }

  std::vector<PartitionExtent> out;
  LegacyMbr mbr;
  if (r.size() < sizeof(mbr)) return out;
  if (Status s = r.ReadStruct(0, &mbr); !s.ok()) return s;
  if (mbr.signature != kMbrSignature) return out;
  uint64_t extended_lba = 0;
  bool have_extended = false;
  for (int i = 0; i < 4; ++i) {
    const MbrPartitionRecord& e = mbr.partition[i];
    if (e.os_type == 0 || e.size_in_lba == 0) continue;
    if (e.os_type == kMbrTypeExtendedChs || e.os_type == kMbrTypeExtendedLba ||
        e.os_type == kMbrTypeExtendedLinux) {
      if (!have_extended) {
        have_extended = true;
        extended_lba = e.starting_lba;
      }
      continue;
    }
    out.push_back({"mbr", i + 1, uint64_t{e.starting_lba} * kMbrSectorSize,
                   uint64_t{e.size_in_lba} * kMbrSectorSize});
  }
  // Logical partitions: a chain of EBRs. Links must move forward, which
  // every partitioning tool does and which bounds the walk.
  uint64_t ebr_lba = extended_lba;
  for (int n = 0; have_extended && n < kMaxLogicalPartitions; ++n) {
    LegacyMbr ebr;
    const uint64_t at = ebr_lba * kMbrSectorSize;  // < 2^41, no overflow
    if (at > r.size() || r.size() - at < sizeof(ebr)) break;
    if (Status s = r.ReadStruct(at, &ebr); !s.ok()) return s;
    if (ebr.signature != kMbrSignature) break;
    const MbrPartitionRecord& logical = ebr.partition[0];
    if (logical.os_type != 0 && logical.size_in_lba != 0) {
      out.push_back({"mbr", 5 + n,
                     (ebr_lba + logical.starting_lba) * kMbrSectorSize,
                     uint64_t{logical.size_in_lba} * kMbrSectorSize});
    }
    const MbrPartitionRecord& next = ebr.partition[1];
    if (next.os_type == 0 || next.starting_lba == 0) break;
    const uint64_t next_lba = extended_lba + next.starting_lba;
    if (next_lba <= ebr_lba) break;
    ebr_lba = next_lba;
  }
  return out;
}

}  // namespace

// --- Public API --------------------------------------------------------------

std::string FormatUuid(const Uuid& u) {
  const std::string hex = HexBytes(u.data(), u.size());
  return Concat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4),
                "-", hex.substr(16, 4), "-", hex.substr(20, 12));
}

Status FormatStoreImage(absl::Span<uint8_t> image, const Uuid& uuid) {
  if (image.size() < kMinStoreSize) {
    return InvalidArgumentError(Format(
        "store image: %u bytes is too small; need at least %u (2 superblocks "
        "+ %u ring blocks of %u bytes)",
        image.size(), kMinStoreSize, kMinRingBlocks, kBlock));
  }
  std::fill(image.begin(), image.end(), 0);
  for (int copy = 0; copy < kSuperblockCopies; ++copy) {
    const StoreSuperblock sb =
        BuildSuperblock(image.size(), uuid, copy, StoreEngine());
    memcpy(image.data() + static_cast<uint64_t>(copy) * kBlock, &sb,
           sizeof(sb));
  }
  return OkStatus();
}

Status FormatStore(const StoreLocation& location, const Uuid& uuid) {
  StatusOr<OpenedRegion> region = OpenRegion(location, OpenMode::kFormat);
  if (!region.ok()) return region.status();
  if (region->size < kMinStoreSize) {
    return InvalidArgumentError(Format(
        "%s: %u bytes is too small for a store; need at least %u (2 "
        "superblocks + %u ring blocks of %u bytes)",
        region->name, region->size, kMinStoreSize, kMinRingBlocks, kBlock));
  }
  // Both copies in one write: a torn format leaves at worst one good copy
  // of either the old or the new superblock, and formatting is an
  // interactive step that can simply be repeated.
  std::vector<uint8_t> blocks(kSuperblockCopies * kBlock, 0);
  for (int copy = 0; copy < kSuperblockCopies; ++copy) {
    const StoreSuperblock sb =
        BuildSuperblock(region->size, uuid, copy, StoreEngine());
    memcpy(blocks.data() + static_cast<uint64_t>(copy) * kBlock, &sb,
           sizeof(sb));
  }
  Status s = WriteAll(region->fd.get(), region->offset,
                      absl::MakeConstSpan(blocks), region->name, 0);
  if (!s.ok()) return s;
  return SyncData(region->fd.get(), region->name);
}

Status FormatStore(const StoreLocation& location) {
  Uuid uuid;
  size_t got = 0;
  while (got < uuid.size()) {
    ssize_t n = getrandom(uuid.data() + got, uuid.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return InternalError(
          Format("%s: getrandom() for the store UUID failed: %s",
                 StoreName(location), ErrnoText(errno)));
    }
    got += static_cast<size_t>(n);
  }
  // RFC 4122, section 4.4: version 4 (random), variant 10.
  uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0f) | 0x40);
  uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3f) | 0x80);
  return FormatStore(location, uuid);
}

StatusOr<PlannedRecordWrite> PlanAppendToImage(absl::Span<const uint8_t> image,
                                               const NewRecord& record) {
  const Reader r = Reader::OfSpan(image, "store image");
  const Sha256Engine engine = StoreEngine();
  StatusOr<StoreListing> listing = ScanStore(r, /*keep_logs=*/false, engine);
  if (!listing.ok()) return listing.status();
  return PlanFromListing(*listing, record, r.name(), engine);
}

StatusOr<PlannedRecordWrite> PlanAppend(const StoreLocation& location,
                                        const NewRecord& record) {
  StatusOr<OpenedRegion> region = OpenRegion(location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  const Sha256Engine engine = StoreEngine();
  StatusOr<StoreListing> listing =
      ScanStore(region->reader(), /*keep_logs=*/false, engine);
  if (!listing.ok()) return listing.status();
  return PlanFromListing(*listing, record, region->name, engine);
}

StatusOr<CaptureRecord> AppendRecord(const StoreLocation& location,
                                     const NewRecord& record) {
  StatusOr<OpenedRegion> region = OpenRegion(location, OpenMode::kWrite);
  if (!region.ok()) return region.status();
  const Sha256Engine engine = StoreEngine();
  StatusOr<StoreListing> listing =
      ScanStore(region->reader(), /*keep_logs=*/false, engine);
  if (!listing.ok()) return listing.status();
  StatusOr<PlannedRecordWrite> plan =
      PlanFromListing(*listing, record, region->name, engine);
  if (!plan.ok()) return plan.status();
  // PlanFromListing keeps the record inside [ring_start, ring_end), which
  // CheckSuperblock bounded by the region size.
  Status s = WriteAll(region->fd.get(), region->offset + plan->offset_in_store,
                      absl::MakeConstSpan(plan->bytes), region->name,
                      plan->offset_in_store);
  if (!s.ok()) return s;
  s = SyncData(region->fd.get(), region->name);
  if (!s.ok()) return s;
  return std::move(plan->record);
}

StatusOr<StoreInfo> ReadStoreInfo(const StoreLocation& location) {
  StatusOr<OpenedRegion> region = OpenRegion(location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  return ReadSuperblock(region->reader(), StoreEngine());
}

StatusOr<StoreListing> ListRecords(const StoreLocation& location) {
  StatusOr<OpenedRegion> region = OpenRegion(location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  return ScanStore(region->reader(), /*keep_logs=*/true, StoreEngine());
}

StatusOr<StoreListing> ParseStoreImage(absl::Span<const uint8_t> image) {
  return ScanStore(Reader::OfSpan(image, "store image"), /*keep_logs=*/true,
                   StoreEngine());
}

std::string CollectedLogName(const CaptureRecord& record) {
  return Format("%s-%08u.log", FormatUuid(record.store_uuid), record.sequence);
}

std::string CollectedMetaName(const CaptureRecord& record) {
  return Format("%s-%08u.json", FormatUuid(record.store_uuid), record.sequence);
}

std::string RecordMetadataJson(const CaptureRecord& r) {
  std::string out = "{\n";
  AppendTo(&out, "  \"store_uuid\": ", JsonString(FormatUuid(r.store_uuid)),
           ",\n");
  AppendTo(&out, "  \"sequence\": ", r.sequence, ",\n");
  AppendTo(&out, "  \"boot_id\": ",
           IsZero(r.boot_id) ? "null" : JsonString(FormatUuid(r.boot_id)),
           ",\n");
  AppendTo(&out, "  \"capture_time_unix\": ", r.capture_time_unix, ",\n");
  AppendTo(&out, "  \"capture_time_utc\": ",
           JsonString(FormatUtc(r.capture_time_unix)), ",\n");
  AppendTo(&out, "  \"kernel_release\": ", JsonString(r.kernel_release), ",\n");
  AppendTo(&out, "  \"kernel_release_truncated\": ",
           r.kernel_release_truncated ? "true" : "false", ",\n");
  AppendTo(&out, "  \"panic_reason\": ", JsonString(r.panic_reason), ",\n");
  AppendTo(&out, "  \"panic_reason_truncated\": ",
           r.panic_reason_truncated ? "true" : "false", ",\n");
  AppendTo(&out, "  \"log_size\": ", r.log_text.size(), ",\n");
  AppendTo(&out, "  \"log_truncated\": ", r.log_truncated ? "true" : "false",
           ",\n");
  AppendTo(&out, "  \"original_log_size\": ", r.original_log_size, ",\n");
  AppendTo(&out, "  \"log_sha256\": ",
           JsonString(HexBytes(r.log_sha256.data(), r.log_sha256.size())),
           ",\n");
  AppendTo(&out, "  \"offset_in_store\": ", r.offset_in_store, ",\n");
  AppendTo(&out, "  \"log_file\": ", JsonString(CollectedLogName(r)), "\n");
  out += "}\n";
  return out;
}

StatusOr<CollectResult> CollectRecords(const StoreLocation& location,
                                       const std::string& dir) {
  StatusOr<StoreListing> listing = ListRecords(location);
  if (!listing.ok()) return listing.status();
  CollectResult result;
  result.info = listing->info;
  result.skipped_corrupt = listing->skipped_corrupt;
  if (Status s = MakeDirs(dir); !s.ok()) return s;
  for (const CaptureRecord& r : listing->records) {
    const std::string meta_name = CollectedMetaName(r);
    const std::string meta_path = Concat(dir, "/", meta_name);
    struct stat st;
    if (stat(meta_path.c_str(), &st) == 0) {
      ++result.already_present;
      continue;
    }
    const std::string log_name = CollectedLogName(r);
    if (Status s = WriteFileAtomically(dir, log_name, r.log_text); !s.ok()) {
      return s;
    }
    // The .json goes last: its presence is the "collected" mark.
    if (Status s = WriteFileAtomically(dir, meta_name, RecordMetadataJson(r));
        !s.ok()) {
      return s;
    }
    result.written.push_back(
        {r.sequence, Concat(dir, "/", log_name), meta_path});
  }
  if (!result.written.empty()) {
    // Make the renames durable too.
    ScopedFd dfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() < 0 || fsync(dfd.get()) != 0) {
      return DataLossError(Format("collect: fsync of directory '%s' failed: %s",
                                  dir, ErrnoText(errno)));
    }
  }
  return result;
}

std::string FormatRecordForDisplay(const CaptureRecord& r) {
  std::string out;
  AppendFormat(&out, "Record:         #%u (store %s, offset %u)\n", r.sequence,
               FormatUuid(r.store_uuid), r.offset_in_store);
  AppendFormat(&out, "Captured:       %s\n", FormatUtc(r.capture_time_unix));
  AppendFormat(&out, "Kernel release: %s%s\n", PrintableLine(r.kernel_release),
               r.kernel_release_truncated ? " [cut]" : "");
  AppendFormat(&out, "Panic reason:   %s%s\n", PrintableLine(r.panic_reason),
               r.panic_reason_truncated ? " [cut]" : "");
  AppendFormat(
      &out, "Boot ID:        %s\n",
      IsZero(r.boot_id) ? std::string("unknown") : FormatUuid(r.boot_id));
  if (r.log_truncated) {
    AppendFormat(
        &out,
        "Log:            %u bytes (TRUNCATED: the first %u of %u bytes did "
        "not fit the store)\n",
        r.log_text.size(), r.original_log_size - r.log_text.size(),
        r.original_log_size);
  } else {
    AppendFormat(&out, "Log:            %u bytes\n", r.log_text.size());
  }
  out += std::string(64, '-');
  out += '\n';
  out += r.log_text;
  if (!r.log_text.empty() && r.log_text.back() != '\n') out += '\n';
  return out;
}

StatusOr<std::vector<PartitionExtent>> ParsePartitionTable(
    absl::Span<const uint8_t> image) {
  return ParsePartitions(Reader::OfSpan(image, "image"));
}

StatusOr<StoreLocation> FindStoreInImage(const std::string& path) {
  StoreLocation whole_location{path, 0, 0};
  StatusOr<OpenedRegion> region = OpenRegion(whole_location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  const Reader whole = Reader::OfFd(region->fd.get(), 0, region->size,
                                    Format("image '%s'", path));
  const Sha256Engine engine = StoreEngine();
  std::vector<std::string> tried;
  StatusOr<StoreInfo> info = ReadSuperblock(whole, engine);
  if (info.ok()) return whole_location;
  tried.push_back(std::string(info.status().message()));

  StatusOr<std::vector<PartitionExtent>> parts = ParsePartitions(whole);
  if (!parts.ok()) {
    tried.push_back(std::string(parts.status().message()));
  } else if (parts->empty()) {
    tried.push_back("no MBR or GPT partition table");
  } else {
    for (const PartitionExtent& p : *parts) {
      const std::string name = PartitionName(p);
      if (p.offset >= whole.size()) {
        tried.push_back(Format("%s: starts past the end of the image", name));
        continue;
      }
      const Reader slice = whole.Slice(p.offset, p.size, name);
      info = ReadSuperblock(slice, engine);
      if (info.ok()) return StoreLocation{path, p.offset, slice.size()};
      tried.push_back(std::string(info.status().message()));
    }
  }
  return NotFoundError(Format("no Saveoops store found in '%s'; tried: %s",
                              path, Join(tried, "; ")));
}

}  // namespace saveoops
