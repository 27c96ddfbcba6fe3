#include "capture/vmcoreinfo.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "capture/test_vmcore.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(VmcoreInfoTest, ParsesTheDebian61Note) {
  absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo(ReadTestdataVmcoreInfo61());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->OsRelease(), "6.1.0-18-amd64");
  EXPECT_EQ(*info->PageSize(), 4096u);
  EXPECT_EQ(*info->Symbol("prb"), 0xffffffffa0a6c8d8u);
  EXPECT_EQ(*info->Symbol("_stext"), 0xffffffff9f000000u);
  EXPECT_EQ(*info->Size("printk_info"), 88u);
  EXPECT_EQ(*info->Size("prb_desc"), 24u);
  EXPECT_EQ(*info->Offset("prb_desc_ring.tail_id"), 32u);
  EXPECT_EQ(*info->Offset("printk_ringbuffer.text_data_ring"), 48u);
  EXPECT_EQ(*info->Length("printk_info_device"), 48u);
  EXPECT_EQ(*info->Number("PAGE_BUDDY_MAPCOUNT_VALUE"), -129);
  EXPECT_EQ(*info->Number("phys_base"), 740294656);
  EXPECT_EQ(*info->Number("pgtable_l5_enabled"), 0);
  EXPECT_EQ(*info->KernelOffset(), 0x1e000000u);
  EXPECT_EQ(*info->CrashTime(), 1717171717);
  EXPECT_EQ(info->malformed_lines(), 0u);
  EXPECT_EQ(info->Get("BUILD-ID"),
            std::optional<std::string>("5e1a3c9d0b7f42e68a1d3c5b9e0f7a2c4d6b8e10"));
}

TEST(VmcoreInfoTest, MissingKeysAreNotFoundAndNamed) {
  absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo("OSRELEASE=5.4.0\n");
  ASSERT_TRUE(info.ok()) << info.status();
  absl::StatusOr<uint64_t> off = info->Offset("prb_desc.state_var");
  ASSERT_FALSE(off.ok());
  EXPECT_TRUE(absl::IsNotFound(off.status()));
  EXPECT_EQ(off.status().message(), "VMCOREINFO has no OFFSET(prb_desc.state_var)");
  EXPECT_TRUE(absl::IsNotFound(info->Symbol("prb").status()));
  EXPECT_TRUE(absl::IsNotFound(info->Number("phys_base").status()));
  EXPECT_TRUE(absl::IsNotFound(info->PageSize().status()));
  EXPECT_TRUE(absl::IsNotFound(info->CrashTime().status()));
  EXPECT_EQ(info->Get("PAGESIZE"), std::nullopt);
  absl::StatusOr<VmcoreInfo> empty_release = ParseVmcoreInfo("PAGESIZE=1\n");
  ASSERT_TRUE(empty_release.ok());
  EXPECT_EQ(empty_release->OsRelease(), "");
}

TEST(VmcoreInfoTest, ValuesAreReadInTheBaseTheKernelPrintsThem) {
  absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo(
      "SYMBOL(a)=10\n"    // %lx: hex
      "SYMBOL(b)=0x10\n"  // tolerated prefix
      "SIZE(a)=10\n"      // %lu: decimal
      "OFFSET(a.b)=10\n"  // %lu
      "LENGTH(a)=10\n"    // %lu
      "NUMBER(a)=10\n"    // %ld
      "NUMBER(b)=-10\n"
      "NUMBER(c)=0xffffffffffffffff\n"  // arm64-style "0x%llx"
      "NUMBER(d)=-9223372036854775808\n"
      "KERNELOFFSET=10\n"  // %lx
      "PAGESIZE=10\n");    // %ld
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(*info->Symbol("a"), 16u);
  EXPECT_EQ(*info->Symbol("b"), 16u);
  EXPECT_EQ(*info->Size("a"), 10u);
  EXPECT_EQ(*info->Offset("a.b"), 10u);
  EXPECT_EQ(*info->Length("a"), 10u);
  EXPECT_EQ(*info->Number("a"), 10);
  EXPECT_EQ(*info->Number("b"), -10);
  EXPECT_EQ(*info->Number("c"), -1);
  EXPECT_EQ(*info->Number("d"), INT64_MIN);
  EXPECT_EQ(*info->KernelOffset(), 16u);
  EXPECT_EQ(*info->PageSize(), 10u);
}

