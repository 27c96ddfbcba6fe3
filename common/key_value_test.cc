#include "common/key_value.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(KeyValueTest, ParsesSettingsCommentsAndBlanks) {
  StatusOr<std::vector<KeyValue>> kv = ParseKeyValues(
      "# Saveoops\n\n  store = /dev/disk/by-partlabel/saveoops  \nretention=7\r\n"
      "\tcollect_dir=\t/var/lib/a=b\nempty=\n",
      "f.conf");
  ASSERT_TRUE(kv.ok()) << kv.status();
  ASSERT_EQ(kv->size(), 4u);
  EXPECT_EQ((*kv)[0].key, "store");
  EXPECT_EQ((*kv)[0].value, "/dev/disk/by-partlabel/saveoops");
  EXPECT_EQ((*kv)[0].line, 3);
  EXPECT_EQ((*kv)[1].value, "7");
  EXPECT_EQ((*kv)[2].key, "collect_dir");
  EXPECT_EQ((*kv)[2].value, "/var/lib/a=b");
  EXPECT_EQ((*kv)[3].value, "");
  EXPECT_EQ((*kv)[3].line, 6);
  EXPECT_TRUE(ParseKeyValues("", "f").ok());
  EXPECT_TRUE(ParseKeyValues("a=1", "f").ok());  // no final newline
}

void ExpectError(const std::string& text, const std::string& want) {
  StatusOr<std::vector<KeyValue>> kv = ParseKeyValues(text, "/etc/s.conf");
  ASSERT_FALSE(kv.ok()) << text;
  EXPECT_NE(std::string(kv.status().message()).find(want), std::string::npos)
      << kv.status() << " should contain " << want;
}

TEST(KeyValueTest, ErrorsNameFileAndLine) {
  ExpectError("a=1\njunk\n", "/etc/s.conf:2: 'junk' is not KEY=VALUE");
  ExpectError("a=1\n\nA=2\n", "/etc/s.conf:3: 'A' is not a key");
  ExpectError("1a=2\n", "/etc/s.conf:1: '1a' is not a key");
  ExpectError("=2\n", "/etc/s.conf:1: '' is not a key");
  ExpectError("a b=2\n", "'a b' is not a key");
  ExpectError("a=1\nb=2\n a =3\n", "/etc/s.conf:3: a is set again (first on line 1)");
  ExpectError(std::string("a=x\0y\n", 6), "/etc/s.conf:1: control byte 0x00 at column 4");
  ExpectError("a=x\ry\n", "control byte 0x0d at column 4");
  ExpectError("a=\x1b[2J\n", "control byte 0x1b");
  ExpectError(std::string(65, 'k') + "=1\n", "is not a key");
  ExpectError("a=" + std::string(kMaxKeyValueLine, 'v') + "\n",
              "/etc/s.conf:1: line of 4098 bytes, longer than 4096");
  ExpectError(std::string(kMaxKeyValueBytes + 1, '\n'),
              "/etc/s.conf: 65537 bytes, more than the 65536");
  EXPECT_TRUE(ParseKeyValues(std::string(kMaxKeyValueBytes, '\n'), "f").ok());
  EXPECT_TRUE(ParseKeyValues(std::string(64, 'k') + "=1\n", "f").ok());
}

TEST(KeyValueTest, Numbers) {
  KeyValue kv{"retention", "50", 4};
  StatusOr<uint64_t> n = KeyValueNumber(kv, "c", 1000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 50u);
  kv.value = "1000";
  EXPECT_TRUE(KeyValueNumber(kv, "c", 1000).ok());
  kv.value = "1001";
  EXPECT_EQ(KeyValueNumber(kv, "c", 1000).status().message(),
            "c:4: retention=1001: more than 1000");
  kv.value = "18446744073709551615";
  ASSERT_TRUE(KeyValueNumber(kv, "c", UINT64_MAX).ok());
  EXPECT_EQ(*KeyValueNumber(kv, "c", UINT64_MAX), UINT64_MAX);
  kv.value = "18446744073709551616";
  EXPECT_FALSE(KeyValueNumber(kv, "c", UINT64_MAX).ok());
  for (const char* bad : {"", "-1", "+1", "1 ", "0x10", "5k"}) {
    kv.value = bad;
    StatusOr<uint64_t> r = KeyValueNumber(kv, "c", 1000);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(std::string(r.status().message()).find("c:4: retention="), std::string::npos);
  }
  kv.value = "9";
  EXPECT_FALSE(KeyValueNumber(kv, "c", 5).ok());  // a digit above max
}

}  // namespace
}  // namespace saveoops
