// PC partition tables: the MBR (four primary records, and logical
// partitions in a chain of extended boot records) and the GUID Partition
// Table, as on-disk structs, plus ONE lenient walker that lists the
// partitions a disk describes.
//
// Who uses what:
//   backends/syslinux/mbr.*   writes an MBR with these structs;
//   backends/uefi/gpt.*       writes a GPT and reads it back STRICTLY
//                             (CRC32s, backup header, usable range,
//                             overlaps), with the GPT helpers below;
//   store/locate.*            finds a store in a disk image or block device
//                             with WalkPartitionTable(), and the tests and
//                             fuzzers check what the writers wrote with it.
//
// Sources: UEFI Specification 2.10, section 5.2 "LBA 0 Format" (Legacy MBR,
// Table 5-1; partition record, Table 5-2; protective MBR, 5.2.3) and
// section 5.3 "GUID Partition Table (GPT) Disk Layout" (GPT header,
// Table 5-5; partition entry, Table 5-6). Logical partitions inside an MBR
// extended partition use the same 16-byte record in an "extended boot
// record" (EBR) whose entry 0 is the logical partition (start relative to
// the EBR) and entry 1 the next EBR (start relative to the extended
// partition); Linux block/partitions/msdos.c reads them the same way.
//
// absl-free (common/status.h, common/byte_source.h): the static capture
// program finds its store with it.
//
// Example:
//   MemoryByteSource disk(image);
//   StatusOr<std::vector<Partition>> parts = WalkPartitionTable(disk);
//   // GPT entry 3 at LBA 2048..2559:
//   //   {scheme kGpt, number 3, offset 1048576, size 262144, gpt_type ...}
#ifndef SAVEOOPS_COMMON_PARTITION_TABLE_H_
#define SAVEOOPS_COMMON_PARTITION_TABLE_H_

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "common/byte_source.h"
#include "common/status.h"

namespace saveoops {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "MBR and GPT fields are little-endian and are read/written with memcpy "
              "in host byte order");

// --- MBR ---------------------------------------------------------------------

// MBR partitions are addressed in 512-byte sectors whatever the medium.
inline constexpr uint32_t kMbrSectorSize = 512;
// Boot signature at byte 510: 0x55, 0xAA, i.e. 0xAA55 little-endian
// (UEFI 2.10 Table 5-1, Signature).
inline constexpr uint16_t kMbrSignature = 0xAA55;
// OSType of the protective MBR entry covering a GPT disk (UEFI 5.2.3).
inline constexpr uint8_t kMbrTypeGptProtective = 0xEE;
// OSTypes of an extended partition (DOS 0x05, Windows LBA 0x0F, Linux 0x85;
// Linux include/linux/msdos_partition.h DOS_EXTENDED_PARTITION,
// WIN98_EXTENDED_PARTITION, LINUX_EXTENDED_PARTITION).
inline constexpr uint8_t kMbrTypeExtendedChs = 0x05;
inline constexpr uint8_t kMbrTypeExtendedLba = 0x0F;
inline constexpr uint8_t kMbrTypeExtendedLinux = 0x85;

// Whether `os_type` marks an extended partition (an EBR chain, not data).
constexpr bool IsMbrExtendedType(uint8_t os_type) {
  return os_type == kMbrTypeExtendedChs || os_type == kMbrTypeExtendedLba ||
         os_type == kMbrTypeExtendedLinux;
}

// UEFI 2.10 Table 5-2.
struct __attribute__((packed)) MbrPartitionRecord {
  uint8_t boot_indicator;   // 0x80: the partition to boot
  uint8_t starting_chs[3];  // head, sector | cylinder bits 8-9, cylinder
  uint8_t os_type;          // 0: unused
  uint8_t ending_chs[3];
  uint32_t starting_lba;  // in 512-byte sectors
  uint32_t size_in_lba;
};
static_assert(sizeof(MbrPartitionRecord) == 16, "UEFI 2.10 Table 5-2: 16 bytes");
static_assert(offsetof(MbrPartitionRecord, boot_indicator) == 0, "Table 5-2 BootIndicator");
static_assert(offsetof(MbrPartitionRecord, starting_chs) == 1, "Table 5-2 StartingCHS");
static_assert(offsetof(MbrPartitionRecord, os_type) == 4, "Table 5-2 OSType");
static_assert(offsetof(MbrPartitionRecord, ending_chs) == 5, "Table 5-2 EndingCHS");
static_assert(offsetof(MbrPartitionRecord, starting_lba) == 8, "Table 5-2 StartingLBA");
static_assert(offsetof(MbrPartitionRecord, size_in_lba) == 12, "Table 5-2 SizeInLBA");

