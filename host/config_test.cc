#include "host/config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/key_value.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(ConfigTest, ParsesEveryKey) {
  absl::StatusOr<SaveoopsConfig> c = ParseSaveoopsConfig(
      "# x\nstore = /var/lib/saveoops/store\nretention=7\ncollect_dir=/srv/oops\n"
      "capture_action=poweroff\n",
      "f.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->path, "f.conf");
  EXPECT_EQ(c->store, "/var/lib/saveoops/store");
  ASSERT_TRUE(c->retention.has_value());
  EXPECT_EQ(*c->retention, 7u);
  EXPECT_EQ(c->collect_dir, "/srv/oops");
  EXPECT_EQ(c->capture_action, "poweroff");
  c = ParseSaveoopsConfig("", "f");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->store.empty());
  EXPECT_FALSE(c->retention.has_value());
}

TEST(ConfigTest, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& k : std::initializer_list<Case>{
           {"retention=50\ncapture=poweroff\n",
            "/etc/s.conf:2: unknown key 'capture' (known: store, retention, collect_dir, "
            "capture_action)"},
           {"capture_action=explode\n",
            "/etc/s.conf:1: capture_action=explode: want reboot, poweroff or halt"},
           {"\nstore=dev/sda9\n", "/etc/s.conf:2: store=dev/sda9: not an absolute path"},
           {"collect_dir=\n", "/etc/s.conf:1: collect_dir=: not an absolute path"},
           {"retention=-1\n", "/etc/s.conf:1: retention=-1: not a number"},
           {"retention=1000001\n", "/etc/s.conf:1: retention=1000001: more than 1000000"},
           {"store=/a\nstore=/b\n", "/etc/s.conf:2: store is set again (first on line 1)"},
           {"store /a\n", "/etc/s.conf:1: 'store /a' is not KEY=VALUE"},
       }) {
    absl::StatusOr<SaveoopsConfig> c = ParseSaveoopsConfig(k.text, "/etc/s.conf");
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_EQ(c.status().message(), k.want);
  }
}

TEST(ConfigTest, TheDefaultTextParses) {
  absl::StatusOr<SaveoopsConfig> c = ParseSaveoopsConfig(DefaultSaveoopsConfigText(""), "d");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->store.empty());
  EXPECT_EQ(*c->retention, 50u);
  EXPECT_EQ(c->collect_dir, "/var/lib/saveoops");
  c = ParseSaveoopsConfig(DefaultSaveoopsConfigText("/dev/vda2"), "d");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->store, "/dev/vda2");
}

TEST(ConfigTest, LoadsOnlyATrustedFile) {
  std::string dir = testing::TempDir();
  const std::string path = absl::StrCat(dir, "/saveoops.conf.", getpid());
  absl::StatusOr<SaveoopsConfig> c = LoadSaveoopsConfig(path, /*required=*/false);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->path.empty());
  c = LoadSaveoopsConfig(path, /*required=*/true);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), path)) << c.status();
  std::ofstream(path) << "retention=3\n";
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  c = LoadSaveoopsConfig(path, false);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->path, path);
  EXPECT_EQ(*c->retention, 3u);
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  c = LoadSaveoopsConfig(path, false);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "writable by group or others (mode 0666)"))
      << c.status();
  unlink(path.c_str());
  // A directory, or a file over the bound, is an error naming it.
  c = LoadSaveoopsConfig(dir, false);
  ASSERT_FALSE(c.ok());
  std::ofstream(path) << std::string(kMaxKeyValueBytes + 1, '\n');
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  c = LoadSaveoopsConfig(path, false);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), path)) << c.status();
  unlink(path.c_str());
}

}  // namespace
}  // namespace saveoops
