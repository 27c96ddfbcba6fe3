#include "store/probe.h"

#include <string.h>

#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "store/ring.h"
#include "store/test_util.h"

namespace saveoops {
namespace {

using namespace store_test;

// A version-1 swap header as mkswap writes it for 4 KiB pages: version
// and last page at byte 1024, "SWAPSPACE2" ending the first page.
void PutSwap(std::vector<uint8_t>* bytes, size_t at, uint32_t pages) {
  const uint32_t version = 1, last_page = pages - 1;
  memcpy(bytes->data() + at + 1024, &version, 4);
  memcpy(bytes->data() + at + 1028, &last_page, 4);
  memcpy(bytes->data() + at + 4096 - 10, "SWAPSPACE2", 10);
}

TEST(ProbeTest, FindsSwapInsideTheRegionOnly) {
  const std::string dir = MakeTempDir();
  std::vector<uint8_t> bytes(4096 + 64 * 1024, 0);
  PutSwap(&bytes, 4096, 16);
  WriteFile(dir + "/disk", bytes);
  StatusOr<std::string> swap = ForeignSignature({dir + "/disk", 4096, 64 * 1024});
  ASSERT_TRUE(swap.ok()) << swap.status().message();
  EXPECT_TRUE(absl::StrContains(*swap, "TYPE=swap")) << *swap;
  // The first page alone holds nothing libblkid knows.
  StatusOr<std::string> before = ForeignSignature({dir + "/disk", 0, 4096});
  ASSERT_TRUE(before.ok()) << before.status().message();
  EXPECT_EQ(*before, "");
}

TEST(ProbeTest, SaveoopsStoreIsNotForeign) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/s", std::vector<uint8_t>(64 * 1024, 0));
  const StoreLocation loc{dir + "/s", 0, 0};
  ASSERT_TRUE(FormatStore(loc, TestUuid(5)).ok());
  StatusOr<std::string> found = ForeignSignature(loc);
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(*found, "");
  // A store given to mkswap afterwards: copy 1 survives, but the store is
  // no longer taken for one (ring.h ReadStoreInfo), and libblkid sees swap.
  std::vector<uint8_t> bytes = ReadFile(dir + "/s");
  memset(bytes.data(), 0, 4096);
  PutSwap(&bytes, 0, 16);
  WriteFile(dir + "/s", bytes);
  StatusOr<StoreInfo> info = ReadStoreInfo(loc);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::StrContains(info.status().message(), kReformattedByAnotherTool));
  found = ForeignSignature(loc);
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_TRUE(absl::StrContains(*found, "TYPE=swap")) << *found;
}

TEST(ProbeTest, MissingFileFails) {
  EXPECT_FALSE(ForeignSignature({"/nonexistent/saveoops-probe", 0, 0}).ok());
}

}  // namespace
}  // namespace saveoops
