#include "store/extent_store.h"

#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/partition_table.h"
#include "gtest/gtest.h"
#include "store/ring.h"
#include "store/store_map.h"
#include "store/test_util.h"

namespace saveoops {
namespace {

using store_test::MakeTempDir;
using store_test::ReadFile;
using store_test::WriteFile;

constexpr uint64_t kDiskSize = 8 << 20;
constexpr uint64_t kPartStart = 1 << 20;
constexpr uint64_t kPartSize = 6 << 20;

// An 8 MiB GPT disk image whose partition 1 is [1 MiB, 7 MiB), filled with
// a pattern, holding a 64 KiB store in three extents laid out backwards
// (extent 0 last on the disk), as a file system may place a file.
struct Fixture {
  std::vector<uint8_t> disk;
  StoreMap map;
  std::string path;
};

Fixture MakeFixture() {
  Fixture f;
  f.disk.assign(kDiskSize, 0);
  for (size_t i = 0; i < f.disk.size(); ++i) f.disk[i] = static_cast<uint8_t>(i * 7 + 3);
  memset(f.disk.data(), 0, 3 * 512);
  LegacyMbr mbr;
  memset(&mbr, 0, sizeof(mbr));
  mbr.partition[0].os_type = kMbrTypeGptProtective;
  mbr.partition[0].starting_lba = 1;
  mbr.partition[0].size_in_lba = kDiskSize / 512 - 1;
  mbr.signature = kMbrSignature;
  memcpy(f.disk.data(), &mbr, sizeof(mbr));
  GptHeader h;
  memset(&h, 0, sizeof(h));
  memcpy(h.signature, kGptSignature, 8);
  h.revision = kGptRevision;
  h.header_size = sizeof(h);
  h.my_lba = 1;
  h.partition_entry_lba = 2;
  h.number_of_partition_entries = 4;
  h.size_of_partition_entry = 128;
  for (int i = 0; i < 16; ++i) h.disk_guid[i] = static_cast<uint8_t>(0x40 + i);
  memcpy(f.disk.data() + 512, &h, sizeof(h));
  GptPartitionEntry e;
  memset(&e, 0, sizeof(e));
  e.partition_type_guid[0] = 0xaf;
  for (int i = 0; i < 16; ++i) e.unique_partition_guid[i] = static_cast<uint8_t>(0x60 + i);
  e.starting_lba = kPartStart / 512;
  e.ending_lba = (kPartStart + kPartSize) / 512 - 1;
  memcpy(f.disk.data() + 1024, &e, sizeof(e));

  f.map.store_uuid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  StoreDisk d;
  d.scheme = StoreDiskScheme::kGpt;
  d.partition = 1;
  memcpy(d.disk_id.data(), h.disk_guid, 16);
  memcpy(d.partition_guid.data(), e.unique_partition_guid, 16);
  d.partition_offset = kPartStart;
  d.partition_size = kPartSize;
  f.map.disk = d;
  f.map.disk_serial = "SAVEOOPS-TEST-1";
  // 8 KiB (the superblocks), 20 KiB, 36 KiB: the second 16 KiB record
  // ([24576, 40960)) crosses from extent 1 into extent 2 at 28672.
  f.map.extents = {{0, (5 << 20), 8 << 10},
                   {8 << 10, (3 << 20) + 4096, 20 << 10},
                   {28 << 10, (2 << 20) + 512, 36 << 10}};
  std::vector<uint8_t> store(64 << 10);
  EXPECT_TRUE(FormatStoreImage(absl::MakeSpan(store), f.map.store_uuid).ok());
  for (const StoreExtent& x : f.map.extents) {
    memcpy(f.disk.data() + x.disk_offset, store.data() + x.logical, x.length);
  }
  f.path = MakeTempDir() + "/disk.img";
  WriteFile(f.path, f.disk);
  return f;
}

// The store's bytes gathered from a disk image through the map's extents.
std::vector<uint8_t> Gather(const std::vector<uint8_t>& disk, const StoreMap& map) {
  std::vector<uint8_t> store;
  for (const StoreExtent& x : map.extents) {
    store.insert(store.end(), disk.begin() + x.disk_offset,
                 disk.begin() + x.disk_offset + x.length);
  }
  return store;
}

// Every byte of `a` and `b` outside the map's extents is equal.
bool SameOutsideExtents(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                        const StoreMap& map) {
  if (a.size() != b.size()) return false;
  std::vector<bool> inside(a.size(), false);
  for (const StoreExtent& x : map.extents) {
    for (uint64_t i = 0; i < x.length; ++i) inside[x.disk_offset + i] = true;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (!inside[i] && a[i] != b[i]) return false;
  }
  return true;
}

NewRecord Record(size_t log_bytes, char fill) {
  NewRecord r;
  r.kernel_release = "6.1.0-test";
  r.panic_reason = "Kernel panic - not syncing: test";
  r.log_text.assign(log_bytes, fill);
  return r;
}

std::string Refusal(const StoreMap& map, const std::string& path, const std::string& serial) {
  StatusOr<std::unique_ptr<ExtentStoreIo>> io = OpenMappedStore(map, path, serial);
  EXPECT_FALSE(io.ok());
  return io.ok() ? "" : std::string(io.status().message());
}

TEST(ExtentStoreTest, AppendsThroughTheExtentsAndNowhereElse) {
  Fixture f = MakeFixture();
  for (int i = 0; i < 3; ++i) {
    StatusOr<std::unique_ptr<ExtentStoreIo>> io = OpenMappedStore(f.map, f.path, "SAVEOOPS-TEST-1");
    ASSERT_TRUE(io.ok()) << io.status().message();
    // 16 KiB records (header + 12000 bytes): the second crosses from
    // extent 1 into extent 2.
    StatusOr<CaptureRecord> w = AppendRecord(**io, Record(12000, static_cast<char>('a' + i)));
    ASSERT_TRUE(w.ok()) << w.status().message();
    EXPECT_EQ(w->sequence, static_cast<uint64_t>(i + 1));
  }
  const std::vector<uint8_t> after = ReadFile(f.path);
  EXPECT_TRUE(SameOutsideExtents(f.disk, after, f.map));
  const std::vector<uint8_t> store = Gather(after, f.map);
  StatusOr<StoreListing> listing = ParseStoreImage(store);
  ASSERT_TRUE(listing.ok()) << listing.status().message();
  ASSERT_EQ(listing->records.size(), 3u);
  EXPECT_EQ(listing->records[1].offset_in_store, 8192u + 16384);  // to 40960: crosses 28672
  EXPECT_EQ(listing->records[1].log_text, std::string(12000, 'b'));
  EXPECT_EQ(listing->skipped_corrupt, 0);
}

TEST(ExtentStoreTest, ReadsCrossExtentsAndStopAtTheEnd) {
  Fixture f = MakeFixture();
  MemoryByteSource disk(f.disk);
  ExtentByteSource bytes(disk, f.map.extents);
  EXPECT_EQ(bytes.size(), 64u << 10);
  std::vector<uint8_t> got(8192);
  StatusOr<size_t> n = bytes.ReadAt((8 << 10) - 100, absl::MakeSpan(got));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 8192u);
  EXPECT_EQ(0, memcmp(got.data(), f.disk.data() + (5 << 20) + 8092, 100));
  EXPECT_EQ(0, memcmp(got.data() + 100, f.disk.data() + (3 << 20) + 4096, 8092));
  n = bytes.ReadAt((64 << 10) - 10, absl::MakeSpan(got));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u);
  n = bytes.ReadAt(64 << 10, absl::MakeSpan(got));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST(ExtentStoreTest, RefusesWritesReachingUnmappedBytes) {
  Fixture f = MakeFixture();
  StatusOr<std::unique_ptr<ExtentStoreIo>> io = OpenMappedStore(f.map, f.path, "SAVEOOPS-TEST-1");
  ASSERT_TRUE(io.ok()) << io.status().message();
  const std::vector<uint8_t> data(1024, 0xee);
  Status s = (*io)->Write((64 << 10) - 512, data);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "no extent maps")) << s.message();
  s = (*io)->Write(UINT64_MAX - 10, data);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(ReadFile(f.path), f.disk);  // nothing written, not even the mapped half
}

