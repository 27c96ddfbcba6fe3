#include "common/cmdline.h"

#include <limits.h>

#include <string>
#include <vector>

#include "common/cmdline_view.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

// name, or name=value, per kernel word.
std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> out;
  for (const KernelParam& p : KernelParams(line)) {
    out.push_back(p.value ? std::string(p.name) + "=" + std::string(*p.value)
                          : std::string(p.name));
  }
  return out;
}

using V = std::vector<std::string>;

TEST(CmdlineTest, SplitsOnBlankRuns) {
  EXPECT_EQ(Words("a b=1  c\t\td\n"), (V{"a", "b=1", "c", "d"}));
  EXPECT_EQ(Words("  leading and trailing   "), (V{"leading", "and", "trailing"}));
  EXPECT_EQ(Words(""), V{});
  EXPECT_EQ(Words(" \n\t "), V{});
}

TEST(CmdlineTest, QuotesAsNextArg) {
  // lib/cmdline.c next_arg(): blanks inside quotes do not split; outer
  // quotes of the value or of the whole word are dropped.
  EXPECT_EQ(Words("q=\"a b\" r"), (V{"q=a b", "r"}));
  EXPECT_EQ(Words("\"q=a b\" r"), (V{"q=a b", "r"}));
  EXPECT_EQ(Words("\"a b\""), (V{"a b"}));
  EXPECT_EQ(Words("a\"b c\"d e"), (V{"a\"b c\"d", "e"}));  // inner quotes kept
  EXPECT_EQ(Words("q=\"open to the end"), (V{"q=open to the end"}));
  EXPECT_EQ(Words("q=\"\""), (V{"q="}));
  EXPECT_EQ(Words("\""), (V{""}));  // next_arg(): an empty name
  const std::vector<KernelParam> p = KernelParams("q=\"a b\"");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].text, "q=\"a b\"");
}

TEST(CmdlineTest, NameEndsAtFirstEquals) {
  EXPECT_EQ(Words("a=b=c"), (V{"a=b=c"}));
  const std::vector<KernelParam> p = KernelParams("a=b=c =x flag x=");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].name, "a");
  EXPECT_EQ(*p[0].value, "b=c");
  EXPECT_EQ(p[1].name, "=x");  // next_arg() ignores an '=' at the start
  EXPECT_FALSE(p[1].value);
  EXPECT_FALSE(p[2].value);
  EXPECT_EQ(*p[3].value, "");
}

TEST(CmdlineTest, DoubleDashEndsTheKernelsPart) {
  EXPECT_EQ(Words("a b -- c d=1"), (V{"a", "b"}));
  EXPECT_EQ(InitArguments("a b --   c d=1 "), "c d=1 ");
  EXPECT_EQ(InitArguments("a b"), "");
  EXPECT_EQ(InitArguments("a --"), "");
  EXPECT_EQ(Words("--x a"), (V{"--x", "a"}));  // only the word "--" itself
  EXPECT_EQ(Words("--=1 a"), (V{"--=1", "a"}));
  EXPECT_EQ(CmdlineValue("root=/a -- root=/b", "root"), "/a");
  EXPECT_FALSE(CmdlineHas("a -- quiet", "quiet"));
}

TEST(CmdlineTest, NulEndsTheLine) {
  const std::string line("a b\0c", 5);
  EXPECT_EQ(Words(line), (V{"a", "b"}));
}

TEST(CmdlineTest, ValueLookup) {
  const std::string cmdline =
      "console=ttyS0 xsaveoops.x=no saveoops.x=1 crashkernel=90M q=\"a b\" last=end\n";
  EXPECT_EQ(CmdlineValue(cmdline, "saveoops.x"), "1");
  EXPECT_EQ(CmdlineValue(cmdline, "console"), "ttyS0");
  EXPECT_EQ(CmdlineValue(cmdline, "last"), "end");
  EXPECT_EQ(CmdlineValue(cmdline, "q"), "a b");
  EXPECT_EQ(CmdlineValue(cmdline, "missing"), std::nullopt);
  EXPECT_EQ(CmdlineValue("a= b=2", "a"), "");
  EXPECT_EQ(CmdlineValue("a b=2", "a"), std::nullopt);  // a flag has no value
  EXPECT_EQ(CmdlineValue("x=1 x=2", "x"), "2");         // the last one wins
  EXPECT_EQ(CmdlineValue("", "x"), std::nullopt);
  EXPECT_TRUE(CmdlineHas("quiet splash", "quiet"));
  EXPECT_TRUE(CmdlineHas("console=tty0", "console"));
  EXPECT_FALSE(CmdlineHas("xconsole=tty0", "console"));
}

