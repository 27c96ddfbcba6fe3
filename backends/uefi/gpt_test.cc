#include "backends/uefi/gpt.h"

#include <string.h>

#include <string>
#include <vector>

#include "common/partition_table.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

constexpr uint64_t kSectors = 8192;  // 4 MiB

GptDisk TwoPartitions() {
  GptDisk d;
  d.sector_count = kSectors;
  d.disk_guid = *ParseGuidText("01234567-89ab-4cde-8f01-23456789abcd");
  d.partitions.push_back({*ParseGuidText(kEspTypeGuid),
                          *ParseGuidText("11111111-2222-4333-8444-555555555555"), 2048, 4095, 0,
                          "EFI System Partition"});
  d.partitions.push_back({*ParseGuidText(kSaveoopsStoreTypeGuid),
                          *ParseGuidText("66666666-7777-4888-8999-aaaaaaaaaaaa"), 4096, 8191 - 34,
                          0, "Saveoops record store"});
  return d;
}

std::vector<uint8_t> Image(const GptDisk& d) {
  absl::StatusOr<GptTables> t = BuildGpt(d);
  EXPECT_TRUE(t.ok()) << t.status();
  std::vector<uint8_t> image(d.sector_count * kGptSectorSize, 0);
  std::copy(t->head.begin(), t->head.end(), image.begin());
  std::copy(t->tail.begin(), t->tail.end(), image.begin() + t->tail_offset);
  return image;
}

TEST(GptTest, Crc32MatchesTheStandardCheckValue) {
  // The CRC-32 "check" value of "123456789" (ISO 3309 / ITU-T V.42).
  EXPECT_EQ(GptCrc32(reinterpret_cast<const uint8_t*>("123456789"), 9), 0xcbf43926u);
  EXPECT_EQ(GptCrc32(nullptr, 0), 0u);
}

TEST(GptTest, GuidsUseTheMixedEndianDiskOrder) {
  // UEFI 2.10 Appendix A: Data1..Data3 little-endian on disk.
  absl::StatusOr<GptGuid> esp = ParseGuidText(kEspTypeGuid);
  ASSERT_TRUE(esp.ok());
  const GptGuid expect = {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                          0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};
  EXPECT_EQ(*esp, expect);
  EXPECT_EQ(FormatGuid(*esp), "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
  EXPECT_FALSE(ParseGuidText("c12a7328-f81f-11d2-ba4b-00a0c93ec93").ok());
  EXPECT_FALSE(ParseGuidText("c12a7328f81f-11d2-ba4b-00a0c93ec93b0").ok());
  EXPECT_FALSE(ParseGuidText("c12a7328-f81f-11d2-ba4b-00a0c93ec93b-").ok());
  EXPECT_FALSE(ParseGuidText("g12a7328-f81f-11d2-ba4b-00a0c93ec93b").ok());
}

TEST(GptTest, WrittenTablesReadBackStrictlyAndThroughTheStoreReader) {
  const GptDisk d = TwoPartitions();
  const std::vector<uint8_t> image = Image(d);
  absl::StatusOr<GptDisk> back = ParseGptImage(image);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->disk_guid, d.disk_guid);
  ASSERT_EQ(back->partitions.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(back->partitions[i].type_guid, d.partitions[i].type_guid);
    EXPECT_EQ(back->partitions[i].unique_guid, d.partitions[i].unique_guid);
    EXPECT_EQ(back->partitions[i].first_lba, d.partitions[i].first_lba);
    EXPECT_EQ(back->partitions[i].last_lba, d.partitions[i].last_lba);
    EXPECT_EQ(back->partitions[i].name, d.partitions[i].name);
  }
  // store/store.h's independent reader finds the same partitions.
  absl::StatusOr<std::vector<Partition>> parts = WalkPartitionTable(image);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].scheme, PartitionScheme::kGpt);
  EXPECT_EQ((*parts)[0].offset, 2048u * 512);
  EXPECT_EQ((*parts)[1].offset, 4096u * 512);
  EXPECT_EQ((*parts)[1].size, (8191u - 34 - 4096 + 1) * 512);
}

