#include "backends/uefi/gpt.h"

#include <string.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/byte_source.h"
#include "common/partition_table.h"

namespace saveoops {
namespace {

constexpr uint32_t kGptHeaderSize = sizeof(GptHeader);
// A reader accepts larger entry arrays than we write, but not absurd ones
// (they would make us read megabytes on a fuzzer's say-so).
constexpr uint64_t kMaxEntryArrayBytes = 1 << 20;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsZeroGuid(const uint8_t* g) {
  return std::all_of(g, g + 16, [](uint8_t b) { return b == 0; });
}

// GptHeader's fields as plain, aligned values: absl's formatting (and
// gtest) bind references, which a packed struct's fields cannot give.
struct Header {
  char signature[8];
  uint32_t revision, header_size, header_crc32, reserved;
  uint64_t my_lba, alternate_lba, first_usable_lba, last_usable_lba;
  uint8_t disk_guid[16];
  uint64_t partition_entry_lba;
  uint32_t number_of_partition_entries, size_of_partition_entry, partition_entry_array_crc32;
};

Header Unpack(const uint8_t* sector) {
  GptHeader p;
  memcpy(&p, sector, sizeof(p));
  Header h;
  memcpy(h.signature, p.signature, sizeof(h.signature));
  h.revision = p.revision;
  h.header_size = p.header_size;
  h.header_crc32 = p.header_crc32;
  h.reserved = p.reserved;
  h.my_lba = p.my_lba;
  h.alternate_lba = p.alternate_lba;
  h.first_usable_lba = p.first_usable_lba;
  h.last_usable_lba = p.last_usable_lba;
  memcpy(h.disk_guid, p.disk_guid, sizeof(h.disk_guid));
  h.partition_entry_lba = p.partition_entry_lba;
  h.number_of_partition_entries = p.number_of_partition_entries;
  h.size_of_partition_entry = p.size_of_partition_entry;
  h.partition_entry_array_crc32 = p.partition_entry_array_crc32;
  return h;
}

// One header as found, with the LBAs it should have.
absl::StatusOr<Header> CheckHeader(const uint8_t* sector, const char* which, uint64_t my_lba,
                                   uint64_t alternate_lba, uint64_t sector_count) {
  const Header h = Unpack(sector);
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat("GPT ", which, " header (LBA ", my_lba, "): ", what));
  };
  if (memcmp(h.signature, kGptSignature, sizeof(h.signature)) != 0) {
    return bad("no \"EFI PART\" signature");
  }
  if (h.revision != kGptRevision)
    return bad(absl::StrFormat("revision %#x, expected 0x10000", h.revision));
  if (h.header_size < kGptHeaderSize || h.header_size > kGptSectorSize) {
    return bad(absl::StrCat("header_size ", h.header_size, " not in [92, 512]"));
  }
  uint8_t copy[kGptSectorSize];
  memcpy(copy, sector, h.header_size);
  memset(copy + offsetof(GptHeader, header_crc32), 0, sizeof(uint32_t));
  const uint32_t crc = GptCrc32(copy, h.header_size);
  if (crc != h.header_crc32) {
    return bad(absl::StrFormat("header CRC32 %#010x, computed %#010x", h.header_crc32, crc));
  }
  if (h.reserved != 0) return bad("reserved field not zero");
  if (h.my_lba != my_lba) return bad(absl::StrCat("my_lba ", h.my_lba, ", expected ", my_lba));
  if (h.alternate_lba != alternate_lba) {
    return bad(absl::StrCat("alternate_lba ", h.alternate_lba, ", expected ", alternate_lba));
  }
  if (!IsValidGptEntrySize(h.size_of_partition_entry)) {
    return bad(absl::StrCat("size_of_partition_entry ", h.size_of_partition_entry,
                            " is not 128 x a power of two"));
  }
  const uint64_t array_bytes =
      static_cast<uint64_t>(h.number_of_partition_entries) * h.size_of_partition_entry;
  if (array_bytes == 0 || array_bytes > kMaxEntryArrayBytes) {
    return bad(absl::StrCat("partition entry array of ", array_bytes, " bytes"));
  }
  const uint64_t array_sectors = (array_bytes + kGptSectorSize - 1) / kGptSectorSize;
  // Usable space lies strictly between the two sets of tables (5.3.2).
  if (h.first_usable_lba > h.last_usable_lba || h.first_usable_lba < 2 ||
      h.last_usable_lba >= sector_count - 1) {
    return bad(absl::StrCat("usable LBAs [", h.first_usable_lba, ", ", h.last_usable_lba,
                            "] do not fit a disk of ", sector_count, " sectors"));
  }
  const uint64_t entries = h.partition_entry_lba;
  const bool in_disk =
      entries >= 2 && entries < sector_count && array_sectors <= sector_count - entries;
  const bool clear_of_usable =
      in_disk && (entries + array_sectors <= h.first_usable_lba || entries > h.last_usable_lba);
  if (!clear_of_usable || (entries <= my_lba && my_lba < entries + array_sectors)) {
    return bad(absl::StrCat("partition entry array at LBA ", entries, " (", array_sectors,
                            " sectors) overlaps the usable space, the header or the disk end"));
  }
  return h;
}

}  // namespace

