#include "host/run_tool.h"

#include <string>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(RunToolTest, CapturesOutputAndPassesTheEnvironment) {
  std::string out;
  ASSERT_TRUE(RunTool({"/bin/sh", "-c", "echo \"$SAVEOOPS_T\"; echo err >&2"},
                      {{"SAVEOOPS_T", "hello"}}, &out)
                  .ok());
  EXPECT_EQ(out, "hello\nerr\n");
}

TEST(RunToolTest, AFailureNamesTheCommandItsExitAndItsOutput) {
  absl::Status s = RunTool({"/bin/sh", "-c", "echo broken; exit 3"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/bin/sh -c echo broken; exit 3 failed (exit 3): broken"),
            std::string::npos)
      << s;
}

TEST(RunToolTest, AMissingToolIsAnError) {
  absl::Status s = RunTool({"saveoops-no-such-tool"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exit 127"), std::string::npos) << s;
}

TEST(RunToolTest, AToolKilledByASignalSaysSo) {
  absl::Status s = RunTool({"/bin/sh", "-c", "kill -9 $$"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("(killed)"), std::string::npos) << s;
}

}  // namespace
}  // namespace saveoops
