#include "store/store_map.h"

#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

StoreMap Sample() {
  StoreMap m;
  for (size_t i = 0; i < m.store_uuid.size(); ++i) m.store_uuid[i] = static_cast<uint8_t>(0xa0 + i);
  return m;
}

std::string ErrorOf(const std::vector<uint8_t>& bytes) {
  StatusOr<StoreMap> m = ParseStoreMap(bytes.data(), bytes.size());
  EXPECT_FALSE(m.ok());
  return m.ok() ? "" : std::string(m.status().message());
}

void SetTotal(std::vector<uint8_t>* b, uint32_t total) {
  for (int i = 0; i < 4; ++i) (*b)[12 + i] = static_cast<uint8_t>(total >> (8 * i));
}

TEST(StoreMapTest, RoundTrip) {
  const std::vector<uint8_t> bytes = SerializeStoreMap(Sample());
  EXPECT_EQ(bytes.size(), 36u);
  StatusOr<StoreMap> back = ParseStoreMap(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->store_uuid, Sample().store_uuid);
}

TEST(StoreMapTest, FormatsUuid) {
  EXPECT_EQ(FormatStoreUuid(Sample().store_uuid), "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
}

TEST(StoreMapTest, RefusesBadVersion) {
  std::vector<uint8_t> b = SerializeStoreMap(Sample());
  b[8] = 2;
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "version 2")) << ErrorOf(b);
}

TEST(StoreMapTest, RefusesBadMagicAndReserved) {
  std::vector<uint8_t> b = SerializeStoreMap(Sample());
  b[0] = 'X';
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "bad magic"));
  b = SerializeStoreMap(Sample());
  b[10] = 1;
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "reserved"));
}

TEST(StoreMapTest, RefusesEveryTruncation) {
  const std::vector<uint8_t> full = SerializeStoreMap(Sample());
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    EXPECT_FALSE(ParseStoreMap(cut.data(), cut.size()).ok()) << n;
    // Even when the header is made to agree with the shorter length.
    if (n >= kStoreMapHeaderSize) {
      SetTotal(&cut, static_cast<uint32_t>(n));
      EXPECT_FALSE(ParseStoreMap(cut.data(), cut.size()).ok()) << n;
    }
  }
  std::vector<uint8_t> cut(full.begin(), full.begin() + 30);
  EXPECT_TRUE(absl::StrContains(ErrorOf(cut), "truncated")) << ErrorOf(cut);
}

TEST(StoreMapTest, RefusesBadUuidLength) {
  std::vector<uint8_t> b = SerializeStoreMap(Sample());
  b.pop_back();
  b[18] = 15;  // entry length
  SetTotal(&b, static_cast<uint32_t>(b.size()));
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "is 15 bytes; a store UUID is 16")) << ErrorOf(b);
}

TEST(StoreMapTest, RefusesTrailingBytes) {
  std::vector<uint8_t> b = SerializeStoreMap(Sample());
  b.push_back(0);
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "trailing bytes")) << ErrorOf(b);
  // Trailing bytes the header counts are a cut entry.
  SetTotal(&b, static_cast<uint32_t>(b.size()));
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "cut after 1 bytes")) << ErrorOf(b);
}

TEST(StoreMapTest, RefusesMissingRepeatedAndUnknownEntries) {
  std::vector<uint8_t> header(SerializeStoreMap(Sample()));
  header.resize(kStoreMapHeaderSize);
  SetTotal(&header, kStoreMapHeaderSize);
  EXPECT_TRUE(absl::StrContains(ErrorOf(header), "no store UUID"));

  std::vector<uint8_t> twice = SerializeStoreMap(Sample());
  twice.insert(twice.end(), twice.begin() + 16, twice.end());
  SetTotal(&twice, static_cast<uint32_t>(twice.size()));
  EXPECT_TRUE(absl::StrContains(ErrorOf(twice), "(type 1) comes after type 1")) << ErrorOf(twice);

  std::vector<uint8_t> unknown = SerializeStoreMap(Sample());
  unknown[16] = 9;
  EXPECT_TRUE(absl::StrContains(ErrorOf(unknown), "unknown type 9")) << ErrorOf(unknown);
}

// A file store on GPT partition 2 at 1 MiB (16 MiB), in two extents.
StoreMap FileSample() {
  StoreMap m = Sample();
  StoreDisk d;
  d.scheme = StoreDiskScheme::kGpt;
  d.partition = 2;
  for (int i = 0; i < 16; ++i) {
    d.disk_id[i] = static_cast<uint8_t>(0x10 + i);
    d.partition_guid[i] = static_cast<uint8_t>(0x30 + i);
  }
  d.partition_offset = 1 << 20;
  d.partition_size = 16 << 20;
  m.disk = d;
  m.disk_serial = "QM00001";
  m.extents = {{0, (2 << 20), 64 << 10}, {64 << 10, 4 << 20, 1 << 20}};
  return m;
}

