#include "common/partition_table.h"

#include <string.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "common/byte_source.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

void PutLe32(std::vector<uint8_t>& b, size_t at, uint32_t v) { memcpy(&b[at], &v, 4); }

// Sets record `slot` of the MBR/EBR in `sector` and its boot signature.
void SetMbrEntry(std::vector<uint8_t>& img, uint64_t sector, int slot, uint8_t type, uint32_t lba,
                 uint32_t count) {
  const size_t at = sector * 512 + offsetof(LegacyMbr, partition) + slot * 16;
  img[at + offsetof(MbrPartitionRecord, os_type)] = type;
  PutLe32(img, at + offsetof(MbrPartitionRecord, starting_lba), lba);
  PutLe32(img, at + offsetof(MbrPartitionRecord, size_in_lba), count);
  img[sector * 512 + 510] = 0x55;
  img[sector * 512 + 511] = 0xAA;
}

GptHeader BasicGptHeader(uint64_t sectors) {
  GptHeader h;
  memset(&h, 0, sizeof(h));
  memcpy(h.signature, kGptSignature, 8);
  h.revision = kGptRevision;
  h.header_size = 92;
  h.my_lba = 1;
  h.alternate_lba = sectors - 1;
  h.first_usable_lba = 34;
  h.last_usable_lba = sectors - 34;
  h.partition_entry_lba = 2;
  h.number_of_partition_entries = 128;
  h.size_of_partition_entry = 128;
  return h;
}

void SetGptEntry(std::vector<uint8_t>& img, uint64_t array_offset, uint32_t esize, int index,
                 uint8_t type, uint64_t first, uint64_t last, const char* name = "") {
  GptPartitionEntry e;
  memset(&e, 0, sizeof(e));
  e.partition_type_guid[0] = type;
  e.partition_type_guid[15] = static_cast<uint8_t>(index);
  e.unique_partition_guid[3] = 0x77;
  e.starting_lba = first;
  e.ending_lba = last;
  for (size_t c = 0; name[c] != 0; ++c) {
    const uint16_t wide = static_cast<uint8_t>(name[c]);
    memcpy(reinterpret_cast<uint8_t*>(&e) + offsetof(GptPartitionEntry, partition_name) + 2 * c,
           &wide, 2);
  }
  memcpy(&img[array_offset + index * esize], &e, sizeof(e));
}

std::vector<Partition> MustWalk(const std::vector<uint8_t>& img) {
  absl::StatusOr<std::vector<Partition>> p = WalkPartitionTable(img);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : std::vector<Partition>{};
}

TEST(PartitionTableTest, NoTableIsAnEmptyList) {
  EXPECT_TRUE(MustWalk(std::vector<uint8_t>(1 << 20, 0)).empty());
  EXPECT_TRUE(MustWalk({}).empty());
  EXPECT_TRUE(MustWalk(std::vector<uint8_t>(100, 0)).empty());
}

TEST(PartitionTableTest, MbrPrimaries) {
  std::vector<uint8_t> img(1 << 20, 0);
  SetMbrEntry(img, 0, 0, 0x83, 64, 512);
  SetMbrEntry(img, 0, 2, 0xda, 1024, 512);  // slot 3: numbered 3
  PutLe32(img, offsetof(LegacyMbr, unique_mbr_disk_signature), 0xdeadbeef);
  const std::vector<Partition> p = MustWalk(img);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].scheme, PartitionScheme::kMbr);
  EXPECT_EQ(p[0].number, 1);
  EXPECT_EQ(p[0].offset, 64u * 512);
  EXPECT_EQ(p[0].size, 512u * 512);
  EXPECT_EQ(p[0].mbr_type, 0x83);
  EXPECT_EQ(p[0].gpt_type, GptGuid{});
  EXPECT_EQ(p[1].number, 3);
  EXPECT_EQ(p[1].mbr_type, 0xda);
  EXPECT_EQ(p[1].offset, 1024u * 512);
  // The disk signature is the disk's identity, on every partition.
  const GptGuid want_id = {0xef, 0xbe, 0xad, 0xde};
  EXPECT_EQ(p[0].disk_id, want_id);
  EXPECT_EQ(p[1].disk_id, want_id);
  EXPECT_EQ(p[0].gpt_unique, GptGuid{});
}