namespace {

// The byte-at-a-time table for the reflected polynomial 0xEDB88320.
struct Crc32Table {
  uint32_t entry[256];
  constexpr Crc32Table() : entry() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int b = 0; b < 8; ++b) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
      entry[i] = c;
    }
  }
};
constexpr Crc32Table kCrc32Table;

}  // namespace

uint32_t GptCrc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) crc = (crc >> 8) ^ kCrc32Table.entry[(crc ^ data[i]) & 0xff];
  return ~crc;
}

absl::StatusOr<GptGuid> ParseGuidText(const std::string& text) {
  // 8-4-4-4-12 hex digits.
  static constexpr int kGroups[5] = {8, 4, 4, 4, 12};
  uint8_t raw[16];
  size_t pos = 0;
  int out = 0;
  for (int g = 0; g < 5; ++g) {
    if (g > 0) {
      if (pos >= text.size() || text[pos] != '-') break;
      ++pos;
    }
    for (int i = 0; i < kGroups[g]; i += 2, pos += 2) {
      const int hi = pos + 1 < text.size() ? HexDigit(text[pos]) : -1;
      const int lo = pos + 1 < text.size() ? HexDigit(text[pos + 1]) : -1;
      if (hi < 0 || lo < 0)
        return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a GUID"));
      raw[out++] = static_cast<uint8_t>(hi << 4 | lo);
    }
  }
  if (out != 16 || pos != text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a GUID (8-4-4-4-12 hex digits)"));
  }
  // Text order is big-endian for every field; on disk the first three are
  // little-endian.
  return GptGuid{raw[3], raw[2], raw[1],  raw[0],  raw[5],  raw[4],  raw[7],  raw[6],
                 raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]};
}

std::string FormatGuid(const GptGuid& g) {
  return absl::StrFormat("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11],
                         g[12], g[13], g[14], g[15]);
}

uint64_t GptFirstUsableLba() { return kGptHeadSectors; }
uint64_t GptLastUsableLba(uint64_t sector_count) { return sector_count - kGptTailSectors - 1; }

