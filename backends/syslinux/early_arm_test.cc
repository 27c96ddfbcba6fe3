#include "backends/syslinux/early_arm.h"

#include <stdlib.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/syslinux/staging.h"
#include "backends/syslinux/test_scratch.h"
#include "common/bundle.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::string Runfile(const std::string& path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : "..", "/saveoops/", path);
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

BundleContents SmallBundle() {
  BundleContents b;
  b.capture_kernel = std::vector<uint8_t>(10000, 0xab);
  b.capture_initramfs = std::vector<uint8_t>(3000, 0x07);
  b.capture_cmdline = "nokaslr panic=1";
  b.purgatory = std::vector<uint8_t>(500, 0x90);
  return b;
}

std::string Bytes(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// A /sys/kernel/boot_params/setup_data tree as the kernel shows it.
void AddNode(const ScratchDir& root, int n, const std::string& type_text, const std::string& data) {
  const std::string dir = absl::StrCat("sys/kernel/boot_params/setup_data/", n);
  root.Write(dir + "/type", type_text);
  root.Write(dir + "/data", data);
}

TEST(ParseEarlyArmOptions, DefaultsAndOverrides) {
  EarlyArmOptions d = ParseEarlyArmOptions("BOOT_IMAGE=vmlinuz quiet\n");
  EXPECT_EQ(d.next_init, "/init");
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.timeout_seconds, 60);
  EXPECT_TRUE(d.ignored.empty());

  EarlyArmOptions o = ParseEarlyArmOptions(
      "quiet saveoops.init=/sbin/init saveoops.early_arm=0 saveoops.arm_timeout=5\n");
  EXPECT_EQ(o.next_init, "/sbin/init");
  EXPECT_FALSE(o.enabled);
  EXPECT_EQ(o.timeout_seconds, 5);
  EXPECT_FALSE(o.staging_failed);
  EXPECT_TRUE(ParseEarlyArmOptions("a saveoops.staging=failed b").staging_failed);

  // Words after "--" belong to init, not to the kernel or to us.
  EXPECT_EQ(ParseEarlyArmOptions("a -- saveoops.init=/x").next_init, "/init");
  // Read as the kernel reads it: quotes dropped, the last one wins.
  EXPECT_EQ(ParseEarlyArmOptions("saveoops.init=\"/a\" saveoops.init=/b").next_init, "/b");
  EXPECT_EQ(ParseEarlyArmOptions("saveoops.init=\"/a\"").next_init, "/a");
}

TEST(ParseEarlyArmOptions, BadValuesAreReportedNotUsed) {
  EarlyArmOptions o = ParseEarlyArmOptions(
      "saveoops.init=init saveoops.early_arm=maybe saveoops.arm_timeout=0 saveoops.arm_timeout=x");
  EXPECT_EQ(o.next_init, "/init");
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.timeout_seconds, 60);
  ASSERT_EQ(o.ignored.size(), 4u);
  EXPECT_NE(o.ignored[0].find("not an absolute path"), std::string::npos);
}

TEST(ParseSetupDataType, AcceptsWhatKsysfsPrints) {
  EXPECT_EQ(*ParseSetupDataType("0x5356424e\n"), kBundleSetupDataType);
  EXPECT_EQ(*ParseSetupDataType("0x1\n"), 1u);
  EXPECT_EQ(*ParseSetupDataType("0xFFFFFFFF"), 0xffffffffu);
  for (const char* bad :
       {"", "\n", "0x", "0x\n", "5356424e", "0x123456789", "0xg", "0x1\n\n", " 0x1"}) {
    EXPECT_FALSE(ParseSetupDataType(bad).ok()) << bad;
  }
}

TEST(ReadStagedBundle, FindsOurNodeAmongOthers) {
  ScratchDir root;
  absl::StatusOr<std::vector<uint8_t>> bundle = SerializeBundle(SmallBundle());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  AddNode(root, 0, "0x1\n", "e820 stuff");
  AddNode(root, 1, "0x9\n", "rng seed");
  AddNode(root, 2, absl::StrFormat("0x%x\n", kBundleSetupDataType), Bytes(*bundle));
  AddNode(root, 10, absl::StrFormat("0x%x\n", kBundleSetupDataType), "a later copy, not read");
  absl::StatusOr<StagedBundle> staged = ReadStagedBundle(root.path());
  ASSERT_TRUE(staged.ok()) << staged.status();
  EXPECT_EQ(staged->node, 2);
  EXPECT_EQ(staged->bytes, *bundle);
  absl::StatusOr<BundleContents> verified = VerifyStagedBundle(*staged);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(*verified, SmallBundle());
}

