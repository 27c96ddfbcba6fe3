#include "store/locate.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/partition_table.h"
#include "gtest/gtest.h"
#include "store/ring.h"
#include "store/test_util.h"

namespace saveoops {
namespace store_test {
namespace {

// --- Disk images -------------------------------------------------------------

void PutLe32(std::vector<uint8_t>& b, size_t at, uint32_t v) { memcpy(&b[at], &v, 4); }

void SetMbrEntry(std::vector<uint8_t>& img, uint64_t sector, int slot, uint8_t type, uint32_t lba,
                 uint32_t count) {
  const size_t at = sector * 512 + offsetof(LegacyMbr, partition) + slot * 16;
  img[at + offsetof(MbrPartitionRecord, os_type)] = type;
  PutLe32(img, at + offsetof(MbrPartitionRecord, starting_lba), lba);
  PutLe32(img, at + offsetof(MbrPartitionRecord, size_in_lba), count);
  img[sector * 512 + 510] = 0x55;
  img[sector * 512 + 511] = 0xAA;
}

// Formats a store inside `path` at the given extent and adds one record.
CaptureRecord FormatAndAppend(const std::string& path, uint64_t offset, uint64_t size) {
  const StoreLocation loc{path, offset, size};
  EXPECT_TRUE(FormatStore(loc, TestUuid(20)).ok());
  std::mt19937_64 rng(offset);
  absl::StatusOr<CaptureRecord> w = AppendRecord(loc, MakeNewRecord(rng, 3000));
  EXPECT_TRUE(w.ok());
  return w.ok() ? *w : CaptureRecord{};
}

void ExpectStoreFoundAt(const std::string& path, uint64_t offset, uint64_t size,
                        const CaptureRecord& rec) {
  absl::StatusOr<StoreLocation> found = FindStoreInImage(path);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->path, path);
  EXPECT_EQ(found->offset, offset);
  EXPECT_EQ(found->size, size);
  absl::StatusOr<StoreListing> l = ListRecords(*found);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->records.size(), 1u);
  ExpectSameRecord(l->records[0], rec);
}

TEST(StoreTest, FindsStoreInMbrImage) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/mbr.img";
  std::vector<uint8_t> img(1 << 20, 0);
  SetMbrEntry(img, 0, 0, 0x83, 64, 512);  // 256 KiB of zeros: not a store
  SetMbrEntry(img, 0, 1, 0x83, 1024, 512);
  WriteFile(path, img);
  const CaptureRecord rec = FormatAndAppend(path, 1024 * 512, 512 * 512);
  ExpectStoreFoundAt(path, 1024 * 512, 512 * 512, rec);

  absl::StatusOr<std::vector<Partition>> parts = WalkPartitionTable(ReadFile(path));
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[1].scheme, PartitionScheme::kMbr);
  EXPECT_EQ((*parts)[1].number, 2);
}

// A store in a partition at byte 4096 (LBA 8) puts its copy 0 where a
// whole-disk store would keep copy 1. copy_index tells them apart, so the
// partition is found, not a whole-disk store misplaced by one block.
TEST(StoreTest, PartitionAtLba8IsNotTakenForAWholeDiskStore) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/lba8.img";
  std::vector<uint8_t> img(512 * 1024, 0);
  SetMbrEntry(img, 0, 0, 0x83, 8, 512);
  WriteFile(path, img);
  const CaptureRecord rec = FormatAndAppend(path, 4096, 512 * 512);
  ExpectStoreFoundAt(path, 4096, 512 * 512, rec);
  absl::StatusOr<StoreListing> l = ListRecords({path, 0, 0});
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(
      absl::StrContains(l.status().message(),
                        "copy 1 (store byte 4096): copy_index is 0 but this is block 1: the "
                        "store starts 4096 bytes from here"))
      << l.status();
}

