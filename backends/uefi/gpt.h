// GUID Partition Tables for the UEFI backend's disk image: a writer (the
// protective MBR, primary header and entry array at the front, backup entry
// array and header at the end, every CRC32 filled in) and a strict reader
// that checks everything the writer promises, used by pack to re-check its
// own output and by the tests and the fuzzer.
//
// Source: UEFI Specification 2.10, section 5.2.3 (protective MBR) and 5.3
// (GPT header, Table 5-5; partition entry, Table 5-6). The on-disk structs,
// the entry decoding and the bounded read of the entry array are
// common/partition_table.h's, whose lenient walker (what FindStoreInImage()
// uses) reads the same tables; this reader adds what the UEFI backend
// promises on top: CRC32s, the backup header, the usable range, overlaps.
//
// Layout written, for a disk of N 512-byte sectors:
//   LBA 0            protective MBR (one 0xEE record: LBA 1 .. N-1)
//   LBA 1            primary header
//   LBA 2 .. 33      128 entries x 128 bytes
//   LBA 34 .. N-34   usable (partitions)
//   LBA N-33 .. N-2  backup entries
//   LBA N-1          backup header
#ifndef SAVEOOPS_BACKENDS_UEFI_GPT_H_
#define SAVEOOPS_BACKENDS_UEFI_GPT_H_

#include <stdint.h>

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/byte_source.h"
#include "common/partition_table.h"

namespace saveoops {

inline constexpr uint64_t kGptSectorSize = 512;
inline constexpr uint32_t kGptEntryCount = 128;
inline constexpr uint32_t kGptEntrySize = 128;
// 128 entries x 128 bytes = 32 sectors, the minimum the spec reserves
// (16 KiB, section 5.3.2).
inline constexpr uint64_t kGptEntrySectors = kGptEntryCount * kGptEntrySize / kGptSectorSize;
// LBA 0 (MBR) + LBA 1 (header) + the entry array.
inline constexpr uint64_t kGptHeadSectors = 2 + kGptEntrySectors;
// The backup entry array + backup header.
inline constexpr uint64_t kGptTailSectors = kGptEntrySectors + 1;

// "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" (case-insensitive) -> GptGuid.
absl::StatusOr<GptGuid> ParseGuidText(const std::string& text);
// GptGuid -> "c12a7328-f81f-11d2-ba4b-00a0c93ec93b".
std::string FormatGuid(const GptGuid& guid);

// EFI System Partition (UEFI 2.10 Table 5-7).
inline constexpr char kEspTypeGuid[] = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
// Saveoops record store: a type of its own, so no OS mounts or probes it
// as a file system; the capture program finds it by its superblock.
inline constexpr char kSaveoopsStoreTypeGuid[] = "EC408109-BBA5-4F7A-9715-F1F53A6A8078";

struct GptPartition {
  GptGuid type_guid{};
  GptGuid unique_guid{};
  uint64_t first_lba = 0;
  uint64_t last_lba = 0;  // inclusive
  uint64_t attributes = 0;
  std::string name;  // ASCII, at most 36 characters (stored UTF-16LE)
};

struct GptDisk {
  uint64_t sector_count = 0;  // 512-byte sectors
  GptGuid disk_guid{};
  std::vector<GptPartition> partitions;  // table order; at most 128
};

// The first usable and last usable LBA of a disk of `sector_count` sectors
// as this writer lays it out.
uint64_t GptFirstUsableLba();
uint64_t GptLastUsableLba(uint64_t sector_count);

// The bytes to write: `head` at offset 0 (kGptHeadSectors sectors) and
// `tail` at `tail_offset` (kGptTailSectors sectors).
struct GptTables {
  std::vector<uint8_t> head;
  std::vector<uint8_t> tail;
  uint64_t tail_offset = 0;
};

// Builds the tables. Errors name the partition and the rule it breaks: a
// range outside the usable LBAs, first > last, an overlap, a name longer
// than 36 characters or not ASCII, an all-zero type GUID, a disk too small
// for the tables.
absl::StatusOr<GptTables> BuildGpt(const GptDisk& disk);

// Strictly reads a GPT from `disk`, whose size must be known: the
// protective MBR, both headers (signature, revision 1.0, header size, CRC32,
// my/alternate LBAs, usable range, entry geometry and array CRC32, matching
// disk GUIDs), and every used entry (inside the usable range, first <= last,
// no overlaps). Errors say which structure and field is wrong and the values
// found. Reads only inside [0, disk.size()).
absl::StatusOr<GptDisk> ReadGpt(const ByteSource& disk);

// ReadGpt() on an in-memory image.
absl::StatusOr<GptDisk> ParseGptImage(absl::Span<const uint8_t> image);

// CRC-32 as UEFI uses it (ISO 3309 / IEEE 802.3: reflected polynomial
// 0xEDB88320, initial value and final XOR 0xFFFFFFFF).
uint32_t GptCrc32(const uint8_t* data, size_t size);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_GPT_H_
