#include "arming/capture_bundle.h"

#include <glob.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::string NewestInstalledKernel() {
  glob_t g{};
  std::string path;
  if (glob("/boot/vmlinuz-*", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    path = g.gl_pathv[g.gl_pathc - 1];
  }
  globfree(&g);
  return path;
}

std::string Scratch(const std::string& name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
}

DefaultCaptureBundleSpec SpecWithPrebuiltInitramfs() {
  DefaultCaptureBundleSpec spec;
  spec.capture_kernel_path = NewestInstalledKernel();
  spec.initramfs_path = Scratch("capture.cpio");
  std::ofstream(spec.initramfs_path) << "070701 not really a cpio";
  spec.purgatory_path = "purgatory/purgatory.bin";
  return spec;
}

TEST(BuildDefaultCaptureBundle, UsesAPrebuiltInitramfsAsIs) {
  DefaultCaptureBundleSpec spec = SpecWithPrebuiltInitramfs();
  ASSERT_FALSE(spec.capture_kernel_path.empty()) << "linux-image-amd64 must be installed";
  spec.kernel_image_mode = "none";
  std::vector<std::string> steps;
  spec.step = [&](const std::string& s) { steps.push_back(s); };
  absl::StatusOr<DefaultCaptureBundle> built = BuildDefaultCaptureBundle(spec);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_FALSE(built->built_initramfs);
  EXPECT_EQ(
      std::string(built->bundle.capture_initramfs.begin(), built->bundle.capture_initramfs.end()),
      "070701 not really a cpio");
  EXPECT_EQ(built->bundle.capture_cmdline, kDefaultCaptureCmdline);
  EXPECT_TRUE(built->bundle.capture_kernel_image.empty());
  EXPECT_FALSE(built->bundle.purgatory.empty());
  EXPECT_FALSE(built->kernel_image_note.empty());
  EXPECT_EQ(built->release, KernelReleaseOf(built->kernel_version));
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(steps[0], "preparing the capture kernel"));
}

TEST(BuildDefaultCaptureBundle, ErrorsNameTheFlag) {
  DefaultCaptureBundleSpec spec = SpecWithPrebuiltInitramfs();
  spec.capture_kernel_path = Scratch("no-such-kernel");
  absl::StatusOr<DefaultCaptureBundle> built = BuildDefaultCaptureBundle(spec);
  ASSERT_FALSE(built.ok());
  EXPECT_TRUE(absl::StrContains(built.status().message(), "--capture-kernel")) << built.status();

  spec = SpecWithPrebuiltInitramfs();
  spec.capture_kernel_flag = "--kernel";
  spec.capture_kernel_path = getenv("TEST_TMPDIR");  // a directory
  built = BuildDefaultCaptureBundle(spec);
  ASSERT_FALSE(built.ok());
  EXPECT_TRUE(absl::StrContains(built.status().message(), "--kernel")) << built.status();

  spec = SpecWithPrebuiltInitramfs();
  spec.purgatory_path = Scratch("no-such-purgatory");
  built = BuildDefaultCaptureBundle(spec);
  ASSERT_FALSE(built.ok());
  EXPECT_TRUE(absl::StrContains(built.status().message(), "--purgatory")) << built.status();

  spec = SpecWithPrebuiltInitramfs();
  spec.capture_kernel_path = Scratch("capture.cpio");  // not a bzImage
  built = BuildDefaultCaptureBundle(spec);
  ASSERT_FALSE(built.ok());
  EXPECT_TRUE(absl::StrContains(built.status().message(), spec.capture_kernel_path))
      << built.status();
}

TEST(BuildDefaultCaptureBundle, BuildsTheInitramfsForTheKernelsRelease) {
  DefaultCaptureBundleSpec spec = SpecWithPrebuiltInitramfs();
  spec.initramfs_path.clear();
  spec.capture_binary_path = "capture/saveoops-capture";
  absl::StatusOr<DefaultCaptureBundle> probe = BuildDefaultCaptureBundle(spec);
  struct stat st;
  if (!probe.ok() && stat("/lib/modules", &st) != 0) GTEST_SKIP() << "no /lib/modules";
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_TRUE(probe->built_initramfs);
  EXPECT_EQ(probe->modules_dir, "/lib/modules/" + probe->release);
  EXPECT_GT(probe->bundle.capture_initramfs.size(), probe->initramfs_summary.init_bytes);
  EXPECT_EQ(probe->initramfs_summary.release, probe->release);
}

// A copy of the installed kernel whose version string names the release
// "9-saveoops", as Saveoops' own capture kernel's does ("6.1.192-saveoops").
std::string KernelNamedSaveoops() {
  std::ifstream in(NewestInstalledKernel(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The setup header's kernel_version field (0x20e) points at the string,
  // 0x200 bytes before it (Documentation/x86/boot.rst).
  if (bytes.size() < 0x210) return "";
  const size_t at =
      0x200 + (static_cast<uint8_t>(bytes[0x20e]) | static_cast<uint8_t>(bytes[0x20f]) << 8);
  const size_t release_end = bytes.find(' ', at);
  const std::string release = "9-saveoops";
  if (release_end == std::string::npos || release_end - at < release.size()) return "";
  bytes.replace(at, release_end - at,
                release + std::string(release_end - at - release.size(), ' '));
  const std::string path = Scratch("vmlinuz-saveoops");
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(BuildDefaultCaptureBundle, SaveoopsOwnKernelGetsTheCaptureBinaryAlone) {
  DefaultCaptureBundleSpec spec = SpecWithPrebuiltInitramfs();
  spec.capture_kernel_path = KernelNamedSaveoops();
  ASSERT_FALSE(spec.capture_kernel_path.empty());
  spec.initramfs_path.clear();
  spec.capture_binary_path = "capture/saveoops-capture";
  // Nothing of this applies to a kernel without modules, and none is read.
  spec.modules_dir = Scratch("no-such-modules-dir");
  spec.store_device = "/dev/no-such-disk";
  spec.kernel_image_mode = "none";
  std::vector<std::string> details;
  spec.detail = [&](const std::string& s) { details.push_back(s); };
  absl::StatusOr<DefaultCaptureBundle> built = BuildDefaultCaptureBundle(spec);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->release, "9-saveoops");
  EXPECT_TRUE(built->built_initramfs);
  EXPECT_TRUE(built->initramfs_summary.module_paths.empty());
  struct stat st;
  ASSERT_EQ(stat("capture/saveoops-capture", &st), 0);
  EXPECT_EQ(built->initramfs_summary.init_bytes, static_cast<size_t>(st.st_size));
  // The archive is /init and a few directory entries, nothing more.
  EXPECT_LT(built->bundle.capture_initramfs.size(), static_cast<size_t>(st.st_size) + 4096);
  ASSERT_FALSE(details.empty());
  EXPECT_TRUE(absl::StrContains(details[0], "built in")) << details[0];
}

}  // namespace
}  // namespace saveoops