absl::StatusOr<GptTables> BuildGpt(const GptDisk& disk) {
  const uint64_t n = disk.sector_count;
  if (n < kGptHeadSectors + kGptTailSectors + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a GPT disk needs at least ", kGptHeadSectors + kGptTailSectors + 1, " sectors, not ", n));
  }
  if (disk.partitions.size() > kGptEntryCount) {
    return absl::InvalidArgumentError(absl::StrCat(disk.partitions.size(), " partitions; at most ",
                                                   kGptEntryCount, " fit the entry array"));
  }
  const uint64_t first_usable = GptFirstUsableLba(), last_usable = GptLastUsableLba(n);
  std::vector<uint8_t> entries(kGptEntryCount * kGptEntrySize, 0);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (size_t i = 0; i < disk.partitions.size(); ++i) {
    const GptPartition& p = disk.partitions[i];
    const std::string which = absl::StrCat("partition ", i + 1, " ('", p.name, "')");
    if (IsZeroGuid(p.type_guid.data())) {
      return absl::InvalidArgumentError(
          absl::StrCat(which, ": an all-zero type GUID marks an unused entry"));
    }
    if (p.first_lba > p.last_lba || p.first_lba < first_usable || p.last_lba > last_usable) {
      return absl::InvalidArgumentError(absl::StrCat(which, ": LBAs [", p.first_lba, ", ",
                                                     p.last_lba, "] not inside the usable [",
                                                     first_usable, ", ", last_usable, "]"));
    }
    for (const auto& [a, b] : ranges) {
      if (p.first_lba <= b && a <= p.last_lba) {
        return absl::InvalidArgumentError(
            absl::StrCat(which, ": overlaps LBAs [", a, ", ", b, "]"));
      }
    }
    ranges.emplace_back(p.first_lba, p.last_lba);
    if (p.name.size() > 36) {
      return absl::InvalidArgumentError(absl::StrCat(which, ": name longer than 36 characters"));
    }
    GptPartitionEntry e;
    memset(&e, 0, sizeof(e));
    memcpy(e.partition_type_guid, p.type_guid.data(), 16);
    memcpy(e.unique_partition_guid, p.unique_guid.data(), 16);
    e.starting_lba = p.first_lba;
    e.ending_lba = p.last_lba;
    e.attributes = p.attributes;
    for (size_t c = 0; c < p.name.size(); ++c) {
      const unsigned char ch = p.name[c];
      if (ch < 0x20 || ch > 0x7e) {
        return absl::InvalidArgumentError(absl::StrCat(which, ": name is not printable ASCII"));
      }
      const uint16_t wide = ch;
      memcpy(reinterpret_cast<uint8_t*>(&e) + offsetof(GptPartitionEntry, partition_name) + 2 * c,
             &wide, sizeof(wide));
    }
    memcpy(entries.data() + i * kGptEntrySize, &e, sizeof(e));
  }
  const uint32_t entries_crc = GptCrc32(entries.data(), entries.size());

  auto header = [&](uint64_t my_lba, uint64_t alternate_lba, uint64_t entry_lba) {
    GptHeader h;
    memset(&h, 0, sizeof(h));
    memcpy(h.signature, kGptSignature, sizeof(h.signature));
    h.revision = kGptRevision;
    h.header_size = kGptHeaderSize;
    h.my_lba = my_lba;
    h.alternate_lba = alternate_lba;
    h.first_usable_lba = first_usable;
    h.last_usable_lba = last_usable;
    memcpy(h.disk_guid, disk.disk_guid.data(), 16);
    h.partition_entry_lba = entry_lba;
    h.number_of_partition_entries = kGptEntryCount;
    h.size_of_partition_entry = kGptEntrySize;
    h.partition_entry_array_crc32 = entries_crc;
    h.header_crc32 = GptCrc32(reinterpret_cast<const uint8_t*>(&h), sizeof(h));
    std::vector<uint8_t> sector(kGptSectorSize, 0);
    memcpy(sector.data(), &h, sizeof(h));
    return sector;
  };

  GptTables t;
  t.head.assign(kGptHeadSectors * kGptSectorSize, 0);
  // Protective MBR (5.2.3): one record of type 0xEE from LBA 1 to the end
  // of the disk, capped at 0xFFFFFFFF sectors; the rest of the sector zero
  // but the boot signature.
  LegacyMbr mbr;
  memset(&mbr, 0, sizeof(mbr));
  mbr.partition[0].starting_chs[1] = 0x02;  // CHS 0/0/2 = LBA 1
  mbr.partition[0].os_type = kMbrTypeGptProtective;
  mbr.partition[0].ending_chs[0] = mbr.partition[0].ending_chs[1] = mbr.partition[0].ending_chs[2] =
      0xff;
  mbr.partition[0].starting_lba = 1;
  mbr.partition[0].size_in_lba = static_cast<uint32_t>(std::min<uint64_t>(n - 1, 0xffffffffu));
  mbr.signature = kMbrSignature;
  memcpy(t.head.data(), &mbr, sizeof(mbr));
  const std::vector<uint8_t> primary = header(1, n - 1, 2);
  std::copy(primary.begin(), primary.end(), t.head.begin() + kGptSectorSize);
  std::copy(entries.begin(), entries.end(), t.head.begin() + 2 * kGptSectorSize);

  t.tail_offset = (n - kGptTailSectors) * kGptSectorSize;
  t.tail = entries;
  const std::vector<uint8_t> backup = header(n - 1, 1, n - kGptTailSectors);
  t.tail.insert(t.tail.end(), backup.begin(), backup.end());
  return t;
}

