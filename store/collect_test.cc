#include "store/collect.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "store/display.h"
#include "store/ring.h"
#include "store/test_util.h"

namespace saveoops {
namespace store_test {
namespace {

// --- Display and collection --------------------------------------------------

TEST(StoreTest, DisplayShowsHeaderThenLog) {
  CaptureRecord r;
  r.sequence = 42;
  r.store_uuid = TestUuid(1);
  r.capture_time_unix = 1714566896;  // 2024-05-01T12:34:56Z
  r.kernel_release = "6.1.0-18-amd64";
  r.panic_reason = "Kernel panic - not syncing: sysrq\x1b[2J";
  r.log_text = "[    0.000000] Linux version 6.1.0\n[   12.3] Oops";
  r.original_log_size = r.log_text.size();
  const std::string s = FormatRecordForDisplay(r);
  EXPECT_TRUE(absl::StrContains(s, "Record:         #42 (store ")) << s;
  EXPECT_TRUE(absl::StrContains(s, "Captured:       2024-05-01T12:34:56Z\n"))
      << s;
  EXPECT_TRUE(absl::StrContains(s, "Kernel release: 6.1.0-18-amd64\n")) << s;
  EXPECT_TRUE(absl::StrContains(
      s, "Panic reason:   Kernel panic - not syncing: sysrq\\x1b[2J\n"))
      << s;
  EXPECT_TRUE(absl::StrContains(s, "Boot ID:        unknown\n")) << s;
  EXPECT_TRUE(absl::StrContains(s, "Log:            49 bytes\n")) << s;
  EXPECT_FALSE(absl::StrContains(s, "TRUNCATED"));
  EXPECT_TRUE(absl::EndsWith(s, "-\n" + r.log_text + "\n")) << s;
  r.boot_id[0] = 0xab;
  EXPECT_TRUE(absl::StrContains(
      FormatRecordForDisplay(r),
      "Boot ID:        ab000000-0000-0000-0000-000000000000"));
}

// The UTC time in the metadata is the calendar absl::FormatTime computes,
// leap days and centuries included, up to the largest time accepted.
TEST(StoreTest, MetadataUtcTimeMatchesAbslFormatTime) {
  std::vector<uint64_t> times = {0,           59,          86399,        86400,
                                 951782400,   951868799,   978307199,    1709164800,
                                 4107542399,  4107542400,  253402300799, 253402300800,
                                 uint64_t{std::numeric_limits<int64_t>::max()}};
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200; ++i) times.push_back(rng() % (uint64_t{1} << 40));
  for (const uint64_t t : times) {
    CaptureRecord r;
    r.capture_time_unix = t;
    const std::string want = absl::FormatTime(
        "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(static_cast<int64_t>(t)),
        absl::UTCTimeZone());
    EXPECT_TRUE(absl::StrContains(RecordMetadataJson(r),
                                  absl::StrCat("\"capture_time_utc\": \"", want, "\"")))
        << t << " should be " << want;
  }
}

TEST(StoreTest, MetadataJsonEscapes) {
  CaptureRecord r;
  r.sequence = 7;
  r.kernel_release = "a\"b\\c";
  r.panic_reason = std::string("x\x01y\xff\xc3\xa9z\n", 8);
  const std::string j = RecordMetadataJson(r);
  EXPECT_TRUE(absl::StrContains(j, "\"kernel_release\": \"a\\\"b\\\\c\"")) << j;
  EXPECT_TRUE(absl::StrContains(
      j, "\"panic_reason\": \"x\\u0001y\\ufffd\xc3\xa9z\\n\""))
      << j;
  EXPECT_TRUE(absl::StrContains(j, "\"sequence\": 7,")) << j;
  EXPECT_TRUE(absl::StrContains(j, "\"boot_id\": null,")) << j;
  EXPECT_TRUE(
      absl::StrContains(j, "\"capture_time_utc\": \"1970-01-01T00:00:00Z\""))
      << j;
}

TEST(StoreTest, CollectWritesEachRecordOnce) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 128 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(12)).ok());
  std::mt19937_64 rng(12);
  std::vector<CaptureRecord> recs;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<CaptureRecord> w =
        AppendRecord(loc, MakeNewRecord(rng, 1000 * i));
    ASSERT_TRUE(w.ok());
    recs.push_back(*w);
  }
  // Collecting must not need write access to the store.
  ASSERT_EQ(chmod(loc.path.c_str(), 0400), 0);
  const std::string out = dir + "/var/lib/saveoops";  // created
  absl::StatusOr<CollectResult> c = CollectRecords(loc, out);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->written.size(), 3u);
  EXPECT_EQ(c->already_present, 0);
  const std::string uuid = FormatUuid(TestUuid(12));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c->written[i].sequence, recs[i].sequence);
    EXPECT_EQ(c->written[i].log_path,
              absl::StrFormat("%s/%s-%08d.log", out, uuid, i + 1));
    EXPECT_EQ(ReadText(c->written[i].log_path), recs[i].log_text);
    const std::string json = ReadText(c->written[i].meta_path);
    EXPECT_TRUE(
        absl::StrContains(json, absl::StrCat("\"sequence\": ", i + 1, ",")))
        << json;
    EXPECT_TRUE(absl::StrContains(json, recs[i].kernel_release)) << json;
  }
  struct stat st;
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  c = CollectRecords(loc, out);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->written.empty());
  EXPECT_EQ(c->already_present, 3);

  // An interrupted collect (log written, .json missing) is redone, and a
  // new record is picked up.
  ASSERT_EQ(c->info.uuid, TestUuid(12));
  const std::string meta2 = absl::StrFormat("%s/%s-%08d.json", out, uuid, 2);
  ASSERT_EQ(unlink(meta2.c_str()), 0);
  ASSERT_EQ(chmod(loc.path.c_str(), 0600), 0);
  absl::StatusOr<CaptureRecord> w = AppendRecord(loc, MakeNewRecord(rng, 10));
  ASSERT_TRUE(w.ok());
  c = CollectRecords(loc, out);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->written.size(), 2u);
  EXPECT_EQ(c->written[0].sequence, 2u);
  EXPECT_EQ(c->written[1].sequence, 4u);
  EXPECT_EQ(c->already_present, 2);
  EXPECT_TRUE(Exists(absl::StrFormat("%s/%s-%08d.json", out, uuid, 4)));
}

