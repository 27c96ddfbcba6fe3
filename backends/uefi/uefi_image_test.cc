#include "backends/uefi/uefi_image.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/locate.h"
#include "store/ring.h"

namespace saveoops {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(PlanUefiImageTest, DefaultsGiveA64MiBEspAndA16MiBStore) {
  absl::StatusOr<UefiImageLayout> l = PlanUefiImage({8 << 20, 20 << 20, 13 << 20}, 0, 16 * kMiB, 0);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->esp_offset, kMiB);
  EXPECT_EQ(l->esp_size, 64 * kMiB);
  EXPECT_EQ(l->store_offset, 65 * kMiB);
  EXPECT_EQ(l->store_size, 16 * kMiB);
  EXPECT_EQ(l->image_size, 82 * kMiB);
  EXPECT_GE(l->esp_size, l->esp_needed);
}

TEST(PlanUefiImageTest, BigFilesGrowTheEspWithMargin) {
  // A real distro initrd (~60 MiB) + kernel + bundle.
  const std::vector<uint64_t> sizes = {60 * kMiB, 8 * kMiB, 15 * kMiB, 4 * kMiB};
  absl::StatusOr<UefiImageLayout> l = PlanUefiImage(sizes, 0, 16 * kMiB, 0);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_GT(l->esp_size, l->esp_needed);
  EXPECT_GE(l->esp_needed, 87 * kMiB);
  EXPECT_EQ(l->esp_size % kMiB, 0u);
}

TEST(PlanUefiImageTest, ImageSizeGrowsTheStore) {
  absl::StatusOr<UefiImageLayout> l = PlanUefiImage({kMiB}, 0, 16 * kMiB, 200 * kMiB);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->store_offset, 65 * kMiB);
  EXPECT_EQ(l->store_size, 200 * kMiB - 65 * kMiB - kMiB);
}

TEST(PlanUefiImageTest, ErrorsNameTheFlagToChange) {
  EXPECT_NE(
      PlanUefiImage({100 * kMiB}, 64 * kMiB, 16 * kMiB, 0).status().message().find("--esp-size"),
      std::string::npos);
  EXPECT_NE(PlanUefiImage({kMiB}, 0, 4096, 0).status().message().find("--store-size"),
            std::string::npos);
  EXPECT_NE(PlanUefiImage({kMiB}, 0, 16 * kMiB, 50 * kMiB).status().message().find("--image-size"),
            std::string::npos);
  EXPECT_FALSE(PlanUefiImage({kMiB}, 64 * kMiB + 1, 16 * kMiB, 0).ok());
}

TEST(UefiImageIdentityTest, DeterministicVersion4Guids) {
  const UefiImageIdentity a = DeriveUefiImageIdentity("seed"), b = DeriveUefiImageIdentity("seed");
  const UefiImageIdentity c = DeriveUefiImageIdentity("other");
  EXPECT_EQ(a.disk_guid, b.disk_guid);
  EXPECT_EQ(a.volume_serial, b.volume_serial);
  EXPECT_NE(a.disk_guid, c.disk_guid);
  EXPECT_NE(a.esp_guid, a.store_guid);
  // Text form xxxxxxxx-xxxx-4xxx-[89ab]xxx-...
  const std::string text = FormatGuid(a.disk_guid);
  EXPECT_EQ(text[14], '4') << text;
  EXPECT_NE(std::string("89ab").find(text[19]), std::string::npos) << text;
}

