// The uefi backend as `pack --backend=uefi` runs it: a real Debian kernel,
// a small initrd and bundle, saveoops.efi and the arming program from the
// build; then every promise about the image is read back independently
// (GPT, FAT via mtools, saveoops.cfg via the firmware's reader, the store).
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/uefi/boot_config.h"
#include "backends/uefi/gpt.h"
#include "backends/uefi/uefi_image.h"
#include "common/bundle.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "host/flags.h"
#include "initramfs/cpio.h"
#include "store/locate.h"
#include "store/ring.h"
#include "store/store_map.h"

namespace saveoops {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class UefiPackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp", "/pack.XXXXXX");
    ASSERT_NE(mkdtemp(&dir_[0]), nullptr);
    glob_t g;
    ASSERT_EQ(glob("/boot/vmlinuz-*", 0, nullptr, &g), 0)
        << "no /boot/vmlinuz-* (linux-image-amd64)";
    ctx_.first_kernel_path = g.gl_pathv[g.gl_pathc - 1];
    globfree(&g);
    ctx_.first_initrd_path = dir_ + "/initrd.img";
    std::ofstream(ctx_.first_initrd_path) << "not really an initrd";
    BundleContents b;
    b.capture_kernel.assign(10000, 1);
    b.capture_initramfs.assign(5000, 2);
    b.capture_cmdline = "nokaslr";
    b.purgatory.assign(300, 3);
    ctx_.bundle_path = dir_ + "/saveoops.bundle";
    ASSERT_TRUE(WriteBundleFile(ctx_.bundle_path, b).ok());
    ctx_.crashkernel_bytes = 133 << 20;
    ctx_.first_append = "panic=1";
    ctx_.out = dir_ + "/disk.img";
    ctx_.progress = [this](const std::string& s) { progress_ += s + "\n"; };
    backend_ = FindBackend("uefi");
    ASSERT_NE(backend_, nullptr);
  }

  absl::Status Pack(std::vector<std::string> args) {
    CommandLine cl("pack", "test");
    backend_->DeclareFlags(cl);
    args.insert(args.begin(), "pack");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(&a[0]);
    absl::StatusOr<bool> parsed = cl.Parse(argv.size(), argv.data(), 1);
    if (!parsed.ok()) return parsed.status();
    return backend_->Pack(ctx_, cl);
  }

  std::string EspFile(const std::string& path) {
    const std::string out = dir_ + "/readback";
    unlink(out.c_str());
    const std::string cmd = absl::StrCat("MTOOLS_SKIP_CHECK=1 mcopy -i '", ctx_.out,
                                         "@@1M' '::", path, "' '", out, "'");
    EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
    return Slurp(out);
  }

  std::string dir_;
  std::string progress_;
  PackContext ctx_;
  const Backend* backend_ = nullptr;
};

