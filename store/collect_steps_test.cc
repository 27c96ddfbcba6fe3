// collect's steps (store/collect.h CollectStep): a crash or an error after
// each, a full disk, retention, and the journal entry of each record.
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/format.h"
#include "gtest/gtest.h"
#include "store/collect.h"
#include "store/display.h"
#include "store/ring.h"
#include "store/signature.h"
#include "store/test_journal.h"
#include "store/test_util.h"

namespace saveoops {
namespace store_test {
namespace {

constexpr CollectStep kSteps[] = {
    CollectStep::kTempDirMade,  CollectStep::kLogWritten,   CollectStep::kMetaWritten,
    CollectStep::kRenamed,      CollectStep::kParentSynced, CollectStep::kJournalSent,
    CollectStep::kStateWritten,
};

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) out.push_back(e->d_name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// A store of three records, captured a second apart.
struct ThreeRecords {
  std::string base;
  StoreLocation loc;
  std::vector<CaptureRecord> recs;
  explicit ThreeRecords(uint8_t seed, size_t log_size = 3000) {
    base = MakeTempDir();
    loc = {base + "/s", 0, 256 * 1024};
    EXPECT_TRUE(FormatStore(loc, TestUuid(seed)).ok());
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 3; ++i) {
      NewRecord n = MakeNewRecord(rng, log_size + i);
      n.capture_time_unix = 1764762199 + i;
      absl::StatusOr<CaptureRecord> w = AppendRecord(loc, n);
      EXPECT_TRUE(w.ok());
      if (w.ok()) {
        w->log_text = n.log_text;
        recs.push_back(*w);
      }
    }
  }
};

// Every record is in out/records exactly once, whole, and nothing else is.
void ExpectCollectedOnce(const ThreeRecords& t, const std::string& out) {
  std::vector<std::string> want;
  for (const CaptureRecord& r : t.recs) want.push_back(RecordDirName(r));
  EXPECT_EQ(absl::StrJoin(Names(out + "/records"), " "), absl::StrJoin(want, " "));
  for (const CaptureRecord& r : t.recs) {
    const std::string d = absl::StrCat(out, "/records/", RecordDirName(r));
    EXPECT_EQ(absl::StrJoin(Names(d), " "), "dmesg.txt record.json") << d;
    EXPECT_TRUE(ReadText(d + "/dmesg.txt") == r.log_text) << d;
    EXPECT_EQ(ReadText(d + "/record.json"),
              RecordMetadataJson(r, ComputeSignature(r.panic_reason, r.log_text)));
  }
  EXPECT_EQ(ReadText(absl::StrCat(out, "/", CollectStateName(t.recs[0].store_uuid))),
            FormatCollectState(t.recs[0].store_uuid, 3));
}

std::vector<uint64_t> SentSequences(TestJournal& journal) {
  std::vector<uint64_t> seqs;
  for (ReceivedEntry& e : journal.Drain()) seqs.push_back(std::stoull(e.fields["SAVEOOPS_SEQ"]));
  return seqs;
}

// A collect killed (_exit, no clean-up) right after each step of record 2,
// then a collect run to the end: every record is collected exactly once.
// The journal gets each record once, except after a crash between sending
// record 2's entry and marking it (kJournalSent), where it is sent again:
// journald gives no receipt to make that window exactly-once, so the
// entry is the same one (same SAVEOOPS_STORE_UUID and SAVEOOPS_SEQ).
TEST(CollectStepsTest, ACrashAfterAnyStepLosesNothingAndDuplicatesNothing) {
  for (const CollectStep crash_at : kSteps) {
    SCOPED_TRACE(static_cast<int>(crash_at));
    ThreeRecords t(50);
    TestJournal journal;
    CollectOptions o;
    o.dir = t.base + "/out";
    o.journal_socket = journal.path();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      o.after_step = [&](CollectStep step, uint64_t seq) {
        if (step == crash_at && seq == 2) _exit(42);
        return OkStatus();
      };
      (void)CollectRecords(t.loc, o);
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42) << "the crash did not happen";
    std::vector<uint64_t> sent = SentSequences(journal);

    absl::StatusOr<CollectResult> c = CollectRecords(t.loc, o);
    ASSERT_TRUE(c.ok()) << c.status();
    const bool marked = crash_at == CollectStep::kStateWritten;
    EXPECT_EQ(c->already_present, marked ? 2 : 1);
    ASSERT_EQ(c->written.size(), marked ? 1u : 2u);
    EXPECT_EQ(c->written[0].resumed,
              crash_at >= CollectStep::kRenamed && crash_at < CollectStep::kStateWritten);
    const bool stale = crash_at < CollectStep::kRenamed;
    EXPECT_EQ(c->stale_temporaries_removed, stale ? 1 : 0);
    for (uint64_t s : SentSequences(journal)) sent.push_back(s);
    std::sort(sent.begin(), sent.end());
    const std::vector<uint64_t> want = crash_at == CollectStep::kJournalSent
                                           ? std::vector<uint64_t>{1, 2, 2, 3}
                                           : std::vector<uint64_t>{1, 2, 3};
    EXPECT_EQ(absl::StrJoin(sent, ","), absl::StrJoin(want, ","));
    ExpectCollectedOnce(t, o.dir);
    // And a third collect finds nothing to do.
    c = CollectRecords(t.loc, o);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->written.empty());
    EXPECT_TRUE(journal.Drain().empty());
  }
}