TEST(StoreTest, FindsStoreInMbrLogicalPartition) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/ebr.img";
  std::vector<uint8_t> img(2 << 20, 0);
  SetMbrEntry(img, 0, 0, 0x83, 64, 1024);
  SetMbrEntry(img, 0, 1, kMbrTypeExtendedLba, 2048, 2048);
  // EBR 1 at 2048: logical 5 at 2048+1..+500; next EBR at 2048+1000.
  SetMbrEntry(img, 2048, 0, 0x83, 1, 500);
  SetMbrEntry(img, 2048, 1, kMbrTypeExtendedChs, 1000, 3000);
  // EBR 2 at 3048: logical 6 at 3048+500, 256 KiB.
  SetMbrEntry(img, 3048, 0, 0x83, 500, 512);
  WriteFile(path, img);
  const CaptureRecord rec = FormatAndAppend(path, (3048 + 500) * 512, 512 * 512);
  ExpectStoreFoundAt(path, (3048 + 500) * 512, 512 * 512, rec);

  absl::StatusOr<std::vector<Partition>> parts = WalkPartitionTable(ReadFile(path));
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[1].number, 5);
  EXPECT_EQ((*parts)[1].offset, (2048u + 1) * 512);
  EXPECT_EQ((*parts)[2].number, 6);
}

// Protective MBR + GPT (header in LBA 1, entries from LBA 2); the store is
// entry 3 (entry 2 unused). With `backup_only` the primary header is
// wiped and only the backup in the last sector remains.
void BuildGptImage(const std::string& path, bool backup_only) {
  const uint64_t sectors = 4096;  // 2 MiB
  std::vector<uint8_t> img(sectors * 512, 0);
  SetMbrEntry(img, 0, 0, kMbrTypeGptProtective, 1, sectors - 1);
  GptHeader h;
  memset(&h, 0, sizeof(h));
  memcpy(h.signature, kGptSignature, 8);
  h.revision = 0x00010000;
  h.header_size = 92;
  h.my_lba = 1;
  h.alternate_lba = sectors - 1;
  h.first_usable_lba = 34;
  h.last_usable_lba = sectors - 34;
  h.partition_entry_lba = 2;
  h.number_of_partition_entries = 128;
  h.size_of_partition_entry = 128;
  memcpy(&img[backup_only ? (sectors - 1) * 512 : 512], &h, sizeof(h));
  auto entry = [&](int index, uint64_t first, uint64_t last) {
    GptPartitionEntry e;
    memset(&e, 0, sizeof(e));
    e.partition_type_guid[0] = 0xaf;
    e.partition_type_guid[15] = static_cast<uint8_t>(index);
    e.starting_lba = first;
    e.ending_lba = last;
    memcpy(&img[2 * 512 + index * 128], &e, sizeof(e));
  };
  entry(0, 1024, 1535);
  entry(2, 2048, 2559);
  WriteFile(path, img);
}

TEST(StoreTest, FindsStoreInGptImage) {
  const std::string dir = MakeTempDir();
  for (bool backup_only : {false, true}) {
    const std::string path = dir + (backup_only ? "/gpt_backup.img" : "/gpt.img");
    BuildGptImage(path, backup_only);
    const CaptureRecord rec = FormatAndAppend(path, 2048 * 512, 512 * 512);
    ExpectStoreFoundAt(path, 2048 * 512, 512 * 512, rec);
    absl::StatusOr<std::vector<Partition>> parts = WalkPartitionTable(ReadFile(path));
    ASSERT_TRUE(parts.ok()) << parts.status();
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].scheme, PartitionScheme::kGpt);
    EXPECT_EQ((*parts)[0].number, 1);
    EXPECT_EQ((*parts)[0].size, 512u * 512);
    EXPECT_EQ((*parts)[1].number, 3);
    EXPECT_EQ((*parts)[1].offset, 2048u * 512);
  }
}