TEST_F(UefiPackTest, ImageBootsWhatTheConfigSaysAndHoldsAStore) {
  ASSERT_TRUE(Pack({"--root=none"}).ok()) << progress_;
  EXPECT_EQ(backend_->default_out(), "saveoops-uefi.img");

  std::ifstream in(ctx_.out, std::ios::binary);
  std::vector<uint8_t> image((std::istreambuf_iterator<char>(in)), {});
  absl::StatusOr<GptDisk> gpt = ParseGptImage(image);
  ASSERT_TRUE(gpt.ok()) << gpt.status();
  ASSERT_EQ(gpt->partitions.size(), 2u);
  EXPECT_EQ(gpt->partitions[0].name, "EFI System Partition");
  EXPECT_EQ(gpt->partitions[1].name, "Saveoops record store");
  absl::StatusOr<StoreLocation> store = FindStoreInImage(ctx_.out);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->offset, gpt->partitions[1].first_lba * 512);

  // The ESP carries exactly the inputs.
  EXPECT_EQ(EspFile(kEspKernelPath), Slurp(ctx_.first_kernel_path));
  EXPECT_EQ(EspFile(kEspInitrdPath), "not really an initrd");
  // The bundle: pack's, plus a store map naming the image's own store, in
  // a second archive after the capture initramfs (arming/arm.h WithStoreMap).
  const std::string esp_bundle = EspFile(kEspBundlePath);
  absl::StatusOr<BundleContents> packed = ParseBundle(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(esp_bundle.data()), esp_bundle.size()));
  ASSERT_TRUE(packed.ok()) << packed.status();
  absl::StatusOr<BundleContents> given = ReadBundleFile(ctx_.bundle_path);
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(packed->capture_kernel, given->capture_kernel);
  const std::vector<uint8_t>& initrd = packed->capture_initramfs;
  ASSERT_GT(initrd.size(), given->capture_initramfs.size());
  EXPECT_TRUE(
      std::equal(given->capture_initramfs.begin(), given->capture_initramfs.end(), initrd.begin()));
  absl::StatusOr<std::vector<CpioEntry>> appended =
      ParseCpio(absl::MakeConstSpan(initrd).subspan((given->capture_initramfs.size() + 3) / 4 * 4));
  ASSERT_TRUE(appended.ok()) << appended.status();
  const CpioEntry* file = nullptr;
  for (const CpioEntry& e : *appended) {
    if (e.name == "saveoops/store.map") file = &e;
  }
  ASSERT_NE(file, nullptr);
  StatusOr<StoreMap> map = ParseStoreMap(file->data.data(), file->data.size());
  ASSERT_TRUE(map.ok()) << map.status().message();
  absl::StatusOr<StoreInfo> info = ReadStoreInfo(*store);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(map->store_uuid, info->uuid);
  const std::string efi = EspFile(kEspBootLoaderPath);
  ASSERT_GT(efi.size(), 0x40u);
  EXPECT_EQ(efi.substr(0, 2), "MZ");
  const std::string arm = EspFile(kEspArmPath);
  EXPECT_EQ(arm.substr(0, 4),
            "\x7f"
            "ELF");

  // saveoops.cfg parses with saveoops.efi's reader and pins the arming
  // program (and the efivarfs module, which Debian builds as a module).
  const std::string cfg = EspFile(kEspConfigPath);
  BootConfig config;
  int line = 0;
  const char* key = "";
  ASSERT_EQ(ParseBootConfig(reinterpret_cast<const uint8_t*>(cfg.data()), cfg.size(), &config,
                            &line, &key),
            BootConfigError::kOk)
      << cfg;
  EXPECT_STREQ(config.cmdline, "crashkernel=133M console=ttyS0,115200 panic=1");
  EXPECT_TRUE(config.arm_sha256 == Sha256Hash(arm.data(), arm.size(), Sha256Engine::kPortable));
  if (config.efivarfs[0] != '\0') {
    const std::string module = EspFile(kEspEfivarfsPath);
    EXPECT_TRUE(config.efivarfs_sha256 ==
                Sha256Hash(module.data(), module.size(), Sha256Engine::kPortable));
  }

  // Same inputs, same disk identity (reproducible images).
  const std::vector<uint8_t> first(image.begin(), image.begin() + 512 * 34);
  ASSERT_TRUE(Pack({"--root=none"}).ok()) << progress_;
  std::ifstream again(ctx_.out, std::ios::binary);
  std::vector<uint8_t> second(512 * 34);
  again.read(reinterpret_cast<char*>(second.data()), second.size());
  EXPECT_EQ(first, second);
}

TEST_F(UefiPackTest, ErrorsNameTheBadInput) {
  ctx_.first_initrd_path = "";
  absl::Status s = Pack({"--root=none"});
  EXPECT_NE(s.message().find("--initrd"), std::string::npos) << s;
  SetUp();
  ctx_.first_kernel_path = ctx_.bundle_path;  // not a bzImage
  s = Pack({"--root=none"});
  EXPECT_NE(s.message().find(ctx_.bundle_path), std::string::npos) << s;
  SetUp();
  s = Pack({"--root=none", "--efi-app=" + ctx_.bundle_path});
  EXPECT_NE(s.message().find("not a PE image"), std::string::npos) << s;
  SetUp();
  s = Pack({"--root=none", "--arm-program=" + ctx_.bundle_path});
  EXPECT_NE(s.message().find("not an ELF"), std::string::npos) << s;
  SetUp();
  ctx_.first_append = "rdinit=/bin/sh";
  s = Pack({"--root=none"});
  EXPECT_NE(s.message().find("rdinit="), std::string::npos) << s;
  SetUp();
  s = Pack({"--root=none", "--esp-size=8M"});
  EXPECT_NE(s.message().find("--esp-size"), std::string::npos) << s;
  SetUp();
  s = Pack({"--root=none", "--efivarfs-module=/nonexistent/efivarfs.ko"});
  EXPECT_NE(s.message().find("--efivarfs-module"), std::string::npos) << s;
  // Nothing was left behind by the failures.
  EXPECT_NE(access(ctx_.out.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace saveoops