TEST(ExtentStoreTest, RefusesAnotherDiskOrAReplacedFile) {
  Fixture f = MakeFixture();
  StoreMap m = f.map;
  m.disk->partition_guid[0] ^= 1;
  EXPECT_TRUE(absl::StrContains(Refusal(m, f.path, "SAVEOOPS-TEST-1"), "partition GUID"));
  m = f.map;
  m.disk->disk_id[15] ^= 1;
  EXPECT_TRUE(absl::StrContains(Refusal(m, f.path, "SAVEOOPS-TEST-1"), "GPT disk id"));
  m = f.map;
  m.disk->partition = 2;
  EXPECT_TRUE(absl::StrContains(Refusal(m, f.path, "SAVEOOPS-TEST-1"), "no GPT partition 2"));
  m = f.map;
  m.disk->scheme = StoreDiskScheme::kMbr;
  m.disk->partition_guid = {};
  m.disk->disk_id = {1, 2, 3, 4};
  EXPECT_TRUE(absl::StrContains(Refusal(m, f.path, "SAVEOOPS-TEST-1"), "no MBR partition table"));
  m = f.map;
  m.disk->partition_size -= 512;
  EXPECT_TRUE(absl::StrContains(Refusal(m, f.path, "SAVEOOPS-TEST-1"), "armed for"));
  EXPECT_TRUE(absl::StrContains(Refusal(f.map, f.path, "OTHER"), "serial 'OTHER'"));
  EXPECT_TRUE(absl::StrContains(Refusal(f.map, f.path + ".none", ""), "cannot open"));

  // The store file replaced: its first extent now holds another store.
  std::vector<uint8_t> other(64 << 10);
  ASSERT_TRUE(FormatStoreImage(absl::MakeSpan(other), Uuid{9}).ok());
  std::vector<uint8_t> replaced = f.disk;
  memcpy(replaced.data() + (5 << 20), other.data(), 8 << 10);
  WriteFile(f.path, replaced);
  EXPECT_TRUE(absl::StrContains(Refusal(f.map, f.path, "SAVEOOPS-TEST-1"),
                                "armed for store 01020304-0506-0708-090a-0b0c0d0e0f10"))
      << Refusal(f.map, f.path, "SAVEOOPS-TEST-1");
  // ... or zeros.
  memset(replaced.data() + (5 << 20), 0, 8 << 10);
  WriteFile(f.path, replaced);
  EXPECT_TRUE(absl::StrContains(Refusal(f.map, f.path, "SAVEOOPS-TEST-1"),
                                "no store superblock through the armed extents"));
  EXPECT_EQ(ReadFile(f.path), replaced);

  // A disk shorter than the extents reach.
  std::vector<uint8_t> shorter(f.disk.begin(), f.disk.begin() + (5 << 20));
  WriteFile(f.path, shorter);
  EXPECT_FALSE(OpenMappedStore(f.map, f.path, "SAVEOOPS-TEST-1").ok());
}

