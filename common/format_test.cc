#include "common/format.h"

#include <stdint.h>

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

// Format() must print what absl::StrFormat prints for the directives the
// capture libraries use.
#define EXPECT_SAME_AS_ABSL(...) \
  EXPECT_EQ(Format(__VA_ARGS__), absl::StrFormat(__VA_ARGS__)) << #__VA_ARGS__

TEST(FormatTest, IntegersLikeAbslStrFormat) {
  const uint64_t big = std::numeric_limits<uint64_t>::max();
  const int64_t low = std::numeric_limits<int64_t>::min();
  EXPECT_SAME_AS_ABSL("%u", big);
  EXPECT_SAME_AS_ABSL("%d", low);
  EXPECT_SAME_AS_ABSL("%d %i", -5, 7);
  EXPECT_SAME_AS_ABSL("%x %X %#x %#X", 0xbeefu, 0xbeefu, uint64_t{0x1000}, 0xabu);
  EXPECT_SAME_AS_ABSL("%#x", 0);
  EXPECT_SAME_AS_ABSL("%02x%02x", uint8_t{5}, uint8_t{0xab});
  EXPECT_SAME_AS_ABSL("%08u|%5u|%-5u|%06u", 42u, 7u, 7u, 123u);
  EXPECT_SAME_AS_ABSL("%04x|%#010x", 0xau, 0x1234u);
  EXPECT_SAME_AS_ABSL("%+d % d %o %#o", 3, 4, 8u, 8u);
  EXPECT_SAME_AS_ABSL("%.3u|%.0u|%5.3d", 7u, 0u, -7);
  EXPECT_SAME_AS_ABSL("%lu %llu %zu", 1ul, 2ull, size_t{3});
  EXPECT_SAME_AS_ABSL("%c%c", 'o', 'k');
}

TEST(FormatTest, StringsLikeAbslStrFormat) {
  const std::string s = "store";
  const absl::string_view v = "vmcore";
  EXPECT_SAME_AS_ABSL("%s/%s/%s", s, v, "lit");
  EXPECT_SAME_AS_ABSL("[%8s|%-8s|%.3s]", s, v, s);
  EXPECT_SAME_AS_ABSL("100%% of %s", s);
  EXPECT_SAME_AS_ABSL("no directives");
  EXPECT_SAME_AS_ABSL("");
}

TEST(FormatTest, MismatchedOrMissingArgumentsAreNeverMisread) {
  EXPECT_EQ(Format("%s", 12), "12");
  EXPECT_EQ(Format("%u", "text"), "text");
  EXPECT_EQ(Format("%u and %u", 1), "1 and %u");
  EXPECT_EQ(Format("%y %u", 1), "%y 1");
  EXPECT_EQ(Format("ends in %"), "ends in %");
  EXPECT_EQ(Format("ends in %08l"), "ends in %08l");
}

TEST(FormatTest, AppendFormatAppends) {
  std::string out = "a";
  AppendFormat(&out, "=%u", 1u);
  AppendFormat(&out, ",%s", "b");
  EXPECT_EQ(out, "a=1,b");
}

TEST(ConcatTest, LikeAbslStrCat) {
  const std::string s = "x";
  const absl::string_view v = "y";
  EXPECT_EQ(Concat(), absl::StrCat());
  EXPECT_EQ(Concat("a", s, v, 1, -2, uint64_t{3}, int8_t{-4}),
            absl::StrCat("a", s, v, 1, -2, uint64_t{3}, int8_t{-4}));
  EXPECT_EQ(Concat(std::numeric_limits<int64_t>::min()),
            absl::StrCat(std::numeric_limits<int64_t>::min()));
  std::string out = "p";
  AppendTo(&out, "q", 5u);
  EXPECT_EQ(out, "pq5");
}

TEST(HexEscapeTest, LikeAbsl) {
  for (absl::string_view in : {
           absl::string_view("plain text"),
           absl::string_view("quote\" apos' back\\ nl\n cr\r tab\t"),
           absl::string_view("\x01\x7f\x80\xff", 4),
           absl::string_view("\x01"
                             "1 \x02"
                             "af \x03"
                             "g",
                             10),
           absl::string_view("nul\0inside", 10),
       }) {
    EXPECT_EQ(HexEscape(in), absl::CHexEscape(in)) << absl::CHexEscape(in);
  }
}

TEST(SplitTest, LikeAbslStrSplit) {
  for (const char* text : {"", "a", "a,b", ",a,,b,", ",", "no separator"}) {
    const std::vector<std::string> want = absl::StrSplit(text, ',');
    const std::vector<std::string_view> got = Split(text, ',');
    EXPECT_EQ(std::vector<std::string>(got.begin(), got.end()), want) << text;
  }
}

TEST(JoinTest, LikeAbslStrJoin) {
  for (const std::vector<std::string>& pieces :
       std::vector<std::vector<std::string>>{{}, {"a"}, {"a", "", "b"}, {"", ""}}) {
    EXPECT_EQ(Join(pieces, "; "), absl::StrJoin(pieces, "; "));
  }
}

TEST(HexStringTest, LikeAbslBytesToHexString) {
  const absl::string_view in("\x00\x01\xab\xff", 4);
  EXPECT_EQ(HexString(in), absl::BytesToHexString(in));
  EXPECT_EQ(HexString(""), "");
}

}  // namespace
}  // namespace saveoops