TEST(StoreMapTest, FileStoreRoundTrip) {
  const std::vector<uint8_t> bytes = SerializeStoreMap(FileSample());
  EXPECT_EQ(bytes.size(), 36u + 4 + 56 + 4 + 7 + 4 + 48);
  StatusOr<StoreMap> back = ParseStoreMap(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->store_uuid, Sample().store_uuid);
  ASSERT_TRUE(back->disk.has_value());
  EXPECT_TRUE(*back->disk == *FileSample().disk);
  EXPECT_EQ(back->disk_serial, "QM00001");
  EXPECT_TRUE(back->extents == FileSample().extents);
  EXPECT_EQ(MappedStoreSize(*back), (64u << 10) + (1u << 20));
  // Without a serial the entry is left out.
  StoreMap no_serial = FileSample();
  no_serial.disk_serial.clear();
  const std::vector<uint8_t> b2 = SerializeStoreMap(no_serial);
  StatusOr<StoreMap> back2 = ParseStoreMap(b2.data(), b2.size());
  ASSERT_TRUE(back2.ok()) << back2.status().message();
  EXPECT_TRUE(back2->disk_serial.empty());
}

std::string PlacementError(const StoreMap& m) {
  Status s = CheckStoreMapPlacement(m);
  EXPECT_FALSE(s.ok());
  // The parser refuses the same map.
  const std::vector<uint8_t> bytes = SerializeStoreMap(m);
  EXPECT_FALSE(ParseStoreMap(bytes.data(), bytes.size()).ok());
  return std::string(s.message());
}

TEST(StoreMapTest, RefusesExtentsThatDoNotPlaceTheStore) {
  StoreMap m = FileSample();
  m.extents[1].logical += 512;  // a gap in the store
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "extent 1 (logical 66048) does not start"))
      << PlacementError(m);
  m = FileSample();
  m.extents[0].logical = 512;
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "the store does (0)")) << PlacementError(m);
  m = FileSample();
  m.extents[0].length = 1000;
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "not whole 512-byte sectors"));
  m = FileSample();
  m.extents[0].disk_offset += 1;
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "not whole 512-byte sectors"));
  m = FileSample();
  m.extents[1].disk_offset = (17 << 20) - 4096;  // runs past the partition's end
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "leave the partition [1048576, 17825792)"))
      << PlacementError(m);
  m = FileSample();
  m.extents[0].disk_offset = 0;  // before the partition
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "leave the partition"));
  m = FileSample();
  m.extents[0].disk_offset = UINT64_MAX - 511;
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "leave the partition"));
  m = FileSample();
  m.extents[1].disk_offset = (2 << 20) + 32768;  // overlaps extent 0 on the disk
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "overlap on the disk")) << PlacementError(m);
  m = FileSample();
  m.extents = {{0, 2 << 20, 4096}};
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "less than a store's"));
  m = FileSample();
  m.extents.assign(kStoreMapMaxExtents + 1, StoreExtent{});
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "1025 extents (1 to 1024)"));
  m = FileSample();
  m.extents.clear();
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "0 extents"));
}

TEST(StoreMapTest, RefusesInconsistentDisks) {
  StoreMap m = FileSample();
  m.disk->partition = 0;
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "GPT partition 0"));
  m = FileSample();
  m.disk->scheme = StoreDiskScheme::kMbr;
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "MBR disk id has bytes past"));
  m = FileSample();
  m.disk->scheme = StoreDiskScheme::kWholeDisk;
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "whole-disk entry has"));
  m = FileSample();
  m.disk->scheme = static_cast<StoreDiskScheme>(7);
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "disk scheme 7"));
  m = FileSample();
  m.disk->partition_size = 0;
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "of 0 bytes"));
  m = FileSample();
  m.disk_serial = "bad\nserial";
  m.disk_serial[3] = '\n';
  EXPECT_TRUE(absl::StrContains(PlacementError(m), "not printable ASCII"));
  // (Serializing drops extents without a disk: only the check sees them.)
  m = Sample();
  m.extents = FileSample().extents;
  EXPECT_TRUE(absl::StrContains(CheckStoreMapPlacement(m).message(), "extents without a disk"));
}

TEST(StoreMapTest, RefusesMisencodedFileEntries) {
  const std::vector<uint8_t> good = SerializeStoreMap(FileSample());
  // Entries out of order: the serial (type 3) before the disk (type 2).
  std::vector<uint8_t> b = good;
  const size_t disk_at = 36, serial_at = 36 + 4 + 56;
  std::vector<uint8_t> swapped(b.begin(), b.begin() + disk_at);
  swapped.insert(swapped.end(), b.begin() + serial_at, b.begin() + serial_at + 11);
  swapped.insert(swapped.end(), b.begin() + disk_at, b.begin() + serial_at);
  swapped.insert(swapped.end(), b.begin() + serial_at + 11, b.end());
  EXPECT_TRUE(absl::StrContains(ErrorOf(swapped), "(type 2) comes after type 3"))
      << ErrorOf(swapped);
  // Reserved bytes of the disk entry.
  b = good;
  b[disk_at + 4 + 2] = 1;
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "nonzero reserved bytes")) << ErrorOf(b);
  // A disk entry of the wrong length.
  b = good;
  b[disk_at + 2] = 55;
  EXPECT_FALSE(ParseStoreMap(b.data(), b.size()).ok());
  // Extents not a multiple of 24 bytes (and the header made to agree).
  b = good;
  b.pop_back();
  b[serial_at + 11 + 2] = 47;  // the extents entry's length
  SetTotal(&b, static_cast<uint32_t>(b.size()));
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "is 47 bytes; extents are 1 to 1024 of 24"))
      << ErrorOf(b);
  // A disk without its extents.
  b.assign(good.begin(), good.begin() + serial_at + 11);
  SetTotal(&b, static_cast<uint32_t>(b.size()));
  EXPECT_TRUE(absl::StrContains(ErrorOf(b), "a disk entry without extents")) << ErrorOf(b);
}

}  // namespace
}  // namespace saveoops
