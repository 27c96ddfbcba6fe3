#include "initramfs/builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <glob.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "initramfs/cpio.h"
#include "initramfs/modules.h"
#include "initramfs/test_tempdir.h"

namespace saveoops {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A stand-in for saveoops-capture: ELF magic and some seeded noise.
std::string DummyCaptureBinary() {
  std::mt19937_64 rng(7);
  std::string bytes =
      "\x7f"
      "ELF\x02\x01\x01";
  for (int i = 0; i < 100000; ++i) bytes.push_back(static_cast<char>(rng()));
  return bytes;
}

std::map<std::string, CpioEntry> ByName(const std::vector<CpioEntry>& v) {
  std::map<std::string, CpioEntry> m;
  for (const CpioEntry& e : v) m[e.name] = e;
  return m;
}

std::string Str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// `plain` compressed as the kernel's module install step does
// (scripts/Makefile.modinst: xz --check=crc32 --lzma2=dict=1MiB, zstd, gzip).
std::string Xz(const std::string& plain) {
  std::string out(plain.size() + 1024, '\0');
  size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr,
                                    reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
                                    reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

std::string Zstd(const std::string& plain) {
  std::string out(ZSTD_compressBound(plain.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 19);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Gzip(const std::string& plain) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, plain.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = plain.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

constexpr char kPlainDriver[] =
    "\x7f"
    "ELF disk driver";

// ------------------------------------------------ with the installed kernel

class InstalledBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = DefaultModulesDir();
    ASSERT_TRUE(dir.ok()) << dir.status() << " (install linux-image-amd64)";
    spec_.modules_dir = *dir;
    binary_ = DummyCaptureBinary();
    spec_.capture_binary_path = tmp_.Write("saveoops-capture", binary_, 0755);
  }

  TempDir tmp_;
  std::string binary_;
  CaptureInitramfsSpec spec_;
};

TEST_F(InstalledBuilderTest, DefaultModuleSetBuildsAndParsesBack) {
  CaptureInitramfsSummary summary;
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec_, &summary);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(summary.total_bytes, archive->size());
  EXPECT_EQ(summary.init_bytes, binary_.size());
  std::cout << "capture initramfs for " << summary.release << ": " << summary.total_bytes
            << " bytes (" << summary.module_paths.size() << " modules, " << summary.module_bytes
            << " bytes of modules, /init " << summary.init_bytes << " bytes)\n";
  RecordProperty("initramfs_bytes", static_cast<int>(summary.total_bytes));
  EXPECT_LT(archive->size(), 8u << 20) << "default module set outgrew 8 MiB";
  EXPECT_THAT(summary.skipped_modules, IsEmpty()) << "Debian's generic kernel has them all";

  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(*archive);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::map<std::string, CpioEntry> e = ByName(*parsed);
  ASSERT_EQ(e.size(), parsed->size()) << "duplicate names";

  ASSERT_TRUE(e.count("init"));
  EXPECT_EQ(e["init"].mode, 0100755u);
  EXPECT_EQ(Str(e["init"].data), binary_);
  ASSERT_TRUE(e.count("dev/console"));
  EXPECT_EQ(e["dev/console"].mode, 020600u);
  EXPECT_EQ(e["dev/console"].rdev_major, 5u);
  EXPECT_EQ(e["dev/console"].rdev_minor, 1u);
  EXPECT_EQ(e["dev"].mode, 040755u);
  EXPECT_EQ(e["proc"].mode, 040555u);
  EXPECT_EQ(e["sys"].mode, 040555u);
  EXPECT_EQ(e["tmp"].mode, 041777u);
  // /dev precedes /dev/console.
  EXPECT_LT(e["dev"].header_offset, e["dev/console"].header_offset);

  // The module list holds the resolved modules in load order.
  ASSERT_TRUE(e.count("etc/saveoops/modules"));
  EXPECT_EQ(e["etc/saveoops/modules"].mode, 0100644u);
  const std::string list = Str(e["etc/saveoops/modules"].data);
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list.back(), '\n');
  std::vector<std::string> lines = absl::StrSplit(list, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines, summary.module_paths);
  absl::StatusOr<ModuleIndex> index = LoadModuleIndex(spec_.modules_dir);
  ASSERT_TRUE(index.ok()) << index.status();
  absl::StatusOr<std::vector<std::string>> order = ResolveModules(*index, spec_.modules);
  ASSERT_TRUE(order.ok()) << order.status();
  ASSERT_EQ(lines.size(), order->size());
  const std::string prefix = "/lib/modules/" + summary.release + "/";
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i], prefix + (*order)[i]);
    position[*ModuleNameFromPath(lines[i])] = i;
    // Every listed module is in the archive with the host file's bytes.
    const std::string name = lines[i].substr(1);
    ASSERT_TRUE(e.count(name)) << name;
    EXPECT_EQ(e[name].mode, 0100644u);
    absl::StatusOr<std::string> host = ReadHostFile(spec_.modules_dir + "/" + (*order)[i]);
    ASSERT_TRUE(host.ok()) << host.status();
    EXPECT_EQ(Str(e[name].data), *host) << name;
  }
  for (const char* name :
       {"virtio_pci", "virtio_blk", "ahci", "sd_mod", "nvme", "virtio_scsi", "hv_storvsc",
        "hv_vmbus", "xen_blkfront", "vmw_pvscsi", "mpt3sas", "megaraid_sas"}) {
    EXPECT_TRUE(position.count(name)) << name;
  }
  EXPECT_LT(position["virtio_ring"], position["virtio"]);
  EXPECT_LT(position["virtio"], position["virtio_blk"]);
  EXPECT_LT(position["virtio_pci_modern_dev"], position["virtio_pci"]);
  EXPECT_LT(position["libata"], position["ahci"]);
  EXPECT_LT(position["nvme_core"], position["nvme"]);
  EXPECT_LT(position["scsi_mod"], position["sd_mod"]);
  EXPECT_LT(position["scsi_mod"], position["virtio_scsi"]);
  EXPECT_LT(position["hv_vmbus"], position["hv_storvsc"]);
  EXPECT_LT(position["scsi_transport_sas"], position["mpt3sas"]);
}

