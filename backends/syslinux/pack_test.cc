// Builds real images through the registered "syslinux" backend, with the
// Debian mtools and Syslinux installer, and reads them back the way the
// BIOS, Syslinux and the capture program will.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/syslinux/fat.h"
#include "backends/syslinux/mbr.h"
#include "backends/syslinux/staging.h"
#include "backends/syslinux/test_scratch.h"
#include "common/bundle.h"
#include "common/partition_table.h"
#include "gtest/gtest.h"
#include "host/flags.h"
#include "initramfs/cpio.h"
#include "store/locate.h"
#include "store/ring.h"
#include "store/store_map.h"

namespace saveoops {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class PackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = FindBackend("syslinux");
    ASSERT_NE(backend_, nullptr);
    kernel_ = NewestInstalledKernel();
    ASSERT_FALSE(kernel_.empty())
        << "no /boot/vmlinuz-*: install linux-image-amd64 (tools/setup.sh)";
    CpioWriter initrd;
    ASSERT_TRUE(initrd.AddFile("/init", "#!/bin/sh\n", 0755).ok());
    const std::vector<uint8_t> cpio = initrd.Finish();
    initrd_ = dir_.Write("initrd.img", std::string(cpio.begin(), cpio.end()));
    BundleContents b;
    b.capture_kernel = std::vector<uint8_t>(300000, 0x11);
    b.capture_initramfs = std::vector<uint8_t>(200000, 0x22);
    b.capture_cmdline = "nokaslr";
    b.purgatory = std::vector<uint8_t>(20000, 0x33);
    bundle_path_ = dir_.path() + "/saveoops.bundle";
    ASSERT_TRUE(WriteBundleFile(bundle_path_, b).ok());
  }

  PackContext Context(const std::string& out) {
    PackContext ctx;
    ctx.first_kernel_path = kernel_;
    ctx.first_initrd_path = initrd_;
    ctx.first_append = "panic=1";
    ctx.bundle_path = bundle_path_;
    ctx.crashkernel_bytes = 133u << 20;
    ctx.out = out;
    ctx.progress = [this](const std::string& s) { progress_.push_back(s); };
    return ctx;
  }

  absl::Status Pack(const PackContext& ctx, std::vector<std::string> flags) {
    CommandLine cl("pack", "test");
    backend_->DeclareFlags(cl);
    flags.insert(flags.begin(), "pack");
    std::vector<char*> argv;
    for (std::string& f : flags) argv.push_back(&f[0]);
    absl::StatusOr<bool> parsed = cl.Parse(static_cast<int>(argv.size()), argv.data(), 1);
    if (!parsed.ok()) return parsed.status();
    return backend_->Pack(ctx, cl);
  }

  ScratchDir dir_;
  const Backend* backend_ = nullptr;
  std::string kernel_, initrd_, bundle_path_;
  std::vector<std::string> progress_;
};