TEST(PartitionTableTest, MbrLogicalPartitionsFollowTheEbrChain) {
  std::vector<uint8_t> img(2 << 20, 0);
  SetMbrEntry(img, 0, 0, 0x83, 64, 1024);
  SetMbrEntry(img, 0, 1, kMbrTypeExtendedLba, 2048, 2048);
  // EBR 1 at 2048: logical 5 at 2048+1..+500; next EBR at 2048+1000.
  SetMbrEntry(img, 2048, 0, 0x83, 1, 500);
  SetMbrEntry(img, 2048, 1, kMbrTypeExtendedChs, 1000, 3000);
  // EBR 2 at 3048: logical 6 at 3048+500, 256 KiB.
  SetMbrEntry(img, 3048, 0, 0x82, 500, 512);
  const std::vector<Partition> p = MustWalk(img);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].number, 1);
  EXPECT_EQ(p[1].number, 5);
  EXPECT_EQ(p[1].offset, (2048u + 1) * 512);
  EXPECT_EQ(p[1].size, 500u * 512);
  EXPECT_EQ(p[2].number, 6);
  EXPECT_EQ(p[2].offset, (3048u + 500) * 512);
  EXPECT_EQ(p[2].size, 512u * 512);
  EXPECT_EQ(p[2].mbr_type, 0x82);
}

TEST(PartitionTableTest, EbrChainsAreBounded) {
  // A chain pointing back to itself terminates.
  std::vector<uint8_t> mbr(1 << 20, 0);
  SetMbrEntry(mbr, 0, 0, kMbrTypeExtendedLba, 8, 100);
  SetMbrEntry(mbr, 8, 0, 0x83, 1, 10);
  SetMbrEntry(mbr, 8, 1, kMbrTypeExtendedLba, 0, 10);  // link to itself: 0
  absl::StatusOr<std::vector<Partition>> p = WalkPartitionTable(mbr);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->size(), 1u);

  // A chain that links backwards stops at the backwards link.
  std::vector<uint8_t> back(1 << 20, 0);
  SetMbrEntry(back, 0, 0, kMbrTypeExtendedLba, 8, 1000);
  SetMbrEntry(back, 8, 0, 0x83, 1, 10);
  SetMbrEntry(back, 8, 1, kMbrTypeExtendedLba, 100, 10);
  SetMbrEntry(back, 108, 0, 0x83, 1, 10);
  SetMbrEntry(back, 108, 1, kMbrTypeExtendedLba, 0, 10);  // to 8: backwards
  EXPECT_EQ(MustWalk(back).size(), 2u);

  // The longest forward chain is cut at kMaxWalkedLogicalPartitions.
  std::vector<uint8_t> longest(4 << 20, 0);
  SetMbrEntry(longest, 0, 0, kMbrTypeExtendedLba, 8, 8000);
  for (int i = 0; i < 200; ++i) {
    SetMbrEntry(longest, 8 + 16 * i, 0, 0x83, 1, 10);
    SetMbrEntry(longest, 8 + 16 * i, 1, kMbrTypeExtendedLba, 16 * (i + 1), 16);
  }
  EXPECT_EQ(MustWalk(longest).size(), static_cast<size_t>(kMaxWalkedLogicalPartitions));
}

TEST(PartitionTableTest, EbrOutsideTheImageEndsTheChain) {
  std::vector<uint8_t> img(64 * 1024, 0);
  SetMbrEntry(img, 0, 0, 0x83, 8, 16);
  SetMbrEntry(img, 0, 1, kMbrTypeExtendedLba, 100000, 16);  // EBR past the end
  const std::vector<Partition> p = MustWalk(img);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].number, 1);
}