TEST_F(InstalledBuilderTest, DefaultModulesDirForAGivenRelease) {
  const std::string release = spec_.modules_dir.substr(spec_.modules_dir.rfind('/') + 1);
  absl::StatusOr<std::string> dir = DefaultModulesDir(release);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, "/lib/modules/" + release);
  absl::StatusOr<std::string> none = DefaultModulesDir("0.0.0-none");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("0.0.0-none"));
}

// ------------------------------------------------ with a synthetic kernel

class SyntheticBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_.capture_binary_path = tmp_.Write("capture",
                                           "\x7f"
                                           "ELF tiny",
                                           0755);
    spec_.modules_dir = tmp_.path() + "/modules/9.9.9-test";
    tmp_.Write("modules/9.9.9-test/modules.dep",
               "kernel/disk/disk-drv.ko.xz: kernel/lib/base.ko\n"
               "kernel/lib/base.ko:\n");
    tmp_.Write("modules/9.9.9-test/modules.builtin", "kernel/lib/crc32.ko\n");
    tmp_.Write("modules/9.9.9-test/kernel/disk/disk-drv.ko.xz", Xz(kPlainDriver));
    tmp_.Write("modules/9.9.9-test/kernel/lib/base.ko", "BASE");
    spec_.modules = {"disk_drv", "crc32"};
  }

  TempDir tmp_;
  CaptureInitramfsSpec spec_;
};