// An integer option takes N only within the range; every other word is
// replaced by a stated value, never by what atoi would make of it.
TEST(CmdlineTest, IntegerOptionsAreClampedAndSaySo) {
  auto read = [](std::string_view line) {
    return CmdlineIntegerInRange(line, "saveoops.wait", 10, 0, 3600);
  };
  EXPECT_EQ(read("quiet").value, 10);
  EXPECT_EQ(read("quiet").note, "");
  EXPECT_EQ(read("saveoops.wait=30").value, 30);
  EXPECT_EQ(read("saveoops.wait=30").note, "");
  EXPECT_EQ(read("saveoops.wait=0").value, 0);
  EXPECT_EQ(read("saveoops.wait=3600").value, 3600);
  EXPECT_EQ(read("saveoops.wait=+7").value, 7);
  EXPECT_EQ(read("saveoops.wait=-5").value, 0);
  EXPECT_EQ(read("saveoops.wait=-5").note, "saveoops.wait=-5 is out of range (0..3600): using 0");
  EXPECT_EQ(read("saveoops.wait=3601").value, 3600);
  // Past int and past long long: the top of the range, not a wrapped value.
  EXPECT_EQ(read("saveoops.wait=4294967306").value, 3600);
  EXPECT_EQ(read("saveoops.wait=99999999999999999999999").value, 3600);
  EXPECT_EQ(read("saveoops.wait=99999999999999999999999").note,
            "saveoops.wait=99999999999999999999999 is out of range (0..3600): using 3600");
  EXPECT_EQ(read("saveoops.wait=-99999999999999999999999").value, 0);
  for (const char* bad : {"saveoops.wait=", "saveoops.wait=-", "saveoops.wait=5s",
                          "saveoops.wait=0x10", "saveoops.wait= 5"}) {
    SCOPED_TRACE(bad);
    const CmdlineInteger got = read(bad);
    EXPECT_EQ(got.value, 10);
    EXPECT_NE(got.note.find("is not an integer (0..3600): using 10"), std::string::npos)
        << got.note;
  }
  EXPECT_EQ(read("saveoops.wait=\"1\x1b[2J\"").note,
            "saveoops.wait=1\\x1b[2J is not an integer (0..3600): using 10");
  // The ends of long long itself are exact.
  EXPECT_EQ(CmdlineIntegerInRange("n=-9223372036854775808", "n", 0, LLONG_MIN, LLONG_MAX).value,
            LLONG_MIN);
  EXPECT_EQ(CmdlineIntegerInRange("n=9223372036854775807", "n", 0, LLONG_MIN, LLONG_MAX).value,
            LLONG_MAX);
  EXPECT_EQ(CmdlineIntegerInRange("n=9223372036854775807", "n", 0, LLONG_MIN, LLONG_MAX).note, "");
  EXPECT_EQ(CmdlineIntegerInRange("n=-9223372036854775809", "n", 0, LLONG_MIN, LLONG_MAX).value,
            LLONG_MIN);
  EXPECT_NE(CmdlineIntegerInRange("n=-9223372036854775809", "n", 0, LLONG_MIN, LLONG_MAX).note, "");
}

TEST(CmdlineTest, InsertBuildsWords) {
  Cmdline line(100);
  EXPECT_TRUE(line.empty());
  ASSERT_TRUE(line.InsertWords("  root=/dev/sda2  ro \n").ok());
  ASSERT_TRUE(line.Insert("crashkernel", "64M").ok());
  ASSERT_TRUE(line.Insert("q", "a b").ok());
  ASSERT_TRUE(line.InsertWords("").ok());
  EXPECT_EQ(line.text(), "root=/dev/sda2  ro crashkernel=64M q=\"a b\"");
  EXPECT_EQ(CmdlineValue(line.text(), "q"), "a b");
  EXPECT_EQ(line.capacity(), 100u);
}