TEST_F(PackTest, ImageBootsTheWayTheBiosSyslinuxAndCaptureReadIt) {
  const std::string out = dir_.path() + "/disk.img";
  // umask 0: the mode is the one the image is created with.
  const mode_t old_umask = umask(0);
  absl::Status s = Pack(Context(out), {"--root=none", "--store-size=8M"});
  umask(old_umask);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GE(progress_.size(), 5u);
  EXPECT_NE(access((out + ".tmp").c_str(), F_OK), 0) << "temporary image left behind";
  // Its store receives records: for the owner only.
  struct stat st {};
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  const std::string image = ReadText(out);
  ASSERT_GT(image.size(), 16u << 20);

  // MBR: Syslinux's mbr.bin, 0x55aa, partition 1 active FAT, 2 the store.
  const std::string mbr_bin = ReadText("/usr/lib/syslinux/mbr/mbr.bin");
  ASSERT_FALSE(mbr_bin.empty());
  EXPECT_EQ(image.substr(0, mbr_bin.size()), mbr_bin);
  EXPECT_EQ(static_cast<uint8_t>(image[510]), 0x55);
  EXPECT_EQ(static_cast<uint8_t>(image[511]), 0xaa);
  EXPECT_EQ(static_cast<uint8_t>(image[446]), kMbrStatusActive);
  EXPECT_EQ(static_cast<uint8_t>(image[446 + 4]), kMbrTypeFat16Lba);
  EXPECT_EQ(static_cast<uint8_t>(image[462]), 0);
  EXPECT_EQ(static_cast<uint8_t>(image[462 + 4]), kMbrTypeNonFsData);
  absl::StatusOr<std::vector<Partition>> parts = WalkPartitionTable(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(image.data()), image.size()));
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].offset, 1u << 20);
  EXPECT_EQ((*parts)[1].size, 8u << 20);
  EXPECT_EQ((*parts)[1].offset + (*parts)[1].size, image.size());

  // The capture program's view: the store is partition 2, empty.
  absl::StatusOr<StoreLocation> store = FindStoreInImage(out);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->offset, (*parts)[1].offset);
  absl::StatusOr<StoreListing> listing = ListRecords(*store);
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_TRUE(listing->records.empty());

  // The bundle on the image: pack's, plus a store map naming this image's
  // store in a second archive after the capture initramfs (WithStoreMap).
  {
    FatTools tools;
    const FatPartition fat{out, (*parts)[0].offset, (*parts)[0].size};
    absl::StatusOr<std::string> on_image = ReadFromFat(tools, fat, kFatBundleName);
    ASSERT_TRUE(on_image.ok()) << on_image.status();
    absl::StatusOr<BundleContents> packed = ParseBundle(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(on_image->data()), on_image->size()));
    ASSERT_TRUE(packed.ok()) << packed.status();
    const std::vector<uint8_t>& initrd = packed->capture_initramfs;
    ASSERT_GT(initrd.size(), 200000u);
    EXPECT_EQ(std::count(initrd.begin(), initrd.begin() + 200000, 0x22), 200000);
    absl::StatusOr<std::vector<CpioEntry>> appended =
        ParseCpio(absl::MakeConstSpan(initrd).subspan(200000));
    ASSERT_TRUE(appended.ok()) << appended.status();
    const CpioEntry* file = nullptr;
    for (const CpioEntry& e : *appended) {
      if (e.name == "saveoops/store.map") file = &e;
    }
    ASSERT_NE(file, nullptr);
    StatusOr<StoreMap> map = ParseStoreMap(file->data.data(), file->data.size());
    ASSERT_TRUE(map.ok()) << map.status().message();
    EXPECT_EQ(map->store_uuid, listing->info.uuid);
  }

  // The FAT partition: Syslinux's boot sector and files, byte for byte.
  const FatPartition fat{out, (*parts)[0].offset, (*parts)[0].size};
  EXPECT_EQ(image.substr(fat.offset + 3, 8), "SYSLINUX");
  EXPECT_EQ(*ReadFatType(fat), "FAT16");
  FatTools tools;
  for (const char* f : {"ldlinux.sys", "ldlinux.c32"}) {
    absl::StatusOr<std::string> got = ReadFromFat(tools, fat, f);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_GT(got->size(), 10000u) << f;
  }
  for (const auto& [fat_name, host] : std::vector<std::pair<std::string, std::string>>{
           {kFatKernelName, kernel_},
           {kFatInitrdName, initrd_},
           {"linux.c32", "/usr/lib/syslinux/modules/bios/linux.c32"},
           {"libcom32.c32", "/usr/lib/syslinux/modules/bios/libcom32.c32"}}) {
    absl::StatusOr<std::string> got = ReadFromFat(tools, fat, fat_name);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == ReadText(host)) << fat_name << " differs from " << host;
  }
  absl::StatusOr<std::string> cfg = ReadFromFat(tools, fat, kFatConfigName);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_NE(
      cfg->find("  APPEND vmlinuz initrd=early.cpio,initrd.img blob.1398161998=saveoops.bundle "
                "crashkernel=133M rdinit=/saveoops-early-arm console=ttyS0,115200 panic=1\n"),
      std::string::npos)
      << *cfg;
  EXPECT_NE(cfg->find("SERIAL 0 115200"), std::string::npos) << *cfg;
  EXPECT_EQ(cfg->find("root="), std::string::npos) << *cfg;

  // early.cpio: the arming program where rdinit= points, and a console.
  absl::StatusOr<std::string> early = ReadFromFat(tools, fat, kFatEarlyCpioName);
  ASSERT_TRUE(early.ok()) << early.status();
  absl::StatusOr<std::vector<CpioEntry>> entries = ParseCpio(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(early->data()), early->size()));
  ASSERT_TRUE(entries.ok()) << entries.status();
  bool have_arm = false, have_console = false;
  for (const CpioEntry& e : *entries) {
    if (e.name == std::string(kEarlyArmPath).substr(1)) {
      have_arm = e.type() == kCpioTypeRegular && e.permissions() == 0755 && e.data.size() > 100000;
    }
    if (e.name == "dev/console")
      have_console = e.type() == kCpioTypeCharDevice && e.rdev_major == 5;
  }
  EXPECT_TRUE(have_arm);
  EXPECT_TRUE(have_console);
}