TEST_F(SyntheticBuilderTest, UnpacksCompressedModulesAndListsThemPlain) {
  CaptureInitramfsSummary summary;
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec_, &summary);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(summary.release, "9.9.9-test");
  EXPECT_EQ(summary.module_bytes, 4u + sizeof(kPlainDriver) - 1);
  EXPECT_EQ(summary.unpacked_modules, 1);
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(*archive);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::map<std::string, CpioEntry> e = ByName(*parsed);
  EXPECT_EQ(Str(e["lib/modules/9.9.9-test/kernel/disk/disk-drv.ko"].data), kPlainDriver);
  EXPECT_FALSE(e.count("lib/modules/9.9.9-test/kernel/disk/disk-drv.ko.xz"));
  EXPECT_EQ(Str(e["lib/modules/9.9.9-test/kernel/lib/base.ko"].data), "BASE");
  EXPECT_EQ(Str(e["etc/saveoops/modules"].data),
            "/lib/modules/9.9.9-test/kernel/lib/base.ko\n"
            "/lib/modules/9.9.9-test/kernel/disk/disk-drv.ko\n");
  EXPECT_EQ(e["lib/modules"].mode, 040755u);
}

TEST_F(SyntheticBuilderTest, AKernelWithDriversBuiltInGetsInitAlone) {
  spec_.modules_dir.clear();
  spec_.modules.clear();
  CaptureInitramfsSummary summary;
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec_, &summary);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_THAT(summary.module_paths, IsEmpty());
  EXPECT_EQ(summary.module_bytes, 0u);
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(*archive);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::map<std::string, CpioEntry> e = ByName(*parsed);
  EXPECT_EQ(Str(e["init"].data),
            "\x7f"
            "ELF tiny");
  EXPECT_EQ(Str(e["etc/saveoops/modules"].data), "");
  for (const auto& [name, entry] : e) EXPECT_FALSE(absl::StartsWith(name, "lib")) << name;
}

TEST_F(SyntheticBuilderTest, ModulesWithoutAModulesDirectoryAreRefused) {
  spec_.modules_dir.clear();
  EXPECT_FALSE(BuildCaptureInitramfs(spec_).ok());
}

TEST_F(SyntheticBuilderTest, UnpacksZstdAndGzipModulesToo) {
  tmp_.Write("modules/9.9.9-test/modules.dep",
             "kernel/disk/disk-drv.ko.zst: kernel/lib/base.ko.gz\n"
             "kernel/lib/base.ko.gz:\n");
  tmp_.Write("modules/9.9.9-test/kernel/disk/disk-drv.ko.zst", Zstd(kPlainDriver));
  tmp_.Write("modules/9.9.9-test/kernel/lib/base.ko.gz", Gzip("\x7f"
                                                              "ELF base"));
  CaptureInitramfsSummary summary;
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec_, &summary);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(summary.unpacked_modules, 2);
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(*archive);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::map<std::string, CpioEntry> e = ByName(*parsed);
  EXPECT_EQ(Str(e["lib/modules/9.9.9-test/kernel/disk/disk-drv.ko"].data), kPlainDriver);
  EXPECT_EQ(Str(e["lib/modules/9.9.9-test/kernel/lib/base.ko"].data),
            "\x7f"
            "ELF base");
  EXPECT_EQ(Str(e["etc/saveoops/modules"].data),
            "/lib/modules/9.9.9-test/kernel/lib/base.ko\n"
            "/lib/modules/9.9.9-test/kernel/disk/disk-drv.ko\n");
}

TEST_F(SyntheticBuilderTest, ADamagedCompressedModuleIsNamed) {
  std::string xz = Xz(kPlainDriver);
  xz[xz.size() / 2] ^= 0x55;
  tmp_.Write("modules/9.9.9-test/kernel/disk/disk-drv.ko.xz", xz);
  absl::Status s = BuildCaptureInitramfs(spec_).status();
  EXPECT_THAT(s.message(), HasSubstr("module kernel/disk/disk-drv.ko.xz: xz data does not unpack"));
  tmp_.Write("modules/9.9.9-test/kernel/disk/disk-drv.ko.xz", "not xz at all");
  s = BuildCaptureInitramfs(spec_).status();
  EXPECT_THAT(s.message(),
              HasSubstr("module kernel/disk/disk-drv.ko.xz: its name says compressed"));
}