// An error after any step (what a full disk or an I/O error is) is
// returned; the record is not marked, no temporary is left, and the next
// collect completes it once.
TEST(CollectStepsTest, AnErrorAfterAnyStepIsReportedAndNothingIsMarked) {
  for (const CollectStep fail_at : kSteps) {
    SCOPED_TRACE(static_cast<int>(fail_at));
    ThreeRecords t(51);
    TestJournal journal;
    CollectOptions o;
    o.dir = t.base + "/out";
    o.journal_socket = journal.path();
    o.after_step = [&](CollectStep step, uint64_t seq) {
      if (step == fail_at && seq == 2) return InternalError("injected");
      return OkStatus();
    };
    absl::StatusOr<CollectResult> c = CollectRecords(t.loc, o);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().message(), "injected");
    const uint64_t marked = fail_at == CollectStep::kStateWritten ? 2 : 1;
    EXPECT_EQ(ReadText(absl::StrCat(o.dir, "/", CollectStateName(t.recs[0].store_uuid))),
              FormatCollectState(t.recs[0].store_uuid, marked));
    for (const std::string& name : Names(o.dir + "/records")) {
      EXPECT_FALSE(absl::StartsWith(name, ".tmp-")) << name << " left behind";
    }
    o.after_step = nullptr;
    c = CollectRecords(t.loc, o);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->stale_temporaries_removed, 0);
    ExpectCollectedOnce(t, o.dir);
    journal.Drain();
  }
}

