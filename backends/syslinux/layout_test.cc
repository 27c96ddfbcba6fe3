#include "backends/syslinux/layout.h"

#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::vector<FatFile> DebianLikeFiles() {
  return {{"vmlinuz", 8247232},
          {"initrd.img", 30210214},
          {"early.cpio", 2800000},
          {"saveoops.bundle", 13526032},
          {"syslinux.cfg", 700}};
}

TEST(FatBytesNeeded, RoundsEveryFileToTheLargestCluster) {
  EXPECT_EQ(FatBytesNeeded({}), kMiB);
  // One byte still takes a whole 32 KiB cluster, plus 1/64 for the FATs.
  EXPECT_EQ(FatBytesNeeded({{"a", 1}}), 32768 + 512 + kMiB);
  EXPECT_EQ(FatBytesNeeded({{"a", 32768}, {"b", 32769}}), 3 * 32768 + 3 * 512 + kMiB);
}

TEST(PlanImageLayout, AutomaticSizesAreAlignedAndLeaveMargin) {
  ImageLayoutRequest req;
  req.fat_files = DebianLikeFiles();
  absl::StatusOr<ImageLayout> l = PlanImageLayout(req);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->fat_offset, kMiB);
  EXPECT_EQ(l->fat_size % kMiB, 0u);
  EXPECT_GE(l->fat_size, l->fat_needed + l->fat_needed / 16);
  EXPECT_LT(l->fat_size, l->fat_needed + l->fat_needed / 16 + kMiB);
  EXPECT_EQ(l->store_offset, l->fat_offset + l->fat_size);
  EXPECT_EQ(l->store_size, kDefaultStoreSize);
  EXPECT_EQ(l->image_size, l->store_offset + l->store_size);
}

TEST(PlanImageLayout, SmallContentsStillGetAFat16SizedPartition) {
  ImageLayoutRequest req;
  req.fat_files = {{"tiny", 100}};
  absl::StatusOr<ImageLayout> l = PlanImageLayout(req);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->fat_size, kMinFatSize);
}

TEST(PlanImageLayout, ExplicitFatSizeTooSmallIsNoRoom) {
  ImageLayoutRequest req;
  req.fat_files = DebianLikeFiles();
  req.fat_size = 32 * kMiB;
  absl::StatusOr<ImageLayout> l = PlanImageLayout(req);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(l.status().message().find("no room on the image"), absl::string_view::npos)
      << l.status();
  EXPECT_NE(l.status().message().find("initrd.img"), absl::string_view::npos) << l.status();
  EXPECT_NE(l.status().message().find("--fat-size"), absl::string_view::npos) << l.status();
  req.fat_size = 64 * kMiB;
  EXPECT_TRUE(PlanImageLayout(req).ok());
  req.fat_size = 64 * kMiB + 512;
  EXPECT_EQ(PlanImageLayout(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlanImageLayout, ImageSizeGivesTheRestToTheStore) {
  ImageLayoutRequest req;
  req.fat_files = {{"k", 4 * kMiB}};
  req.fat_size = 16 * kMiB;
  req.image_size = 100 * kMiB;
  absl::StatusOr<ImageLayout> l = PlanImageLayout(req);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->store_offset, 17 * kMiB);
  EXPECT_EQ(l->store_size, 83 * kMiB);
  EXPECT_EQ(l->image_size, 100 * kMiB);

  req.image_size = 17 * kMiB;  // no room left for any store
  absl::StatusOr<ImageLayout> tight = PlanImageLayout(req);
  ASSERT_FALSE(tight.ok());
  EXPECT_EQ(tight.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(tight.status().message().find("--image-size"), absl::string_view::npos)
      << tight.status();
}

TEST(PlanImageLayout, StoreSizeBelowMinimumIsRefused) {
  ImageLayoutRequest req;
  req.store_size = 0;
  absl::StatusOr<ImageLayout> l = PlanImageLayout(req);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("--store-size"), absl::string_view::npos) << l.status();
}

MemoryBudget DebianBudget() {
  MemoryBudget b;
  b.kernel_init_size = 60 * kMiB;
  b.initrd_bytes = 33 * kMiB;
  b.bundle_bytes = 13 * kMiB;
  b.crashkernel_bytes = 133 * kMiB;
  b.min_memory = 1024 * kMiB;
  return b;
}

TEST(CheckMemoryBudget, FitsAGigabyte) { EXPECT_TRUE(CheckMemoryBudget(DebianBudget()).ok()); }

TEST(CheckMemoryBudget, BundleTooLargeForTheSmallestMachine) {
  MemoryBudget b = DebianBudget();
  b.min_memory = 256 * kMiB;
  absl::Status s = CheckMemoryBudget(b);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("too large for memory"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("--min-memory"), absl::string_view::npos) << s;
  // The exact boundary: everything plus the runtime allowance.
  b.min_memory = 60 * kMiB + 33 * kMiB + 13 * kMiB + 133 * kMiB + kFirstKernelRuntime;
  EXPECT_TRUE(CheckMemoryBudget(b).ok());
  b.min_memory -= 1;
  EXPECT_FALSE(CheckMemoryBudget(b).ok());
}

TEST(CheckMemoryBudget, SyslinuxCannotLoadBeyond32Bits) {
  MemoryBudget b = DebianBudget();
  b.min_memory = uint64_t{64} << 30;
  b.bundle_bytes = uint64_t{3} << 30;
  absl::Status s = CheckMemoryBudget(b);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("below 4 GiB"), absl::string_view::npos) << s;
  b.bundle_bytes = uint64_t{5} << 30;
  EXPECT_NE(CheckMemoryBudget(b).message().find("setup_data node"), absl::string_view::npos);
}

}  // namespace
}  // namespace saveoops