TEST_F(SyntheticBuilderTest, DefaultModulesTheKernelLacksAreSkipped) {
  tmp_.Write("modules/9.9.9-test/modules.dep",
             "kernel/drivers/virtio_blk.ko: kernel/lib/base.ko\nkernel/lib/base.ko:\n");
  tmp_.Write("modules/9.9.9-test/kernel/drivers/virtio_blk.ko",
             "\x7f"
             "ELF vblk");
  spec_.modules = CaptureInitramfsSpec().modules;
  CaptureInitramfsSummary summary;
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec_, &summary);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(summary.module_paths.size(), 2u);
  EXPECT_EQ(summary.skipped_modules.size(), std::size(kDefaultCaptureModules) - 1);
  EXPECT_THAT(summary.skipped_modules, ::testing::Contains("mpt3sas"));
  // A module named outside the default set must exist.
  spec_.modules.push_back("zfs");
  EXPECT_THAT(BuildCaptureInitramfs(spec_).status().message(), HasSubstr("'zfs'"));
}

TEST_F(SyntheticBuilderTest, WithoutModulesDepTheErrorSaysToRunDepmod) {
  tmp_.Write("root/usr/lib/modules/6.12.0-t/kernel/x.ko",
             "\x7f"
             "ELF");
  spec_.modules_dir = tmp_.path() + "/root/usr/lib/modules/6.12.0-t";
  absl::Status s = BuildCaptureInitramfs(spec_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("run `depmod -b " + tmp_.path() + "/root 6.12.0-t`"));
  EXPECT_EQ(DepmodCommand("/lib/modules/6.1.0-57-amd64"), "depmod 6.1.0-57-amd64");
  EXPECT_EQ(DepmodCommand("/srv/k/lib/modules/5.10.0-32-amd64/"),
            "depmod -b /srv/k 5.10.0-32-amd64");
}

TEST_F(SyntheticBuilderTest, NoModulesGivesAnEmptyList) {
  spec_.modules = {};
  spec_.modules_dir += "/";  // a trailing slash still names the release
  CaptureInitramfsSummary summary;
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec_, &summary);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(summary.release, "9.9.9-test");
  EXPECT_THAT(summary.module_paths, IsEmpty());
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(*archive);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::vector<std::string> names;
  for (const CpioEntry& entry : *parsed) names.push_back(entry.name);
  EXPECT_THAT(names, ElementsAre("dev", "dev/console", "proc", "sys", "tmp", "init", "etc",
                                 "etc/saveoops", "etc/saveoops/modules"));
  EXPECT_TRUE(parsed->back().data.empty());
}

TEST_F(SyntheticBuilderTest, ExtraFilesGetNormalizedModes) {
  spec_.extra_files = {
      {"/etc/saveoops/config", tmp_.Write("cfg", "store=/dev/vda2\n", 0600)},
      {"/bin/helper", tmp_.Write("helper",
                                 "\x7f"
                                 "ELF",
                                 0700)},
  };
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec_);
  ASSERT_TRUE(archive.ok()) << archive.status();
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(*archive);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::map<std::string, CpioEntry> e = ByName(*parsed);
  EXPECT_EQ(e["etc/saveoops/config"].mode, 0100644u);
  EXPECT_EQ(Str(e["etc/saveoops/config"].data), "store=/dev/vda2\n");
  EXPECT_EQ(e["bin/helper"].mode, 0100755u);
}

TEST_F(SyntheticBuilderTest, OutputIsDeterministic) {
  absl::StatusOr<std::vector<uint8_t>> a = BuildCaptureInitramfs(spec_);
  absl::StatusOr<std::vector<uint8_t>> b = BuildCaptureInitramfs(spec_);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*a, *b);
}

