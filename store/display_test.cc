#include "store/display.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "store/collect.h"
#include "store/ring.h"
#include "store/store_format.h"
#include "store/test_util.h"

namespace saveoops {
namespace store_test {
namespace {

// The first byte that could drive a terminal: below 0x20 but not newline
// or tab (if multiline), or DEL. -1 if none.
ptrdiff_t FirstControlByte(const std::string& s, bool multiline) {
  for (size_t i = 0; i < s.size(); ++i) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (multiline && (c == '\n' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7f) return static_cast<ptrdiff_t>(i);
  }
  return -1;
}

// What ShowRecord() prints for `record`.
std::string Shown(const StoreLocation& loc, const CaptureRecord& record, ShowMode mode,
                  Status* status) {
  FILE* f = tmpfile();
  EXPECT_NE(f, nullptr);
  *status = ShowRecord(loc, record, mode, f);
  fflush(f);
  std::string out;
  rewind(f);
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), f)) > 0;) out.append(buf, n);
  fclose(f);
  return out;
}

const char kHostileRelease[] = "6.1.0\x1b]0;owned\x07-amd64";
const char kHostileReason[] = "Kernel panic\x1b[2J\r\x1b[1;1H - not syncing";
const char kHostileLog[] =
    "[    0.000000] Linux version 6.1.0\n"
    "\x1b]0;title\x07\x1b[2J\x1b[1;1H\tfake prompt# \x7f\b\b\r\n"
    "C1 CSI \xc2\x9b"
    "31m and a raw \x9b"
    "31m, valid UTF-8 \xc3\xa9 kept\n"
    "[   12.3] Kernel panic - not syncing: sysrq triggered crash\x1b";

// A store on a file holding one record whose release, reason and log carry
// terminal escapes (digests valid: the capture program wrote what it read).
StoreLocation HostileStore(CaptureRecord* written) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 64 * 1024};
  EXPECT_TRUE(FormatStore(loc, TestUuid(30)).ok());
  NewRecord r;
  r.capture_time_unix = 1714566896;
  r.kernel_release = kHostileRelease;
  r.panic_reason = kHostileReason;
  r.log_text = kHostileLog;
  absl::StatusOr<CaptureRecord> w = AppendRecord(loc, r);
  EXPECT_TRUE(w.ok()) << w.status();
  if (w.ok()) *written = *w;
  return loc;
}

