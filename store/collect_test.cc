#include "store/collect.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grp.h>

#include <algorithm>
#include <cstdint>
#include <functional>
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
  EXPECT_TRUE(absl::StrContains(s, "Captured:       2024-05-01T12:34:56Z\n")) << s;
  EXPECT_TRUE(absl::StrContains(s, "Kernel release: 6.1.0-18-amd64\n")) << s;
  EXPECT_TRUE(absl::StrContains(s, "Panic reason:   Kernel panic - not syncing: sysrq\\x1b[2J\n"))
      << s;
  EXPECT_TRUE(absl::StrContains(s, "Boot ID:        unknown\n")) << s;
  EXPECT_TRUE(absl::StrContains(s, "Log:            49 bytes\n")) << s;
  EXPECT_FALSE(absl::StrContains(s, "TRUNCATED"));
  EXPECT_TRUE(absl::EndsWith(s, "-\n" + r.log_text + "\n")) << s;
  r.boot_id[0] = 0xab;
  EXPECT_TRUE(absl::StrContains(FormatRecordForDisplay(r),
                                "Boot ID:        ab000000-0000-0000-0000-000000000000"));
}

// The UTC time in the metadata is the calendar absl::FormatTime computes,
// leap days and centuries included, up to the largest time accepted.
TEST(StoreTest, MetadataUtcTimeMatchesAbslFormatTime) {
  std::vector<uint64_t> times = {0,
                                 59,
                                 86399,
                                 86400,
                                 951782400,
                                 951868799,
                                 978307199,
                                 1709164800,
                                 4107542399,
                                 4107542400,
                                 253402300799,
                                 253402300800,
                                 uint64_t{std::numeric_limits<int64_t>::max()}};
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200; ++i) times.push_back(rng() % (uint64_t{1} << 40));
  for (const uint64_t t : times) {
    CaptureRecord r;
    r.capture_time_unix = t;
    const std::string want = absl::FormatTime(
        "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(static_cast<int64_t>(t)), absl::UTCTimeZone());
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
  EXPECT_TRUE(absl::StrContains(j, "\"panic_reason\": \"x\\u0001y\\ufffd\xc3\xa9z\\n\"")) << j;
  EXPECT_TRUE(absl::StrContains(j, "\"sequence\": 7,")) << j;
  EXPECT_TRUE(absl::StrContains(j, "\"boot_id\": null,")) << j;
  EXPECT_TRUE(absl::StrContains(j, "\"capture_time_utc\": \"1970-01-01T00:00:00Z\"")) << j;
}

TEST(StoreTest, MetadataJsonHasTheSignature) {
  CaptureRecord r;
  r.panic_reason = "Oops: CPU 3";
  r.log_text = "Oops: x\nCall Trace:\n a\"q+0x1/0x2\n b+0x3/0x4\n";
  const CrashSignature sig = ComputeSignature(r.panic_reason, r.log_text);
  const std::string j = RecordMetadataJson(r);
  EXPECT_EQ(j, RecordMetadataJson(r, sig));
  EXPECT_TRUE(absl::StrContains(j, absl::StrCat("\"signature\": \"", sig.hex, "\",\n"))) << j;
  // A line that is no frame ends the trace.
  EXPECT_TRUE(absl::StrContains(j, "\"signature_frames\": [],\n")) << j;
  EXPECT_TRUE(absl::StrContains(j, "\"signature_reason\": \"Oops: CPU <n>\",\n")) << j;
  r.log_text = "Oops: x\nCall Trace:\n a+0x1/0x2\n b+0x3/0x4\n";
  EXPECT_TRUE(absl::StrContains(RecordMetadataJson(r), "\"signature_frames\": [\"a\", \"b\"],\n"));
}

TEST(StoreTest, CollectWritesEachRecordOnce) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 128 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(12)).ok());
  std::mt19937_64 rng(12);
  std::vector<CaptureRecord> recs;
  for (int i = 0; i < 3; ++i) {
    NewRecord n = MakeNewRecord(rng, 1000 * i);
    n.capture_time_unix = 1764762199 + i;  // 2025-12-03T11:43:19Z
    absl::StatusOr<CaptureRecord> w = AppendRecord(loc, n);
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
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c->written[i].sequence, recs[i].sequence);
    EXPECT_EQ(c->written[i].record_dir, absl::StrCat(out, "/records/", RecordDirName(recs[i])));
    EXPECT_EQ(c->written[i].log_path, c->written[i].record_dir + "/dmesg.txt");
    EXPECT_EQ(ReadText(c->written[i].log_path), recs[i].log_text);
    const std::string json = ReadText(c->written[i].meta_path);
    EXPECT_EQ(c->written[i].meta_path, c->written[i].record_dir + "/record.json");
    EXPECT_TRUE(absl::StrContains(json, absl::StrCat("\"sequence\": ", i + 1, ","))) << json;
    EXPECT_TRUE(absl::StrContains(json, recs[i].kernel_release)) << json;
    EXPECT_TRUE(absl::StrContains(json, "\"log_file\": \"dmesg.txt\"")) << json;
  }
  EXPECT_EQ(RecordDirName(recs[0]), "20251203T114319Z-1");
  EXPECT_EQ(RecordDirName(recs[2]), "20251203T114321Z-3");
  for (const std::string& d : {out, out + "/records", c->written[0].record_dir}) {
    struct stat st;
    ASSERT_EQ(stat(d.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << d;
  }
  EXPECT_EQ(ReadText(absl::StrCat(out, "/", FormatUuid(TestUuid(12)), ".collected")),
            FormatCollectState(TestUuid(12), 3));

  c = CollectRecords(loc, out);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->written.empty());
  EXPECT_EQ(c->already_present, 3);

  // A new record is picked up; the mark, not the directory, says what was
  // collected: a record directory removed (retention, or by hand) is not
  // collected again.
  ASSERT_EQ(chmod(loc.path.c_str(), 0600), 0);
  ASSERT_EQ(system(absl::StrCat("rm -r '", out, "/records/", RecordDirName(recs[1]), "'").c_str()),
            0);
  absl::StatusOr<CaptureRecord> w = AppendRecord(loc, MakeNewRecord(rng, 10));
  ASSERT_TRUE(w.ok());
  c = CollectRecords(loc, out);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->written.size(), 1u);
  EXPECT_EQ(c->written[0].sequence, 4u);
  EXPECT_EQ(c->already_present, 3);
  EXPECT_FALSE(Exists(absl::StrCat(out, "/records/", RecordDirName(recs[1]))));
}

