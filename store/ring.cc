// The Saveoops record store's ring. Format and rules: store/store_format.h.
#include "store/ring.h"

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
#include "common/byte_source.h"
#include "common/files.h"
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
constexpr uint64_t kReadChunk = kRecordLogChunk;

std::string ErrnoText(int err) { return strerror(err); }

uint64_t RoundUpToBlock(uint64_t n) { return (n + kBlock - 1) / kBlock * kBlock; }

// The magic bytes as C-escaped text, for error messages.
std::string QuoteBytes(const void* data, size_t len) {
  return Concat("\"", HexEscape(absl::string_view(static_cast<const char*>(data), len)), "\"");
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

// --- Opening, writing and syncing ------------------------------------------

// Reads of an opened region: [offset, offset + size) of its file, as
// region-relative bytes.
class RegionBytes {
 public:
  explicit RegionBytes(const OpenedStoreRegion& region)
      : file_(region.fd.get(), region.offset + region.size),
        bytes_(file_, region.offset, region.size) {}
  const ByteSource& bytes() const { return bytes_; }

 private:
  FileByteSource file_;
  ByteSourceSlice bytes_;
};

enum class OpenMode { kRead, kWrite, kFormat };

// Opens location.path and resolves the region. kFormat may extend a
// regular file to offset + size (size != 0).
StatusOr<OpenedStoreRegion> OpenRegion(const StoreLocation& location, OpenMode mode) {
  OpenedStoreRegion region;
  region.name = StoreName(location);
  // Never O_CREAT: a new file store is FormatNewFile()'s (an AtomicFile).
  const int flags = O_CLOEXEC | (mode == OpenMode::kRead ? O_RDONLY : O_RDWR);
  region.fd.reset(open(location.path.c_str(), flags));
  if (region.fd.get() < 0) {
    return NotFoundError(Format("%s: cannot open for %s: %s", region.name,
                                mode == OpenMode::kRead ? "reading" : "writing", ErrnoText(errno)));
  }
  struct stat st;
  if (fstat(region.fd.get(), &st) != 0) {
    return InternalError(Format("%s: fstat failed: %s", region.name, ErrnoText(errno)));
  }
  uint64_t total = 0;
  if (S_ISBLK(st.st_mode)) {
    if (ioctl(region.fd.get(), BLKGETSIZE64, &total) != 0) {
      return InternalError(
          Format("%s: ioctl(BLKGETSIZE64) failed: %s", region.name, ErrnoText(errno)));
    }
  } else if (S_ISREG(st.st_mode)) {
    total = static_cast<uint64_t>(st.st_size);
    uint64_t want = 0;
    if (mode == OpenMode::kFormat && location.size != 0 &&
        !__builtin_add_overflow(location.offset, location.size, &want) && want > total) {
      if (ftruncate(region.fd.get(), static_cast<off_t>(want)) != 0) {
        return InternalError(Format("%s: cannot extend the file to %u bytes: %s", region.name, want,
                                    ErrnoText(errno)));
      }
      total = want;
    }
  } else {
    return InvalidArgumentError(
        Format("%s: is neither a regular file nor a block device", region.name));
  }
  if (location.offset > total) {
    return OutOfRangeError(Format("%s: offset %u is past the end of the %u-byte %s", region.name,
                                  location.offset, total, S_ISBLK(st.st_mode) ? "device" : "file"));
  }
  region.offset = location.offset;
  region.size = total - location.offset;
  if (location.size != 0) {
    if (location.size > region.size) {
      return OutOfRangeError(
          Format("%s: size %u runs past the end: only %u bytes from offset %u to "
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
    ssize_t n =
        pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(file_offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return DataLossError(Format(
          "%s: write of %u bytes at store byte %u failed after %u bytes: %s", name, data.size(),
          store_offset, done, n < 0 ? ErrnoText(errno) : std::string("no progress")));
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status SyncData(int fd, const std::string& name) {
  // fdatasync() on a block device also flushes the device's volatile write
  // cache (blkdev_fsync -> blkdev_issue_flush, block/fops.c).
  if (fdatasync(fd) != 0) {
    return DataLossError(Format("%s: fdatasync failed: %s", name, ErrnoText(errno)));
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
Status CheckSuperblock(const StoreSuperblock& sb, int copy, uint64_t region_size,
                       Sha256Engine engine) {
  if (memcmp(sb.magic, kSuperblockMagic, sizeof(sb.magic)) != 0) {
    return FailedPreconditionError(Format("magic is %s, expected %s", QuoteBytes(sb.magic, 8),
                                          QuoteBytes(kSuperblockMagic, 8)));
  }
  Sha256Digest d = Sha256Hash(&sb, offsetof(StoreSuperblock, sha256), engine);
  if (memcmp(d.bytes, sb.sha256, sizeof(sb.sha256)) != 0) {
    return FailedPreconditionError("SHA-256 mismatch (damaged superblock)");
  }
  if (sb.format_version != kStoreFormatVersion) {
    return FailedPreconditionError(Format("format_version is %u, this program reads %u",
                                          sb.format_version, kStoreFormatVersion));
  }
  if (sb.copy_index != static_cast<uint32_t>(copy)) {
    return FailedPreconditionError(Format(
        "copy_index is %u but this is block %d: the store starts %d bytes "
        "from here, not at the given offset",
        sb.copy_index, copy, (copy - static_cast<int64_t>(sb.copy_index)) * int64_t{kBlock}));
  }
  if (sb.block_size != kStoreBlockSize) {
    return FailedPreconditionError(
        Format("block_size is %u, expected %u", sb.block_size, kStoreBlockSize));
  }
  if (sb.ring_start != kRingStartOffset) {
    return FailedPreconditionError(
        Format("ring_start is %u, expected %u", sb.ring_start, kRingStartOffset));
  }
  if (sb.ring_end % kBlock != 0) {
    return FailedPreconditionError(
        Format("ring_end %u is not a multiple of the %u-byte block", sb.ring_end, kBlock));
  }
  if (sb.ring_end > sb.store_size) {
    return FailedPreconditionError(
        Format("ring_end %u exceeds store_size %u", sb.ring_end, sb.store_size));
  }
  if (sb.ring_end < sb.ring_start + kMinRingBlocks * kBlock) {
    return FailedPreconditionError(Format("ring [%u, %u) is smaller than the minimum of %u blocks",
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
  info.max_record_bytes = (sb.ring_end - sb.ring_start) / kBlock / kRingFractionPerRecord * kBlock;
  info.superblock_used = copy;
  return info;
}

// The signature another tool wrote into block 0 (which in a store holds
// copy 0 and zeroes only), or "". mkswap, mkfs and cryptsetup leave block 1,
// our copy 1, alone: without this look a reformatted region would still be
// taken for the store it was, and receive records (util-linux's libblkid
// probes document these offsets).
std::string ForeignSignatureInBlockZero(const ByteSource& r) {
  uint8_t b[kStoreBlockSize] = {};
  StatusOr<size_t> n = r.ReadAt(0, absl::MakeSpan(b, sizeof(b)));
  if (!n.ok() || *n != sizeof(b)) return "";
  if (memcmp(b + 4086, "SWAPSPACE2", 10) == 0 || memcmp(b + 4086, "SWAP-SPACE", 10) == 0) {
    return "a swap signature (mkswap)";
  }
  if (b[1080] == 0x53 && b[1081] == 0xef) return "an ext2/3/4 superblock";
  if (memcmp(b, "XFSB", 4) == 0) return "an XFS superblock";
  if (memcmp(b, "LUKS\xba\xbe", 6) == 0) return "a LUKS header";
  if (memcmp(b + 512, "LABELONE", 8) == 0) return "an LVM physical volume label";
  return "";
}

// Copy 0 if it verifies, else copy 1 (unless another tool has claimed
// block 0 since), else an error giving both reasons.
StatusOr<StoreInfo> ReadSuperblock(const ByteSource& r, const std::string& name,
                                   Sha256Engine engine) {
  std::vector<std::string> reasons;
  for (int copy = 0; copy < kSuperblockCopies; ++copy) {
    const uint64_t at = static_cast<uint64_t>(copy) * kBlock;
    if (copy == 1) {
      if (const std::string other = ForeignSignatureInBlockZero(r); !other.empty()) {
        return FailedPreconditionError(
            Format("%s: %s: block 0 holds %s where superblock copy 0 was (%s); copy 1 is not "
                   "taken",
                   name, kReformattedByAnotherTool, other, Join(reasons, "; ")));
      }
    }
    std::string why;
    StoreSuperblock sb;
    if (r.size() < at + sizeof(sb)) {
      why = Format("the region is only %u bytes", r.size());
    } else if (Status s = ReadStructAt(r, at, &sb, name); !s.ok()) {
      why = std::string(s.message());
    } else if (Status c = CheckSuperblock(sb, copy, r.size(), engine); !c.ok()) {
      why = std::string(c.message());
    } else {
      return InfoFromSuperblock(sb, copy);
    }
    reasons.push_back(Format("copy %d (store byte %u): %s", copy, at, why));
  }
  return FailedPreconditionError(
      Format("%s: no valid superblock (not a Saveoops store, or "
             "both copies damaged): %s",
             name, Join(reasons, "; ")));
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
  r.log_size = h.log_size;
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

HeaderCheck CheckHeader(const RecordHeader& h, const StoreInfo& info, uint64_t pos,
                        Sha256Engine engine) {
  HeaderCheck c;
  if (memcmp(h.magic, kRecordMagic, sizeof(h.magic)) != 0) {
    // A header whose magic alone was hit (a bad sector, a stray write) is
    // still recognisable by the fields after it: this store's 16 random
    // UUID bytes at their place do not occur by chance. Count it as damage
    // rather than pass over it in silence.
    if (h.header_version == kRecordHeaderVersion && h.header_size == kHeaderSize &&
        memcmp(h.store_uuid, info.uuid.data(), kUuidSize) == 0) {
      c.verdict = HeaderVerdict::kCorrupt;
      c.why = Format("record magic damaged (%s)", QuoteBytes(h.magic, sizeof(h.magic)));
    }
    return c;
  }
  c.verdict = HeaderVerdict::kCorrupt;
  if (h.header_version != kRecordHeaderVersion) {
    c.why = Format("header_version is %u, expected %u", h.header_version, kRecordHeaderVersion);
    return c;
  }
  if (h.header_size != kHeaderSize) {
    c.why = Format("header_size is %u, expected %u", h.header_size, kHeaderSize);
    return c;
  }
  Sha256Digest d = Sha256Hash(&h, offsetof(RecordHeader, header_sha256), engine);
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
    c.why = Format("panic_reason_len is %u, maximum %u", h.panic_reason_len, kPanicReasonCapacity);
    return c;
  }
  if (h.original_log_size < h.log_size ||
      ((h.flags & kRecordFlagLogTruncated) == 0 && h.original_log_size != h.log_size)) {
    c.why = Format("original_log_size %u is inconsistent with log_size %u (flags 0x%x)",
                   h.original_log_size, h.log_size, h.flags);
    return c;
  }
  // pos + kHeaderSize <= ring_end holds: pos is a block start in the ring.
  if (h.log_size > info.ring_end - pos - kHeaderSize) {
    c.why = Format("log_size %u runs past ring_end %u", h.log_size, info.ring_end);
    return c;
  }
  const uint64_t record_bytes = RoundUpToBlock(kHeaderSize + h.log_size);
  if (record_bytes > info.max_record_bytes) {
    c.why = Format("record of %u bytes exceeds the per-record limit of %u bytes", record_bytes,
                   info.max_record_bytes);
    return c;
  }
  c.verdict = HeaderVerdict::kOk;
  return c;
}

// Reads and hashes the log of a header-verified record; fills `text` if
// non-null. Returns false (with `why`) if the digest does not match or the
// read fails.
bool VerifyLog(const ByteSource& r, const std::string& name, const RecordHeader& h, uint64_t pos,
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
    uint8_t* dst = text != nullptr ? reinterpret_cast<uint8_t*>(&(*text)[0]) + done : chunk.data();
    if (Status s = ReadExactlyAt(r, start + done, absl::Span<uint8_t>(dst, n), name); !s.ok()) {
      *why = std::string(s.message());
      return false;
    }
    hash.Update(dst, n);
    done += n;
  }
  Sha256Digest d = hash.Finish();
  if (memcmp(d.bytes, h.log_sha256, sizeof(h.log_sha256)) != 0) {
    *why = Format("log SHA-256 mismatch (sequence %u, %u log bytes)", h.sequence, h.log_size);
    return false;
  }
  return true;
}

// Reads the superblock and scans the whole ring (store_format.h, "Appending"
// step 1). Log texts are kept only if keep_logs.
StatusOr<StoreListing> ScanStore(const ByteSource& r, const std::string& name, bool keep_logs,
                                 Sha256Engine engine) {
  StoreListing listing;
  StatusOr<StoreInfo> info = ReadSuperblock(r, name, engine);
  if (!info.ok()) return info.status();
  listing.info = *info;
  const StoreInfo& si = listing.info;

  auto skip = [&](uint64_t pos, const std::string& why, bool corrupt) {
    if (corrupt) {
      ++listing.skipped_corrupt;
    } else {
      ++listing.skipped_foreign;
    }
    listing.problems.push_back(Format("record at store byte %u skipped: %s", pos, why));
  };

  uint64_t pos = si.ring_start;
  while (pos < si.ring_end) {
    RecordHeader h;
    if (Status s = ReadStructAt(r, pos, &h, name); !s.ok()) {
      skip(pos, std::string(s.message()), /*corrupt=*/true);
      pos += kBlock;
      continue;
    }
    HeaderCheck check = CheckHeader(h, si, pos, engine);
    if (check.sequence_trusted) {
      listing.highest_sequence_seen = std::max(listing.highest_sequence_seen, h.sequence);
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
    if (!VerifyLog(r, name, h, pos, engine, keep_logs ? &record.log_text : nullptr, &why)) {
      // Step one block only: a torn write may have left older records
      // intact inside the extent this header claims.
      skip(pos, why, /*corrupt=*/true);
      pos += kBlock;
      continue;
    }
    pos += record.record_bytes;
    listing.records.push_back(std::move(record));
  }
  std::stable_sort(
      listing.records.begin(), listing.records.end(),
      [](const CaptureRecord& a, const CaptureRecord& b) { return a.sequence < b.sequence; });
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
StatusOr<PlannedRecordWrite> PlanFromListing(const StoreListing& listing, const NewRecord& record,
                                             const std::string& name, Sha256Engine engine) {
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
  h.kernel_release_len =
      CopyCapped(record.kernel_release, h.kernel_release, kKernelReleaseCapacity);
  if (h.kernel_release_len < record.kernel_release.size()) {
    h.flags |= kRecordFlagReleaseTruncated;
  }
  h.panic_reason_len = CopyCapped(record.panic_reason, h.panic_reason, kPanicReasonCapacity);
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
  Sha256Digest header_digest = Sha256Hash(&h, offsetof(RecordHeader, header_sha256), engine);
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

}  // namespace

// --- Public API --------------------------------------------------------------

bool IsZeroUuid(const Uuid& u) {
  return std::all_of(u.begin(), u.end(), [](uint8_t b) { return b == 0; });
}

Status FormatStoreImage(absl::Span<uint8_t> image, const Uuid& uuid) {
  if (image.size() < kMinStoreSize) {
    return InvalidArgumentError(
        Format("store image: %u bytes is too small; need at least %u (2 superblocks "
               "+ %u ring blocks of %u bytes)",
               image.size(), kMinStoreSize, kMinRingBlocks, kBlock));
  }
  std::fill(image.begin(), image.end(), 0);
  for (int copy = 0; copy < kSuperblockCopies; ++copy) {
    const StoreSuperblock sb = BuildSuperblock(image.size(), uuid, copy, StoreEngine());
    memcpy(image.data() + static_cast<uint64_t>(copy) * kBlock, &sb, sizeof(sb));
  }
  return OkStatus();
}

namespace {

// Both superblock copies of a store of `region_size` bytes, as one write.
std::vector<uint8_t> SuperblockBlocks(uint64_t region_size, const Uuid& uuid) {
  std::vector<uint8_t> blocks(kSuperblockCopies * kBlock, 0);
  for (int copy = 0; copy < kSuperblockCopies; ++copy) {
    const StoreSuperblock sb = BuildSuperblock(region_size, uuid, copy, StoreEngine());
    memcpy(blocks.data() + static_cast<uint64_t>(copy) * kBlock, &sb, sizeof(sb));
  }
  return blocks;
}

Status TooSmallForStore(const std::string& name, uint64_t size) {
  return InvalidArgumentError(
      Format("%s: %u bytes is too small for a store; need at least %u (2 "
             "superblocks + %u ring blocks of %u bytes)",
             name, size, kMinStoreSize, kMinRingBlocks, kBlock));
}

// A new file store: built beside `location.path` and renamed into place
// complete, so a failure (ENOSPC, EFBIG) leaves no file at all.
Status FormatNewFile(const StoreLocation& location, const Uuid& uuid) {
  const std::string name = StoreName(location);
  if (location.size < kMinStoreSize) return TooSmallForStore(name, location.size);
  uint64_t total = 0;
  if (__builtin_add_overflow(location.offset, location.size, &total) ||
      total > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
    return OutOfRangeError(Format("%s: offset %u + size %u is too large for a file", name,
                                  location.offset, location.size));
  }
  StatusOr<AtomicFile> file = AtomicFile::Create(location.path, 0600);
  if (!file.ok()) return Status(file.status().code(), Concat(name, ": ", file.status().message()));
  if (ftruncate(file->fd(), static_cast<off_t>(total)) != 0) {
    return DataLossError(
        Format("%s: cannot size the new file to %u bytes: %s", name, total, ErrnoText(errno)));
  }
  const std::vector<uint8_t> blocks = SuperblockBlocks(location.size, uuid);
  if (Status s = WriteAll(file->fd(), location.offset, absl::MakeConstSpan(blocks), name, 0);
      !s.ok()) {
    return s;  // ~AtomicFile removes the temporary file
  }
  Status committed = file->Commit();
  if (!committed.ok()) return Status(committed.code(), Concat(name, ": ", committed.message()));
  return OkStatus();
}

}  // namespace

Status FormatStore(const StoreLocation& location, const Uuid& uuid) {
  struct stat st;
  if (location.size != 0 && lstat(location.path.c_str(), &st) != 0 && errno == ENOENT) {
    return FormatNewFile(location, uuid);
  }
  StatusOr<OpenedStoreRegion> region = OpenRegion(location, OpenMode::kFormat);
  if (!region.ok()) return region.status();
  if (region->size < kMinStoreSize) return TooSmallForStore(region->name, region->size);
  // Zeros first, synced: the old superblocks are gone (a half-finished
  // format is never taken for the old store) and both blocks are allocated,
  // so the second write does not meet ENOSPC half way and leave copy 0 of
  // a new store without its copy 1. Both copies in one write: a torn
  // format leaves at worst one good copy of the new superblock, and
  // formatting is an interactive step that can simply be repeated.
  const std::vector<uint8_t> zeros(kSuperblockCopies * kBlock, 0);
  Status s =
      WriteAll(region->fd.get(), region->offset, absl::MakeConstSpan(zeros), region->name, 0);
  if (s.ok()) s = SyncData(region->fd.get(), region->name);
  if (!s.ok()) return s;
  const std::vector<uint8_t> blocks = SuperblockBlocks(region->size, uuid);
  s = WriteAll(region->fd.get(), region->offset, absl::MakeConstSpan(blocks), region->name, 0);
  if (!s.ok()) return s;
  return SyncData(region->fd.get(), region->name);
}

Status WipeStore(const StoreLocation& location) {
  StatusOr<OpenedStoreRegion> region = OpenRegion(location, OpenMode::kWrite);
  if (!region.ok()) return region.status();
  const uint64_t length = std::min<uint64_t>(region->size, kSuperblockCopies * kBlock);
  const std::vector<uint8_t> zeros(length, 0);
  Status s =
      WriteAll(region->fd.get(), region->offset, absl::MakeConstSpan(zeros), region->name, 0);
  if (!s.ok()) return s;
  return SyncData(region->fd.get(), region->name);
}

StatusOr<Uuid> RandomStoreUuid() {
  Uuid uuid;
  size_t got = 0;
  while (got < uuid.size()) {
    ssize_t n = getrandom(uuid.data() + got, uuid.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return InternalError(Format("getrandom() for the store UUID failed: %s", ErrnoText(errno)));
    }
    got += static_cast<size_t>(n);
  }
  // RFC 4122, section 4.4: version 4 (random), variant 10.
  uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0f) | 0x40);
  uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3f) | 0x80);
  return uuid;
}

Status FormatStore(const StoreLocation& location) {
  StatusOr<Uuid> uuid = RandomStoreUuid();
  if (!uuid.ok()) {
    return InternalError(Format("%s: %s", StoreName(location), uuid.status().message()));
  }
  return FormatStore(location, *uuid);
}

StatusOr<PlannedRecordWrite> PlanAppendToImage(absl::Span<const uint8_t> image,
                                               const NewRecord& record) {
  const std::string name = "store image";
  const Sha256Engine engine = StoreEngine();
  StatusOr<StoreListing> listing =
      ScanStore(MemoryByteSource(image), name, /*keep_logs=*/false, engine);
  if (!listing.ok()) return listing.status();
  return PlanFromListing(*listing, record, name, engine);
}

StatusOr<PlannedRecordWrite> PlanAppend(const StoreLocation& location, const NewRecord& record) {
  StatusOr<OpenedStoreRegion> region = OpenRegion(location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  const Sha256Engine engine = StoreEngine();
  StatusOr<StoreListing> listing =
      ScanStore(RegionBytes(*region).bytes(), region->name, /*keep_logs=*/false, engine);
  if (!listing.ok()) return listing.status();
  return PlanFromListing(*listing, record, region->name, engine);
}

namespace {

// A region of a file or device as a StoreIo.
class RegionIo : public StoreIo {
 public:
  explicit RegionIo(OpenedStoreRegion region) : region_(std::move(region)), bytes_(region_) {}
  const ByteSource& bytes() const override { return bytes_.bytes(); }
  Status Write(uint64_t offset_in_store, absl::Span<const uint8_t> data) override {
    if (offset_in_store > region_.size || data.size() > region_.size - offset_in_store) {
      return OutOfRangeError(
          Format("%s: write of %u bytes at store byte %u leaves the %u-byte "
                 "region",
                 region_.name, data.size(), offset_in_store, region_.size));
    }
    return WriteAll(region_.fd.get(), region_.offset + offset_in_store, data, region_.name,
                    offset_in_store);
  }
  Status Sync() override { return SyncData(region_.fd.get(), region_.name); }
  const std::string& name() const override { return region_.name; }

 private:
  OpenedStoreRegion region_;
  RegionBytes bytes_;
};

}  // namespace

StatusOr<CaptureRecord> AppendRecord(StoreIo& io, const NewRecord& record) {
  const Sha256Engine engine = StoreEngine();
  StatusOr<StoreListing> listing = ScanStore(io.bytes(), io.name(), /*keep_logs=*/false, engine);
  if (!listing.ok()) return listing.status();
  StatusOr<PlannedRecordWrite> plan = PlanFromListing(*listing, record, io.name(), engine);
  if (!plan.ok()) return plan.status();
  // PlanFromListing keeps the record inside [ring_start, ring_end), which
  // CheckSuperblock bounded by the store's size; the layer checks again.
  Status s = io.Write(plan->offset_in_store, absl::MakeConstSpan(plan->bytes));
  if (!s.ok()) return s;
  s = io.Sync();
  if (!s.ok()) return s;
  return std::move(plan->record);
}

StatusOr<CaptureRecord> AppendRecord(const StoreLocation& location, const NewRecord& record) {
  StatusOr<OpenedStoreRegion> region = OpenRegion(location, OpenMode::kWrite);
  if (!region.ok()) return region.status();
  RegionIo io(std::move(*region));
  return AppendRecord(io, record);
}

StatusOr<StoreInfo> ReadStoreInfo(const StoreLocation& location) {
  StatusOr<OpenedStoreRegion> region = OpenRegion(location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  return ReadSuperblock(RegionBytes(*region).bytes(), region->name, StoreEngine());
}

StatusOr<StoreListing> ListRecords(const StoreLocation& location) {
  StatusOr<OpenedStoreRegion> region = OpenRegion(location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  return ScanStore(RegionBytes(*region).bytes(), region->name, /*keep_logs=*/true, StoreEngine());
}

StatusOr<StoreListing> ListRecordMetadata(const StoreLocation& location) {
  StatusOr<OpenedStoreRegion> region = OpenRegion(location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  return ScanStore(RegionBytes(*region).bytes(), region->name, /*keep_logs=*/false, StoreEngine());
}

StatusOr<StoreListing> ParseStoreMetadata(const ByteSource& bytes, const std::string& name) {
  return ScanStore(bytes, name, /*keep_logs=*/false, StoreEngine());
}

Status ReadRecordLog(const StoreLocation& location, const CaptureRecord& record,
                     const LogSink& sink) {
  StatusOr<OpenedStoreRegion> region = OpenRegion(location, OpenMode::kRead);
  if (!region.ok()) return region.status();
  const RegionBytes bytes(*region);
  const ByteSource& r = bytes.bytes();
  // The record came from a listing of this region, but the region may have
  // changed or be another one: bound the log by the region before reading.
  const uint64_t start = record.offset_in_store + kHeaderSize;
  if (start < record.offset_in_store || start > r.size() || record.log_size > r.size() - start) {
    return OutOfRangeError(
        Format("%s: record %u claims %u log bytes at store byte %u, outside the %u-byte region",
               region->name, record.sequence, record.log_size, start, r.size()));
  }
  Sha256 hash(StoreEngine());
  std::vector<uint8_t> chunk(std::min<uint64_t>(record.log_size, kReadChunk));
  for (uint64_t done = 0; done < record.log_size;) {
    const uint64_t n = std::min(record.log_size - done, kReadChunk);
    if (Status s =
            ReadExactlyAt(r, start + done, absl::Span<uint8_t>(chunk.data(), n), region->name);
        !s.ok()) {
      return s;
    }
    hash.Update(chunk.data(), n);
    if (Status s = sink(chunk.data(), n); !s.ok()) return s;
    done += n;
  }
  const Sha256Digest d = hash.Finish();
  if (memcmp(d.bytes, record.log_sha256.data(), sizeof(d.bytes)) != 0) {
    return DataLossError(
        Format("%s: the log of record %u no longer matches its SHA-256 (the store changed while "
               "it was read)",
               region->name, record.sequence));
  }
  return OkStatus();
}

StatusOr<StoreListing> ParseStoreImage(absl::Span<const uint8_t> image) {
  return ScanStore(MemoryByteSource(image), "store image", /*keep_logs=*/true, StoreEngine());
}

StatusOr<StoreInfo> ReadStoreInfo(const ByteSource& bytes, const std::string& name) {
  return ReadSuperblock(bytes, name, StoreEngine());
}

StatusOr<OpenedStoreRegion> OpenStoreRegionForReading(const StoreLocation& location) {
  return OpenRegion(location, OpenMode::kRead);
}

}  // namespace saveoops