TEST_F(PackTest, UserConsoleAndRootWin) {
  PackContext ctx = Context(dir_.path() + "/disk.img");
  ctx.first_append = "console=tty0 root=/dev/vda2";
  ASSERT_TRUE(Pack(ctx, {}).ok());
  FatTools tools;
  absl::StatusOr<StoreLocation> store = FindStoreInImage(ctx.out);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<std::string> cfg =
      ReadFromFat(tools, {ctx.out, 1u << 20, store->offset - (1u << 20)}, kFatConfigName);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_NE(cfg->find("rdinit=/saveoops-early-arm console=tty0 root=/dev/vda2\n"),
            std::string::npos)
      << *cfg;
  EXPECT_EQ(cfg->find("SERIAL"), std::string::npos) << *cfg;
}

// A pack whose writes stop short (RLIMIT_FSIZE: EFBIG, as a full disk gives
// ENOSPC) leaves neither the image nor its temporary file.
TEST_F(PackTest, APackFailingMidwayLeavesNoImage) {
  const std::string out = dir_.path() + "/full.img";
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const struct rlimit l = {4u << 20, 4u << 20};
    if (setrlimit(RLIMIT_FSIZE, &l) != 0) _exit(3);
    _exit(Pack(Context(out), {"--root=none", "--store-size=8M"}).ok() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the pack did not fail";
  EXPECT_NE(access(out.c_str(), F_OK), 0) << "an image is left";
  EXPECT_NE(access((out + ".tmp").c_str(), F_OK), 0) << "a temporary image is left";
}

TEST_F(PackTest, ClearErrorsForBadInputs) {
  const std::string out = dir_.path() + "/bad.img";
  struct Case {
    std::string name;
    std::vector<std::string> flags;
    std::function<void(PackContext&)> change;
    std::string expect;
  };
  const std::string garbage = dir_.Write("not-a-kernel", std::string(5000, 'x'));
  const std::vector<Case> cases = {
      {"no room",
       {"--fat-size=16M", "--min-memory=64G"},
       [&](PackContext& c) {
         c.first_initrd_path = dir_.Write("big-initrd", std::string(20u << 20, 'i'));
       },
       "no room on the image"},
      {"image too small", {"--image-size=17M"}, nullptr, "no room on the image"},
      {"memory", {"--min-memory=256M"}, nullptr, "too large for memory"},
      {"no initrd",
       {},
       [](PackContext& c) { c.first_initrd_path.clear(); },
       "needs the first kernel's initrd"},
      {"missing initrd",
       {},
       [](PackContext& c) { c.first_initrd_path = "/nonexistent/initrd"; },
       "/nonexistent/initrd"},
      {"not a kernel",
       {},
       [&](PackContext& c) { c.first_kernel_path = garbage; },
       "cannot be the first kernel"},
      {"missing kernel",
       {},
       [](PackContext& c) { c.first_kernel_path = "/nonexistent/vmlinuz"; },
       "/nonexistent/vmlinuz"},
      {"owned append",
       {},
       [](PackContext& c) { c.first_append = "crashkernel=64M"; },
       "pack writes itself"},
      {"out is a dir", {}, [&](PackContext& c) { c.out = dir_.path(); }, "not a regular file"},
      {"no syslinux", {"--syslinux-dir=/nonexistent"}, nullptr, "syslinux-common"},
      {"no early arm",
       {"--early-arm=/nonexistent/saveoops-early-arm"},
       nullptr,
       "/nonexistent/saveoops-early-arm"},
  };
  for (const Case& c : cases) {
    PackContext ctx = Context(out);
    if (c.change) c.change(ctx);
    absl::Status s = Pack(ctx, c.flags);
    EXPECT_FALSE(s.ok()) << c.name;
    EXPECT_NE(s.message().find(c.expect), absl::string_view::npos) << c.name << ": " << s;
    EXPECT_NE(access(out.c_str(), F_OK), 0) << c.name << ": an image was written";
    EXPECT_NE(access((out + ".tmp").c_str(), F_OK), 0) << c.name << ": a partial image was left";
    unlink(out.c_str());
  }
}

}  // namespace
}  // namespace saveoops