// The flat layout of earlier collects (<uuid>-<seq>.log/.json in the
// directory itself) stays readable: a record it holds counts as collected
// and its files are left where they are.
TEST(StoreTest, CollectHonoursTheOldFlatLayout) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 128 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(14)).ok());
  std::mt19937_64 rng(14);
  std::vector<CaptureRecord> recs;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<CaptureRecord> w = AppendRecord(loc, MakeNewRecord(rng, 300));
    ASSERT_TRUE(w.ok());
    recs.push_back(*w);
  }
  const std::string out = dir + "/out";
  ASSERT_EQ(mkdir(out.c_str(), 0700), 0);
  const std::string old_log = absl::StrCat(out, "/", LegacyCollectedLogName(recs[0]));
  const std::string old_meta = absl::StrCat(out, "/", LegacyCollectedMetaName(recs[0]));
  EXPECT_EQ(LegacyCollectedMetaName(recs[0]),
            absl::StrCat(FormatUuid(TestUuid(14)), "-00000001.json"));
  WriteFile(old_log, {'l', 'o', 'g'});
  WriteFile(old_meta, {'{', '}'});
  absl::StatusOr<CollectResult> c = CollectRecords(loc, out);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->written.size(), 1u);
  EXPECT_EQ(c->written[0].sequence, 2u);
  EXPECT_EQ(c->already_present, 1);
  EXPECT_EQ(ReadText(old_log), "log");
  EXPECT_EQ(ReadText(old_meta), "{}");
}

