// The Saveoops record store's ring: a small ring of crash records on a raw
// partition, a plain file, or a partition inside a disk image. This is
// what the capture program links (absl-free: common/status.h,
// common/format.h, the freestanding SHA-256): format a store, append a
// record, read the records back. Finding a store inside a disk image is
// store/locate.h; collecting and displaying records is store/collect.h and
// store/display.h (the saveoops CLI).
//
// The on-disk format, the placement rule and why a torn write never loses
// an older record are described in store/store_format.h.
//
// Writer (the capture program, a static binary; needs no BoringSSL):
//   StoreLocation where{"/dev/vda2"};
//   NewRecord r;
//   r.capture_time_unix = time(nullptr);
//   r.kernel_release = "6.1.0-18-amd64";
//   r.panic_reason = "Kernel panic - not syncing: sysrq triggered crash";
//   r.log_text = std::move(log);
//   StatusOr<CaptureRecord> written = AppendRecord(where, r);
//
// Readers (the saveoops CLI, on the machine or on a host): metadata first,
// then each log streamed, so memory never grows with what a header claims:
//   StatusOr<StoreListing> listing = ListRecordMetadata(where);
//   Status s = ReadRecordLog(where, listing->records[0], sink);
//
// Every error names the file or device, the store's byte offset in it, and
// what is wrong, e.g.
//   store 'disk.img' at offset 1048576: no valid superblock (not a Saveoops
//   store, or both copies damaged): copy 0 (store byte 0): SHA-256 mismatch
//   (damaged superblock); copy 1 (store byte 4096): magic is
//   "\x00\x00\x00\x00\x00\x00\x00\x00", expected "SVOOPSST"
#ifndef SAVEOOPS_STORE_RING_H_
#define SAVEOOPS_STORE_RING_H_

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "common/byte_source.h"
#include "common/files.h"
#include "common/status.h"
#include "store/store_format.h"

