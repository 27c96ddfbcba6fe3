// libFuzzer target for the lenient partition walker (common/partition_table.h),
// which the capture program runs on every block device it finds and which
// must never read outside the disk, whatever the tables say.
//
// Each input is walked twice:
//   1. as raw bytes (a disk image of any length, any content);
//   2. as a skeleton: an MBR whose four records come from the input, an
//      EBR chain of up to 8 input-chosen records at input-chosen sectors,
//      and optionally a GPT header and entries, so the walker's deep paths
//      (EBR links, entry decoding, overflow checks) are reached every run.
// Every accepted walk is checked: one scheme; numbers strictly increasing
// (MBR primaries 1-4 in slot order, then logicals from 5, at most
// kMaxWalkedLogicalPartitions of them; GPT entries in table order); every
// MBR partition with a type and a size, no extended primary listed; the
// same answer from a second walk. ASan catches any read outside the image.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/partition_table.h"

namespace saveoops {
namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void Walk(const std::vector<uint8_t>& image) {
  absl::StatusOr<std::vector<Partition>> parts = WalkPartitionTable(image);
  if (!parts.ok()) return;
  absl::StatusOr<std::vector<Partition>> again = WalkPartitionTable(image);
  Check(again.ok() && again->size() == parts->size());
  int last = 0;
  size_t logicals = 0;
  for (size_t i = 0; i < parts->size(); ++i) {
    const Partition& p = (*parts)[i];
    Check(p.number > last && p.scheme == (*parts)[0].scheme);
    Check((*again)[i].number == p.number && (*again)[i].offset == p.offset &&
          (*again)[i].size == p.size);
    last = p.number;
    if (p.scheme == PartitionScheme::kMbr) {
      Check(p.mbr_type != 0 && p.size != 0);
      // An extended primary is a chain to walk, never a partition.
      if (p.number <= 4) Check(!IsMbrExtendedType(p.mbr_type));
      if (p.number >= 5) ++logicals;
    } else {
      Check(p.size != 0 && p.mbr_type == 0);
    }
  }
  Check(logicals <= static_cast<size_t>(kMaxWalkedLogicalPartitions));
}

// Hands out input bytes; zeros once the input is used up.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{Byte()} << (8 * i);
    return v;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void SetRecord(std::vector<uint8_t>& image, uint64_t sector, int slot, uint8_t type, uint32_t lba,
               uint32_t count) {
  MbrPartitionRecord r;
  memset(&r, 0, sizeof(r));
  r.os_type = type;
  r.starting_lba = lba;
  r.size_in_lba = count;
  memcpy(&image[sector * kMbrSectorSize + offsetof(LegacyMbr, partition) + slot * sizeof(r)], &r,
         sizeof(r));
  image[sector * kMbrSectorSize + 510] = 0x55;
  image[sector * kMbrSectorSize + 511] = 0xAA;
}

// Small LBAs mostly (around the 128-sector skeleton), sometimes any.
uint32_t Lba(Input& in) { return (in.Byte() & 1) ? in.U32() : in.Byte(); }

void WalkSkeleton(Input& in) {
  const uint64_t sectors = 128;
  std::vector<uint8_t> image(sectors * kMbrSectorSize, 0);
  static constexpr uint8_t kTypes[] = {0x00,
                                       0x83,
                                       kMbrTypeExtendedChs,
                                       kMbrTypeExtendedLba,
                                       kMbrTypeExtendedLinux,
                                       kMbrTypeGptProtective,
                                       0xda};
  for (int slot = 0; slot < 4; ++slot) {
    SetRecord(image, 0, slot, kTypes[in.Byte() % sizeof(kTypes)], Lba(in), Lba(in));
  }
  for (int i = 0; i < 8; ++i) {
    const uint64_t ebr = 1 + in.Byte() % (sectors - 1);
    SetRecord(image, ebr, 0, kTypes[in.Byte() % sizeof(kTypes)], Lba(in), Lba(in));
    SetRecord(image, ebr, 1, kTypes[in.Byte() % sizeof(kTypes)], Lba(in), Lba(in));
  }
  if (in.Byte() & 1) {
    GptHeader h;
    memset(&h, 0, sizeof(h));
    memcpy(h.signature, kGptSignature, sizeof(h.signature));
    h.header_size = 80 + in.Byte();
    h.partition_entry_lba = in.Byte() % 64;
    h.number_of_partition_entries = (in.Byte() & 1) ? in.U32() : in.Byte();
    h.size_of_partition_entry = (in.Byte() & 1) ? in.U32() : 128u << (in.Byte() % 6);
    memcpy(&image[(in.Byte() & 1) ? (sectors - 1) * kMbrSectorSize : kMbrSectorSize], &h,
           sizeof(h));
    const int entries = in.Byte() % 8;
    for (int i = 0; i < entries; ++i) {
      GptPartitionEntry e;
      memset(&e, 0, sizeof(e));
      e.partition_type_guid[0] = in.Byte();
      e.starting_lba = (in.Byte() & 1) ? uint64_t{in.U32()} << 32 | in.U32() : in.Byte();
      e.ending_lba = (in.Byte() & 1) ? uint64_t{in.U32()} << 32 | in.U32() : in.Byte();
      const size_t at = (in.Byte() % 64) * kMbrSectorSize + (in.Byte() % 4) * sizeof(e);
      if (at + sizeof(e) <= image.size()) memcpy(&image[at], &e, sizeof(e));
    }
  }
  Walk(image);
}

}  // namespace
}  // namespace saveoops

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  saveoops::Walk(std::vector<uint8_t>(data, data + size));
  saveoops::Input in(data, size);
  saveoops::WalkSkeleton(in);
  return 0;
}