// Collected files are root's only (0600 whatever the umask), written whole
// or not at all: no temporary is left beside them, and a directory
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
  for (const std::string& path : {c->written[0].log_path, c->written[0].meta_path,
                                  absl::StrCat(out, "/", FormatUuid(TestUuid(13)), ".collected")}) {
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
  auto names = [](const std::string& d) {
    std::vector<std::string> out;
    DIR* dd = opendir(d.c_str());
    EXPECT_NE(dd, nullptr) << d;
    if (dd == nullptr) return out;
    while (struct dirent* e = readdir(dd)) {
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) out.push_back(e->d_name);
    }
    closedir(dd);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(absl::StrJoin(names(out), " "),
            absl::StrCat(FormatUuid(TestUuid(13)), ".collected records"));
  EXPECT_EQ(names(out + "/records").size(), 1u);
  EXPECT_EQ(absl::StrJoin(names(c->written[0].record_dir), " "), "dmesg.txt record.json");

  // A directory that cannot be made (a file is in the way: that fails for
  // root too) is an error naming it, and leaves nothing behind.
  const std::string blocked = dir + "/s/records";
  c = CollectRecords(loc, blocked);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), blocked)) << c.status();
}

// A collect whose writes stop short (RLIMIT_FSIZE: EFBIG, as a full disk
// gives ENOSPC) fails and leaves no file, temporary or half-written, in --dir;
// the next collect, with room, writes the record whole.
TEST(StoreTest, CollectFailingMidwayLeavesNothingInTheDirectory) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 256 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(14)).ok());
  std::mt19937_64 rng(14);
  ASSERT_TRUE(AppendRecord(loc, MakeNewRecord(rng, 100000)).ok());
  const std::string out = dir + "/records";
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const struct rlimit l = {4096, 4096};
    if (setrlimit(RLIMIT_FSIZE, &l) != 0) _exit(3);
    _exit(CollectRecords(loc, out).ok() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the collect did not fail";
  std::vector<std::string> names;
  if (DIR* d = opendir(out.c_str())) {
    while (struct dirent* e = readdir(d)) {
      // Collect's own lock file may stay; it holds no record.
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
    }
    closedir(d);
  }
  for (const std::string& n : names) {
    EXPECT_FALSE(absl::EndsWith(n, ".log") || absl::EndsWith(n, ".json") ||
                 absl::StrContains(n, ".tmp"))
        << "left behind: " << n;
  }
  absl::StatusOr<CollectResult> again = CollectRecords(loc, out);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->written.size(), 1u);
  absl::StatusOr<StoreListing> l = ListRecordMetadata(loc);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->records.size(), 1u);
  ASSERT_GT(l->records[0].log_size, 4096u);  // the limit cut the first collect's log
  struct stat st;
  ASSERT_EQ(stat(again->written[0].log_path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), l->records[0].log_size);
}

// --- A hostile --dir: the attack run as user nobody against root --------

constexpr uid_t kNobody = 65534;

