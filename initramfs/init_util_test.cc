#include "initramfs/init_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(InitUtilTest, ReadFileOrEmpty) {
  const std::string path = testing::TempDir() + "/init_util_file";
  const std::string text(10000, 'z');
  std::ofstream(path) << text;
  EXPECT_EQ(ReadFileOrEmpty(path.c_str()), text);
  EXPECT_EQ(ReadFileOrEmpty("/nonexistent/saveoops"), "");
}

TEST(InitUtilTest, ConsoleSayWritesOneLine) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ConsoleSay(fds[1], "prefix: ", "text");
  close(fds[1]);
  char buf[64] = {};
  ASSERT_EQ(read(fds[0], buf, sizeof(buf)), 13);
  EXPECT_STREQ(buf, "prefix: text\n");
  close(fds[0]);
}

TEST(InitUtilTest, KmsgLogWithoutKmsg) {
  KmsgLog log("t: ");
  EXPECT_FALSE(log.is_open());
  EXPECT_FALSE(log.Write(kLogErr, "not open"));
  EXPECT_EQ(log.prefix(), "t: ");
}

TEST(InitUtilTest, ModuleCompressionByMagic) {
  const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0};
  const uint8_t zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
  const uint8_t gz[] = {0x1f, 0x8b};
  const uint8_t elf[] = {0x7f, 'E', 'L', 'F'};
  EXPECT_EQ(ModuleCompressionOf(xz, sizeof(xz)), ModuleCompression::kXz);
  EXPECT_EQ(ModuleCompressionOf(zstd, sizeof(zstd)), ModuleCompression::kZstd);
  EXPECT_EQ(ModuleCompressionOf(gz, sizeof(gz)), ModuleCompression::kGzip);
  EXPECT_EQ(ModuleCompressionOf(elf, sizeof(elf)), ModuleCompression::kNone);
  EXPECT_EQ(ModuleCompressionOf(xz, 3), ModuleCompression::kNone);  // too short to tell
  EXPECT_EQ(ModuleCompressionOf(gz, 1), ModuleCompression::kNone);
  EXPECT_STREQ(ModuleCompressionName(ModuleCompression::kZstd), "zstd");
}

TEST(InitUtilTest, LoadModuleFileNamesTheFile) {
  const std::string missing = LoadModuleFile("/nonexistent/m.ko");
  EXPECT_NE(missing.find("/nonexistent/m.ko"), std::string::npos) << missing;
  // Not a module (and tests do not run with CAP_SYS_MODULE): refused, named.
  const std::string path = testing::TempDir() + "/not_a_module.ko.xz";
  std::ofstream(path) << "\xfd"
                         "7zXZ not really";
  const std::string bad = LoadModuleFile(path);
  EXPECT_NE(bad.find(path), std::string::npos) << bad;
}

TEST(InitUtilTest, IsMountedNeedsAMountPoint) {
  const std::string dir = testing::TempDir() + "/plain_dir";
  mkdir(dir.c_str(), 0755);
  EXPECT_FALSE(IsMounted({"x", dir.c_str(), "x", 0}));
  EXPECT_FALSE(IsMounted({"x", "/nonexistent/saveoops", "x", 0}));
  EXPECT_TRUE(IsMounted(kProcFs));  // the test runs with /proc mounted
  EXPECT_FALSE(IsMounted({"sysfs", "/proc", "sysfs", 0x62656572}));  // wrong type
}

TEST(InitUtilTest, ExecNextInitRunsTheGivenOneWithItsArguments) {
  const std::string init = testing::TempDir() + "/next_init";
  std::ofstream(init) << "#!/bin/sh\n[ \"$1\" = one ] && [ \"$2\" = two ] && exit 7\nexit 1\n";
  ASSERT_EQ(chmod(init.c_str(), 0755), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    char* argv[] = {const_cast<char*>("self"), const_cast<char*>("one"), const_cast<char*>("two"),
                    nullptr};
    char* envp[] = {nullptr};
    ExecNextInit(init, 3, argv, envp);
    _exit(99);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

}  // namespace
}  // namespace saveoops
