#include "initramfs/init_util.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(InitUtilTest, KernelCmdlineValue) {
  const std::string cmdline =
      "console=ttyS0 xsaveoops.x=no saveoops.x=1 crashkernel=90M q=\"a b\" last=end\n";
  EXPECT_EQ(KernelCmdlineValue(cmdline, "saveoops.x"), "1");  // Not inside a word.
  EXPECT_EQ(KernelCmdlineValue(cmdline, "console"), "ttyS0");  // At the start.
  EXPECT_EQ(KernelCmdlineValue(cmdline, "last"), "end");       // Before the newline.
  EXPECT_EQ(KernelCmdlineValue(cmdline, "q"), "a b");          // Quoted.
  EXPECT_EQ(KernelCmdlineValue(cmdline, "missing"), std::nullopt);
  EXPECT_EQ(KernelCmdlineValue("a= b=2", "a"), "");  // Present but empty.
  EXPECT_EQ(KernelCmdlineValue("q=\"open", "q"), "open");
  EXPECT_EQ(KernelCmdlineValue("x=1", "x"), "1");
  EXPECT_EQ(KernelCmdlineValue("", "x"), std::nullopt);
}

TEST(InitUtilTest, ReadFileOrEmpty) {
  const std::string path = testing::TempDir() + "/init_util_file";
  const std::string text(10000, 'z');
  std::ofstream(path) << text;
  EXPECT_EQ(ReadFileOrEmpty(path.c_str()), text);
  EXPECT_EQ(ReadFileOrEmpty("/nonexistent/saveoops"), "");
}

}  // namespace
}  // namespace saveoops
