// PrepareKernelImage on the Debian kernels of the e2e matrix: Debian 11's
// 5.10 (xz) and Debian 13's 6.12 generic, -cloud and -rt (zstd), unpacked by
// tools/setup.sh into its kernel cache. A missing cache fails the test: setup
// always creates it.
#include "common/kernel_image_prepare.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/bootproto.h"
#include "common/bzimage.h"
#include "common/kernel_image.h"
#include "common/lz4_block.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::string KernelCache() {
  const char* env = getenv("SAVEOOPS_KERNEL_CACHE");
  return env != nullptr && *env != '\0' ? env : "/var/cache/saveoops-kernels";
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

struct MatrixKernel {
  const char* name;     // tools/setup.sh MATRIX_KERNELS
  const char* payload;  // what Debian compresses it with
};

class MatrixKernelTest : public ::testing::TestWithParam<MatrixKernel> {
 protected:
  void SetUp() override {
    const std::string tree = KernelCache() + "/" + GetParam().name;
    glob_t g;
    ASSERT_EQ(glob((tree + "/boot/vmlinuz-*").c_str(), 0, nullptr, &g), 0)
        << "no " << tree << "/boot/vmlinuz-*: run tools/setup.sh";
    path_ = g.gl_pathv[0];
    globfree(&g);
    release_ = path_.substr(path_.rfind("vmlinuz-") + strlen("vmlinuz-"));
    bzimage_ = ReadFile(path_);
    ASSERT_FALSE(bzimage_.empty()) << path_;
  }
  std::string path_, release_;
  std::vector<uint8_t> bzimage_;
};

// What `pack` and `saveoops bundle create` do with --kernel-image=auto.
TEST_P(MatrixKernelTest, AutoModeStagesItPreparedAndItsImageHoldsTheRelease) {
  BundleContents bundle;
  bundle.capture_kernel = bzimage_;
  absl::StatusOr<std::string> note = AttachKernelImage(&bundle, "auto");
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_TRUE(absl::StartsWith(*note, "capture kernel: prepared")) << path_ << ": " << *note;
  absl::StatusOr<KernelImage> k = ParseKernelImage(bundle.capture_kernel_image);
  ASSERT_TRUE(k.ok()) << k.status();
  absl::StatusOr<BzImageInfo> info = ParseBzImage(bzimage_);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_LE(k->span, info->init_size);
  EXPECT_GT(k->span, 16u << 20);

  std::vector<uint8_t> image(k->image_size);
  ASSERT_EQ(Lz4DecodeBlockExact(k->lz4.data(), k->lz4.size(), image.data(), image.size()),
            Lz4Error::kOk);
  EXPECT_NE(image[k->entry_offset], 0);
  // init/version.c's linux_banner: the unpacked vmlinux is this kernel.
  const std::string banner = absl::StrCat("Linux version ", release_, " ");
  EXPECT_NE(std::search(image.begin(), image.end(), banner.begin(), banner.end()), image.end())
      << "no \"" << banner << "\" in the image of " << path_;
}

TEST_P(MatrixKernelTest, AnUnknownPayloadFallsBackToTheBzImageWithANote) {
  absl::StatusOr<BzImageInfo> info = ParseBzImage(bzimage_);
  ASSERT_TRUE(info.ok());
  uint32_t offset;
  memcpy(&offset, bzimage_.data() + kSetupHeaderOffset + offsetof(SetupHeader, payload_offset), 4);
  BundleContents bundle;
  bundle.capture_kernel = bzimage_;
  memset(bundle.capture_kernel.data() + info->payload_offset + offset, 0, 4);
  absl::StatusOr<std::string> note = AttachKernelImage(&bundle, "auto");
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_TRUE(absl::StartsWith(*note,
                               "capture kernel: staged as the bzImage (kernel: payload is "
                               "compressed in an unknown format"))
      << *note;
  EXPECT_TRUE(bundle.capture_kernel_image.empty());
  EXPECT_FALSE(AttachKernelImage(&bundle, "lz4").ok());
}

INSTANTIATE_TEST_SUITE_P(DebianKernels, MatrixKernelTest,
                         ::testing::Values(MatrixKernel{"bullseye", "xz"},
                                           MatrixKernel{"trixie", "zstd"},
                                           MatrixKernel{"trixie-cloud", "zstd"},
                                           MatrixKernel{"trixie-rt", "zstd"}),
                         [](const ::testing::TestParamInfo<MatrixKernel>& info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name + "_" + info.param.payload;
                         });

}  // namespace
}  // namespace saveoops
