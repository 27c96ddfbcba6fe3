#include "host/flags.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

// A command line with a ranged integer and a ranged size, parsed from args.
struct Parsed {
  explicit Parsed(std::vector<std::string> args) : cl("test", "test") {
    cl.IntFlag("n", "3", "a count", 1, 8);
    cl.SizeFlag("size", "16M", "a size", 4096, uint64_t{1} << 30);
    cl.SizeFlag("extra", "", "a size, default as needed", 0, uint64_t{1} << 30);
    args.insert(args.begin(), "test");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    parsed = cl.Parse(static_cast<int>(argv.size()), argv.data(), 1);
  }
  CommandLine cl;
  absl::StatusOr<bool> parsed;
};

TEST(FlagsTest, IntFlagRefusesValuesOutsideItsRangeNamingFlagAndRange) {
  EXPECT_EQ(*Parsed({}).cl.GetInt("n"), 3);
  EXPECT_EQ(*Parsed({"--n=8"}).cl.GetInt("n"), 8);
  EXPECT_EQ(*Parsed({"--n", "1"}).cl.GetInt("n"), 1);
  for (const char* bad :
       {"--n=-5", "--n=0", "--n=9", "--n=99999999999", "--n=99999999999999999999"}) {
    SCOPED_TRACE(bad);
    Parsed p({bad});
    ASSERT_FALSE(p.parsed.ok());
    EXPECT_EQ(p.parsed.status().message(), absl::StrCat(bad, " is out of range (1..8)"))
        << p.parsed.status();
  }
  Parsed word({"--n=five"});
  ASSERT_FALSE(word.parsed.ok());
  EXPECT_EQ(word.parsed.status().message(), "--n=five is not an integer in 1..8");
}

TEST(FlagsTest, SizeFlagRefusesNegativeOverflowAndOutOfRange) {
  EXPECT_EQ(*Parsed({}).cl.GetSize("size"), 16ull << 20);
  EXPECT_EQ(*Parsed({"--size=1G"}).cl.GetSize("size"), 1ull << 30);
  EXPECT_EQ(*Parsed({"--size=0x1000"}).cl.GetSize("size"), 4096u);
  Parsed big({"--size=2G"});
  ASSERT_FALSE(big.parsed.ok());
  EXPECT_EQ(big.parsed.status().message(), "--size=2G is out of range (4K..1G)");
  for (const char* bad : {"--size=-5", "--size=-1M", "--size=99999999999999999999",
                          "--size=99999999999T", "--size=", "--size=12Q"}) {
    SCOPED_TRACE(bad);
    Parsed p({bad});
    ASSERT_FALSE(p.parsed.ok());
    EXPECT_TRUE(absl::StartsWith(p.parsed.status().message(), "--size")) << p.parsed.status();
    EXPECT_TRUE(absl::StrContains(p.parsed.status().message(), "4K..1G")) << p.parsed.status();
  }
  // "" is "as needed" only for a size whose default is "".
  Parsed as_needed({"--extra="});
  ASSERT_TRUE(as_needed.parsed.ok()) << as_needed.parsed.status();
  EXPECT_EQ(*as_needed.cl.GetSize("extra"), 0u);
  EXPECT_FALSE(Parsed({"--extra=2G"}).parsed.ok());
}

TEST(FlagsTest, HelpShowsTheRange) {
  const std::string help = Parsed({}).cl.Help();
  EXPECT_TRUE(absl::StrContains(help, "a count (1..8; default: 3)")) << help;
  EXPECT_TRUE(absl::StrContains(help, "a size (4K..1G; default: 16M)")) << help;
  EXPECT_TRUE(absl::StrContains(help, "a size, default as needed (0..1G)")) << help;
}

TEST(FlagsTest, RangeEndsAreShownInTheirUnit) {
  EXPECT_EQ(FormatSizeForRange(0), "0");
  EXPECT_EQ(FormatSizeForRange(4096), "4K");
  EXPECT_EQ(FormatSizeForRange(25ull << 20), "25M");
  EXPECT_EQ(FormatSizeForRange(uint64_t{1} << 41), "2T");
  EXPECT_EQ(FormatSizeForRange(4097), "4097");
  EXPECT_EQ(FormatSizeForRange(INT64_MAX), "9223372036854775807");
}

}  // namespace
}  // namespace saveoops