absl::StatusOr<GptDisk> ReadGpt(const ByteSource& source) {
  const uint64_t size = source.size();
  if (size == ByteSource::kUnknownSize) {
    return absl::InvalidArgumentError("disk of unknown size: cannot look for its backup GPT");
  }
  if (size % kGptSectorSize != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("disk of ", size, " bytes is not a whole number of 512-byte sectors"));
  }
  const uint64_t n = size / kGptSectorSize;
  if (n < 4)
    return absl::InvalidArgumentError(
        absl::StrCat("disk of ", n, " sectors is too small for a GPT"));
  auto read = [&](uint64_t offset, uint8_t* out) -> absl::Status {
    return ReadExactlyAt(source, offset, absl::MakeSpan(out, kGptSectorSize), "disk");
  };
  uint8_t sector[kGptSectorSize];
  if (absl::Status s = read(0, sector); !s.ok()) return s;
  LegacyMbr mbr;
  memcpy(&mbr, sector, sizeof(mbr));
  const uint16_t signature = mbr.signature;  // packed fields: copied out
  if (signature != kMbrSignature) {
    return absl::InvalidArgumentError(
        absl::StrFormat("protective MBR: signature %#06x, expected 0xaa55", signature));
  }
  const uint32_t expect_size = static_cast<uint32_t>(std::min<uint64_t>(n - 1, 0xffffffffu));
  const uint8_t type = mbr.partition[0].os_type;
  const uint32_t start = mbr.partition[0].starting_lba, size_in_lba = mbr.partition[0].size_in_lba;
  if (type != kMbrTypeGptProtective || start != 1 || size_in_lba != expect_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "protective MBR: record 1 is type %#04x at LBA %u, %u sectors; expected 0xee at LBA 1, %u "
        "sectors",
        type, start, size_in_lba, expect_size));
  }
  for (int i = 1; i < 4; ++i) {
    const uint8_t* rec = reinterpret_cast<const uint8_t*>(&mbr.partition[i]);
    if (!std::all_of(rec, rec + sizeof(MbrPartitionRecord), [](uint8_t b) { return b == 0; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("protective MBR: record ", i + 1, " is not empty"));
    }
  }

  GptDisk disk;
  disk.sector_count = n;
  std::vector<uint8_t> arrays[2];
  Header headers[2];
  GptHeader primary{};
  for (int copy = 0; copy < 2; ++copy) {
    const char* which = copy == 0 ? "primary" : "backup";
    const uint64_t my_lba = copy == 0 ? 1 : n - 1;
    const uint64_t alternate = copy == 0 ? n - 1 : 1;
    if (absl::Status s = read(my_lba * kGptSectorSize, sector); !s.ok()) return s;
    absl::StatusOr<Header> h = CheckHeader(sector, which, my_lba, alternate, n);
    if (!h.ok()) return h.status();
    headers[copy] = *h;
    GptHeader raw;
    memcpy(&raw, sector, sizeof(raw));
    if (copy == 0) primary = raw;
    // CheckHeader() bounded the array and placed it inside the disk.
    absl::StatusOr<std::vector<uint8_t>> array = ReadGptEntryArray(
        source, raw, kGptSectorSize, absl::StrCat("GPT ", which, " header (LBA ", my_lba, ")"));
    if (!array.ok()) return array.status();
    arrays[copy] = std::move(*array);
    const uint32_t crc = GptCrc32(arrays[copy].data(), arrays[copy].size());
    if (crc != h->partition_entry_array_crc32) {
      return absl::InvalidArgumentError(
          absl::StrFormat("GPT %s partition entry array (LBA %u): CRC32 %#010x, computed %#010x",
                          which, h->partition_entry_lba, h->partition_entry_array_crc32, crc));
    }
  }
  const Header& p = headers[0];
  const Header& b = headers[1];
  if (memcmp(p.disk_guid, b.disk_guid, 16) != 0 || p.first_usable_lba != b.first_usable_lba ||
      p.last_usable_lba != b.last_usable_lba ||
      p.number_of_partition_entries != b.number_of_partition_entries ||
      p.size_of_partition_entry != b.size_of_partition_entry || arrays[0] != arrays[1]) {
    return absl::InvalidArgumentError(
        "GPT primary and backup disagree (disk GUID, usable range or partition entries)");
  }
  memcpy(disk.disk_guid.data(), p.disk_guid, 16);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (GptEntry& e : DecodeGptEntries(primary, arrays[0])) {
    const uint64_t first = e.first_lba, last = e.last_lba;
    if (first > last || first < p.first_usable_lba || last > p.last_usable_lba) {
      return absl::InvalidArgumentError(absl::StrCat(
          "GPT entry ", e.index + 1, ": LBAs [", first, ", ", last, "] not inside the usable [",
          p.first_usable_lba, ", ", p.last_usable_lba, "]"));
    }
    for (const auto& [a, z] : ranges) {
      if (first <= z && a <= last) {
        return absl::InvalidArgumentError(absl::StrCat("GPT entry ", e.index + 1, ": LBAs [", first,
                                                       ", ", last, "] overlap [", a, ", ", z, "]"));
      }
    }
    ranges.emplace_back(first, last);
    GptPartition part;
    part.type_guid = e.type_guid;
    part.unique_guid = e.unique_guid;
    part.first_lba = first;
    part.last_lba = last;
    part.attributes = e.attributes;
    part.name = std::move(e.name);
    disk.partitions.push_back(std::move(part));
  }
  return disk;
}

absl::StatusOr<GptDisk> ParseGptImage(absl::Span<const uint8_t> image) {
  // A short image is read as if rounded down; the reader's bounds check
  // then reports anything that would lie past it.
  return ReadGpt(MemoryByteSource(image.first(image.size() - image.size() % kGptSectorSize)));
}

}  // namespace saveoops
