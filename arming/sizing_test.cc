#include "arming/sizing.h"

#include <glob.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/kernel_image_prepare.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

BundleContents TestBundle() {
  glob_t g{};
  EXPECT_EQ(glob("/boot/vmlinuz-*", 0, nullptr, &g), 0) << "linux-image-amd64 must be installed";
  BundleContents b;
  if (g.gl_pathc > 0) b.capture_kernel = ReadBytes(g.gl_pathv[g.gl_pathc - 1]);
  globfree(&g);
  b.capture_initramfs.assign(3 << 20, 0x5a);
  b.purgatory.assign(8192, 0);
  b.capture_cmdline = "nokaslr nr_cpus=1";
  return b;
}

TEST(Sizing, RecommendedReservationAddsTheMarginInWholeMiB) {
  EXPECT_EQ(RecommendedReservation(86ull << 20), 102ull << 20);
  EXPECT_EQ(RecommendedReservation((86ull << 20) + 1), 103ull << 20);
}

TEST(Sizing, ElfcorehdrArgumentIsFixedWidth) {
  // The kernel's MAX_ELFCOREHDR_STR_LEN (30) holds it and a separator.
  EXPECT_EQ(kElfcorehdrArgLength, 29u);
}

TEST(Sizing, SaveoopsOwnKernelIsKnownByItsRelease) {
  EXPECT_TRUE(IsSaveoopsCaptureKernel("6.1.192-saveoops (root@ci) #1 SMP"));
  EXPECT_TRUE(IsSaveoopsCaptureKernel("6.1.192-saveoops"));
  EXPECT_FALSE(IsSaveoopsCaptureKernel("6.1.0-41-amd64 (debian-kernel@lists.debian.org) #1"));
  // Only the release counts, not a build host named so.
  EXPECT_FALSE(IsSaveoopsCaptureKernel("6.1.0-41-amd64 (root@x-saveoops) #1"));
  EXPECT_FALSE(IsSaveoopsCaptureKernel(""));

  CaptureKernel kernel;
  kernel.bzimage.kernel_version = "6.1.192-saveoops (root@ci) #1 SMP";
  EXPECT_EQ(RuntimeHeadroomFor(kernel), kSaveoopsKernelRuntimeHeadroom);
  kernel.bzimage.kernel_version = "6.1.0-41-amd64 (debian-kernel@lists.debian.org) #1 SMP";
  EXPECT_EQ(RuntimeHeadroomFor(kernel), kDefaultRuntimeHeadroom);
  EXPECT_LT(kSaveoopsKernelRuntimeHeadroom, kDefaultRuntimeHeadroom);
}

// The default headroom against the benchmark's calibration: with it, the
// Debian 6.1 prediction (pieces + headroom) is at or above the largest
// edge the bisection measured, and at most one 2 MiB step above it.
TEST(Sizing, DefaultHeadroomCoversTheBisectedEdge) {
  const uint64_t predicted_mib = kCalibrationDebian61PiecesMiB + (kDefaultRuntimeHeadroom >> 20);
  EXPECT_GE(predicted_mib, kCalibrationDebian61EdgeMiB);
  EXPECT_LE(predicted_mib, kCalibrationDebian61EdgeMiB + 2);
  EXPECT_EQ(kDefaultRuntimeHeadroom % (1 << 20), 0u);
  // The figure before the calibration predicted 86 MiB: below the edge.
  EXPECT_LT(kCalibrationDebian61PiecesMiB + 25, kCalibrationDebian61EdgeMiB);
}

TEST(Sizing, UnknownSystemUsesTheNamedAssumptions) {
  const BundleContents bundle = TestBundle();
  absl::StatusOr<CaptureKernel> kernel = ParseCaptureKernel(bundle);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_FALSE(kernel->prepared.has_value());
  const CaptureSizes unknown =
      CaptureSizesForUnknownSystem(bundle, *kernel, kDefaultRuntimeHeadroom);
  const CaptureSizes explicit_counts =
      CaptureSizesFor(bundle, *kernel, kAssumedFirstKernelRegions, sysconf(_SC_NPROCESSORS_CONF),
                      kAssumedRamRanges, kDefaultRuntimeHeadroom);
  EXPECT_EQ(unknown.boot_params_size, explicit_counts.boot_params_size);
  EXPECT_EQ(unknown.elfcorehdr_size, explicit_counts.elfcorehdr_size);
  EXPECT_EQ(unknown.kernel_init_size, kernel->bzimage.init_size);
  EXPECT_EQ(unknown.initrd_size, bundle.capture_initramfs.size());
  // The initramfs counts twice: as a piece and unpacked in free memory.
  EXPECT_EQ(unknown.runtime_headroom,
            kDefaultRuntimeHeadroom + PageAlign(bundle.capture_initramfs.size()));
  // More CPUs, more crash notes in the core header.
  const CaptureSizes many = CaptureSizesFor(bundle, *kernel, kAssumedFirstKernelRegions, 512,
                                            kAssumedRamRanges, kDefaultRuntimeHeadroom);
  EXPECT_GT(many.elfcorehdr_size, CaptureSizesFor(bundle, *kernel, kAssumedFirstKernelRegions, 1,
                                                  kAssumedRamRanges, kDefaultRuntimeHeadroom)
                                      .elfcorehdr_size);
}

TEST(Sizing, PreparedKernelIsSizedAsSuch) {
  BundleContents bundle = TestBundle();
  absl::StatusOr<std::vector<uint8_t>> part = PrepareKernelImage(bundle.capture_kernel);
  ASSERT_TRUE(part.ok()) << part.status();
  bundle.capture_kernel_image = *part;
  absl::StatusOr<CaptureKernel> kernel = ParseCaptureKernel(bundle);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  ASSERT_TRUE(kernel->prepared.has_value());
  const CaptureSizes s = CaptureSizesForUnknownSystem(bundle, *kernel, kDefaultRuntimeHeadroom);
  EXPECT_EQ(s.kernel_init_size, PreparedKernelPieceSize(*kernel->prepared, part->size()));
  EXPECT_GE(s.kernel_init_size, kernel->prepared->span);
  EXPECT_EQ(s.kernel_alignment, kernel->prepared->alignment);
}

TEST(Sizing, ParseCaptureKernelNamesTheBadPart) {
  BundleContents bundle = TestBundle();
  bundle.capture_kernel_image = {'X', 'Y'};
  absl::StatusOr<CaptureKernel> bad_image = ParseCaptureKernel(bundle);
  ASSERT_FALSE(bad_image.ok());
  EXPECT_TRUE(absl::StartsWith(bad_image.status().message(), "bundle: ")) << bad_image.status();
  bundle.capture_kernel.resize(100);
  absl::StatusOr<CaptureKernel> bad_kernel = ParseCaptureKernel(bundle);
  ASSERT_FALSE(bad_kernel.ok());
  EXPECT_TRUE(absl::StartsWith(bad_kernel.status().message(), "bundle's capture kernel: "))
      << bad_kernel.status();
}

}  // namespace
}  // namespace saveoops