TEST(StoreTest, FindStoreInImageWholeFileAndNotFound) {
  const std::string dir = MakeTempDir();
  const std::string whole = dir + "/whole.img";
  const CaptureRecord rec = FormatAndAppend(whole, 0, 64 * 1024);
  absl::StatusOr<StoreLocation> found = FindStoreInImage(whole);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->offset, 0u);
  EXPECT_EQ(found->size, 0u);
  absl::StatusOr<StoreListing> l = ListRecords(*found);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->records.size(), 1u);
  ExpectSameRecord(l->records[0], rec);

  const std::string none = dir + "/none.img";
  WriteFile(none, std::vector<uint8_t>(1 << 20, 0));
  found = FindStoreInImage(none);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(found.status().message(), "no MBR or GPT partition table"))
      << found.status();

  std::vector<uint8_t> img(2 << 20, 0);
  SetMbrEntry(img, 0, 0, 0x83, 2048, 100);
  SetMbrEntry(img, 0, 1, 0x83, 100000, 100);  // past the end
  const std::string bad = dir + "/bad.img";
  WriteFile(bad, img);
  found = FindStoreInImage(bad);
  ASSERT_FALSE(found.ok());
  const std::string msg(found.status().message());
  EXPECT_TRUE(absl::StrContains(msg, "MBR partition 1 (image byte 1048576, 51200 bytes)")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "MBR partition 2")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "starts past the end")) << msg;
}

// --- store format: the region from the table, and refusals ----------------

constexpr uint64_t kMiB = 1 << 20;

// Random bytes everywhere but the partition-table fields, so that a write
// outside the store region cannot go unnoticed.
std::vector<uint8_t> RandomImage(uint64_t size, const std::vector<uint64_t>& table_sectors,
                                 uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> img(size);
  for (uint8_t& b : img) b = static_cast<uint8_t>(rng());
  for (uint64_t sector : table_sectors) {
    std::fill(img.begin() + sector * 512 + 446, img.begin() + sector * 512 + 512, 0);
  }
  return img;
}

// Formats what `request` resolves to and checks that every byte outside
// the region is as before and the store fills the region.
void FormatAndExpectOnlyRegionWritten(const FormatRequest& request, uint64_t want_offset,
                                      uint64_t want_size) {
  const std::vector<uint8_t> before = ReadFile(request.path);
  absl::StatusOr<StoreLocation> where = ResolveFormatRegion(request);
  ASSERT_TRUE(where.ok()) << where.status();
  EXPECT_EQ(where->offset, want_offset);
  EXPECT_EQ(where->size, want_size);
  ASSERT_TRUE(FormatStore(*where, TestUuid(60)).ok());
  const std::vector<uint8_t> after = ReadFile(request.path);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + want_offset, after.begin()))
      << "bytes before the region changed";
  EXPECT_TRUE(std::equal(before.begin() + want_offset + want_size, before.end(),
                         after.begin() + want_offset + want_size))
      << "bytes after the region changed";
  absl::StatusOr<StoreInfo> info = ReadStoreInfo(*where);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->store_size, want_size);
  absl::StatusOr<StoreListing> listing = ListRecords(*where);
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_TRUE(listing->records.empty());
}

// An MBR image with primary 1, an extended partition holding logicals 5
// and 6 (as FindsStoreInMbrLogicalPartition), random bytes elsewhere.
std::string BuildMbrImageWithLogicals(const std::string& dir) {
  const std::string path = dir + "/mbr.img";
  std::vector<uint8_t> img = RandomImage(2 * kMiB, {0, 2048, 3048}, 61);
  SetMbrEntry(img, 0, 0, 0x83, 64, 1024);
  SetMbrEntry(img, 0, 1, kMbrTypeExtendedLba, 2048, 2048);
  SetMbrEntry(img, 2048, 0, 0x83, 1, 500);
  SetMbrEntry(img, 2048, 1, kMbrTypeExtendedChs, 1000, 3000);
  SetMbrEntry(img, 3048, 0, 0x83, 500, 512);
  WriteFile(path, img);
  return path;
}