TEST_F(SyntheticBuilderTest, UnknownModuleIsNamed) {
  spec_.modules = {"disk_drv", "not_a_real_driver"};
  absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec_);
  ASSERT_FALSE(archive.ok());
  EXPECT_THAT(archive.status().message(),
              HasSubstr("capture initramfs: module 'not_a_real_driver'"));
}

TEST_F(SyntheticBuilderTest, ErrorsNameTheCulprit) {
  {
    CaptureInitramfsSpec spec = spec_;
    spec.capture_binary_path = tmp_.path() + "/missing";
    absl::Status s = BuildCaptureInitramfs(spec).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(s.message(), HasSubstr(tmp_.path() + "/missing"));
  }
  {
    CaptureInitramfsSpec spec = spec_;
    spec.capture_binary_path = tmp_.Write("script", "#!/bin/sh\n", 0755);
    EXPECT_THAT(BuildCaptureInitramfs(spec).status().message(),
                HasSubstr("is not an ELF executable"));
  }
  {
    CaptureInitramfsSpec spec = spec_;
    spec.modules_dir = tmp_.path() + "/modules/nope";
    absl::Status s = BuildCaptureInitramfs(spec).status();
    EXPECT_THAT(s.message(), HasSubstr("modules/nope/modules.dep"));
  }
  {
    CaptureInitramfsSpec spec = spec_;
    spec.modules_dir = "/";
    EXPECT_THAT(BuildCaptureInitramfs(spec).status().message(),
                HasSubstr("does not end in a release name"));
  }
  {
    CaptureInitramfsSpec spec = spec_;
    spec.extra_files = {{"/init", spec.capture_binary_path}};
    absl::Status s = BuildCaptureInitramfs(spec).status();
    EXPECT_THAT(s.message(), HasSubstr("extra file '/init'"));
    EXPECT_THAT(s.message(), HasSubstr("already added"));
  }
  {
    CaptureInitramfsSpec spec = spec_;
    spec.extra_files = {{"/x", tmp_.path() + "/absent"}};
    absl::Status s = BuildCaptureInitramfs(spec).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(s.message(), HasSubstr(tmp_.path() + "/absent"));
  }
  {
    // A module listed in modules.dep whose file is missing.
    tmp_.Write("modules/9.9.9-test/modules.dep",
               "kernel/disk/disk-drv.ko.xz: kernel/lib/base.ko\n"
               "kernel/lib/base.ko:\nkernel/gone.ko:\n");
    CaptureInitramfsSpec spec = spec_;
    spec.modules = {"gone"};
    absl::Status s = BuildCaptureInitramfs(spec).status();
    EXPECT_THAT(s.message(), HasSubstr("9.9.9-test/kernel/gone.ko"));
  }
}