TEST(CmdlineTest, InsertRefusesBadWords) {
  Cmdline line(100);
  EXPECT_FALSE(line.Insert("", "x").ok());
  EXPECT_FALSE(line.Insert("a b", "x").ok());
  EXPECT_FALSE(line.Insert("a=b", "x").ok());
  EXPECT_FALSE(line.Insert("a", "x\"y").ok());
  EXPECT_FALSE(line.Insert("a", std::string("x\0y", 3)).ok());
  EXPECT_FALSE(line.InsertWords("a=\"b c").ok());  // would swallow what follows
  EXPECT_FALSE(line.InsertWords("a\rb").ok());
  EXPECT_FALSE(line.InsertWords(std::string("a\0b", 3)).ok());
  EXPECT_TRUE(line.empty());
}

TEST(CmdlineTest, OverflowsAtExactlyCapacity) {
  Cmdline line(7);
  ASSERT_TRUE(line.InsertWords("abc").ok());
  ASSERT_TRUE(line.InsertWords("def").ok());  // "abc def": exactly 7
  EXPECT_EQ(line.size(), 7u);
  const Status s = line.InsertWords("g");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'g'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("capacity is 7"), std::string::npos) << s.message();
  EXPECT_EQ(line.text(), "abc def");  // unchanged
  // Of several words, the message names the first that does not fit.
  Cmdline two(8);
  const Status t = two.InsertWords("ab cd efg hi");
  EXPECT_NE(t.message().find("with 'efg'"), std::string::npos) << t.message();
  EXPECT_NE(t.message().find("12 bytes"), std::string::npos) << t.message();

  Cmdline one(1);
  EXPECT_TRUE(one.InsertWords("a").ok());
  EXPECT_FALSE(one.Insert("b", "").ok());
  Cmdline none(0);
  EXPECT_TRUE(none.InsertWords("").ok());
  EXPECT_FALSE(none.InsertWords("a").ok());
}

TEST(CmdlineViewTest, FreestandingLookups) {
  static constexpr char kLine[] = "a=1 b \"c=x y\" a=2 -- a=3";
  CmdlineSpan v;
  ASSERT_TRUE(FindCmdlineValue(kLine, sizeof(kLine) - 1, "a", &v));
  EXPECT_TRUE(v.Equals("2"));
  ASSERT_TRUE(FindCmdlineValue(kLine, sizeof(kLine) - 1, "c", &v));
  EXPECT_TRUE(v.Equals("x y"));
  EXPECT_FALSE(FindCmdlineValue(kLine, sizeof(kLine) - 1, "b", &v));
  EXPECT_TRUE(CmdlineHasParam(kLine, sizeof(kLine) - 1, "b"));
  EXPECT_FALSE(CmdlineHasParam(kLine, sizeof(kLine) - 1, "z"));
  static_assert(CmdlineHasParam("x rdinit=/a", 11, "rdinit"), "usable at compile time");
}

TEST(CmdlineViewTest, BufferAppendsWholeWordsOrNothing) {
  char buf[9];
  CmdlineBuffer b(buf, sizeof(buf) - 1);
  EXPECT_STREQ(b.c_str(), "");
  EXPECT_TRUE(b.Append(""));
  EXPECT_TRUE(b.Append("ab"));
  EXPECT_TRUE(b.AppendParam("c", "d"));   // "ab c=d"
  EXPECT_FALSE(b.AppendParam("e", "f"));  // would be 10 bytes
  EXPECT_STREQ(b.c_str(), "ab c=d");
  EXPECT_TRUE(b.Append("g"));  // exactly 8
  EXPECT_STREQ(b.c_str(), "ab c=d g");
  EXPECT_EQ(b.size(), 8u);
  EXPECT_FALSE(b.Append("h"));
  EXPECT_STREQ(b.c_str(), "ab c=d g");
}

}  // namespace
}  // namespace saveoops
