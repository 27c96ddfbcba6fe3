#include "backends/syslinux/boot_config.h"

#include "backends/syslinux/staging.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

FirstKernelBoot Boot() {
  FirstKernelBoot b;
  b.crashkernel_bytes = 133u << 20;
  b.consoles = {"ttyS0,115200"};
  return b;
}

TEST(FirstKernelArguments, PackOwnsReservationAndRdinit) {
  FirstKernelBoot b = Boot();
  b.root = "UUID=1234";
  b.append = "  panic=1 quiet ";
  absl::StatusOr<std::string> a = FirstKernelArguments(b);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a,
            "crashkernel=133M rdinit=/saveoops-early-arm console=ttyS0,115200 root=UUID=1234 "
            "panic=1 quiet");
}

TEST(FirstKernelArguments, NoConsoleNoRootNoAppend) {
  FirstKernelBoot b = Boot();
  b.consoles.clear();
  absl::StatusOr<std::string> a = FirstKernelArguments(b);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, "crashkernel=133M rdinit=/saveoops-early-arm");
}

TEST(FirstKernelArguments, RefusesConflictingOrUnsafeAppend) {
  for (const char* bad : {"crashkernel=64M", "quiet rdinit=/bin/sh", "a\nb", "x\r"}) {
    FirstKernelBoot b = Boot();
    b.append = bad;
    absl::StatusOr<std::string> a = FirstKernelArguments(b);
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(a.status().message().find("--append"), absl::string_view::npos) << a.status();
  }
  for (const char* bad : {"ttyS0 x", "tty\n", ""}) {
    FirstKernelBoot b = Boot();
    b.consoles = {bad};
    EXPECT_FALSE(FirstKernelArguments(b).ok()) << bad;
  }
  FirstKernelBoot r = Boot();
  r.root = "UUID=1 2";
  EXPECT_NE(FirstKernelArguments(r).status().message().find("--root"), absl::string_view::npos);
  FirstKernelBoot b = Boot();
  b.crashkernel_bytes = (133u << 20) + 4096;
  EXPECT_FALSE(FirstKernelArguments(b).ok());
  b.crashkernel_bytes = 0;
  EXPECT_FALSE(FirstKernelArguments(b).ok());
}

TEST(SerialDirective, FollowsTheFirstSerialConsole) {
  EXPECT_EQ(SerialDirective({"ttyS0,115200"}), "SERIAL 0 115200");
  EXPECT_EQ(SerialDirective({"tty0", "ttyS1,57600n8"}), "SERIAL 1 57600");
  EXPECT_EQ(SerialDirective({"ttyS2"}), "SERIAL 2 9600");
  EXPECT_EQ(SerialDirective({"tty0"}), "");
  EXPECT_EQ(SerialDirective({"ttyS9,115200"}), "");  // BIOS knows COM1-COM4 only
  EXPECT_EQ(SerialDirective({"ttySx"}), "");
  EXPECT_EQ(SerialDirective({}), "");
}

TEST(LinuxC32Arguments, StagesTheBundleAsOurSetupDataType) {
  EXPECT_EQ(LinuxC32Arguments("crashkernel=1M"),
            "vmlinuz initrd=early.cpio,initrd.img blob.1398161998=saveoops.bundle crashkernel=1M");
  EXPECT_EQ(BootedCommandLine("x"),
            "BOOT_IMAGE=vmlinuz initrd=early.cpio,initrd.img blob.1398161998=saveoops.bundle x");
  // The decimal in blob.N= is kBundleSetupDataType.
  EXPECT_EQ(1398161998u, kBundleSetupDataType);
}

TEST(CheckCommandLineFits, CountsWhatTheKernelReceives) {
  const std::string args = "crashkernel=1M";
  const uint32_t exact = static_cast<uint32_t>(BootedCommandLine(args).size());
  EXPECT_TRUE(CheckCommandLineFits(args, exact).ok());
  absl::Status s = CheckCommandLineFits(args, exact - 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cmdline_size"), absl::string_view::npos) << s;
}

TEST(SyslinuxConfig, OneEntryNoPromptWithSerial) {
  const std::string cfg = SyslinuxConfig("crashkernel=133M console=ttyS0,115200", {"ttyS0,115200"});
  EXPECT_NE(cfg.find("\nSERIAL 0 115200\n"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("\nDEFAULT saveoops\nPROMPT 0\nTIMEOUT 30\nONTIMEOUT saveoops-unstaged\n"),
            std::string::npos)
      << cfg;
  EXPECT_NE(cfg.find("\nLABEL saveoops-unstaged\n  COM32 linux.c32\n  APPEND vmlinuz "
                     "initrd=early.cpio,initrd.img crashkernel=133M console=ttyS0,115200 "
                     "saveoops.staging=failed\n"),
            std::string::npos)
      << cfg;
  EXPECT_NE(
      cfg.find("\nLABEL saveoops\n  COM32 linux.c32\n  APPEND vmlinuz initrd=early.cpio,initrd.img "
               "blob.1398161998=saveoops.bundle crashkernel=133M console=ttyS0,115200\n"),
      std::string::npos)
      << cfg;
  EXPECT_EQ(SyslinuxConfig("x", {"tty0"}).find("SERIAL"), std::string::npos);
}

}  // namespace
}  // namespace saveoops