// Runs `plant` in a child that has dropped to user nobody, relative to the
// directory `at` opened (as root) beforehand, so nobody needs no search
// permission on the test's private ancestors. Returns whether it succeeded.
bool AsNobody(const std::string& at, const std::function<bool(int dir_fd)>& plant) {
  const int dir_fd = open(at.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return false;
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(2);
    _exit(plant(dir_fd) ? 0 : 1);
  }
  close(dir_fd);
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

// Symbolic links at every name collect writes or reads in its directory
// (records/, the state file, the old flat layout's names for record 1), all
// pointing at `victim`.
bool PlantLinks(int dir_fd, const std::string& uuid, const std::string& victim) {
  const std::string base = absl::StrCat(uuid, "-00000001");
  for (const std::string& name : {std::string("records"), uuid + ".collected", base + ".log",
                                  base + ".json", base + ".log.tmp"}) {
    if (symlinkat(victim.c_str(), dir_fd, name.c_str()) != 0) return false;
  }
  return true;
}

class CollectAttackTest : public testing::Test {
 protected:
  void SetUp() override {
    // Saveoops's tests run as root (the e2e and store tests need it): the
    // attack needs a real second user, so its absence fails, never skips.
    ASSERT_EQ(geteuid(), 0u) << "needs root (to act as nobody against root)";
    // Probe that this sandbox lets a child become nobody at all.
    ASSERT_TRUE(AsNobody("/", [](int) { return true; })) << "cannot setuid(nobody) here";
    base_ = MakeTempDir();
    // The test's temp dir must be reachable for the ancestor check only;
    // nobody works through descriptors.
    loc_ = {base_ + "/s", 0, 64 * 1024};
    ASSERT_TRUE(FormatStore(loc_, TestUuid(40)).ok());
    std::mt19937_64 rng(40);
    ASSERT_TRUE(AppendRecord(loc_, MakeNewRecord(rng, 700)).ok());
    uuid_ = FormatUuid(TestUuid(40));
    victim_ = base_ + "/victim";
    WriteFile(victim_, {'p', 'r', 'e', 'c', 'i', 'o', 'u', 's', '\n'});
  }
  void ExpectVictimUnchanged() {
    EXPECT_EQ(ReadText(victim_), "precious\n");
    struct stat st;
    ASSERT_EQ(lstat(victim_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
  }
  std::string base_, uuid_, victim_;
  StoreLocation loc_;
};

// nobody makes --dir inside a sticky world-writable directory (as /tmp) and
// plants links in it: collect refuses the directory, naming it and its owner.
TEST_F(CollectAttackTest, RefusesADirectoryOwnedByAnotherUser) {
  const std::string pub = base_ + "/public";
  ASSERT_EQ(mkdir(pub.c_str(), 0700), 0);
  ASSERT_EQ(chmod(pub.c_str(), 01777), 0);
  ASSERT_TRUE(AsNobody(pub, [&](int pub_fd) {
    if (mkdirat(pub_fd, "records", 0755) != 0) return false;
    const int d = openat(pub_fd, "records", O_RDONLY | O_DIRECTORY);
    return d >= 0 && PlantLinks(d, uuid_, victim_);
  }));
  const std::string dir = pub + "/records";
  absl::StatusOr<CollectResult> c = CollectRecords(loc_, dir);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(),
                                absl::StrCat("refusing directory '", dir,
                                             "': it is owned by uid 65534, not by the invoking "
                                             "user (uid 0)")))
      << c.status();
  ExpectVictimUnchanged();
}

// A root-owned but world-writable --dir in which nobody planted links.
TEST_F(CollectAttackTest, RefusesAWorldWritableDirectory) {
  const std::string dir = base_ + "/shared";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0777), 0);
  ASSERT_TRUE(AsNobody(dir, [&](int d) { return PlantLinks(d, uuid_, victim_); }));
  absl::StatusOr<CollectResult> c = CollectRecords(loc_, dir);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(),
                                absl::StrCat("refusing directory '", dir,
                                             "': it is writable by group or others (mode 0777)")))
      << c.status();
  ExpectVictimUnchanged();
  // Sticky does not make a collection directory safe either.
  ASSERT_EQ(chmod(dir.c_str(), 01777), 0);
  EXPECT_FALSE(CollectRecords(loc_, dir).ok());
  ExpectVictimUnchanged();
}

// root's own 0700 --dir under a directory nobody may write (not sticky):
// nobody could move it away and put links in its place, so it is refused,
// naming the directory on the path.
TEST_F(CollectAttackTest, RefusesADirectoryUnderAnUnsafeParent) {
  const std::string open_parent = base_ + "/open";
  ASSERT_EQ(mkdir(open_parent.c_str(), 0700), 0);
  ASSERT_EQ(chmod(open_parent.c_str(), 0777), 0);
  const std::string dir = open_parent + "/records";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_TRUE(AsNobody(open_parent, [&](int p) {
    // Swap root's directory for one of nobody's, full of links.
    if (renameat(p, "records", p, "old") != 0 || mkdirat(p, "records", 0700) != 0) return false;
    const int d = openat(p, "records", O_RDONLY | O_DIRECTORY);
    return d >= 0 && fchmod(d, 0700) == 0 && PlantLinks(d, uuid_, victim_);
  }));
  absl::StatusOr<CollectResult> c = CollectRecords(loc_, dir);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(
      absl::StrContains(c.status().message(), absl::StrCat("'", open_parent,
                                                           "' on its path is writable by group "
                                                           "or others (mode 0777) and not sticky")))
      << c.status();
  ExpectVictimUnchanged();
}

