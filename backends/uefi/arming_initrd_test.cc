#include "backends/uefi/arming_initrd.h"

#include <string.h>

#include <string>
#include <vector>

#include "backends/uefi/boot_config.h"
#include "gtest/gtest.h"
#include "initramfs/cpio.h"

namespace saveoops {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::vector<uint8_t> Serve(const ArmingInitrd& initrd) {
  std::vector<uint8_t> out(initrd.total_size, 0xee);
  CopyArmingInitrd(
      initrd, out.data(), [](void* d, const void* s, uint64_t n) { memcpy(d, s, n); },
      [](void* d, uint64_t n) { memset(d, 0, n); });
  return out;
}

TEST(ArmingInitrdTest, AppendsAnArchiveTheKernelAndOurReaderAccept) {
  // A distro initrd of an odd length: the archive must still start 4-aligned.
  CpioWriter distro_writer;
  ASSERT_TRUE(distro_writer.AddFile("/init", std::string("#!/bin/sh\n"), 0755).ok());
  std::vector<uint8_t> distro = distro_writer.Finish();
  distro.push_back(0);  // trailing zero padding is allowed; makes the size odd
  ASSERT_EQ(distro.size() % 4, 1u);
  const std::vector<uint8_t> arm = Bytes(
      "\x7f"
      "ELF arming program");
  const std::vector<uint8_t> bundle = Bytes("SVOOPSBN bundle bytes, 33 of them");
  const std::vector<uint8_t> module = Bytes("module");
  const ArmingFile files[] = {
      {kArmingRdinitPath + 1, arm.data(), arm.size(), 0700},
      {kArmingBundlePath + 1, bundle.data(), bundle.size(), 0600},
      {kArmingEfivarfsModulePath + 1, module.data(), module.size(), 0600},
  };
  ArmingInitrd initrd;
  ASSERT_TRUE(BuildArmingInitrd(distro.data(), distro.size(), files, 3, &initrd));
  const std::vector<uint8_t> served = Serve(initrd);
  ASSERT_EQ(served.size(), initrd.total_size);
  EXPECT_EQ(served.size() % 4, 0u);
  // The distro initrd comes first, byte for byte.
  EXPECT_TRUE(std::equal(distro.begin(), distro.end(), served.begin()));

  // Both archives, back to back, parse as the kernel would unpack them.
  absl::StatusOr<std::vector<CpioEntry>> entries = ParseCpio(served);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[0].name, "init");
  EXPECT_EQ((*entries)[1].name, "saveoops");
  EXPECT_EQ((*entries)[1].type(), kCpioTypeDirectory);
  EXPECT_EQ((*entries)[2].name, "saveoops/arm");
  EXPECT_EQ((*entries)[2].type(), kCpioTypeRegular);
  EXPECT_EQ((*entries)[2].permissions(), 0700u);
  EXPECT_EQ((*entries)[2].data, arm);
  EXPECT_EQ((*entries)[3].name, "saveoops/saveoops.bundle");
  EXPECT_EQ((*entries)[3].data, bundle);
  EXPECT_EQ((*entries)[3].permissions(), 0600u);
  EXPECT_EQ((*entries)[4].name, "saveoops/efivarfs.ko");
  EXPECT_EQ((*entries)[4].data, module);
  // The archive's header sits on a 4-byte boundary of the whole initrd
  // (init/initramfs.c only starts an uncompressed archive at this_header & 3 == 0).
  EXPECT_EQ((*entries)[1].header_offset % 4, 0u);
  // Files are hard-link-proof: nlink 1 (init/initramfs.c links nlink >= 2).
  EXPECT_EQ((*entries)[2].nlink, 1u);
}

TEST(ArmingInitrdTest, UnarmedServesOnlyTheDistroInitrd) {
  const std::vector<uint8_t> distro = Bytes("compressed-looking distro initrd.");
  ArmingInitrd initrd;
  ASSERT_TRUE(BuildArmingInitrd(distro.data(), distro.size(), nullptr, 0, &initrd));
  const std::vector<uint8_t> served = Serve(initrd);
  ASSERT_EQ(served.size(), 36u);  // 33 rounded up to 4
  EXPECT_TRUE(std::equal(distro.begin(), distro.end(), served.begin()));
  EXPECT_EQ(served[33], 0);
  EXPECT_EQ(served[35], 0);
}

TEST(ArmingInitrdTest, NoDistroInitrdIsJustTheArchive) {
  const std::vector<uint8_t> arm = Bytes("a");
  const ArmingFile files[] = {{kArmingRdinitPath + 1, arm.data(), arm.size(), 0700}};
  ArmingInitrd initrd;
  ASSERT_TRUE(BuildArmingInitrd(nullptr, 0, files, 1, &initrd));
  absl::StatusOr<std::vector<CpioEntry>> entries = ParseCpio(Serve(initrd));
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].data, arm);
}

TEST(ArmingInitrdTest, RefusesWhatNewcCannotHold) {
  const uint8_t byte = 0;
  ArmingInitrd initrd;
  const ArmingFile huge[] = {{"saveoops/arm", &byte, uint64_t{1} << 32, 0700}};
  EXPECT_FALSE(BuildArmingInitrd(nullptr, 0, huge, 1, &initrd));
  const ArmingFile four[] = {{"saveoops/a", &byte, 1, 0600},
                             {"saveoops/b", &byte, 1, 0600},
                             {"saveoops/c", &byte, 1, 0600},
                             {"saveoops/d", &byte, 1, 0600}};
  EXPECT_FALSE(BuildArmingInitrd(nullptr, 0, four, 4, &initrd));
  const ArmingFile one[] = {{"saveoops/a", &byte, 1, 0600}};
  EXPECT_FALSE(BuildArmingInitrd(&byte, ~uint64_t{0} - 1, one, 1, &initrd));
}

}  // namespace
}  // namespace saveoops
