#include "arming/capture_bundle.h"

#include <glob.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
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

}  // namespace
}  // namespace saveoops
