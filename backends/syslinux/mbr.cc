#include "backends/syslinux/mbr.h"

#include <string.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace saveoops {
namespace {

constexpr uint64_t kHeads = 255;
constexpr uint64_t kSectorsPerTrack = 63;
constexpr uint64_t kMaxCylinder = 1023;

}  // namespace

std::array<uint8_t, 3> LbaToChs(uint64_t lba) {
  uint64_t cylinder = lba / (kHeads * kSectorsPerTrack);
  uint64_t head = (lba / kSectorsPerTrack) % kHeads;
  uint64_t sector = lba % kSectorsPerTrack + 1;
  if (cylinder > kMaxCylinder) {
    cylinder = kMaxCylinder;
    head = kHeads - 1;
    sector = kSectorsPerTrack;
  }
  // Sector is 6 bits; cylinder bits 8-9 go in the top two bits of that byte.
  return {static_cast<uint8_t>(head), static_cast<uint8_t>(sector | ((cylinder >> 2) & 0xc0)),
          static_cast<uint8_t>(cylinder & 0xff)};
}

absl::StatusOr<std::array<uint8_t, kSectorSize>> BuildMbr(
    absl::Span<const uint8_t> boot_code, uint32_t disk_signature,
    const std::vector<MbrPartition>& partitions) {
  if (boot_code.size() > kMbrBootCodeSize) {
    return absl::InvalidArgumentError(absl::StrCat("MBR boot code is ", boot_code.size(),
                                                   " bytes; at most ", kMbrBootCodeSize,
                                                   " fit before the disk signature"));
  }
  if (partitions.size() > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(partitions.size(), " partitions given; an MBR holds 4"));
  }
  int bootable = 0;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const MbrPartition& p = partitions[i];
    const std::string name = absl::StrCat("partition ", i + 1);
    if (p.sector_count == 0) return absl::InvalidArgumentError(absl::StrCat(name, " is empty"));
    if (p.first_lba == 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, " starts at LBA 0, over the MBR"));
    }
    if (p.type == 0) return absl::InvalidArgumentError(absl::StrCat(name, " has type 0 (unused)"));
    if (IsMbrExtendedType(p.type) || p.type == kMbrTypeGptProtective) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s has type 0x%02x, which readers take for an extended partition or a GPT; "
          "only primary data partitions are written",
          name, p.type));
    }
    const uint64_t end = p.first_lba + p.sector_count;
    if (end < p.first_lba || end > (uint64_t{1} << 32)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " [LBA ", p.first_lba, ", +", p.sector_count,
                       ") does not fit the MBR's 32-bit LBA fields (2 TiB limit)"));
    }
    for (size_t j = 0; j < i; ++j) {
      const MbrPartition& q = partitions[j];
      if (p.first_lba < q.first_lba + q.sector_count && q.first_lba < end) {
        return absl::InvalidArgumentError(absl::StrCat(name, " overlaps partition ", j + 1));
      }
    }
    bootable += p.bootable ? 1 : 0;
  }
  if (bootable > 1) {
    return absl::InvalidArgumentError("more than one partition is marked bootable");
  }

  LegacyMbr mbr;
  memset(&mbr, 0, sizeof(mbr));
  std::copy(boot_code.begin(), boot_code.end(), mbr.boot_code);
  mbr.unique_mbr_disk_signature = disk_signature;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const MbrPartition& p = partitions[i];
    MbrPartitionRecord& e = mbr.partition[i];
    e.boot_indicator = p.bootable ? kMbrStatusActive : 0;
    e.os_type = p.type;
    const std::array<uint8_t, 3> first = LbaToChs(p.first_lba);
    const std::array<uint8_t, 3> last = LbaToChs(p.first_lba + p.sector_count - 1);
    std::copy(first.begin(), first.end(), e.starting_chs);
    std::copy(last.begin(), last.end(), e.ending_chs);
    e.starting_lba = static_cast<uint32_t>(p.first_lba);
    e.size_in_lba = static_cast<uint32_t>(p.sector_count);
  }
  mbr.signature = kMbrSignature;
  std::array<uint8_t, kSectorSize> out;
  memcpy(out.data(), &mbr, sizeof(mbr));
  return out;
}

}  // namespace saveoops
