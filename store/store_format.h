// On-disk format of the Saveoops record store. (The partition tables a
// store may sit in are common/partition_table.h's.)
//
// WHAT THE STORE IS FOR
//   After a panic, the capture program (static /init of the capture
//   initramfs) writes ONE record holding the dead kernel's log into a raw
//   partition (e.g. /dev/vda2) or a plain file. After reboot, `saveoops
//   list | show | collect` read the records back, on the machine or on the
//   host from a QEMU disk image (a byte offset into a file).
//
// LAYOUT (all integers little-endian; "block" = kStoreBlockSize = 4096 bytes;
// offsets are relative to the start of the store region)
//
//   block 0        superblock copy 0 (StoreSuperblock, rest of block zero)
//   block 1        superblock copy 1 (same fields except copy_index)
//   block 2 ...    the ring: [ring_start, ring_end), ring_end = store_size
//                  rounded down to a whole block
//
//   A record starts on a block boundary inside the ring and is one
//   contiguous run of blocks: a RecordHeader, then log_size bytes of log
//   text, then zero padding to the end of its last block. It never wraps
//   around the ring end.
//
// SUPERBLOCKS
//   Written ONLY by FormatStore(), never by an append. Two identical copies
//   so that one damaged block (bad sector, stray write) is survived: readers
//   use copy 0 if it verifies, else copy 1. A superblock verifies if its
//   magic, SHA-256 (over every byte before the digest field), version,
//   geometry and copy_index check. copy_index (the block number the copy
//   belongs in) stops a store that starts at byte 4096 of a disk (a
//   partition at LBA 8) from being taken, through its copy 0, for copy 1 of
//   a store starting at byte 0, whose ring would then be misplaced by a
//   block. The store UUID (16 random bytes chosen at format time)
//   is repeated in every record header: records left over from an earlier
//   format of the same region carry another UUID and are ignored, so
//   formatting need not zero the ring.
//
// RECORDS
//   A record is valid only if its header verifies (magic, version, size,
//   header SHA-256, store UUID, lengths in range, extent inside the ring and
//   no bigger than the per-record limit) AND the SHA-256 of its log text
//   matches log_sha256. Anything else is skipped and counted as damaged,
//   and so is a block whose magic alone is damaged: its version, header
//   size and store UUID fields still say a record of this store began there.
//
//   Appending (ring.h, AppendRecord):
//     1. Scan the ring: every block boundary is examined; a valid record's
//        whole extent is skipped (its log text may contain anything,
//        including bytes that look like a header).
//     2. sequence = 1 + the highest sequence in any header whose own digest
//        verifies (even if its log does not), so a number is never reused,
//        not even one of a record that was later damaged and may already
//        have been collected.
//     3. Place the record right after the NEWEST VALID record (by sequence);
//        if it does not fit before ring_end, at ring_start. With no valid
//        record, at ring_start.
//     4. One pwrite() of header + log + padding, then fdatasync().
//   Records whose blocks the new record overlaps are lost (their header or
//   log no longer verifies): a full ring keeps the newest records, and a
//   record disappears only when a newer record was written over it.
//
//   Per-record limit: a record spans at most floor(ring_blocks / 3) blocks
//   (kRingFractionPerRecord). A longer log is truncated FROM THE FRONT (the
//   panic is at the end) and the record says so (kRecordFlagLogTruncated,
//   original_log_size). Why a third and not the whole ring: so that the
//   newest valid record is NEVER overwritten by the next append. Proof: let
//   the newest record occupy [a, b), the new one need n blocks, M be the
//   limit and R the ring length (in blocks, R >= 3M). If it fits after b
//   there is no overlap. Otherwise it wraps, which means R - b < n <= M, so
//   b > R - M, and a >= b - M > R - 2M >= M >= n: the new record
//   [0, n) ends before a. (The parser rejects records longer than M, so
//   every record it calls valid obeys the bound.)
//
// TORN WRITES
//   A power cut during an append may leave any prefix (or, on real disks,
//   any subset of sectors) of the new record's write on the medium. The
//   superblocks are not touched; the newest valid record is not touched
//   (proof above); older records outside the new record's extent are not
//   touched; a partially written new record fails one of its two digests.
//   So a torn append loses at most the new record, plus records the
//   complete append would have overwritten anyway. The next append goes to
//   the same place again (the newest valid record has not changed).
//   ring_test.cc checks this for every byte prefix of a record write.
//
// COLLECTED MARKS
//   "Has this record been collected?" is not stored in the store at all:
//   rewriting a record (or any shared block) to mark it would reopen the
//   torn-write window for data that is already safe, and would make
//   `collect` need write access to the store. Instead `collect` copies each
//   record to <dir>/records/<UTC time>-<seq>/ (dmesg.txt, record.json;
//   made in a temporary directory and renamed) and then writes
//   <dir>/<store-uuid>.collected, a small KEY=VALUE file replaced atomically,
//   holding the highest sequence collected from that store. One number is
//   enough: sequences only grow (step 2 above: a new record's sequence is
//   above every header that verifies, and records are collected in
//   sequence order), so every record at or below it was collected, or was
//   damaged (skipped, and a damaged record never becomes valid again). The
//   mark outlives the record directories retention removes. The store can
//   therefore be opened read-only by list/show/collect, and an image can be
//   inspected without modifying it. (Collects before records/ wrote
//   <dir>/<store-uuid>-<seq>.json; such a file still counts as a mark.)
//
// Freestanding header: <stddef.h> and <stdint.h> only, plain data.
#ifndef SAVEOOPS_STORE_STORE_FORMAT_H_
#define SAVEOOPS_STORE_STORE_FORMAT_H_