TEST(PartitionTableTest, GptEntriesInTableOrderWithTypes) {
  const uint64_t sectors = 4096;
  std::vector<uint8_t> img(sectors * 512, 0);
  SetMbrEntry(img, 0, 0, kMbrTypeGptProtective, 1, sectors - 1);
  GptHeader h = BasicGptHeader(sectors);
  for (int i = 0; i < 16; ++i) h.disk_guid[i] = static_cast<uint8_t>(0x10 + i);
  memcpy(&img[512], &h, sizeof(h));
  SetGptEntry(img, 2 * 512, 128, 0, 0xaf, 1024, 1535, "one");
  SetGptEntry(img, 2 * 512, 128, 2, 0xb0, 2048, 2559);  // entry 2 unused
  const std::vector<Partition> p = MustWalk(img);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].scheme, PartitionScheme::kGpt);
  EXPECT_EQ(p[0].number, 1);
  EXPECT_EQ(p[0].offset, 1024u * 512);
  EXPECT_EQ(p[0].size, 512u * 512);
  EXPECT_EQ(p[0].gpt_type[0], 0xaf);
  EXPECT_EQ(p[0].gpt_unique[3], 0x77);
  EXPECT_EQ(p[0].disk_id[0], 0x10);
  EXPECT_EQ(p[0].disk_id[15], 0x1f);
  EXPECT_EQ(p[0].mbr_type, 0);
  EXPECT_EQ(p[1].number, 3);
  EXPECT_EQ(p[1].offset, 2048u * 512);
  EXPECT_EQ(p[1].gpt_type[0], 0xb0);

  // Only the backup header in the last sector.
  std::vector<uint8_t> backup = img;
  memset(&backup[512], 0, 512);
  memcpy(&backup[(sectors - 1) * 512], &h, sizeof(h));
  const std::vector<Partition> b = MustWalk(backup);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].number, 3);
  EXPECT_EQ(b[1].offset, 2048u * 512);
}

TEST(PartitionTableTest, GptWith4096ByteBlocks) {
  std::vector<uint8_t> img(4 << 20, 0);
  GptHeader h = BasicGptHeader(1024);
  h.size_of_partition_entry = 256;
  h.number_of_partition_entries = 16;
  memcpy(&img[4096], &h, sizeof(h));
  SetGptEntry(img, 2 * 4096, 256, 1, 0x11, 100, 199);
  const std::vector<Partition> p = MustWalk(img);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].number, 2);
  EXPECT_EQ(p[0].offset, 100u * 4096);
  EXPECT_EQ(p[0].size, 100u * 4096);
}

TEST(PartitionTableTest, OverlappingAndOutOfBoundsEntriesAreListedAsDescribed) {
  // Lenient: the caller verifies what it finds; only entries that cannot
  // be a byte range at all (end before start, overflow) are dropped.
  const uint64_t sectors = 2048;
  std::vector<uint8_t> img(sectors * 512, 0);
  const GptHeader h = BasicGptHeader(sectors);
  memcpy(&img[512], &h, sizeof(h));
  SetGptEntry(img, 1024, 128, 0, 1, 100, 299);
  SetGptEntry(img, 1024, 128, 1, 1, 200, 399);        // overlaps entry 1
  SetGptEntry(img, 1024, 128, 2, 1, 100000, 100099);  // past the end
  SetGptEntry(img, 1024, 128, 3, 1, 500, 400);        // end before start
  SetGptEntry(img, 1024, 128, 4, 1, uint64_t{1} << 60, (uint64_t{1} << 60) + 1);  // overflows
  const std::vector<Partition> p = MustWalk(img);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].number, 1);
  EXPECT_EQ(p[1].number, 2);
  EXPECT_EQ(p[1].offset, 200u * 512);
  EXPECT_EQ(p[2].number, 3);
  EXPECT_EQ(p[2].offset, 100000u * 512);

  std::vector<uint8_t> mbr(64 * 1024, 0);
  SetMbrEntry(mbr, 0, 0, 0x83, 8, 100);
  SetMbrEntry(mbr, 0, 1, 0x83, 50, 100);          // overlaps 1
  SetMbrEntry(mbr, 0, 2, 0x83, 0xfffffff0, 100);  // past the end
  const std::vector<Partition> m = MustWalk(mbr);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[2].offset, uint64_t{0xfffffff0} * 512);
}

