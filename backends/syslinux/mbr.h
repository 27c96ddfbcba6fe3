// Writes a classic PC master boot record: boot code, disk signature and four
// primary partition entries, as the BIOS, Syslinux's mbr.bin and Linux read
// it. References: the "MBR" layout in the UEFI specification 2.10, section
// 5.2.1 "Legacy Master Boot Record" (Table 5-1 and 5-2), and Linux
// block/partitions/msdos.c, which is what finds the store partition.
//
// Example:
//   MbrPartition fat{.type = kMbrTypeFat16Lba, .bootable = true,
//                    .first_lba = 2048, .sector_count = 65536};
//   MbrPartition store{.type = kMbrTypeNonFsData, .first_lba = 67584,
//                      .sector_count = 32768};
//   ASSIGN_OR_RETURN(std::array<uint8_t, 512> mbr,
//                    BuildMbr(mbr_bin, 0x5356424e, {fat, store}));
#ifndef SAVEOOPS_BACKENDS_SYSLINUX_MBR_H_
#define SAVEOOPS_BACKENDS_SYSLINUX_MBR_H_

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/partition_table.h"

namespace saveoops {

// The on-disk structs (LegacyMbr, MbrPartitionRecord, UEFI 2.10 Tables 5-1
// and 5-2) are common/partition_table.h's, whose walker reads this same
// table to find the store partition; one definition keeps writer and
// reader in step.
inline constexpr size_t kSectorSize = kMbrSectorSize;
// Boot code area: bytes [0, 440). The disk signature follows at 440.
inline constexpr size_t kMbrBootCodeSize = sizeof(LegacyMbr::boot_code);
static_assert(kMbrBootCodeSize == 440, "boot code area");

// Partition types (the OSType byte) this backend writes.
inline constexpr uint8_t kMbrTypeFat16Lba = 0x0e;  // FAT16, LBA addressing
inline constexpr uint8_t kMbrTypeFat32Lba = 0x0c;  // FAT32, LBA addressing
// "Non-FS data": raw data no operating system should mount or format; what
// the record store is.
inline constexpr uint8_t kMbrTypeNonFsData = 0xda;

// BootIndicator 0x80 marks the partition mbr.bin boots ("active").
inline constexpr uint8_t kMbrStatusActive = 0x80;

// A partition to write, in 512-byte sectors.
struct MbrPartition {
  uint8_t type = 0;
  bool bootable = false;
  uint64_t first_lba = 0;
  uint64_t sector_count = 0;
};

// Cylinder/head/sector address of `lba` in the 255-head, 63-sector geometry
// every BIOS since the 1990s reports for a disk of this size; LBAs beyond
// cylinder 1023 get the saturated value (1023, 254, 63), bytes fe ff ff,
// which is what fdisk writes and tells readers to use the LBA fields.
// Bytes in table order.
std::array<uint8_t, 3> LbaToChs(uint64_t lba);

// Builds the first sector: `boot_code` (at most 440 bytes, e.g. Syslinux's
// mbr.bin; zero-padded), the disk signature, up to four partitions in the
// order given (Linux numbers them 1..4 in that order) and 0x55aa. Writes
// primary partitions only: fails, naming the partition, if one is empty,
// starts at LBA 0, does not fit the 32-bit LBA fields, overlaps another, has
// type 0 (unused), an extended-partition type (0x05, 0x0f, 0x85: readers
// would walk it as an EBR chain) or the GPT protective type 0xee (readers
// would look for a GPT), or if more than one is bootable.
absl::StatusOr<std::array<uint8_t, kSectorSize>> BuildMbr(
    absl::Span<const uint8_t> boot_code, uint32_t disk_signature,
    const std::vector<MbrPartition>& partitions);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_SYSLINUX_MBR_H_