// In root's own safe --dir nothing is followed: a link at records/, at a
// record directory's name, at the state file or at an old-layout mark is an
// error naming it, never a way out.
TEST_F(CollectAttackTest, NeverFollowsALinkUnderTheDirectory) {
  const std::string dir = base_ + "/own";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  const std::string victim_dir = base_ + "/victim_dir";
  ASSERT_EQ(mkdir(victim_dir.c_str(), 0700), 0);
  auto victim_dir_empty = [&] {
    DIR* d = opendir(victim_dir.c_str());
    int n = 0;
    while (struct dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    return n == 0;
  };
  absl::StatusOr<StoreListing> l = ListRecordMetadata(loc_);
  ASSERT_TRUE(l.ok() && l->records.size() == 1);
  const std::string legacy_meta = absl::StrCat(dir, "/", uuid_, "-00000001.json");
  const std::string records = dir + "/records";
  const std::string record_dir = absl::StrCat(records, "/", RecordDirName(l->records[0]));
  const std::string state = absl::StrCat(dir, "/", uuid_, ".collected");
  struct Case {
    std::string link, target, want;
  };
  const Case cases[] = {
      {records, victim_dir, "not a directory (a symbolic link?); refusing to follow it"},
      {legacy_meta, victim_, "not a regular file"},
      {state, victim_, "not a regular file (a symbolic link?); refusing to follow it"},
      {record_dir, victim_dir, "not a directory (a symbolic link?); refusing to follow it"},
  };
  for (const Case& k : cases) {
    ASSERT_EQ(symlink(k.target.c_str(), k.link.c_str()), 0) << k.link;
    absl::StatusOr<CollectResult> c = CollectRecords(loc_, dir);
    ASSERT_FALSE(c.ok()) << k.link;
    EXPECT_TRUE(absl::StrContains(c.status().message(), absl::StrCat("'", k.link, "'")))
        << c.status();
    EXPECT_TRUE(absl::StrContains(c.status().message(), k.want)) << c.status();
    ExpectVictimUnchanged();
    EXPECT_TRUE(victim_dir_empty());
    ASSERT_EQ(unlink(k.link.c_str()), 0);
  }
  absl::StatusOr<CollectResult> c = CollectRecords(loc_, dir);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->written.size(), 1u);
  struct stat st;
  ASSERT_EQ(lstat(record_dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));

  // --dir itself a link to a safe directory: refused, not followed.
  const std::string link = base_ + "/link";
  ASSERT_EQ(symlink(dir.c_str(), link.c_str()), 0);
  c = CollectRecords(loc_, link);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "it is a symbolic link")) << c.status();
}

// --- Concurrent collects -----------------------------------------------------

// Two collects at once, 30 rounds, each round a new record: both always
// succeed and between them write each record exactly once.
TEST(CollectTest, ConcurrentCollectsNeitherFailNorDuplicate) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 256 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(41)).ok());
  const std::string out = dir + "/records";
  std::mt19937_64 rng(41);
  for (int round = 0; round < 30; ++round) {
    ASSERT_TRUE(AppendRecord(loc, MakeNewRecord(rng, 2000 + round)).ok());
    int pipes[2][2];
    pid_t pids[2];
    for (int k = 0; k < 2; ++k) {
      ASSERT_EQ(pipe(pipes[k]), 0);
      pids[k] = fork();
      ASSERT_GE(pids[k], 0);
      if (pids[k] == 0) {
        absl::StatusOr<CollectResult> c = CollectRecords(loc, out);
        const char written = c.ok() ? static_cast<char>('0' + c->written.size()) : 'E';
        if (write(pipes[k][1], &written, 1) != 1) _exit(3);
        _exit(c.ok() ? 0 : 1);
      }
      close(pipes[k][1]);
    }
    int total = 0;
    for (int k = 0; k < 2; ++k) {
      char written = '?';
      ASSERT_EQ(read(pipes[k][0], &written, 1), 1);
      close(pipes[k][0]);
      int status = 0;
      ASSERT_EQ(waitpid(pids[k], &status, 0), pids[k]);
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "round " << round << " collect " << k << " failed";
      ASSERT_NE(written, 'E');
      total += written - '0';
    }
    EXPECT_EQ(total, 1) << "round " << round << ": the new record written " << total << " times";
  }
  absl::StatusOr<CollectResult> c = CollectRecords(loc, out);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->already_present, 30);
  EXPECT_TRUE(c->written.empty());
  // On disk too: one record directory per record (the default retention,
  // 50, keeps all 30), no temporaries.
  std::vector<std::string> names;
  DIR* d = opendir((out + "/records").c_str());
  ASSERT_NE(d, nullptr);
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  EXPECT_EQ(names.size(), 30u) << absl::StrJoin(names, " ");
  for (const std::string& n : names) EXPECT_TRUE(IsRecordDirName(n)) << n;
}