// UEFI 2.10 Table 5-1 (also the layout of an EBR).
struct __attribute__((packed)) LegacyMbr {
  uint8_t boot_code[440];
  uint32_t unique_mbr_disk_signature;
  uint16_t unknown;
  MbrPartitionRecord partition[4];
  uint16_t signature;  // kMbrSignature
};
static_assert(sizeof(LegacyMbr) == kMbrSectorSize, "UEFI 2.10 Table 5-1: one sector");
static_assert(offsetof(LegacyMbr, boot_code) == 0, "Table 5-1 BootCode");
static_assert(offsetof(LegacyMbr, unique_mbr_disk_signature) == 440,
              "Table 5-1 UniqueMBRDiskSignature");
static_assert(offsetof(LegacyMbr, unknown) == 444, "Table 5-1 Unknown");
static_assert(offsetof(LegacyMbr, partition) == 446, "Table 5-1 PartitionRecord");
static_assert(offsetof(LegacyMbr, signature) == 510, "Table 5-1 Signature");

// --- GPT ---------------------------------------------------------------------

// "EFI PART" (UEFI 2.10 Table 5-5, Signature).
inline constexpr char kGptSignature[8] = {'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T'};
// Table 5-5, Revision: 1.0.
inline constexpr uint32_t kGptRevision = 0x00010000;
// Minimum GPT entry size; the spec requires 128 * 2^n (Table 5-5,
// SizeOfPartitionEntry).
inline constexpr uint32_t kGptMinEntrySize = 128;

// Whether `size` is a valid SizeOfPartitionEntry: 128 * 2^n.
constexpr bool IsValidGptEntrySize(uint32_t size) {
  return size >= kGptMinEntrySize && (size & (size - 1)) == 0;
}

// UEFI 2.10 Table 5-5; the rest of the header's block is reserved.
struct __attribute__((packed)) GptHeader {
  char signature[8];
  uint32_t revision;
  uint32_t header_size;
  uint32_t header_crc32;  // CRC32 of header_size bytes with this field 0
  uint32_t reserved;
  uint64_t my_lba;
  uint64_t alternate_lba;
  uint64_t first_usable_lba;
  uint64_t last_usable_lba;
  uint8_t disk_guid[16];
  uint64_t partition_entry_lba;
  uint32_t number_of_partition_entries;
  uint32_t size_of_partition_entry;
  uint32_t partition_entry_array_crc32;
};
static_assert(sizeof(GptHeader) == 92, "UEFI 2.10 Table 5-5: HeaderSize 92");
static_assert(offsetof(GptHeader, signature) == 0, "Table 5-5 Signature");
static_assert(offsetof(GptHeader, revision) == 8, "Table 5-5 Revision");
static_assert(offsetof(GptHeader, header_size) == 12, "Table 5-5 HeaderSize");
static_assert(offsetof(GptHeader, header_crc32) == 16, "Table 5-5 HeaderCRC32");
static_assert(offsetof(GptHeader, reserved) == 20, "Table 5-5 Reserved");
static_assert(offsetof(GptHeader, my_lba) == 24, "Table 5-5 MyLBA");
static_assert(offsetof(GptHeader, alternate_lba) == 32, "Table 5-5 AlternateLBA");
static_assert(offsetof(GptHeader, first_usable_lba) == 40, "Table 5-5 FirstUsableLBA");
static_assert(offsetof(GptHeader, last_usable_lba) == 48, "Table 5-5 LastUsableLBA");
static_assert(offsetof(GptHeader, disk_guid) == 56, "Table 5-5 DiskGUID");
static_assert(offsetof(GptHeader, partition_entry_lba) == 72, "Table 5-5 PartitionEntryLBA");
static_assert(offsetof(GptHeader, number_of_partition_entries) == 80,
              "Table 5-5 NumberOfPartitionEntries");
static_assert(offsetof(GptHeader, size_of_partition_entry) == 84, "Table 5-5 SizeOfPartitionEntry");
static_assert(offsetof(GptHeader, partition_entry_array_crc32) == 88,
              "Table 5-5 PartitionEntryArrayCRC32");

// UEFI 2.10 Table 5-6. An entry whose type GUID is all zero is unused.
struct __attribute__((packed)) GptPartitionEntry {
  uint8_t partition_type_guid[16];
  uint8_t unique_partition_guid[16];
  uint64_t starting_lba;
  uint64_t ending_lba;  // inclusive
  uint64_t attributes;
  uint16_t partition_name[36];  // UTF-16LE
};
static_assert(sizeof(GptPartitionEntry) == kGptMinEntrySize, "UEFI 2.10 Table 5-6: 128 bytes");
static_assert(offsetof(GptPartitionEntry, partition_type_guid) == 0, "Table 5-6 PartitionTypeGUID");
static_assert(offsetof(GptPartitionEntry, unique_partition_guid) == 16,
              "Table 5-6 UniquePartitionGUID");