// Collected files are root's only (0600 whatever the umask), written whole
// or not at all: no temporary file is left beside them, and a directory
// that cannot be written fails with a message naming the file.
TEST(StoreTest, CollectedFilesAre0600AndLeaveNoTemporaries) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 64 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(13)).ok());
  std::mt19937_64 rng(13);
  ASSERT_TRUE(AppendRecord(loc, MakeNewRecord(rng, 500)).ok());
  const mode_t old_umask = umask(0);
  const std::string out = dir + "/records";
  absl::StatusOr<CollectResult> c = CollectRecords(loc, out);
  umask(old_umask);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->written.size(), 1u);
  for (const std::string& path : {c->written[0].log_path, c->written[0].meta_path}) {
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
  std::vector<std::string> names;
  DIR* d = opendir(out.c_str());
  ASSERT_NE(d, nullptr);
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)) {
      names.push_back(e->d_name);
    }
  }
  closedir(d);
  EXPECT_EQ(names.size(), 2u) << absl::StrJoin(names, " ");

  // A directory that cannot be made (a file is in the way: that fails for
  // root too) is an error naming it, and leaves nothing behind.
  const std::string blocked = dir + "/s/records";
  c = CollectRecords(loc, blocked);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), blocked)) << c.status();
}

}  // namespace
}  // namespace store_test
}  // namespace saveoops