// collect reports the damaged records it skipped.
TEST(CollectTest, SaysHowManyDamagedRecordsItSkipped) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 128 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(42)).ok());
  std::mt19937_64 rng(42);
  std::vector<CaptureRecord> recs;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<CaptureRecord> w = AppendRecord(loc, MakeNewRecord(rng, 1500));
    ASSERT_TRUE(w.ok());
    recs.push_back(*w);
  }
  std::vector<uint8_t> bytes = ReadFile(loc.path);
  bytes[recs[0].offset_in_store] ^= 1;                // its magic
  bytes[recs[1].offset_in_store + kHeader + 5] ^= 1;  // its log
  WriteFile(loc.path, bytes);
  absl::StatusOr<CollectResult> c = CollectRecords(loc, dir + "/records");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->written.size(), 1u);
  EXPECT_EQ(c->skipped_corrupt, 2);
  const std::string summary = FormatCollectSummary(*c, dir + "/records");
  EXPECT_TRUE(absl::StrContains(summary, "skipped 2 damaged record(s)")) << summary;
}

}  // namespace
}  // namespace store_test
}  // namespace saveoops

namespace saveoops {
namespace {

using store_test::MakeTempDir;
using store_test::TestUuid;

NewRecord SamePanic(uint64_t time, const char* addr, const char* ts) {
  NewRecord r;
  r.capture_time_unix = time;
  r.kernel_release = "6.1.0-56-amd64";
  r.panic_reason = absl::StrCat("BUG: unable to handle page fault for address: ", addr);
  r.log_text = absl::StrCat("[", ts, "] BUG: unable to handle page fault for address: ", addr,
                            "\n[", ts, "] RIP: 0010:crash_fn+0x16/0x20\n[", ts, "] Call Trace:\n[",
                            ts, "]  <TASK>\n[", ts, "]  caller+0x4/0x9\n");
  return r;
}

TEST(StoreTest, ListBySignatureGroupsTheSamePanic) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 128 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(21)).ok());
  ASSERT_TRUE(AppendRecord(loc, SamePanic(1700000000, "ffffb3c2c0013e30", "    1.234")).ok());
  NewRecord other = SamePanic(1700000100, "ffff0000", "    2.000");
  other.panic_reason = "Kernel panic - not syncing: VFS";
  ASSERT_TRUE(AppendRecord(loc, other).ok());
  ASSERT_TRUE(AppendRecord(loc, SamePanic(1700000500, "ffffa000c0099e30", "  100.5")).ok());
  StatusOr<StoreListing> l = ListRecordMetadata(loc);
  ASSERT_TRUE(l.ok());
  StatusOr<std::string> grouped = FormatListingJson(loc, *l, /*by_signature=*/true);
  ASSERT_TRUE(grouped.ok());
  const std::string sig = ComputeSignature(SamePanic(0, "deadbeef00", "0.1").panic_reason,
                                           SamePanic(0, "deadbeef00", "0.1").log_text)
                              .hex;
  EXPECT_TRUE(absl::StrContains(*grouped, absl::StrCat(sig, "  count 2  seq 1..3  "))) << *grouped;
  EXPECT_TRUE(absl::StrContains(*grouped, "count 1  seq 2..2")) << *grouped;
  EXPECT_TRUE(absl::StrContains(*grouped, "BUG: unable to handle page fault for address: <hex>\n"))
      << *grouped;
  StatusOr<std::string> listed = FormatListingWithSignatures(loc, *l);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(absl::StrContains(*listed, absl::StrCat("seq 3  ", sig, "  6.1.0-56-amd64  ")))
      << *listed;
  StatusOr<std::string> lines = FormatListingJson(loc, *l, /*by_signature=*/false);
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(std::count(lines->begin(), lines->end(), '\n'), 3) << *lines;
  EXPECT_TRUE(absl::StrContains(*lines, absl::StrCat("\"signature\": \"", sig, "\", ")));
  EXPECT_TRUE(absl::StrContains(*lines, "\"signature_frames\": [\"crash_fn\", \"caller\"], "));
  EXPECT_TRUE(absl::StrContains(*lines, "\"log_text\": \"[    1.234] BUG: unable"));
}

}  // namespace
}  // namespace saveoops