// No byte below 0x20 but newline and tab reaches the output of list, show
// or collect for a record whose fields hold escape sequences; they are
// shown as \xNN instead. --raw prints the log as stored.
TEST(DisplayTest, NoControlBytesReachTheTerminal) {
  CaptureRecord written;
  const StoreLocation loc = HostileStore(&written);
  absl::StatusOr<StoreListing> l = ListRecordMetadata(loc);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->records.size(), 1u);
  const CaptureRecord& r = l->records[0];
  EXPECT_EQ(r.kernel_release, kHostileRelease);
  EXPECT_TRUE(r.log_text.empty());  // metadata only
  EXPECT_EQ(r.log_size, sizeof(kHostileLog) - 1);

  const std::string listed = FormatListing(*l, loc.offset);
  EXPECT_EQ(FirstControlByte(listed, /*multiline=*/true), -1) << listed;
  EXPECT_TRUE(
      absl::StrContains(listed,
                        "seq 1  6.1.0\\x1b]0;owned\\x07-amd64  2024-05-01T12:34:56Z  Kernel panic"
                        "\\x1b[2J\\x0d\\x1b[1;1H - not syncing\n"))
      << listed;
  // Only the line ends are newlines: one per line, no tab.
  for (size_t i = 0; i < listed.size(); ++i) {
    if (listed[i] == '\t') ADD_FAILURE() << "tab in list output";
  }

  Status s;
  const std::string shown = Shown(loc, r, ShowMode::kDisplay, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(FirstControlByte(shown, /*multiline=*/true), -1) << shown;
  EXPECT_TRUE(absl::StrContains(shown, "Kernel release: 6.1.0\\x1b]0;owned\\x07-amd64\n")) << shown;
  EXPECT_TRUE(absl::StrContains(shown,
                                "\\x1b]0;title\\x07\\x1b[2J\\x1b[1;1H\tfake prompt# "
                                "\\x7f\\x08\\x08\\x0d\n"))
      << shown;
  EXPECT_TRUE(absl::StrContains(shown,
                                "C1 CSI \\xc2\\x9b31m and a raw \\x9b31m, valid UTF-8 "
                                "\xc3\xa9 kept\n"))
      << shown;
  EXPECT_TRUE(absl::EndsWith(shown, "sysrq triggered crash\\x1b\n")) << shown;
  // The in-memory form says the same.
  CaptureRecord in_memory = r;
  in_memory.log_text = kHostileLog;
  EXPECT_EQ(FormatRecordForDisplay(in_memory), shown);

  const std::string raw = Shown(loc, r, ShowMode::kRaw, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(raw, kHostileLog);

  // collect's printed output: the directory name is the user's, but goes
  // through the same filter.
  CollectResult c;
  CollectedRecord one;
  one.sequence = 1;
  one.record_dir = "/var/lib/saveoops/records/\x1b[2Jx";
  c.written.push_back(one);
  c.journal_note = "/run/\x1b[2J: absent";
  c.skipped_corrupt = 2;
  const std::string summary = FormatCollectSummary(c, "/var/lib/saveoops\x1b]0;t\x07");
  EXPECT_EQ(FirstControlByte(summary, /*multiline=*/true), -1) << summary;
  EXPECT_EQ(summary.find('\t'), std::string::npos) << summary;
  EXPECT_TRUE(absl::StrContains(summary, "into /var/lib/saveoops\\x1b]0;t\\x07/records\n"))
      << summary;
  EXPECT_TRUE(absl::StrContains(summary, "records/\\x1b[2Jx\n")) << summary;
  EXPECT_TRUE(absl::StrContains(summary, "no journal (/run/\\x1b[2J: absent)")) << summary;
}

// Pieces of any size give the same text as the whole: a character split
// between two reads of the log is judged whole.
// JSON Lines go to terminals too: C1 controls, which a UTF-8 terminal obeys
// (U+009B is CSI), are escaped like C0; other characters stay as written.
TEST(DisplayTest, JsonStringEscapesC0AndC1Controls) {
  EXPECT_EQ(JsonString("a\x1b[2J\xc2\x9b"
                       "31m\xc2\x85\xc2\xa0\xc3\xa9\x7f"),
            "\"a\\u001b[2J\\u009b31m\\u0085\xc2\xa0\xc3\xa9\\u007f\"");
}

TEST(DisplayTest, TerminalTextIsTheSameInAnyPieces) {
  const std::string whole = TerminalSafe(kHostileLog, TerminalText::kLog);
  std::mt19937_64 rng(31);
  const std::string log = std::string(kHostileLog) + "\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x82";
  const std::string expected = TerminalSafe(log, TerminalText::kLog);
  EXPECT_TRUE(absl::EndsWith(expected, "\xe2\x82\xac\xf0\x9f\x98\x80\\xe2\\x82")) << expected;
  for (int round = 0; round < 200; ++round) {
    TerminalText t(TerminalText::kLog);
    std::string out;
    for (size_t at = 0; at < log.size();) {
      const size_t n = std::min<size_t>(log.size() - at, rng() % 5);
      t.Append(absl::string_view(log).substr(at, n), &out);
      at += n;
    }
    t.Finish(&out);
    ASSERT_EQ(out, expected) << "round " << round;
  }
  EXPECT_EQ(FirstControlByte(whole, true), -1);
}

// list says "out of range" for a capture time beyond int64_t, as show does,
// instead of wrapping it to 1969.
TEST(DisplayTest, ListShowsAnOutOfRangeTimeAsShowDoes) {
  StoreListing l;
  CaptureRecord r;
  r.sequence = 7;
  r.capture_time_unix = uint64_t{1} << 63 | 5;
  r.kernel_release = "6.1.0";
  l.records.push_back(r);
  const std::string listed = FormatListing(l, 0);
  EXPECT_TRUE(absl::StrContains(listed, "9223372036854775813 (unix seconds, out of range)"))
      << listed;
  EXPECT_FALSE(absl::StrContains(listed, "1969")) << listed;
  EXPECT_TRUE(absl::StrContains(FormatRecordForDisplay(r),
                                "9223372036854775813 (unix seconds, "
                                "out of range)"));
}

// A header-valid record whose log is bigger than the process may allocate
// (a sparse image: the bytes cost nothing on disk): list, show, show --raw
// and collect all complete under a 512 MiB address-space limit, because
// nothing holds a whole log in memory.
TEST(DisplayTest, HugeLogIsStreamedUnderA512MiBAddressSpaceLimit) {
  const std::string dir = MakeTempDir();
  const uint64_t store_size = uint64_t{2} << 30;
  const StoreLocation loc{dir + "/huge", 0, store_size};
  ASSERT_TRUE(FormatStore(loc, TestUuid(32)).ok());
  absl::StatusOr<StoreInfo> info = ReadStoreInfo(loc);
  ASSERT_TRUE(info.ok()) << info.status();
  const uint64_t log_size = uint64_t{520} << 20;  // more than the limit below
  ASSERT_LE(kHeader + log_size, info->max_record_bytes);

  RecordHeader h;
  memset(&h, 0, sizeof(h));
  memcpy(h.magic, kRecordMagic, sizeof(h.magic));
  h.header_version = kRecordHeaderVersion;
  h.header_size = sizeof(RecordHeader);
  h.sequence = 1;
  memcpy(h.store_uuid, info->uuid.data(), kUuidSize);
  h.capture_time_unix = 1714566896;
  h.kernel_release_len = 5;
  memcpy(h.kernel_release, "6.1.0", 5);
  h.log_size = log_size;
  h.original_log_size = log_size;
  {
    // The log is the file's zeros (a hole).
    Sha256 hash(Sha256BestEngine());
    const std::vector<uint8_t> zeros(1 << 20, 0);
    for (uint64_t done = 0; done < log_size; done += zeros.size()) {
      hash.Update(zeros.data(), zeros.size());
    }
    const Sha256Digest d = hash.Finish();
    memcpy(h.log_sha256, d.bytes, sizeof(h.log_sha256));
  }
  const Sha256Digest hd = Sha256Hash(&h, offsetof(RecordHeader, header_sha256), Sha256BestEngine());
  memcpy(h.header_sha256, hd.bytes, sizeof(h.header_sha256));
  {
    const int fd = open(loc.path.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, &h, sizeof(h), static_cast<off_t>(info->ring_start)),
              static_cast<ssize_t>(sizeof(h)));
    close(fd);
  }

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
#ifndef SAVEOOPS_SANITIZERS
    // ASan's shadow already spans terabytes of address space and its allocator
    // maps every block over 128 KiB afresh, so an address-space limit cannot
    // be set under --config=asan: there the test checks the output only; the
    // plain build (bazel test //...) checks the bound.
    const struct rlimit limit = {uint64_t{512} << 20, uint64_t{512} << 20};
    if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(10);
#endif
    absl::StatusOr<StoreListing> l = ListRecordMetadata(loc);
    if (!l.ok() || l->records.size() != 1 || l->records[0].log_size != log_size) _exit(11);
    FILE* devnull = fopen("/dev/null", "w");
    if (devnull == nullptr) _exit(12);
    if (!ShowRecord(loc, l->records[0], ShowMode::kDisplay, devnull).ok()) _exit(13);
    if (!ShowRecord(loc, l->records[0], ShowMode::kRaw, devnull).ok()) _exit(14);
    absl::StatusOr<CollectResult> c = CollectRecords(loc, dir + "/collected");
    if (!c.ok() || c->written.size() != 1) _exit(15);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status)
                                 << " (6: std::bad_alloc abort)";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  struct stat st;
  absl::StatusOr<StoreListing> listed = ListRecordMetadata(loc);
  ASSERT_TRUE(listed.ok() && listed->records.size() == 1);
  const std::string collected =
      absl::StrCat(dir, "/collected/records/", RecordDirName(listed->records[0]), "/dmesg.txt");
  ASSERT_EQ(stat(collected.c_str(), &st), 0) << collected;
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), log_size);
  unlink(collected.c_str());
  unlink(loc.path.c_str());
}

}  // namespace
}  // namespace store_test
}  // namespace saveoops

