#include "backends/uefi/uefi_pack_config.h"

#include <glob.h>
#include <string.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "backends/uefi/boot_config.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(FirstKernelCommandLineTest, PackOwnsCrashkernelAndConsoleRootComeFirst) {
  UefiFirstKernel boot;
  boot.crashkernel_bytes = 133 * kMiB;
  boot.consoles = {"tty0", "ttyS0,115200"};
  boot.root = "/dev/vda2";
  boot.append = "  quiet panic=1 ";
  absl::StatusOr<std::string> c = FirstKernelCommandLine(boot, 2047);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, "crashkernel=133M console=tty0 console=ttyS0,115200 root=/dev/vda2 quiet panic=1");
}

TEST(FirstKernelCommandLineTest, RejectsWhatOthersOwnAndWhatDoesNotFit) {
  UefiFirstKernel boot;
  boot.crashkernel_bytes = 64 * kMiB;
  boot.append = "quiet rdinit=/bin/sh";
  EXPECT_NE(FirstKernelCommandLine(boot, 2047).status().message().find("rdinit="),
            std::string::npos);
  boot.append = "crashkernel=1G";
  EXPECT_NE(FirstKernelCommandLine(boot, 2047).status().message().find("crashkernel="),
            std::string::npos);
  boot.append = "a\nb";
  EXPECT_FALSE(FirstKernelCommandLine(boot, 2047).ok());
  boot.append = std::string(1990, 'a');
  // Fits saveoops.cfg's limit? No: 2000 bytes max there.
  EXPECT_FALSE(FirstKernelCommandLine(boot, 4095).ok());
  boot.append = std::string(100, 'a');
  // 100 + "crashkernel=64M " + " rdinit=/saveoops/arm" > 120.
  EXPECT_NE(FirstKernelCommandLine(boot, 120).status().message().find("cmdline_size"),
            std::string::npos);
  boot.append = "";
  boot.crashkernel_bytes = kMiB + 1;
  EXPECT_FALSE(FirstKernelCommandLine(boot, 2047).ok());
}

TEST(BootConfigTextTest, ParsesBackWithTheFirmwareReader) {
  Sha256Digest arm{}, module{};
  arm.bytes[0] = 0xab;
  module.bytes[31] = 0xcd;
  for (const bool with_module : {false, true}) {
    absl::StatusOr<std::string> text =
        BootConfigText("crashkernel=64M quiet", arm,
                       with_module ? std::optional<Sha256Digest>(module) : std::nullopt);
    ASSERT_TRUE(text.ok()) << text.status();
    BootConfig config;
    int line = 0;
    const char* key = "";
    ASSERT_EQ(ParseBootConfig(reinterpret_cast<const uint8_t*>(text->data()), text->size(), &config,
                              &line, &key),
              BootConfigError::kOk);
    EXPECT_STREQ(config.kernel, "\\EFI\\saveoops\\vmlinuz");
    EXPECT_STREQ(config.initrd, "\\EFI\\saveoops\\initrd.img");
    EXPECT_STREQ(config.bundle, "\\EFI\\saveoops\\saveoops.bundle");
    EXPECT_STREQ(config.arm, "\\EFI\\saveoops\\arm");
    EXPECT_STREQ(config.cmdline, "crashkernel=64M quiet");
    EXPECT_TRUE(config.arm_sha256 == arm);
    if (with_module) {
      EXPECT_STREQ(config.efivarfs, "\\EFI\\saveoops\\efivarfs.ko");
      EXPECT_TRUE(config.efivarfs_sha256 == module);
    } else {
      EXPECT_STREQ(config.efivarfs, "");
    }
  }
}

TEST(CheckEfiStubTest, DebianKernelHasOneGarbageDoesNot) {
  glob_t g;
  ASSERT_EQ(glob("/boot/vmlinuz-*", 0, nullptr, &g), 0) << "no /boot/vmlinuz-* (linux-image-amd64)";
  std::ifstream in(g.gl_pathv[g.gl_pathc - 1], std::ios::binary);
  globfree(&g);
  std::vector<uint8_t> kernel((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(kernel.size(), 4096u);
  EXPECT_TRUE(CheckEfiStub(kernel).ok()) << CheckEfiStub(kernel);

  std::vector<uint8_t> bad = kernel;
  bad[0] = 'X';
  EXPECT_NE(CheckEfiStub(bad).message().find("MZ"), std::string::npos);
  bad = kernel;
  const uint32_t far = 0xfffffff0u;
  memcpy(&bad[0x3c], &far, 4);
  EXPECT_NE(CheckEfiStub(bad).message().find("PE"), std::string::npos);
  bad = kernel;
  uint32_t pe = 0;
  memcpy(&pe, &bad[0x3c], 4);
  bad[pe + 4] = 0x4c;  // i386 (0x014c)
  bad[pe + 5] = 0x01;
  EXPECT_NE(CheckEfiStub(bad).message().find("x86-64"), std::string::npos);
  EXPECT_FALSE(CheckEfiStub(std::vector<uint8_t>(kernel.begin(), kernel.begin() + 10)).ok());
}

}  // namespace
}  // namespace saveoops