std::string TempDir() {
  std::string t =
      absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp", "/img.XXXXXX");
  EXPECT_NE(mkdtemp(&t[0]), nullptr);
  return t;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Reads an ESP file back with mcopy (an independent FAT reader).
std::string ReadBack(const std::string& image, const std::string& esp_path,
                     const std::string& dir) {
  const std::string out = dir + "/readback";
  unlink(out.c_str());
  const std::string cmd = absl::StrCat("MTOOLS_SKIP_CHECK=1 mcopy -i '", image,
                                       "@@1M' '::", esp_path, "' '", out, "' 2>&1");
  EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(WriteUefiImageTest, GptEspAndStoreAllReadBack) {
  const std::string dir = TempDir();
  WriteText(dir + "/a", "first file\n");
  std::string big(3 * kMiB + 17, 'x');
  big[12345] = 'y';
  WriteText(dir + "/b", big);
  absl::StatusOr<UefiImageLayout> layout = PlanUefiImage({11, big.size()}, 0, 16 * kMiB, 0);
  ASSERT_TRUE(layout.ok());
  const std::string image = dir + "/disk.img";
  std::vector<std::string> lines;
  // umask 0: the mode is the one the image is created with.
  const mode_t old_umask = umask(0);
  absl::Status s =
      WriteUefiImage(*layout, DeriveUefiImageIdentity("t"),
                     {{"/EFI/BOOT/BOOTX64.EFI", dir + "/a"}, {"/EFI/saveoops/big.bin", dir + "/b"}},
                     image, [&](const std::string& l) { lines.push_back(l); });
  umask(old_umask);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GE(lines.size(), 4u);
  struct stat st;
  ASSERT_EQ(stat(image.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), layout->image_size);
  // Its store receives records: for the owner only.
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(stat((image + ".tmp").c_str(), &st), 0);  // renamed into place

  std::ifstream in(image, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  absl::StatusOr<GptDisk> gpt = ParseGptImage(bytes);
  ASSERT_TRUE(gpt.ok()) << gpt.status();
  ASSERT_EQ(gpt->partitions.size(), 2u);
  EXPECT_EQ(FormatGuid(gpt->partitions[0].type_guid), "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
  EXPECT_EQ(gpt->partitions[0].first_lba * 512, kMiB);
  EXPECT_EQ(gpt->partitions[1].first_lba * 512, layout->store_offset);

  absl::StatusOr<StoreLocation> store = FindStoreInImage(image);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->offset, layout->store_offset);
  absl::StatusOr<StoreListing> listing = ListRecords(*store);
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_TRUE(listing->records.empty());

  EXPECT_EQ(ReadBack(image, "/EFI/BOOT/BOOTX64.EFI", dir), "first file\n");
  EXPECT_EQ(ReadBack(image, "/EFI/saveoops/big.bin", dir), big);
  // FAT32 with the partition's LBA as hidden sectors (BPB_HiddSec at 0x1c,
  // BS_FilSysType at 0x52 in the FAT32 boot sector).
  uint32_t hidden = 0;
  memcpy(&hidden, &bytes[kMiB + 0x1c], 4);
  EXPECT_EQ(hidden, 2048u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&bytes[kMiB + 0x52]), 8), "FAT32   ");
}

TEST(WriteUefiImageTest, MissingInputLeavesNoImage) {
  const std::string dir = TempDir();
  absl::StatusOr<UefiImageLayout> layout = PlanUefiImage({1}, 0, 16 * kMiB, 0);
  const std::string image = dir + "/disk.img";
  absl::Status s = WriteUefiImage(*layout, DeriveUefiImageIdentity("t"),
                                  {{"/EFI/x", dir + "/nope"}}, image, [](const std::string&) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find(dir + "/nope"), std::string::npos) << s;
  struct stat st;
  EXPECT_NE(stat(image.c_str(), &st), 0);
  EXPECT_NE(stat((image + ".tmp").c_str(), &st), 0);
}

TEST(WriteUefiImageTest, FullEspSaysWhichFlagToRaise) {
  const std::string dir = TempDir();
  WriteText(dir + "/big", std::string(70 * kMiB, 'z'));
  // A layout that lies about the files (as if --esp-size were forced).
  UefiImageLayout layout = *PlanUefiImage({kMiB}, 0, 16 * kMiB, 0);
  absl::Status s =
      WriteUefiImage(layout, DeriveUefiImageIdentity("t"), {{"/EFI/big", dir + "/big"}},
                     dir + "/disk.img", [](const std::string&) {});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--esp-size"), std::string::npos) << s;
}

}  // namespace
}  // namespace saveoops