namespace saveoops {
namespace {

TEST(DisplaySignature, HeaderShowsSignatureAndFrames) {
  CaptureRecord r;
  r.sequence = 3;
  r.panic_reason = "Kernel panic - not syncing: sysrq triggered crash";
  r.log_text =
      "[    3.9] Kernel panic - not syncing: sysrq triggered crash\n"
      "[    3.9] Call Trace:\n"
      "[    3.9]  <TASK>\n"
      "[    3.9]  dump_stack_lvl+0x44/0x5c\n"
      "[    3.9]  panic+0x118/0x2ed\n";
  r.log_size = r.log_text.size();
  r.original_log_size = r.log_size;
  const CrashSignature sig = ComputeSignature(r.panic_reason, r.log_text);
  const std::string shown = FormatRecordForDisplay(r);
  EXPECT_TRUE(absl::StrContains(shown, "Signature:      " + sig.hex + "\n")) << shown;
  EXPECT_TRUE(absl::StrContains(shown, "Frames:         dump_stack_lvl panic\n")) << shown;
  CaptureRecord bare = r;
  bare.log_text = "no trace\n";
  EXPECT_TRUE(absl::StrContains(FormatRecordForDisplay(bare), "Frames:         (no call trace)\n"));
}

}  // namespace
}  // namespace saveoops