TEST(ReadStagedBundle, SaysWhatWasThereInstead) {
  ScratchDir root;
  AddNode(root, 0, "0x1\n", "x");
  AddNode(root, 1, "garbage", "y");
  absl::StatusOr<StagedBundle> staged = ReadStagedBundle(root.path());
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), absl::StatusCode::kNotFound);
  const std::string msg(staged.status().message());
  EXPECT_NE(msg.find("no setup_data node of type 0x5356424e"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0 (type 0x1)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1 (setup_data type 'garbage'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("blob.1398161998=saveoops.bundle"), std::string::npos) << msg;
}

TEST(ReadStagedBundle, NoSetupDataAtAll) {
  ScratchDir root;
  absl::StatusOr<StagedBundle> staged = ReadStagedBundle(root.path());
  ASSERT_FALSE(staged.ok());
  EXPECT_NE(staged.status().message().find("passed no setup_data at all"), absl::string_view::npos)
      << staged.status();
}

TEST(VerifyStagedBundle, RefusesADamagedPartAndNamesIt) {
  absl::StatusOr<std::vector<uint8_t>> bundle = SerializeBundle(SmallBundle());
  ASSERT_TRUE(bundle.ok());
  // Part data starts at 4096 (the first 4096-aligned offset after the
  // header): the capture kernel.
  StagedBundle staged{3, *bundle};
  staged.bytes[4096 + 5000] ^= 0x01;
  absl::StatusOr<BundleContents> v = VerifyStagedBundle(staged);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  const std::string msg(v.status().message());
  EXPECT_NE(msg.find("setup_data node 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("part 'capture_kernel' SHA-256 mismatch"), std::string::npos) << msg;

  StagedBundle truncated{0, *bundle};
  truncated.bytes.resize(truncated.bytes.size() - 1);
  EXPECT_FALSE(VerifyStagedBundle(truncated).ok());
}

// A fake live system as ReadCrashSystemInfo reads it: the QEMU guest's
// /proc/iomem (1 GiB, crashkernel=256M), one CPU's crash notes, VMCOREINFO.
void FakeSystem(const ScratchDir& root, const std::string& cmdline) {
  root.Write("proc/iomem",
             ReadText(Runfile("common/testdata/iomem_qemu_bios_1g_crashkernel_256m.txt")));
  root.Write("proc/cmdline", cmdline);
  root.Write("proc/sys/kernel/osrelease", "6.1.0-test\n");
  root.Write("sys/devices/system/cpu/cpu0/crash_notes", "3fc1a400\n");
  root.Write("sys/devices/system/cpu/cpu0/crash_notes_size", "424\n");
  root.Write("sys/kernel/vmcoreinfo", "10ef3000 1024\n");
}

// The staged bundle goes through the shared arming code: the plan fits the
// reservation, the capture kernel gets the first kernel's console, and a dry
// run loads nothing (so no state file).
TEST(ArmStagedBundle, DryRunPlansThroughTheSharedArmCode) {
  const std::string kernel = NewestInstalledKernel();
  ASSERT_FALSE(kernel.empty()) << "no /boot/vmlinuz-*: install linux-image-amd64 (tools/setup.sh)";
  ScratchDir root;
  FakeSystem(root, "BOOT_IMAGE=vmlinuz console=ttyS0,115200 rdinit=/saveoops-early-arm\n");
  BundleContents b = SmallBundle();
  const std::string k = ReadText(kernel);
  b.capture_kernel.assign(k.begin(), k.end());
  const std::string purgatory = ReadText(Runfile("purgatory/purgatory.bin"));
  ASSERT_FALSE(purgatory.empty());
  b.purgatory.assign(purgatory.begin(), purgatory.end());
  std::vector<std::string> said;
  absl::StatusOr<ArmOutcome> r = ArmStagedBundle(b, root.path(), /*dry_run=*/true,
                                                 [&](const std::string& s) { said.push_back(s); });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->plan.plan.reservation.start, 0x2f000000u);
  EXPECT_NE(r->plan.capture_cmdline.find("nokaslr panic=1 console=ttyS0,115200 elfcorehdr=0x"),
            std::string::npos)
      << r->plan.capture_cmdline;
  EXPECT_FALSE(said.empty());
  EXPECT_FALSE(r->used_file_load);
  EXPECT_NE(access((root.path() + "/run/saveoops/armed").c_str(), F_OK), 0);
}

TEST(ArmStagedBundle, MissingReservationSaysWhatToBootWith) {
  const std::string kernel = NewestInstalledKernel();
  ASSERT_FALSE(kernel.empty());
  ScratchDir root;
  FakeSystem(root, "quiet\n");
  std::string iomem = ReadText(Runfile("common/testdata/iomem_qemu_bios_1g_crashkernel_256m.txt"));
  iomem.erase(iomem.find("  2f000000-3effffff : Crash kernel\n"), 35);
  root.Write("proc/iomem", iomem);
  BundleContents b = SmallBundle();
  const std::string k = ReadText(kernel);
  b.capture_kernel.assign(k.begin(), k.end());
  absl::StatusOr<ArmOutcome> r = ArmStagedBundle(b, root.path(), true, [](const std::string&) {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("this bundle needs crashkernel="), absl::string_view::npos)
      << r.status();
}

}  // namespace
}  // namespace saveoops