static_assert(offsetof(GptPartitionEntry, starting_lba) == 32, "Table 5-6 StartingLBA");
static_assert(offsetof(GptPartitionEntry, ending_lba) == 40, "Table 5-6 EndingLBA");
static_assert(offsetof(GptPartitionEntry, attributes) == 48, "Table 5-6 Attributes");
static_assert(offsetof(GptPartitionEntry, partition_name) == 56, "Table 5-6 PartitionName");

// A GUID in its on-disk byte order: Data1, Data2, Data3 little-endian, then
// Data4's 8 bytes as written (UEFI 2.10 Appendix A).
using GptGuid = std::array<uint8_t, 16>;

// One used entry of a GPT partition entry array, its fields copied out of
// the packed struct.
struct GptEntry {
  uint32_t index = 0;  // 0-based position in the array (Linux: partition index + 1)
  GptGuid type_guid{};
  GptGuid unique_guid{};
  uint64_t first_lba = 0;
  uint64_t last_lba = 0;  // inclusive; NOT checked against first_lba
  uint64_t attributes = 0;
  // PartitionName up to its first NUL; characters outside ASCII become '?'.
  std::string name;
};

// The used entries (type GUID not all zero) of the entry array `array`
// described by `header` (whose SizeOfPartitionEntry must be valid and whose
// NumberOfPartitionEntries * SizeOfPartitionEntry must not exceed
// array.size(): entries beyond `array` are not decoded), in table order.
std::vector<GptEntry> DecodeGptEntries(const GptHeader& header, absl::Span<const uint8_t> array);

// Reads the entry array `header` describes, for logical blocks of
// `lba_size` bytes. Fails with OutOfRange, naming `where` (e.g. "image
// 'disk.img': GPT header at byte 512") and the LBA, if the array does not lie
// inside `disk`. The caller bounds the array's size first (the header is
// outside input: NumberOfPartitionEntries may be 2^32 - 1).
StatusOr<std::vector<uint8_t>> ReadGptEntryArray(const ByteSource& disk, const GptHeader& header,
                                                 uint64_t lba_size, const std::string& where);

// --- The walker --------------------------------------------------------------

enum class PartitionScheme { kMbr, kGpt };

// A partition as a table describes it.
struct Partition {
  PartitionScheme scheme = PartitionScheme::kMbr;
  // 1-based, as Linux numbers it: GPT entry index + 1; MBR primaries 1-4
  // by slot, logicals 5, 6, ... by position in the EBR chain.
  int number = 0;
  uint64_t offset = 0;   // bytes from the start of the disk
  uint64_t size = 0;     // bytes
  uint8_t mbr_type = 0;  // MBR OSType; 0 for GPT
  GptGuid gpt_type{};    // GPT PartitionTypeGUID; all zero for MBR
  GptGuid gpt_unique{};  // GPT UniquePartitionGUID; all zero for MBR
  // The table's identity of the disk, the same for every partition of it:
  // GPT DiskGUID (Table 5-5), or the MBR's UniqueMBRDiskSignature (Table
  // 5-1) in bytes 0-3 (little-endian, as on disk) and zeros after.
  GptGuid disk_id{};
};

// Caps on a walk, so a hostile table cannot make it read without end: the
// GPT entry array (the spec's minimum is 16 KiB; 4 MiB is 32768 entries of
// 128 bytes), the entry size, and the EBR chain length.
inline constexpr uint64_t kMaxWalkedGptEntryArrayBytes = uint64_t{4} << 20;
inline constexpr uint32_t kMaxWalkedGptEntrySize = 4096;
inline constexpr int kMaxWalkedLogicalPartitions = 128;

// Lists the partitions of `disk`: a GPT if one has a signature (the primary
// header at LBA 1 for 512- or 4096-byte LBAs, else the backup header in the
// last 512-byte sector), else an MBR with its logical partitions, else
// nothing (an empty list: no partition table). `name` starts every error
// ("image 'disk.img'").
//
// Lenient: CRC32s are not required to match and partitions are returned as
// described, even overlapping or extending past the disk, because each
// caller verifies what it finds (a store by its superblock's SHA-256); the
// UEFI backend's strict reader (backends/uefi/gpt.h) checks the rest.
// Bounded: reads only inside `disk` (size must be known), at most the caps
// above; an EBR chain must move forward. Fails only on a GPT header whose
// entry geometry is unusable, an entry array outside the disk, or a read
// error.
StatusOr<std::vector<Partition>> WalkPartitionTable(const ByteSource& disk,
                                                    const std::string& name);

// WalkPartitionTable() on an in-memory image, named "image".
StatusOr<std::vector<Partition>> WalkPartitionTable(absl::Span<const uint8_t> image);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_PARTITION_TABLE_H_