TEST(PartitionTableTest, HostileGptHeadersAreRejectedWithAReason) {
  std::vector<uint8_t> img(64 * 1024, 0);
  GptHeader h;
  memset(&h, 0, sizeof(h));
  memcpy(h.signature, kGptSignature, 8);
  h.header_size = 92;
  h.partition_entry_lba = 2;
  h.size_of_partition_entry = 100;
  h.number_of_partition_entries = 4;
  memcpy(&img[512], &h, sizeof(h));
  absl::StatusOr<std::vector<Partition>> p = WalkPartitionTable(img);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::StrContains(p.status().message(), "SizeOfPartitionEntry is 100"));
  EXPECT_TRUE(absl::StrContains(p.status().message(), "image: GPT header at byte 512"))
      << p.status();
  h.size_of_partition_entry = 128;
  h.number_of_partition_entries = 0xffffffff;
  memcpy(&img[512], &h, sizeof(h));
  p = WalkPartitionTable(img);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::StrContains(p.status().message(), "exceed the 4194304-byte limit"))
      << p.status();
  h.number_of_partition_entries = 4;
  h.partition_entry_lba = uint64_t{1} << 60;
  memcpy(&img[512], &h, sizeof(h));
  p = WalkPartitionTable(img);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(absl::StrContains(p.status().message(), "outside")) << p.status();
  h.partition_entry_lba = 2;
  h.header_size = 91;
  memcpy(&img[512], &h, sizeof(h));
  p = WalkPartitionTable(img);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::StrContains(p.status().message(), "HeaderSize is 91")) << p.status();
}

TEST(PartitionTableTest, TruncatedImagesNeverReadPastTheirEnd) {
  const uint64_t sectors = 4096;
  std::vector<uint8_t> full(sectors * 512, 0);
  SetMbrEntry(full, 0, 0, kMbrTypeGptProtective, 1, sectors - 1);
  const GptHeader h = BasicGptHeader(sectors);
  memcpy(&full[512], &h, sizeof(h));
  SetGptEntry(full, 1024, 128, 0, 1, 1024, 1535);
  // Cut inside the entry array: an error naming the array, not a read past
  // the buffer (ASan would catch one).
  std::vector<uint8_t> cut(full.begin(), full.begin() + 4 * 512);
  absl::StatusOr<std::vector<Partition>> p = WalkPartitionTable(cut);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::StrContains(p.status().message(), "partition entry array (LBA 2"))
      << p.status();
  // Every prefix either walks or fails cleanly.
  for (size_t len = 0; len <= 40 * 512; len += 37) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + len);
    (void)WalkPartitionTable(prefix);
  }
}

TEST(PartitionTableTest, UnknownSizeIsAnError) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    FileByteSource pipe_source(fds[0]);
    absl::StatusOr<std::vector<Partition>> p = WalkPartitionTable(pipe_source, "pipe");
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(absl::StrContains(p.status().message(), "pipe: size unknown")) << p.status();
  }
  close(fds[0]);
  close(fds[1]);
}

TEST(PartitionTableTest, DecodeGptEntriesCopiesEveryField) {
  std::vector<uint8_t> array(4 * 128, 0);
  SetGptEntry(array, 0, 128, 1, 0x42, 10, 20, "Saveoops record store");
  array[128 + offsetof(GptPartitionEntry, partition_name) + 1] = 0x01;  // U+0153: not ASCII
  GptHeader h = BasicGptHeader(100);
  h.number_of_partition_entries = 4;
  const std::vector<GptEntry> e = DecodeGptEntries(h, array);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].index, 1u);
  EXPECT_EQ(e[0].type_guid[0], 0x42);
  EXPECT_EQ(e[0].unique_guid[3], 0x77);
  EXPECT_EQ(e[0].first_lba, 10u);
  EXPECT_EQ(e[0].last_lba, 20u);
  EXPECT_EQ(e[0].name, "?aveoops record store");
  // More entries claimed than the array holds: only those inside are read.
  h.number_of_partition_entries = 1000;
  EXPECT_EQ(DecodeGptEntries(h, array).size(), 1u);
  h.size_of_partition_entry = 100;
  EXPECT_TRUE(DecodeGptEntries(h, array).empty());
}

TEST(PartitionTableTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> junk(rng() % 5000);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    if (junk.size() >= 512 && rng() % 2) {
      junk[510] = 0x55;
      junk[511] = 0xAA;
    }
    (void)WalkPartitionTable(junk);
  }
}

}  // namespace
}  // namespace saveoops
