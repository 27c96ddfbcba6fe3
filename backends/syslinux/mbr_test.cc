#include "backends/syslinux/mbr.h"

#include <vector>

#include "common/partition_table.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(LbaToChs, MatchesTheClassicGeometry) {
  // LBA 0 is cylinder 0, head 0, sector 1 (sectors count from 1).
  EXPECT_EQ(LbaToChs(0), (std::array<uint8_t, 3>{0, 1, 0}));
  // 1 MiB = LBA 2048 = 32 * 63 + 32: head 32, sector 33 (what fdisk prints
  // for a partition aligned at 1 MiB).
  EXPECT_EQ(LbaToChs(2048), (std::array<uint8_t, 3>{32, 33, 0}));
  // One full cylinder (255 * 63 sectors) later: cylinder 1.
  EXPECT_EQ(LbaToChs(255 * 63), (std::array<uint8_t, 3>{0, 1, 1}));
  // Cylinder 256 needs bit 8, stored in bit 6 of the sector byte.
  EXPECT_EQ(LbaToChs(uint64_t{256} * 255 * 63), (std::array<uint8_t, 3>{0, 1 | 0x40, 0}));
}

TEST(LbaToChs, SaturatesBeyondCylinder1023) {
  const std::array<uint8_t, 3> max = {0xfe, 0xff, 0xff};
  EXPECT_EQ(LbaToChs(uint64_t{1024} * 255 * 63), max);
  EXPECT_EQ(LbaToChs(uint64_t{1} << 31), max);
  // The first sector of cylinder 1023 is still addressable.
  EXPECT_EQ(LbaToChs(uint64_t{1023} * 255 * 63), (std::array<uint8_t, 3>{0, 1 | 0xc0, 0xff}));
}

TEST(BuildMbr, LinuxStyleReaderSeesThePartitions) {
  std::vector<uint8_t> code(440);
  for (size_t i = 0; i < code.size(); ++i) code[i] = static_cast<uint8_t>(i * 7 + 1);
  const MbrPartition fat{kMbrTypeFat16Lba, true, 2048, 65536};
  const MbrPartition store{kMbrTypeNonFsData, false, 67584, 32768};
  absl::StatusOr<std::array<uint8_t, kSectorSize>> mbr = BuildMbr(code, 0x11223344, {fat, store});
  ASSERT_TRUE(mbr.ok()) << mbr.status();
  const std::array<uint8_t, kSectorSize>& s = *mbr;
  EXPECT_TRUE(std::equal(code.begin(), code.end(), s.begin()));
  EXPECT_EQ(s[440], 0x44);
  EXPECT_EQ(s[443], 0x11);
  EXPECT_EQ(s[510], 0x55);
  EXPECT_EQ(s[511], 0xaa);
  EXPECT_EQ(s[446], kMbrStatusActive);
  EXPECT_EQ(s[446 + 4], kMbrTypeFat16Lba);
  EXPECT_EQ(s[462], 0);
  EXPECT_EQ(s[462 + 4], kMbrTypeNonFsData);
  // Entries 3 and 4 stay unused (all zero).
  for (size_t i = 478; i < 510; ++i) EXPECT_EQ(s[i], 0) << i;

  // The store's own partition table reader (what the capture program and
  // `saveoops show` use) must agree on both extents.
  std::vector<uint8_t> image((67584 + 32768) * kSectorSize);
  std::copy(s.begin(), s.end(), image.begin());
  absl::StatusOr<std::vector<Partition>> parts = WalkPartitionTable(image);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].scheme, PartitionScheme::kMbr);
  EXPECT_EQ((*parts)[0].number, 1);
  EXPECT_EQ((*parts)[0].offset, 2048 * kSectorSize);
  EXPECT_EQ((*parts)[0].size, 65536 * kSectorSize);
  EXPECT_EQ((*parts)[1].number, 2);
  EXPECT_EQ((*parts)[1].offset, 67584 * kSectorSize);
  EXPECT_EQ((*parts)[1].size, 32768 * kSectorSize);
}

TEST(BuildMbr, ChsFieldsCoverFirstAndLastSector) {
  absl::StatusOr<std::array<uint8_t, kSectorSize>> mbr =
      BuildMbr({}, 0, {{kMbrTypeFat16Lba, true, 2048, 2048}});
  ASSERT_TRUE(mbr.ok()) << mbr.status();
  const std::array<uint8_t, 3> first = LbaToChs(2048), last = LbaToChs(4095);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), mbr->begin() + 447));
  EXPECT_TRUE(std::equal(last.begin(), last.end(), mbr->begin() + 451));
}

TEST(BuildMbr, RefusesWhatATableCannotHold) {
  const std::vector<uint8_t> long_code(441, 0x90);
  EXPECT_EQ(BuildMbr(long_code, 0, {}).status().code(), absl::StatusCode::kInvalidArgument);

  auto err = [](std::vector<MbrPartition> parts) {
    absl::StatusOr<std::array<uint8_t, kSectorSize>> m = BuildMbr({}, 0, parts);
    return m.ok() ? std::string("ok") : std::string(m.status().message());
  };
  EXPECT_NE(err({{0xda, false, 0, 10}}).find("partition 1 starts at LBA 0"), std::string::npos);
  EXPECT_NE(err({{0xda, false, 10, 0}}).find("partition 1 is empty"), std::string::npos);
  EXPECT_NE(err({{0, false, 10, 10}}).find("type 0"), std::string::npos);
  for (uint8_t special : {0x05, 0x0f, 0x85, 0xee}) {
    EXPECT_NE(err({{special, false, 10, 10}}).find("extended partition or a GPT"),
              std::string::npos)
        << int{special};
  }
  EXPECT_NE(err({{0xda, false, 100, 100}, {0xda, false, 150, 100}})
                .find("partition 2 overlaps partition 1"),
            std::string::npos);
  EXPECT_NE(err({{0x0e, true, 100, 10}, {0xda, true, 200, 10}}).find("more than one"),
            std::string::npos);
  EXPECT_NE(err({{0xda, false, 1, uint64_t{1} << 32}}).find("2 TiB"), std::string::npos);
  EXPECT_NE(
      err({{1, 0, 1, 1}, {1, 0, 2, 1}, {1, 0, 3, 1}, {1, 0, 4, 1}, {1, 0, 5, 1}}).find("holds 4"),
      std::string::npos);
  // Adjacent partitions are fine; so is the very last 32-bit sector.
  EXPECT_EQ(err({{0xda, false, 100, 100}, {0xda, false, 200, 100}}), "ok");
  EXPECT_EQ(err({{0xda, false, 1, (uint64_t{1} << 32) - 1}}), "ok");
}

}  // namespace
}  // namespace saveoops