TEST(FormatRegionTest, PartitionNumberTakesOffsetAndSizeFromTheTable) {
  const std::string dir = MakeTempDir();
  const std::string mbr = BuildMbrImageWithLogicals(dir);
  FormatAndExpectOnlyRegionWritten({mbr, 1, 0, 0}, 64 * 512, 1024 * 512);
  FormatAndExpectOnlyRegionWritten({mbr, 5, 0, 0}, 2049 * 512, 500 * 512);
  FormatAndExpectOnlyRegionWritten({mbr, 6, 0, 0}, (3048 + 500) * 512, 512 * 512);

  const std::string gpt = dir + "/gpt.img";
  BuildGptImage(gpt, /*backup_only=*/false);
  FormatAndExpectOnlyRegionWritten({gpt, 3, 0, 0}, 2048 * 512, 512 * 512);
  FormatAndExpectOnlyRegionWritten({gpt, 1, 0, 0}, 1024 * 512, 512 * 512);

  // --offset/--size naming a partition exactly, or inside one, is fine.
  FormatAndExpectOnlyRegionWritten({mbr, 0, 64 * 512 + 4096, 256 * 1024}, 64 * 512 + 4096,
                                   256 * 1024);
}

TEST(FormatRegionTest, SizeIsHonouredOnAnExistingFile) {
  // The old failure: --size ignored on an existing file, the store ran over
  // the rest of it.
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/plain.img";
  WriteFile(path, RandomImage(4 * kMiB, {0}, 62));
  FormatAndExpectOnlyRegionWritten({path, 0, kMiB, kMiB}, kMiB, kMiB);
  // Without --size: to the end.
  FormatAndExpectOnlyRegionWritten({path, 0, 3 * kMiB, 0}, 3 * kMiB, kMiB);
}

// The layout: a 8 MiB MBR image with three 2 MiB partitions.
std::string BuildThreePartitionImage(const std::string& dir, bool fourth_past_end) {
  const std::string path = dir + (fourth_past_end ? "/four.img" : "/three.img");
  std::vector<uint8_t> img = RandomImage(8 * kMiB, {0}, 63);
  SetMbrEntry(img, 0, 0, 0x83, 2048, 4096);                        // [1, 3) MiB
  SetMbrEntry(img, 0, 1, 0x83, 6144, 4096);                        // [3, 5) MiB
  SetMbrEntry(img, 0, 2, 0x83, 10240, 4096);                       // [5, 7) MiB
  if (fourth_past_end) SetMbrEntry(img, 0, 3, 0x83, 14336, 4096);  // [7, 9) MiB
  WriteFile(path, img);
  return path;
}

void ExpectRefused(const FormatRequest& request, const std::vector<std::string>& parts) {
  const std::vector<uint8_t> before = ReadFile(request.path);
  absl::StatusOr<StoreLocation> where = ResolveFormatRegion(request);
  ASSERT_FALSE(where.ok()) << "accepted [" << where->offset << ", +" << where->size << ")";
  for (const std::string& part : parts) {
    EXPECT_TRUE(absl::StrContains(where.status().message(), part))
        << where.status() << "\n  should say: " << part;
  }
  EXPECT_TRUE(ReadFile(request.path) == before);
}

TEST(FormatRegionTest, RefusesARegionThatOverlapsAnotherPartition) {
  const std::string dir = MakeTempDir();
  const std::string path = BuildThreePartitionImage(dir, false);
  // The case: partition 2's offset, a size that runs on.
  ExpectRefused({path, 0, 3 * kMiB, 3 * kMiB},
                {"store region [3145728, 6291456) of '" + path + "'",
                 "overlaps MBR partition 2 (image byte 3145728, 2097152 bytes) at "
                 "[3145728, 5242880) and MBR partition 3 (image byte 5242880, 2097152 bytes) at "
                 "[5242880, 7340032)"});
  // Starting inside partition 2, running into 3.
  ExpectRefused({path, 0, 4 * kMiB, 2 * kMiB},
                {"store region [4194304, 6291456)",
                 "MBR partition 3 (image byte 5242880, 2097152 bytes) at [5242880, 7340032)"});
  // Starting in partition 1, ending in 2.
  ExpectRefused({path, 0, 2 * kMiB, 2 * kMiB},
                {"store region [2097152, 4194304)", "overlaps MBR partition"});
  // Partition 2 exactly is fine.
  FormatAndExpectOnlyRegionWritten({path, 0, 3 * kMiB, 2 * kMiB}, 3 * kMiB, 2 * kMiB);
}

