#include "common/partition_table.h"

#include <string.h>

#include <algorithm>
#include <utility>

#include "common/format.h"

namespace saveoops {
namespace {

bool IsZeroGuid(const uint8_t* g) {
  return std::all_of(g, g + 16, [](uint8_t b) { return b == 0; });
}

// The partitions of the GPT whose header `h` was found at byte
// `header_offset`, for logical blocks of `lba` bytes.
StatusOr<std::vector<Partition>> WalkGpt(const ByteSource& disk, const std::string& name,
                                         const GptHeader& h, uint64_t header_offset, uint64_t lba) {
  const std::string where = Format("%s: GPT header at byte %u", name, header_offset);
  if (h.header_size < sizeof(GptHeader)) {
    return InvalidArgumentError(
        Format("%s: HeaderSize is %u, minimum %u", where, h.header_size, sizeof(GptHeader)));
  }
  const uint32_t esize = h.size_of_partition_entry;
  if (!IsValidGptEntrySize(esize) || esize > kMaxWalkedGptEntrySize) {
    return InvalidArgumentError(Format("%s: SizeOfPartitionEntry is %u, need 128 * 2^n up to %u",
                                       where, esize, kMaxWalkedGptEntrySize));
  }
  const uint64_t array_bytes = uint64_t{h.number_of_partition_entries} * esize;
  if (array_bytes > kMaxWalkedGptEntryArrayBytes) {
    return InvalidArgumentError(Format("%s: %u entries of %u bytes exceed the %u-byte limit", where,
                                       h.number_of_partition_entries, esize,
                                       kMaxWalkedGptEntryArrayBytes));
  }
  StatusOr<std::vector<uint8_t>> array = ReadGptEntryArray(disk, h, lba, where);
  if (!array.ok()) return array.status();
  std::vector<Partition> out;
  for (const GptEntry& e : DecodeGptEntries(h, *array)) {
    if (e.last_lba < e.first_lba) continue;
    Partition p;
    p.scheme = PartitionScheme::kGpt;
    p.number = static_cast<int>(e.index) + 1;
    p.gpt_type = e.type_guid;
    p.gpt_unique = e.unique_guid;
    memcpy(p.disk_id.data(), h.disk_guid, sizeof(h.disk_guid));
    uint64_t blocks = e.last_lba - e.first_lba;
    if (__builtin_mul_overflow(e.first_lba, lba, &p.offset) ||
        __builtin_add_overflow(blocks, 1, &blocks) ||
        __builtin_mul_overflow(blocks, lba, &p.size)) {
      continue;  // cannot describe a byte range; certainly not on the disk
    }
    out.push_back(p);
  }
  return out;
}

Partition MbrPartition(const LegacyMbr& mbr, int number, uint64_t first_lba,
                       const MbrPartitionRecord& e) {
  Partition p;
  memcpy(p.disk_id.data(), &mbr.unique_mbr_disk_signature, sizeof(mbr.unique_mbr_disk_signature));
  p.scheme = PartitionScheme::kMbr;
  p.number = number;
  p.offset = first_lba * kMbrSectorSize;  // first_lba < 2^33: no overflow
  p.size = uint64_t{e.size_in_lba} * kMbrSectorSize;
  p.mbr_type = e.os_type;
  return p;
}

// Primaries 1-4 (extended ones not listed), then the logicals of the first
// extended partition.
StatusOr<std::vector<Partition>> WalkMbr(const ByteSource& disk, const std::string& name) {
  std::vector<Partition> out;
  LegacyMbr mbr;
  if (disk.size() < sizeof(mbr)) return out;
  if (Status s = ReadStructAt(disk, 0, &mbr, name); !s.ok()) return s;
  if (mbr.signature != kMbrSignature) return out;
  uint64_t extended_lba = 0;
  bool have_extended = false;
  for (int i = 0; i < 4; ++i) {
    const MbrPartitionRecord& e = mbr.partition[i];
    if (e.os_type == 0 || e.size_in_lba == 0) continue;
    if (IsMbrExtendedType(e.os_type)) {
      if (!have_extended) {
        have_extended = true;
        extended_lba = e.starting_lba;
      }
      continue;
    }
    out.push_back(MbrPartition(mbr, i + 1, e.starting_lba, e));
  }
  // Logical partitions: a chain of EBRs. Links must move forward, which
  // every partitioning tool does and which bounds the walk.
  uint64_t ebr_lba = extended_lba;
  for (int n = 0; have_extended && n < kMaxWalkedLogicalPartitions; ++n) {
    LegacyMbr ebr;
    const uint64_t at = ebr_lba * kMbrSectorSize;  // < 2^42, no overflow
    if (at > disk.size() || disk.size() - at < sizeof(ebr)) break;
    if (Status s = ReadStructAt(disk, at, &ebr, name); !s.ok()) return s;
    if (ebr.signature != kMbrSignature) break;
    const MbrPartitionRecord& logical = ebr.partition[0];
    if (logical.os_type != 0 && logical.size_in_lba != 0) {
      out.push_back(MbrPartition(mbr, 5 + n, ebr_lba + logical.starting_lba, logical));
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

std::vector<GptEntry> DecodeGptEntries(const GptHeader& header, absl::Span<const uint8_t> array) {
  std::vector<GptEntry> out;
  const uint64_t esize = header.size_of_partition_entry;
  if (!IsValidGptEntrySize(header.size_of_partition_entry)) return out;
  const uint64_t count =
      std::min<uint64_t>(header.number_of_partition_entries, array.size() / esize);
  for (uint64_t i = 0; i < count; ++i) {
    GptPartitionEntry e;
    memcpy(&e, array.data() + i * esize, sizeof(e));
    if (IsZeroGuid(e.partition_type_guid)) continue;
    GptEntry entry;
    entry.index = static_cast<uint32_t>(i);
    memcpy(entry.type_guid.data(), e.partition_type_guid, 16);
    memcpy(entry.unique_guid.data(), e.unique_partition_guid, 16);
    entry.first_lba = e.starting_lba;
    entry.last_lba = e.ending_lba;
    entry.attributes = e.attributes;
    for (int c = 0; c < 36; ++c) {
      uint16_t ch;
      memcpy(&ch,
             reinterpret_cast<const uint8_t*>(&e) + offsetof(GptPartitionEntry, partition_name) +
                 2 * c,
             sizeof(ch));
      if (ch == 0) break;
      entry.name.push_back(ch < 0x80 ? static_cast<char>(ch) : '?');
    }
    out.push_back(std::move(entry));
  }
  return out;
}

StatusOr<std::vector<uint8_t>> ReadGptEntryArray(const ByteSource& disk, const GptHeader& header,
                                                 uint64_t lba_size, const std::string& where) {
  const uint64_t array_bytes =
      uint64_t{header.number_of_partition_entries} * header.size_of_partition_entry;
  const uint64_t disk_size = disk.size();
  uint64_t array_offset = 0;
  if (__builtin_mul_overflow(header.partition_entry_lba, lba_size, &array_offset) ||
      disk_size == ByteSource::kUnknownSize || array_offset > disk_size ||
      array_bytes > disk_size - array_offset) {
    return OutOfRangeError(
        Format("%s: partition entry array (LBA %u, %u bytes) lies outside the %u-byte image", where,
               header.partition_entry_lba, array_bytes, disk_size));
  }
  std::vector<uint8_t> array(array_bytes);
  if (Status s = ReadExactlyAt(disk, array_offset, absl::MakeSpan(array), where); !s.ok()) {
    return s;
  }
  return array;
}

StatusOr<std::vector<Partition>> WalkPartitionTable(const ByteSource& disk,
                                                    const std::string& name) {
  const uint64_t size = disk.size();
  if (size == ByteSource::kUnknownSize) {
    return InvalidArgumentError(
        Format("%s: size unknown, cannot look for a partition table", name));
  }
  // GPT: primary header in LBA 1 (UEFI 2.10, 5.3.1) for 512- and 4096-byte
  // logical blocks, else the backup header in the last LBA (512 bytes).
  std::vector<std::pair<uint64_t, uint64_t>> gpt_candidates = {{512, 512}, {4096, 4096}};
  if (size >= uint64_t{3} * 512) gpt_candidates.push_back({size / 512 * 512 - 512, 512});
  for (const auto& [at, lba] : gpt_candidates) {
    GptHeader h;
    if (size < at + sizeof(h)) continue;
    if (Status s = ReadStructAt(disk, at, &h, name); !s.ok()) return s;
    if (memcmp(h.signature, kGptSignature, sizeof(h.signature)) != 0) continue;
    return WalkGpt(disk, name, h, at, lba);
  }
  return WalkMbr(disk, name);
}

StatusOr<std::vector<Partition>> WalkPartitionTable(absl::Span<const uint8_t> image) {
  return WalkPartitionTable(MemoryByteSource(image), "image");
}

}  // namespace saveoops
