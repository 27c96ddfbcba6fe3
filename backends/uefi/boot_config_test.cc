#include "backends/uefi/boot_config.h"

#include <string>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

constexpr char kDigest[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

struct Parsed {
  BootConfigError error;
  int line;
  std::string key;
  BootConfig config;
};

Parsed Parse(const std::string& text) {
  Parsed p;
  const char* key = "";
  p.error = ParseBootConfig(reinterpret_cast<const uint8_t*>(text.data()), text.size(), &p.config,
                            &p.line, &key);
  p.key = key;
  return p;
}

std::string Minimal() {
  return std::string(
             "kernel=\\EFI\\saveoops\\vmlinuz\n"
             "bundle=\\EFI\\saveoops\\saveoops.bundle\n"
             "arm=\\EFI\\saveoops\\arm\n"
             "arm_sha256=") +
         kDigest + "\n";
}

TEST(BootConfigTest, ParsesEveryKey) {
  const Parsed p = Parse(
      "# comment\n"
      "\n"
      "kernel=\\EFI\\saveoops\\vmlinuz\n"
      "initrd = /EFI/saveoops/initrd.img  \r\n"
      "cmdline=root=/dev/sda2 ro crashkernel=120M console=ttyS0,115200\n"
      "bundle=\\EFI\\saveoops\\saveoops.bundle\n"
      "arm=\\EFI\\saveoops\\arm\n"
      "arm_sha256=9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n"
      "efivarfs=\\EFI\\saveoops\\efivarfs.ko\n"
      "efivarfs_sha256=" +
      std::string(kDigest));  // no final newline
  ASSERT_EQ(p.error, BootConfigError::kOk) << BootConfigErrorName(p.error) << " line " << p.line;
  EXPECT_STREQ(p.config.kernel, "\\EFI\\saveoops\\vmlinuz");
  // '/' becomes '\', blanks around the value go.
  EXPECT_STREQ(p.config.initrd, "\\EFI\\saveoops\\initrd.img");
  EXPECT_STREQ(p.config.cmdline, "root=/dev/sda2 ro crashkernel=120M console=ttyS0,115200");
  EXPECT_STREQ(p.config.bundle, "\\EFI\\saveoops\\saveoops.bundle");
  EXPECT_STREQ(p.config.arm, "\\EFI\\saveoops\\arm");
  EXPECT_STREQ(p.config.efivarfs, "\\EFI\\saveoops\\efivarfs.ko");
  EXPECT_EQ(p.config.arm_sha256.bytes[0], 0x9f);
  EXPECT_EQ(p.config.arm_sha256.bytes[31], 0x08);
  EXPECT_EQ(p.config.efivarfs_sha256.bytes[1], 0x86);
}

TEST(BootConfigTest, OptionalKeysMayBeAbsent) {
  const Parsed p = Parse(Minimal());
  ASSERT_EQ(p.error, BootConfigError::kOk);
  EXPECT_STREQ(p.config.initrd, "");
  EXPECT_STREQ(p.config.cmdline, "");
  EXPECT_STREQ(p.config.efivarfs, "");
}

TEST(BootConfigTest, ReportsTheLineAndKeyOfEachError) {
  struct Case {
    std::string text;
    BootConfigError error;
    int line;
    std::string key;
  };
  const Case cases[] = {
      {Minimal() + "kernel=\\x\n", BootConfigError::kDuplicateKey, 5, "kernel"},
      {Minimal() + "kernal=\\x\n", BootConfigError::kUnknownKey, 5, ""},
      {"# ok\njust words\n", BootConfigError::kMissingEquals, 2, ""},
      {"kernel=EFI\\vmlinuz\n", BootConfigError::kBadPath, 1, "kernel"},
      {"kernel=\n", BootConfigError::kBadPath, 1, "kernel"},
      {"kernel=\\EFI\\\\vmlinuz\n", BootConfigError::kBadPath, 1, "kernel"},
      {"kernel=\\EFI\\\n", BootConfigError::kBadPath, 1, "kernel"},
      {"kernel=\\EFI\\vm?linuz\n", BootConfigError::kBadPath, 1, "kernel"},
      {"kernel=\\" + std::string(kBootConfigMaxPath, 'a') + "\n", BootConfigError::kValueTooLong, 1,
       "kernel"},
      {"cmdline=" + std::string(kBootConfigMaxCmdline + 1, 'a') + "\n",
       BootConfigError::kValueTooLong, 1, "cmdline"},
      {"cmdline=quiet rdinit=/bin/sh\n", BootConfigError::kRdinitInCmdline, 1, "cmdline"},
      {"arm_sha256=1234\n", BootConfigError::kBadDigest, 1, "arm_sha256"},
      {"arm_sha256=" + std::string(63, '0') + "g\n", BootConfigError::kBadDigest, 1, "arm_sha256"},
      {"kernel=\\a\x01\n", BootConfigError::kNotText, 1, ""},
      {"kernel=\\a\rb\n", BootConfigError::kNotText, 1, ""},
      {"kernel=\\a\n", BootConfigError::kMissingKey, 0, "bundle"},
      {Minimal() + "efivarfs=\\m.ko\n", BootConfigError::kMissingKey, 0, "efivarfs_sha256"},
      {Minimal() + "efivarfs_sha256=" + kDigest + "\n", BootConfigError::kMissingKey, 0,
       "efivarfs"},
      {std::string(kBootConfigMaxSize + 1, '#'), BootConfigError::kTooLarge, 0, ""},
  };
  for (const Case& c : cases) {
    const Parsed p = Parse(c.text);
    EXPECT_EQ(p.error, c.error) << c.text.substr(0, 80) << ": got " << BootConfigErrorName(p.error);
    EXPECT_EQ(p.line, c.line) << c.text.substr(0, 80);
    EXPECT_EQ(p.key, c.key) << c.text.substr(0, 80);
  }
}

TEST(BootConfigTest, RdinitOnlyCountsAsAWholeParameter) {
  // "xrdinit=" is some other parameter; the kernel would not read it.
  const Parsed p = Parse(Minimal() + "cmdline=xrdinit=/a saveoops.rdinit=1\n");
  EXPECT_EQ(p.error, BootConfigError::kOk);
  EXPECT_EQ(Parse(Minimal() + "cmdline=rdinit=/a\n").error, BootConfigError::kRdinitInCmdline);
  EXPECT_EQ(Parse(Minimal() + "cmdline=a\trdinit=/a\n").error, BootConfigError::kRdinitInCmdline);
  // Words as the kernel splits them: inside quotes it is part of a value.
  EXPECT_EQ(Parse(Minimal() + "cmdline=\"rdinit=/a\"\n").error, BootConfigError::kRdinitInCmdline);
  EXPECT_EQ(Parse(Minimal() + "cmdline=q=\"x rdinit=/a\"\n").error, BootConfigError::kOk);
}

TEST(BootConfigTest, TabsInTheCommandLineBecomeSpaces) {
  const Parsed p = Parse(Minimal() + "cmdline=a\tb\n");
  ASSERT_EQ(p.error, BootConfigError::kOk);
  EXPECT_STREQ(p.config.cmdline, "a b");
}

TEST(BootConfigTest, EveryErrorHasAName) {
  for (int e = 0; e <= static_cast<int>(BootConfigError::kMissingKey); ++e) {
    EXPECT_STRNE(BootConfigErrorName(static_cast<BootConfigError>(e)), "unknown error") << e;
  }
}

}  // namespace
}  // namespace saveoops