TEST(DefaultModulesDirTest, PicksTheNewestReleaseWithModulesDep) {
  TempDir tmp;
  for (const char* release : {"5.10.0-30-amd64", "6.1.0-9-amd64", "6.1.0-56-amd64",
                              "6.1.0-100-rt-amd64-nodep", "6.1.0-56-amd64.old"}) {
    if (absl::EndsWith(release, "-nodep")) {
      tmp.Write(absl::StrCat(release, "/kernel/x.ko"), "");
    } else {
      tmp.Write(absl::StrCat(release, "/modules.dep"), "");
    }
  }
  absl::StatusOr<std::string> dir = DefaultModulesDirUnder(tmp.path(), "");
  ASSERT_TRUE(dir.ok()) << dir.status();
  // 56 > 9 by value; the release without modules.dep is skipped; a longer
  // name with an equal prefix sorts later, as with `sort -V`.
  EXPECT_EQ(*dir, tmp.path() + "/6.1.0-56-amd64.old");

  dir = DefaultModulesDirUnder(tmp.path(), "6.1.0-9-amd64");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, tmp.path() + "/6.1.0-9-amd64");
  EXPECT_FALSE(DefaultModulesDirUnder(tmp.path(), "6.1.0-100-rt-amd64-nodep").ok());
  EXPECT_FALSE(DefaultModulesDirUnder(tmp.path(), "../etc").ok());
  EXPECT_FALSE(DefaultModulesDirUnder(tmp.path(), "..").ok());

  TempDir empty;
  absl::StatusOr<std::string> none = DefaultModulesDirUnder(empty.path(), "");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("no kernel modules under"));
  EXPECT_EQ(DefaultModulesDirUnder(empty.path() + "/x", "").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(DefaultModulesDirTest, NumericRunsCompareByValue) {
  TempDir tmp;
  for (const char* release : {"6.1.0-9", "6.1.0-10", "6.1.0-010x"}) {
    tmp.Write(absl::StrCat(release, "/modules.dep"), "");
  }
  // 10 == 010 numerically, then "x" makes 6.1.0-010x the larger.
  absl::StatusOr<std::string> dir = DefaultModulesDirUnder(tmp.path(), "");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, tmp.path() + "/6.1.0-010x");
}

// The e2e matrix kernels, unpacked by tools/setup.sh into its kernel cache:
// Debian 13's keep their modules in /usr/lib/modules as .ko.xz, and the
// initramfs must carry them plain. A missing cache fails: setup creates it.
TEST(MatrixKernelBuilderTest, EveryModuleInTheArchiveIsAPlainKo) {
  const char* env = getenv("SAVEOOPS_KERNEL_CACHE");
  const std::string cache = env != nullptr && *env ? env : "/var/cache/saveoops-kernels";
  TempDir tmp;
  const std::string binary = tmp.Write("capture", DummyCaptureBinary(), 0755);
  for (const char* name : {"bullseye", "trixie", "trixie-cloud", "trixie-rt"}) {
    glob_t g;
    ASSERT_EQ(glob((cache + "/" + name + "/usr/lib/modules/*").c_str(), 0, nullptr, &g) == 0 ||
                  glob((cache + "/" + name + "/lib/modules/*").c_str(), 0, nullptr, &g) == 0,
              true)
        << "no modules under " << cache << "/" << name << ": run tools/setup.sh";
    CaptureInitramfsSpec spec;
    spec.capture_binary_path = binary;
    spec.modules_dir = g.gl_pathv[0];
    globfree(&g);
    CaptureInitramfsSummary summary;
    absl::StatusOr<std::vector<uint8_t>> archive = BuildCaptureInitramfs(spec, &summary);
    ASSERT_TRUE(archive.ok()) << name << ": " << archive.status();
    std::cout << name << ": " << summary.module_paths.size() << " modules ("
              << summary.unpacked_modules << " unpacked), " << summary.total_bytes
              << " bytes; skipped: " << absl::StrJoin(summary.skipped_modules, ",") << "\n";
    absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(*archive);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    std::map<std::string, CpioEntry> e = ByName(*parsed);
    EXPECT_GE(summary.module_paths.size(), 10u) << name;
    for (const std::string& path : summary.module_paths) {
      EXPECT_TRUE(absl::EndsWith(path, ".ko")) << name << ": " << path;
      EXPECT_TRUE(absl::StartsWith(Str(e[path.substr(1)].data),
                                   "\x7f"
                                   "ELF"))
          << path;
    }
    if (absl::StartsWith(name, "trixie")) EXPECT_GT(summary.unpacked_modules, 0) << name;
    if (std::string(name) == "trixie-cloud") {
      EXPECT_THAT(summary.skipped_modules, ElementsAre("mpt3sas", "megaraid_sas"));
    } else {
      EXPECT_THAT(summary.skipped_modules, IsEmpty()) << name;
    }
  }
}

}  // namespace
}  // namespace saveoops