#include <stddef.h>
#include <stdint.h>

namespace saveoops {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the store format is little-endian and is read/written with "
              "memcpy in host byte order");

// --- Store geometry ----------------------------------------------------------

// The unit of placement. 4096 matches the page size and the physical sector
// of modern disks, so a record never shares a sector with another record's
// header (a torn sector write can only damage the record being written).
inline constexpr uint32_t kStoreBlockSize = 4096;

// Superblock copies, one per block at the start of the store.
inline constexpr int kSuperblockCopies = 2;

// The ring starts after the superblock copies.
inline constexpr uint64_t kRingStartOffset = uint64_t{kSuperblockCopies} * kStoreBlockSize;

// A record may use at most ring_blocks / kRingFractionPerRecord blocks; see
// "Per-record limit" above for why 3 keeps the newest record safe.
inline constexpr uint64_t kRingFractionPerRecord = 3;

// Smallest ring that holds one maximal record: kRingFractionPerRecord blocks.
inline constexpr uint64_t kMinRingBlocks = kRingFractionPerRecord;

// Smallest store FormatStore() accepts: superblocks + kMinRingBlocks.
inline constexpr uint64_t kMinStoreSize = kRingStartOffset + kMinRingBlocks * kStoreBlockSize;

// --- Superblock --------------------------------------------------------------

// "SVOOPSST": Saveoops store.
inline constexpr char kSuperblockMagic[8] = {'S', 'V', 'O', 'O', 'P', 'S', 'S', 'T'};
// Bumped on any incompatible change of StoreSuperblock or RecordHeader.
inline constexpr uint32_t kStoreFormatVersion = 1;

// Size of the store UUID and of a boot id (the kernel's
// /proc/sys/kernel/random/boot_id is a 128-bit UUID).
inline constexpr size_t kUuidSize = 16;

// Superblock, at offset 0 of blocks 0 and 1; the rest of each block is zero.
struct __attribute__((packed)) StoreSuperblock {
  char magic[8];            // kSuperblockMagic
  uint32_t format_version;  // kStoreFormatVersion
  uint32_t block_size;      // kStoreBlockSize
  uint64_t store_size;      // bytes of the region at format time
  uint64_t ring_start;      // kRingStartOffset
  uint64_t ring_end;        // store_size rounded down to a block
  uint8_t uuid[kUuidSize];  // random at format time; repeated in records
  uint32_t copy_index;      // 0 or 1: the block this copy belongs in
  uint32_t reserved;        // zero
  uint8_t sha256[32];       // SHA-256 of bytes [0, offsetof(sha256))
};
static_assert(sizeof(StoreSuperblock) == 0x60, "StoreSuperblock layout");
static_assert(offsetof(StoreSuperblock, magic) == 0x00, "magic");
static_assert(offsetof(StoreSuperblock, format_version) == 0x08, "version");
static_assert(offsetof(StoreSuperblock, block_size) == 0x0c, "block_size");
static_assert(offsetof(StoreSuperblock, store_size) == 0x10, "store_size");
static_assert(offsetof(StoreSuperblock, ring_start) == 0x18, "ring_start");
static_assert(offsetof(StoreSuperblock, ring_end) == 0x20, "ring_end");
static_assert(offsetof(StoreSuperblock, uuid) == 0x28, "uuid");
static_assert(offsetof(StoreSuperblock, copy_index) == 0x38, "copy_index");
static_assert(offsetof(StoreSuperblock, reserved) == 0x3c, "reserved");
static_assert(offsetof(StoreSuperblock, sha256) == 0x40, "sha256");

