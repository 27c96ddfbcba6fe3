#include "host/runfiles.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

class SaveoopsCaptureKernelPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = absl::StrCat(getenv("TEST_TMPDIR"), "/capture-kernel-cache");
    mkdir(cache_.c_str(), 0755);
    setenv(kCaptureKernelCacheEnv, cache_.c_str(), 1);
    unsetenv(kCaptureKernelEnv);
  }
  void TearDown() override {
    unsetenv(kCaptureKernelCacheEnv);
    unsetenv(kCaptureKernelEnv);
  }
  std::string cache_;
};

TEST_F(SaveoopsCaptureKernelPathTest, AMissingKernelNamesTheScriptToRun) {
  absl::StatusOr<std::string> path = SaveoopsCaptureKernelPath();
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(path.status().message(), cache_ + "/current/bzImage"))
      << path.status();
  EXPECT_TRUE(absl::StrContains(path.status().message(), "tools/build_capture_kernel.sh"))
      << path.status();
  EXPECT_TRUE(absl::StrContains(path.status().message(), kCaptureKernelEnv)) << path.status();
}

TEST_F(SaveoopsCaptureKernelPathTest, FindsTheCachesCurrentKernel) {
  const std::string dir = cache_ + "/6.1.192-3-0123456789abcdef";
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/bzImage") << "kernel";
  const std::string link = cache_ + "/current";
  unlink(link.c_str());
  ASSERT_EQ(symlink("6.1.192-3-0123456789abcdef", link.c_str()), 0);
  absl::StatusOr<std::string> path = SaveoopsCaptureKernelPath();
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, link + "/bzImage");
  absl::StatusOr<std::string> named = CaptureKernelPathOf(kSaveoopsCaptureKernelName);
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(*named, *path);
}

TEST_F(SaveoopsCaptureKernelPathTest, TheEnvironmentOverridesTheCache) {
  const std::string file = absl::StrCat(getenv("TEST_TMPDIR"), "/my-bzImage");
  std::ofstream(file) << "kernel";
  setenv(kCaptureKernelEnv, file.c_str(), 1);
  absl::StatusOr<std::string> path = SaveoopsCaptureKernelPath();
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, file);

  setenv(kCaptureKernelEnv, "/no/such/bzImage", 1);
  path = SaveoopsCaptureKernelPath();
  ASSERT_FALSE(path.ok());
  EXPECT_TRUE(absl::StrContains(path.status().message(), "/no/such/bzImage")) << path.status();
}

TEST(CaptureKernelPathOf, AnyOtherValueIsAPath) {
  absl::StatusOr<std::string> path = CaptureKernelPathOf("/boot/vmlinuz-6.1.0-57-amd64");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, "/boot/vmlinuz-6.1.0-57-amd64");
  // A file named like the keyword is given with a directory.
  path = CaptureKernelPathOf("./saveoops");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, "./saveoops");
}

}  // namespace
}  // namespace saveoops