TEST(VmcoreInfoTest, BadValuesAreErrorsNamingTheKey) {
  const struct {
    const char* text;
    const char* key;
  } cases[] = {
      {"SYMBOL(prb)=zz\n", "SYMBOL(prb)"},
      {"SYMBOL(prb)=\n", "SYMBOL(prb)"},
      {"SYMBOL(prb)=10000000000000000\n", "SYMBOL(prb)"},  // 65 bits
      {"SIZE(prb_desc)=-1\n", "SIZE(prb_desc)"},
      {"SIZE(prb_desc)=1a\n", "SIZE(prb_desc)"},
      {"SIZE(prb_desc)= 24\n", "SIZE(prb_desc)"},
      {"SIZE(prb_desc)=18446744073709551616\n", "SIZE(prb_desc)"},
      {"NUMBER(x)=9223372036854775808\n", "NUMBER(x)"},
      {"NUMBER(x)=-9223372036854775809\n", "NUMBER(x)"},
      {"NUMBER(x)=-\n", "NUMBER(x)"},
      {"NUMBER(x)=0x\n", "NUMBER(x)"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo(c.text);
    ASSERT_TRUE(info.ok()) << info.status();
    absl::Status s;
    const std::string key = c.key;
    const std::string name = key.substr(key.find('(') + 1, key.size() - key.find('(') - 2);
    if (key.rfind("SYMBOL", 0) == 0) s = info->Symbol(name).status();
    if (key.rfind("SIZE", 0) == 0) s = info->Size(name).status();
    if (key.rfind("NUMBER", 0) == 0) s = info->Number(name).status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << c.text << ": " << s;
    EXPECT_NE(s.message().find(c.key), std::string::npos) << s;
  }
}

TEST(VmcoreInfoTest, StopsAtNulAndSkipsMalformedLines) {
  const std::string text = std::string(
                               "OSRELEASE=6.1.0\n"
                               "no equals sign here\n"
                               "=value without key\n"
                               "\n"
                               "KEY=a=b\n"
                               "PAGESIZE=4096") +
                           std::string(100, '\0') + "SIZE(hidden)=1\n";
  absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo(text);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->malformed_lines(), 2u);
  EXPECT_EQ(info->Get("KEY"), std::optional<std::string>("a=b"));
  EXPECT_EQ(*info->PageSize(), 4096u);
  EXPECT_TRUE(absl::IsNotFound(info->Size("hidden").status()));
  EXPECT_EQ(info->entries().size(), 3u);
}

TEST(VmcoreInfoTest, FirstOfARepeatedKeyWins) {
  absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo("CRASHTIME=1\nCRASHTIME=2\n");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(*info->CrashTime(), 1);
}

TEST(VmcoreInfoTest, RejectsEmptyAndOversizedText) {
  EXPECT_FALSE(ParseVmcoreInfo("").ok());
  EXPECT_FALSE(ParseVmcoreInfo(std::string(10, '\0')).ok());
  EXPECT_FALSE(ParseVmcoreInfo("garbage\nmore garbage\n").ok());
  std::string huge(VmcoreInfo::kMaxTextSize + 1, 'x');
  huge[0] = 'A';
  huge[1] = '=';
  absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo(huge);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("more than"), std::string::npos);
}

TEST(VmcoreInfoTest, RandomEntriesRoundTrip) {
  std::mt19937_64 rng(0x5eed0002);
  const std::string key_chars = "ABCXYZabcxyz_().0123456789-";
  const std::string value_chars = "0123456789abcdefx-=() .";
  for (int iter = 0; iter < 500; ++iter) {
    std::map<std::string, std::string> want;
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      std::string key, value;
      const int klen = 1 + static_cast<int>(rng() % 20);
      for (int j = 0; j < klen; ++j) key += key_chars[rng() % key_chars.size()];
      const int vlen = static_cast<int>(rng() % 24);
      for (int j = 0; j < vlen; ++j) {
        value += value_chars[rng() % value_chars.size()];
      }
      want.emplace(key, value);  // First wins, like the parser.
      absl::StrAppend(&text, key, "=", value, "\n");
    }
    absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo(text);
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_EQ(info->entries().size(), want.size());
    for (const auto& [key, value] : want) {
      EXPECT_EQ(info->Get(key), std::optional<std::string>(value)) << key;
    }
    // Typed accessors never crash on whatever the values are.
    for (const auto& [key, value] : want) {
      (void)info->Symbol(key);
      (void)info->Number(key);
      (void)info->Size(key);
    }
  }
}

}  // namespace
}  // namespace saveoops