TEST(GptTest, ProtectiveMbrCoversTheDisk) {
  const std::vector<uint8_t> image = Image(TwoPartitions());
  LegacyMbr mbr;
  memcpy(&mbr, image.data(), sizeof(mbr));
  // Copies: gtest binds references, which packed fields cannot take.
  const uint16_t signature = mbr.signature;
  const uint8_t type = mbr.partition[0].os_type;
  const uint32_t start = mbr.partition[0].starting_lba, size = mbr.partition[0].size_in_lba;
  EXPECT_EQ(signature, 0xaa55);
  EXPECT_EQ(type, 0xee);
  EXPECT_EQ(start, 1u);
  EXPECT_EQ(size, kSectors - 1);
}

TEST(GptTest, EveryDamagedStructureIsNamed) {
  const std::vector<uint8_t> good = Image(TwoPartitions());
  struct Case {
    size_t offset;
    const char* expect;
  };
  const Case cases[] = {
      {510, "signature"},                            // MBR boot signature
      {446 + 4, "protective MBR"},                   // MBR record type
      {512 + 0, "signature"},                        // "EFI PART"
      {512 + 24, "header CRC32"},                    // my_lba, CRC now wrong
      {1024 + 5, "primary partition entry array"},   // an entry byte
      {(kSectors - 1) * 512 + 40, "backup header"},  // backup header field
      {(kSectors - 33) * 512 + 7, "backup partition entry array"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = good;
    bad[c.offset] ^= 0x40;
    absl::StatusOr<GptDisk> r = ParseGptImage(bad);
    ASSERT_FALSE(r.ok()) << "offset " << c.offset;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << "offset " << c.offset << ": " << r.status();
  }
  // Truncated image: the backup header is not where the primary says.
  std::vector<uint8_t> shorter(good.begin(), good.end() - 512);
  EXPECT_FALSE(ParseGptImage(shorter).ok());
}

TEST(GptTest, ReaderRejectsOverlapsEvenWithValidCrcs) {
  // Build a table whose entries overlap by patching and re-signing: the
  // reader must not rely on the writer's checks.
  GptDisk d = TwoPartitions();
  d.partitions[1].first_lba = 5000;
  std::vector<uint8_t> image = Image(d);
  auto patch = [&](size_t entries_offset, size_t header_offset) {
    uint64_t start = 4000;  // inside partition 1
    memcpy(&image[entries_offset + kGptEntrySize + 32], &start, 8);
    const uint32_t crc = GptCrc32(&image[entries_offset], kGptEntryCount * kGptEntrySize);
    memcpy(&image[header_offset + 88], &crc, 4);
    memset(&image[header_offset + 16], 0, 4);
    const uint32_t hcrc = GptCrc32(&image[header_offset], 92);
    memcpy(&image[header_offset + 16], &hcrc, 4);
  };
  patch(2 * 512, 512);
  patch((kSectors - 33) * 512, (kSectors - 1) * 512);
  absl::StatusOr<GptDisk> r = ParseGptImage(image);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("overlap"), std::string::npos) << r.status();
}

TEST(GptTest, WriterRejectsBadPartitions) {
  GptDisk d = TwoPartitions();
  d.partitions[1].first_lba = 4000;
  EXPECT_NE(BuildGpt(d).status().message().find("overlaps"), std::string::npos);
  d = TwoPartitions();
  d.partitions[1].last_lba = kSectors - 1;  // the backup header's sector
  EXPECT_NE(BuildGpt(d).status().message().find("usable"), std::string::npos);
  d = TwoPartitions();
  d.partitions[0].first_lba = 33;  // inside the primary entry array
  EXPECT_FALSE(BuildGpt(d).ok());
  d = TwoPartitions();
  d.partitions[0].name = std::string(37, 'x');
  EXPECT_NE(BuildGpt(d).status().message().find("36"), std::string::npos);
  d = TwoPartitions();
  d.partitions[0].type_guid = GptGuid{};
  EXPECT_FALSE(BuildGpt(d).ok());
  d = TwoPartitions();
  d.sector_count = 60;
  d.partitions.clear();
  EXPECT_FALSE(BuildGpt(d).ok());
}

TEST(GptTest, UsableRangeLeavesRoomForBothTables) {
  EXPECT_EQ(GptFirstUsableLba(), 34u);
  EXPECT_EQ(GptLastUsableLba(kSectors), kSectors - 34);
}

}  // namespace
}  // namespace saveoops
