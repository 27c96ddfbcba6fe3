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
  EXPECT_TRUE(absl::StrContains(ErrorOf(twice), "second store UUID"));

  std::vector<uint8_t> unknown = SerializeStoreMap(Sample());
  unknown[16] = 9;
  EXPECT_TRUE(absl::StrContains(ErrorOf(unknown), "unknown type 9")) << ErrorOf(unknown);
}

}  // namespace
}  // namespace saveoops