// --- Record header -----------------------------------------------------------

// "SVOOPSRC": Saveoops record.
inline constexpr char kRecordMagic[8] = {'S', 'V', 'O', 'O', 'P', 'S', 'R', 'C'};
inline constexpr uint32_t kRecordHeaderVersion = 1;

// Linux's utsname release field is __NEW_UTS_LEN (64) characters plus NUL
// (include/uapi/linux/utsname.h), so 64 bytes hold any real release.
inline constexpr size_t kKernelReleaseCapacity = 64;
// The panic line ("Kernel panic - not syncing: ..."). panic() formats into a
// 1024-byte buffer (kernel/panic.c), but the useful part is the first line;
// longer reasons are cut and flagged.
inline constexpr size_t kPanicReasonCapacity = 256;

// RecordHeader.flags bits.
// The log was longer than the per-record limit; only its last log_size
// bytes were kept (original_log_size says how long it was).
inline constexpr uint32_t kRecordFlagLogTruncated = 1u << 0;
// kernel_release / panic_reason were longer than their field and were cut.
inline constexpr uint32_t kRecordFlagReleaseTruncated = 1u << 1;
inline constexpr uint32_t kRecordFlagReasonTruncated = 1u << 2;
inline constexpr uint32_t kRecordKnownFlags =
    kRecordFlagLogTruncated | kRecordFlagReleaseTruncated | kRecordFlagReasonTruncated;

// Record header, at the first byte of the record's first block. The log
// text follows immediately (at +sizeof(RecordHeader)).
struct __attribute__((packed)) RecordHeader {
  char magic[8];                                // kRecordMagic
  uint32_t header_version;                      // kRecordHeaderVersion
  uint32_t header_size;                         // sizeof(RecordHeader)
  uint64_t sequence;                            // monotonic per store, starts at 1
  uint8_t store_uuid[kUuidSize];                // == the superblock's uuid
  uint8_t boot_id[kUuidSize];                   // dead kernel's boot id, zero if unknown
  uint64_t capture_time_unix;                   // capture kernel's clock, seconds UTC
  uint32_t flags;                               // kRecordFlag*
  uint32_t kernel_release_len;                  // <= kKernelReleaseCapacity
  uint32_t panic_reason_len;                    // <= kPanicReasonCapacity
  uint32_t reserved;                            // zero
  char kernel_release[kKernelReleaseCapacity];  // not NUL-terminated
  char panic_reason[kPanicReasonCapacity];      // not NUL-terminated
  uint64_t log_size;                            // bytes of log text stored
  uint64_t original_log_size;                   // bytes before truncation (== log_size if not)
  uint8_t log_sha256[32];                       // SHA-256 of the log_size log bytes
  uint8_t header_sha256[32];                    // SHA-256 of bytes [0, offsetof(header_sha256))
};
static_assert(sizeof(RecordHeader) == 0x1e0, "RecordHeader layout");
static_assert(offsetof(RecordHeader, magic) == 0x000, "magic");
static_assert(offsetof(RecordHeader, header_version) == 0x008, "version");
static_assert(offsetof(RecordHeader, header_size) == 0x00c, "header_size");
static_assert(offsetof(RecordHeader, sequence) == 0x010, "sequence");
static_assert(offsetof(RecordHeader, store_uuid) == 0x018, "store_uuid");
static_assert(offsetof(RecordHeader, boot_id) == 0x028, "boot_id");
static_assert(offsetof(RecordHeader, capture_time_unix) == 0x038, "time");
static_assert(offsetof(RecordHeader, flags) == 0x040, "flags");
static_assert(offsetof(RecordHeader, kernel_release_len) == 0x044, "rel_len");
static_assert(offsetof(RecordHeader, panic_reason_len) == 0x048, "rsn_len");
static_assert(offsetof(RecordHeader, reserved) == 0x04c, "reserved");
static_assert(offsetof(RecordHeader, kernel_release) == 0x050, "release");
static_assert(offsetof(RecordHeader, panic_reason) == 0x090, "reason");
static_assert(offsetof(RecordHeader, log_size) == 0x190, "log_size");
static_assert(offsetof(RecordHeader, original_log_size) == 0x198, "orig");
static_assert(offsetof(RecordHeader, log_sha256) == 0x1a0, "log_sha256");
static_assert(offsetof(RecordHeader, header_sha256) == 0x1c0, "header_sha");
static_assert(sizeof(RecordHeader) <= kStoreBlockSize,
              "a header must fit in a record's first block");

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_STORE_FORMAT_H_