TEST(ExtentStoreTest, FindsAnMbrPartitionByDiskSignature) {
  Fixture f = MakeFixture();
  std::vector<uint8_t> mbr_disk = f.disk;
  memset(mbr_disk.data(), 0, 3 * 512);  // no GPT
  LegacyMbr mbr;
  memset(&mbr, 0, sizeof(mbr));
  mbr.unique_mbr_disk_signature = 0x1234abcd;
  mbr.partition[0].os_type = 0x83;
  mbr.partition[0].starting_lba = kPartStart / 512;
  mbr.partition[0].size_in_lba = kPartSize / 512;
  mbr.signature = kMbrSignature;
  memcpy(mbr_disk.data(), &mbr, sizeof(mbr));
  WriteFile(f.path, mbr_disk);
  StoreMap m = f.map;
  m.disk->scheme = StoreDiskScheme::kMbr;
  m.disk->disk_id = {0xcd, 0xab, 0x34, 0x12};
  m.disk->partition_guid = {};
  StatusOr<std::unique_ptr<ExtentStoreIo>> io = OpenMappedStore(m, f.path, "SAVEOOPS-TEST-1");
  ASSERT_TRUE(io.ok()) << io.status().message();
  ASSERT_TRUE(AppendRecord(**io, Record(100, 'm')).ok());
  const std::vector<uint8_t> after = ReadFile(f.path);
  EXPECT_TRUE(SameOutsideExtents(mbr_disk, after, m));
  m.disk->disk_id[0] ^= 1;
  EXPECT_TRUE(absl::StrContains(Refusal(m, f.path, "SAVEOOPS-TEST-1"),
                                "MBR disk id 0x1234abcd, the armed store's disk has 0x1234abcc"))
      << Refusal(m, f.path, "SAVEOOPS-TEST-1");
}

TEST(ExtentStoreTest, WholeDiskStoreNeedsNoTableAndTheSameSize) {
  Fixture f = MakeFixture();
  std::vector<uint8_t> bare = f.disk;
  memset(bare.data(), 0, 3 * 512);  // no MBR, no GPT
  WriteFile(f.path, bare);
  StoreMap m = f.map;
  m.disk = StoreDisk{};
  m.disk->partition_size = kDiskSize;
  StatusOr<std::unique_ptr<ExtentStoreIo>> io = OpenMappedStore(m, f.path, "SAVEOOPS-TEST-1");
  EXPECT_TRUE(io.ok()) << io.status().message();
  m.disk->partition_size = kDiskSize * 2;
  EXPECT_FALSE(OpenMappedStore(m, f.path, "SAVEOOPS-TEST-1").ok());
  m.disk->partition_size = kDiskSize;
  WriteFile(f.path, f.disk);  // a partition table now
  EXPECT_TRUE(absl::StrContains(Refusal(m, f.path, "SAVEOOPS-TEST-1"), "has a partition table"));
}

TEST(ExtentStoreTest, ReadsTheSerialSysfsGives) {
  const std::string dir = MakeTempDir();
  EXPECT_EQ(ReadDiskSerial(dir), "");
  ASSERT_EQ(0, mkdir((dir + "/device").c_str(), 0700));
  WriteFile(dir + "/device/wwid", {'n', 'a', 'a', '.', '1', '\n'});
  EXPECT_EQ(ReadDiskSerial(dir), "naa.1");
  WriteFile(dir + "/serial", {' ', 'Q', 'M', '0', '1', 0x01, ' ', '\n'});
  EXPECT_EQ(ReadDiskSerial(dir), "QM01?");
}

}  // namespace
}  // namespace saveoops