// A full file system, as RLIMIT_FSIZE makes one (EFBIG) without a tmpfs:
// the error names the file, nothing of the record is left and nothing is
// marked; with room again, collect completes.
TEST(CollectStepsTest, AFullDiskIsReportedAndNothingIsMarked) {
  ThreeRecords t(52, 20000);
  TestJournal journal;
  CollectOptions o;
  o.dir = t.base + "/out";
  o.journal_socket = journal.path();
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    signal(SIGXFSZ, SIG_IGN);
    const struct rlimit limit = {10000, 10000};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(3);
    absl::StatusOr<CollectResult> c = CollectRecords(t.loc, o);
    const std::string msg = c.ok() ? "ok" : std::string(c.status().message());
    if (write(pipefd[1], msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) _exit(4);
    _exit(0);
  }
  close(pipefd[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof(buf))) > 0;) msg.append(buf, n);
  close(pipefd[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(absl::StrContains(
      msg, absl::StrCat(o.dir, "/records/.tmp-", RecordDirName(t.recs[0]), "/dmesg.txt")))
      << msg;
  EXPECT_TRUE(absl::StrContains(msg, "File too large")) << msg;
  EXPECT_TRUE(Names(o.dir + "/records").empty());
  EXPECT_FALSE(Exists(absl::StrCat(o.dir, "/", CollectStateName(t.recs[0].store_uuid))));
  EXPECT_TRUE(journal.Drain().empty());

  absl::StatusOr<CollectResult> c = CollectRecords(t.loc, o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->written.size(), 3u);
  ExpectCollectedOnce(t, o.dir);
}

// Each record's journal entry, field by field, as the test's own socket
// received it; a log too big for a datagram comes in a sealed memfd.
TEST(CollectStepsTest, EachRecordGoesToTheJournal) {
  const std::string base = MakeTempDir();
  const StoreLocation loc{base + "/s", 0, 8 << 20};
  ASSERT_TRUE(FormatStore(loc, TestUuid(53)).ok());
  std::mt19937_64 rng(53);
  NewRecord small = MakeNewRecord(rng, 500);
  small.capture_time_unix = 1764762199;
  small.panic_reason = "Kernel panic - not syncing: sysrq triggered crash";
  small.log_text =
      "[ 1.0] Kernel panic - not syncing: sysrq triggered crash\n"
      "[ 1.0] Call Trace:\n[ 1.0]  <TASK>\n[ 1.0]  sysrq_handle_crash+0x16/0x20\n";
  NewRecord big = MakeNewRecord(rng, 1 << 20);
  for (const NewRecord& n : {small, big}) ASSERT_TRUE(AppendRecord(loc, n).ok());
  TestJournal journal;
  CollectOptions o;
  o.dir = base + "/out";
  o.journal_socket = journal.path();
  absl::StatusOr<CollectResult> c = CollectRecords(loc, o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->journal_entries, 2);
  EXPECT_TRUE(c->journal_note.empty());
  std::vector<ReceivedEntry> got = journal.Drain();
  ASSERT_EQ(got.size(), 2u);
  const CrashSignature sig = ComputeSignature(small.panic_reason, small.log_text);
  std::map<std::string, std::string>& f = got[0].fields;
  const std::string boot =
      HexString(absl::string_view(reinterpret_cast<const char*>(small.boot_id.data()), 16));
  EXPECT_FALSE(got[0].via_memfd);
  EXPECT_EQ(f["MESSAGE_ID"], "0a5408bae23243a592f789604e67cc94");
  EXPECT_EQ(f["PRIORITY"], "2");
  EXPECT_EQ(f["MESSAGE"], absl::StrCat("kernel panic on boot ", boot,
                                       " captured: Kernel panic - not syncing: sysrq triggered "
                                       "crash (signature ",
                                       sig.hex, ")"));
  EXPECT_EQ(f["SAVEOOPS_SIGNATURE"], sig.hex);
  EXPECT_EQ(f["SAVEOOPS_SIGNATURE_FRAMES"], "sysrq_handle_crash");
  EXPECT_EQ(f["KERNEL_RELEASE"], small.kernel_release);
  EXPECT_EQ(f["PANIC_REASON"], small.panic_reason);
  EXPECT_EQ(f["SAVEOOPS_SEQ"], "1");
  EXPECT_EQ(f["SAVEOOPS_BOOT_ID"], boot);
  EXPECT_EQ(f["SAVEOOPS_STORE_UUID"], FormatUuid(TestUuid(53)));
  EXPECT_EQ(f["SAVEOOPS_CAPTURE_TIME"], "2025-12-03T11:43:19Z");
  EXPECT_EQ(f["SAVEOOPS_RECORD_DIR"], o.dir + "/records/20251203T114319Z-1");
  EXPECT_EQ(f["SAVEOOPS_DMESG"], small.log_text);
  EXPECT_EQ(f["SYSLOG_IDENTIFIER"], "saveoops");
  EXPECT_TRUE(got[1].via_memfd);
  EXPECT_EQ(got[1].fields["SAVEOOPS_SEQ"], "2");
  EXPECT_TRUE(got[1].fields["SAVEOOPS_DMESG"] == big.log_text);
  EXPECT_TRUE(absl::StrContains(FormatCollectSummary(*c, o.dir),
                                "sent 2 record(s) to the journal (journalctl "
                                "MESSAGE_ID=0a5408bae23243a592f789604e67cc94)"));
}

// No journald: said once, and the records are still collected and marked.
TEST(CollectStepsTest, AnAbsentJournalIsSaidOnce) {
  ThreeRecords t(54);
  CollectOptions o;
  o.dir = t.base + "/out";
  o.journal_socket = absl::StrCat("/tmp/saveoops-no-journal-", getpid(), "/socket");
  absl::StatusOr<CollectResult> c = CollectRecords(t.loc, o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->written.size(), 3u);
  EXPECT_EQ(c->journal_entries, 0);
  EXPECT_TRUE(absl::StrContains(c->journal_note, "No such file or directory")) << c->journal_note;
  const std::string summary = FormatCollectSummary(*c, o.dir);
  EXPECT_EQ(summary.find("note: no journal"), summary.rfind("note: no journal")) << summary;
  EXPECT_NE(summary.find("note: no journal"), std::string::npos) << summary;
  ExpectCollectedOnce(t, o.dir);
}

// Retention keeps the newest N record directories (by capture time, then
// sequence), removes the rest, and touches nothing that is not a record
// directory of collect's: other names, a link named like a record
// directory (never followed), a directory holding a directory.
TEST(CollectStepsTest, RetentionKeepsTheNewestAndOnlyRemovesOurs) {
  const std::string base = MakeTempDir();
  const StoreLocation loc{base + "/s", 0, 256 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(55)).ok());
  std::mt19937_64 rng(55);
  // Sequence 5 was captured first (a clock set back): it is the oldest.
  const uint64_t times[] = {1000, 2000, 3000, 4000, 500};
  std::vector<std::string> names;
  for (const uint64_t t : times) {
    NewRecord n = MakeNewRecord(rng, 200);
    n.capture_time_unix = 1764762199 + t;
    absl::StatusOr<CaptureRecord> w = AppendRecord(loc, n);
    ASSERT_TRUE(w.ok());
    names.push_back(RecordDirName(*w));
  }
  const std::string out = base + "/out";
  const std::string records = out + "/records";
  ASSERT_EQ(mkdir(out.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(records.c_str(), 0700), 0);
  const std::string victim = base + "/victim";
  ASSERT_EQ(mkdir(victim.c_str(), 0700), 0);
  WriteFile(victim + "/precious", {'x'});
  // Older than every record, so retention would pick them first.
  ASSERT_EQ(symlink(victim.c_str(), (records + "/19700101T000000Z-1").c_str()), 0);
  ASSERT_EQ(mkdir((records + "/19700101T000000Z-2").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((records + "/19700101T000000Z-2/sub").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((records + "/notes").c_str(), 0700), 0);

  CollectOptions o;
  o.dir = out;
  o.retention = 2;
  absl::StatusOr<CollectResult> c = CollectRecords(loc, o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->written.size(), 5u);
  EXPECT_EQ(absl::StrJoin(Names(records), " "),
            absl::StrJoin({std::string("19700101T000000Z-1"), std::string("19700101T000000Z-2"),
                           names[2], names[3], std::string("notes")},
                          " "));
  EXPECT_EQ(c->removed.size(), 3u);
  EXPECT_EQ(absl::StrJoin(Names(victim), " "), "precious");
  EXPECT_EQ(c->notes.size(), 2u) << absl::StrJoin(c->notes, "\n");
  EXPECT_TRUE(absl::StrContains(absl::StrJoin(c->notes, "\n"), "holds a directory ('sub')"));
  EXPECT_TRUE(absl::StrContains(absl::StrJoin(c->notes, "\n"), "is not a directory"));
  // What retention removed is never collected again.
  c = CollectRecords(loc, o);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->written.empty());
  EXPECT_EQ(c->already_present, 5);
  // 0 keeps everything.
  ASSERT_TRUE(AppendRecord(loc, MakeNewRecord(rng, 100)).ok());
  o.retention = 0;
  c = CollectRecords(loc, o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->written.size(), 1u);
  EXPECT_TRUE(c->removed.empty());
}

TEST(CollectStepsTest, RecordDirNamesAndStateFiles) {
  CaptureRecord r;
  r.sequence = 17;
  r.capture_time_unix = 1764762199;
  EXPECT_EQ(RecordDirName(r), "20251203T114319Z-17");
  r.capture_time_unix = UINT64_MAX;
  EXPECT_EQ(RecordDirName(r), "99991231T235959Z-17");
  for (const char* good :
       {"20251203T114319Z-17", "19700101T000000Z-1", "20251203T114319Z-3-0a1b2c3d"}) {
    EXPECT_TRUE(IsRecordDirName(good)) << good;
  }
  for (const char* bad :
       {"20251203T114319Z-", "20251203T114319Z", "2025120T114319Z-1", "20251203T114319Z-1-0A1B2C3D",
        "20251203T114319Z-1-0a1b2c3", ".tmp-x", "20251203T114319Z-1x", "20251203X114319Z-1"}) {
    EXPECT_FALSE(IsRecordDirName(bad)) << bad;
  }
  const Uuid u = TestUuid(9);
  StatusOr<uint64_t> n = ParseCollectState(FormatCollectState(u, 42), u, "s");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 42u);
  EXPECT_FALSE(ParseCollectState(FormatCollectState(TestUuid(8), 42), u, "s").ok());
  EXPECT_FALSE(ParseCollectState("collected_through=1\n", u, "s").ok());
  StatusOr<uint64_t> bad = ParseCollectState(
      absl::StrCat("store_uuid=", FormatUuid(u), "\ncollected_through=x\n"), u, "/v/s");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "/v/s:2: collected_through=x"))
      << bad.status();
}

}  // namespace
}  // namespace store_test
}  // namespace saveoops