TEST(FormatRegionTest, RefusesARegionOutsideEveryPartition) {
  const std::string dir = MakeTempDir();
  const std::string path = BuildThreePartitionImage(dir, false);
  // Over the MBR itself; and the unpartitioned last MiB.
  ExpectRefused({path, 0, 0, 64 * 1024},
                {"store region [0, 65536)", "lies outside every partition of its MBR table",
                 "--partition=N"});
  ExpectRefused({path, 0, 7 * kMiB, 0}, {"store region [7340032, 8388608)", "outside every"});
  // Inside the extended container but in no logical partition: its EBRs
  // live there.
  const std::string mbr = BuildMbrImageWithLogicals(dir);
  ExpectRefused({mbr, 0, 2560 * 512, 64 * 1024}, {"outside every partition"});
}

TEST(FormatRegionTest, RefusesARegionPastTheEnd) {
  const std::string dir = MakeTempDir();
  const std::string plain = dir + "/plain.img";
  WriteFile(plain, RandomImage(kMiB, {0}, 64));
  ExpectRefused({plain, 0, kMiB / 2, kMiB}, {"store region [524288, 1572864) of '" + plain +
                                             "' runs past the end of the 1048576-byte file"});
  ExpectRefused({plain, 0, 2 * kMiB, 0}, {"runs past the end of the 1048576-byte file"});

  const std::string four = BuildThreePartitionImage(dir, true);
  ExpectRefused({four, 4, 0, 0},
                {"MBR partition 4 (image byte 7340032, 2097152 bytes) [7340032, 9437184) of '" +
                 four + "' runs past the end of the 8388608-byte file"});
}

TEST(FormatRegionTest, RefusesAPartitionThatOverlapsAnother) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/overlap.img";
  std::vector<uint8_t> img = RandomImage(8 * kMiB, {0}, 65);
  SetMbrEntry(img, 0, 0, 0x83, 2048, 4096);  // [1, 3) MiB
  SetMbrEntry(img, 0, 1, 0x83, 4096, 4096);  // [2, 4) MiB
  WriteFile(path, img);
  ExpectRefused({path, 1, 0, 0},
                {"MBR partition 1 (image byte 1048576, 2097152 bytes) [1048576, 3145728)",
                 "overlaps MBR partition 2 (image byte 2097152, 2097152 bytes) at "
                 "[2097152, 4194304)"});
}

TEST(FormatRegionTest, RefusesWhatCannotBeAPartitionFormat) {
  const std::string dir = MakeTempDir();
  const std::string mbr = BuildMbrImageWithLogicals(dir);
  // The extended container is not a partition a store can fill.
  ExpectRefused({mbr, 2, 0, 0}, {"has no partition 2 (partitions: 1, 5, 6)"});
  ExpectRefused({mbr, 9, 0, 0}, {"has no partition 9"});
  ExpectRefused({mbr, 1, 4096, 0}, {"without --offset and --size"});
  const std::string plain = dir + "/plain.img";
  WriteFile(plain, RandomImage(kMiB, {0}, 66));
  ExpectRefused({plain, 1, 0, 0}, {"has no partition 1 (partitions: none"});

  const std::string missing = dir + "/missing.img";
  absl::StatusOr<StoreLocation> where = ResolveFormatRegion({missing, 1, 0, 0});
  ASSERT_FALSE(where.ok());
  EXPECT_TRUE(absl::StrContains(where.status().message(), "does not exist")) << where.status();
  where = ResolveFormatRegion({missing, 0, 0, 0});
  ASSERT_FALSE(where.ok());
  EXPECT_TRUE(absl::StrContains(where.status().message(), "give --size")) << where.status();
  where = ResolveFormatRegion({missing, 0, 4096, kMiB});
  ASSERT_TRUE(where.ok()) << where.status();
  EXPECT_EQ(where->offset, 4096u);
  EXPECT_EQ(where->size, kMiB);
}

}  // namespace
}  // namespace store_test
}  // namespace saveoops