namespace saveoops {

// A store's bytes: [offset, offset + size) of the file or block device at
// `path`. size 0 means "to the end of the file/device" (BLKGETSIZE64 for a
// block device, st_size for a file).
struct StoreLocation {
  std::string path;
  uint64_t offset = 0;
  uint64_t size = 0;
};

// A store UUID or boot id: 16 raw bytes.
using Uuid = std::array<uint8_t, kUuidSize>;

// Whether `uuid` is all zero (a boot id the capture program did not know).
bool IsZeroUuid(const Uuid& uuid);

// Geometry and identity of a formatted store, from its superblock.
struct StoreInfo {
  Uuid uuid{};
  uint64_t store_size = 0;  // bytes, as formatted
  uint64_t ring_start = 0;  // store-relative byte offset
  uint64_t ring_end = 0;    // store-relative, exclusive
  // Largest record (header + log + padding) an append will write; longer
  // logs are truncated from the front.
  uint64_t max_record_bytes = 0;
  // Which superblock copy was used: 0, or 1 if copy 0 did not verify.
  int superblock_used = 0;
};

// One valid record read back from a store.
struct CaptureRecord {
  uint64_t sequence = 0;
  Uuid store_uuid{};
  Uuid boot_id{};  // all zero if the capture program did not know it
  uint64_t capture_time_unix = 0;
  std::string kernel_release;
  std::string panic_reason;
  // Bytes of log stored (the header's log_size).
  uint64_t log_size = 0;
  // Empty in AppendRecord()'s result only if the log was empty; ListRecords
  // fills it, ListRecordMetadata leaves it empty (read it with
  // ReadRecordLog).
  std::string log_text;
  // The log was cut from the front to fit; original_log_size is its length
  // before the cut (== log_text.size() when not truncated).
  bool log_truncated = false;
  uint64_t original_log_size = 0;
  // kernel_release / panic_reason were cut to fit their header fields.
  bool kernel_release_truncated = false;
  bool panic_reason_truncated = false;
  // SHA-256 of log_text, as stored in the header.
  std::array<uint8_t, 32> log_sha256{};
  // Store-relative byte offset of the record's first block, and the number
  // of bytes (whole blocks) it occupies.
  uint64_t offset_in_store = 0;
  uint64_t record_bytes = 0;
};

// What the capture program hands to AppendRecord().
struct NewRecord {
  Uuid boot_id{};
  uint64_t capture_time_unix = 0;
  std::string kernel_release;  // cut (and flagged) beyond 64 bytes
  std::string panic_reason;    // cut (and flagged) beyond 256 bytes
  std::string log_text;        // cut from the front beyond the record limit
};

// The valid records of a store and what the scan had to skip.
struct StoreListing {
  // Geometry; info.superblock_used says which superblock copy was read.
  StoreInfo info;
  // Sorted by sequence, oldest first.
  std::vector<CaptureRecord> records;
  // Places that carried the record magic (and this store's UUID, or a
  // header that does not verify) but did not hold a valid record: damaged
  // media, torn writes, records partly overwritten by newer ones. A block
  // whose magic is damaged but whose version, size and store UUID fields
  // are this store's record header's counts too.
  int skipped_corrupt = 0;
  // Verified headers of another store UUID (left over from an earlier
  // format of the same region); ignored, not damage.
  int skipped_foreign = 0;
  // One line per skipped place: store byte offset and what failed.
  std::vector<std::string> problems;
  // Highest sequence in any header whose own digest verified (0 if none);
  // the next append uses this + 1.
  uint64_t highest_sequence_seen = 0;
};

// The single write an append performs: `bytes` at store byte
// `offset_in_store` (header, log, zero padding; a whole number of blocks).
struct PlannedRecordWrite {
  uint64_t offset_in_store = 0;
  std::vector<uint8_t> bytes;
  CaptureRecord record;  // what ListRecords() will return once written
};

// --- Writing -----------------------------------------------------------------

// Writes both superblock copies of a new, empty store with the given UUID
// and syncs them. Records left from an earlier format carry another UUID
// and are ignored afterwards (keep the UUID to keep them). Fails if the
// region is smaller than kMinStoreSize.
//
// A format that fails midway (ENOSPC, EFBIG) leaves nothing ListRecords()
// accepts as a new store:
//  - `path` missing and size != 0: the file is built as a common/files.h
//    AtomicFile (0600, sparse, superblocks written, fsync()ed) and renamed
//    into place only when complete; on failure no file is left.
//  - `path` exists (a file, possibly shorter than offset + size and then
//    extended, or a device): both superblock blocks are first overwritten
//    with zeros and synced, which also allocates them, so the superblock
//    write that follows cannot run out of space half way; a failure of the
//    zeroing leaves at worst no valid superblock.
// (An AtomicFile cannot serve an existing image or device: the store is
// one region of it, and the rest must stay as it is.)
Status FormatStore(const StoreLocation& location, const Uuid& uuid);

// As above with a random (RFC 4122 version 4) UUID from getrandom(2).
Status FormatStore(const StoreLocation& location);

// A random (RFC 4122 version 4) store UUID from getrandom(2), for a pack that
// must know the UUID before it formats the store.
StatusOr<Uuid> RandomStoreUuid();

// Zeroes both superblock copies (the first kSuperblockCopies blocks of the
// region, never past its end) and syncs: the region is no longer a store,
// and no capture, armed or not, will write to it. What `saveoops store
// wipe` does before a store partition is reused for something else.
Status WipeStore(const StoreLocation& location);

// Formats an in-memory store image (tests, fuzzing): zeroes `image` and
// writes both superblocks.
Status FormatStoreImage(absl::Span<uint8_t> image, const Uuid& uuid);

// Appends one record (see store_format.h for the placement rule) with a
// single pwrite() followed by fdatasync(); never writes the superblocks.
// Returns the record as it was written (log possibly truncated).
StatusOr<CaptureRecord> AppendRecord(const StoreLocation& location, const NewRecord& record);

// A store's bytes reached through another I/O layer than one contiguous
// region of a file or device: a file store's extents on its disk
// (store/extent_store.h). The ring reads the store through bytes() and
// writes with Write() and Sync(); the layer decides where the bytes land
// and refuses any access outside the store. The ring knows nothing of
// files, extents or disks.
class StoreIo {
 public:
  virtual ~StoreIo() = default;
  // The store's bytes, store-relative: byte 0 is the first superblock.
  virtual const ByteSource& bytes() const = 0;
  // Writes `data` at store byte `offset_in_store`, all or nothing checked
  // before the first byte is written.
  virtual Status Write(uint64_t offset_in_store, absl::Span<const uint8_t> data) = 0;
  // Makes the writes durable (fdatasync, which also flushes the disk's
  // volatile cache).
  virtual Status Sync() = 0;
  // How errors name the store ("store '/dev/sda' at offset 1048576").
  virtual const std::string& name() const = 0;
};

// AppendRecord() through `io`: one Write() of the record's blocks, then
// Sync(); never writes the superblocks. What AppendRecord(location) does
// on a region.
StatusOr<CaptureRecord> AppendRecord(StoreIo& io, const NewRecord& record);

// Computes AppendRecord()'s write without performing it.
StatusOr<PlannedRecordWrite> PlanAppend(const StoreLocation& location, const NewRecord& record);

// PlanAppend() on an in-memory store image.
StatusOr<PlannedRecordWrite> PlanAppendToImage(absl::Span<const uint8_t> image,
                                               const NewRecord& record);

// --- Reading -----------------------------------------------------------------

// Reads the superblock (copy 0, else copy 1) and returns the geometry.
// Copy 1 is not taken when copy 0 fails and block 0 holds another tool's
// signature (swap, ext2/3/4, XFS, LUKS, LVM): the region was reformatted
// and is somebody else's now; the error then contains
// kReformattedByAnotherTool, which the capture program reports.
StatusOr<StoreInfo> ReadStoreInfo(const StoreLocation& location);
inline constexpr char kReformattedByAnotherTool[] = "reformatted by another tool";

// Scans the store (read-only) and returns every valid record, by sequence.
// Fails only if neither superblock copy verifies or the device cannot be
// read; damaged records are skipped and counted.
StatusOr<StoreListing> ListRecords(const StoreLocation& location);

// ListRecords() without the log texts: every record is verified (its log
// is hashed in bounded chunks) but log_text stays empty, so memory does not
// grow with what headers claim. What `saveoops list|show|collect` use.
StatusOr<StoreListing> ListRecordMetadata(const StoreLocation& location);

// Streams the log of `record` (from ListRecordMetadata() on `location`) to
// `sink` in chunks of at most kRecordLogChunk bytes, hashing as it goes.
// Fails with DataLoss if the log no longer matches its digest (the store
// changed since the listing); the sink may have seen part of it by then.
// A sink error stops the stream and is returned.
inline constexpr uint64_t kRecordLogChunk = uint64_t{1} << 20;
using LogSink = std::function<Status(const uint8_t* data, size_t size)>;
Status ReadRecordLog(const StoreLocation& location, const CaptureRecord& record,
                     const LogSink& sink);

// ListRecords() on an in-memory store image (the bytes of the store region).
// Never reads outside `image`, whatever it holds; allocates at most about
// twice image.size() (the log texts are inside the image).
StatusOr<StoreListing> ParseStoreImage(absl::Span<const uint8_t> image);

// ListRecordMetadata() on a store region given as bytes; errors start with
// `name`. Allocates at most min(region size, kRecordLogChunk) for reading
// plus the listing itself, whatever the headers claim.
StatusOr<StoreListing> ParseStoreMetadata(const ByteSource& bytes, const std::string& name);

// ReadStoreInfo() on a store region given as bytes (a partition of a disk
// image: a ByteSourceSlice); errors start with `name`.
StatusOr<StoreInfo> ReadStoreInfo(const ByteSource& bytes, const std::string& name);

// A store region opened read-only: location.path resolved to the byte range
// [offset, offset + size) of a regular file or block device (size 0 in the
// location: to its end). The error names the location as every store error
// does ("store 'disk.img' at offset 1048576: ...").
struct OpenedStoreRegion {
  UniqueFd fd;
  uint64_t offset = 0;  // of the region in the file
  uint64_t size = 0;    // bytes of the region
  std::string name;     // how errors name it
};
StatusOr<OpenedStoreRegion> OpenStoreRegionForReading(const StoreLocation& location);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_RING_H_
