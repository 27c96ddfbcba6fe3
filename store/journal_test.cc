#include "store/journal.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/test_journal.h"

namespace saveoops {
namespace store_test {
namespace {

std::string Le64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

TEST(JournalTest, EncodesPlainAndBinarySafeFields) {
  JournalEntry e;
  e.Add("MESSAGE", "kernel panic a=b");
  e.Add("PRIORITY", "2");
  e.Add("SAVEOOPS_DMESG", std::string("line 1\nline=2\n\0x", 16));
  StatusOr<std::string> bytes = e.Encode();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "MESSAGE=kernel panic a=b\nPRIORITY=2\nSAVEOOPS_DMESG\n" + Le64(16) +
                        std::string("line 1\nline=2\n\0x", 16) + "\n");
  StatusOr<std::vector<std::pair<std::string, std::string>>> back = DecodeJournalEntry(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].second, "kernel panic a=b");
  EXPECT_EQ((*back)[2].first, "SAVEOOPS_DMESG");
  EXPECT_EQ((*back)[2].second, std::string("line 1\nline=2\n\0x", 16));
}

TEST(JournalTest, RandomValuesRoundTrip) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; ++round) {
    JournalEntry e;
    std::vector<std::string> values;
    for (int f = 0; f < 4; ++f) {
      std::string v(rng() % 40, '\0');
      for (char& c : v) c = "ab=\n\0\xff"[rng() % 6];
      values.push_back(v);
      e.Add(absl::StrCat("F", f), v);
    }
    StatusOr<std::string> bytes = e.Encode();
    ASSERT_TRUE(bytes.ok());
    StatusOr<std::vector<std::pair<std::string, std::string>>> back = DecodeJournalEntry(*bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->size(), 4u);
    for (int f = 0; f < 4; ++f) EXPECT_EQ((*back)[f].second, values[f]) << round;
  }
}

TEST(JournalTest, RefusesKeysJournaldWouldNot) {
  for (const char* bad : {"", "_PID", "lower", "1A", "A-B", "A B"}) {
    JournalEntry e;
    e.Add(bad, "x");
    StatusOr<std::string> bytes = e.Encode();
    ASSERT_FALSE(bytes.ok()) << bad;
    EXPECT_TRUE(absl::StrContains(bytes.status().message(), "is not a field name"));
  }
  EXPECT_TRUE(IsValidJournalKey(std::string(64, 'A')));
  EXPECT_FALSE(IsValidJournalKey(std::string(65, 'A')));
  EXPECT_TRUE(IsValidJournalKey("SAVEOOPS_BOOT_ID"));
}

TEST(JournalTest, DecodeRefusesMalformedBytes) {
  for (const std::string& bad :
       {std::string("A=1"), std::string("A\n") + "\x05", std::string("A\n") + Le64(5) + "abc",
        std::string("A\n") + Le64(3) + "abcX", std::string("A\n") + Le64(UINT64_MAX) + "abc\n"}) {
    EXPECT_FALSE(DecodeJournalEntry(bad).ok()) << absl::CHexEscape(bad);
  }
}

JournalEntry StreamedEntry(const std::string& log) {
  JournalEntry e;
  e.Add("MESSAGE", "big");
  e.AddStreamed("SAVEOOPS_DMESG", log.size(), [log](const JournalChunkSink& sink) {
    // In pieces, as ReadRecordLog gives them.
    for (size_t at = 0; at < log.size(); at += 100000) {
      if (Status s = sink(log.data() + at, std::min<size_t>(100000, log.size() - at)); !s.ok()) {
        return s;
      }
    }
    return OkStatus();
  });
  return e;
}

// Small entries go as one datagram; one over the socket's datagram limit
// (EMSGSIZE) as a sealed memfd, and so does one whose streamed field is
// over kJournalInlineLimit (never held in memory).
TEST(JournalTest, SendsDatagramsAndSealedMemfds) {
  TestJournal journal;
  JournalEntry small;
  small.Add("MESSAGE", "hello");
  small.Add("SAVEOOPS_DMESG", "a\nb\n");
  StatusOr<JournalSendResult> r = SendToJournal(small, journal.path());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->how, JournalSendResult::How::kDatagram);
  std::vector<ReceivedEntry> got = journal.Drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].via_memfd);
  EXPECT_EQ(got[0].fields["MESSAGE"], "hello");
  EXPECT_EQ(got[0].fields["SAVEOOPS_DMESG"], "a\nb\n");

  std::mt19937_64 rng(6);
  for (const size_t size : {size_t{1} << 20, size_t{kJournalInlineLimit + 12345}}) {
    std::string log(size, '\0');
    for (char& c : log) c = static_cast<char>(rng());
    r = SendToJournal(StreamedEntry(log), journal.path());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->how, JournalSendResult::How::kMemfd) << size;
    got = journal.Drain();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].via_memfd);
    const int want_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    EXPECT_EQ(got[0].memfd_seals & want_seals, want_seals);
    EXPECT_EQ(got[0].fields["MESSAGE"], "big");
    EXPECT_TRUE(got[0].fields["SAVEOOPS_DMESG"] == log) << size;
  }

  // A streamer that gives less or more than it announced fails the send.
  JournalEntry liar;
  liar.AddStreamed("SAVEOOPS_DMESG", 10,
                   [](const JournalChunkSink& sink) { return sink("12345", 5); });
  r = SendToJournal(liar, journal.path());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "has 5 bytes, not the 10 announced"));
  EXPECT_TRUE(journal.Drain().empty());
}

// No journald (no socket, or a socket nobody listens on) is not an error.
TEST(JournalTest, AbsentJournalIsANote) {
  JournalEntry e;
  e.Add("MESSAGE", "x");
  StatusOr<JournalSendResult> r = SendToJournal(e, "/nonexistent/saveoops/socket");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->how, JournalSendResult::How::kNoJournal);
  EXPECT_TRUE(absl::StrContains(r->note, "/nonexistent/saveoops/socket: No such file")) << r->note;
  std::string dead;
  {
    TestJournal closed;
    dead = closed.path() + ".dead";
    const int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    dead.copy(sa.sun_path, sizeof(sa.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    close(fd);  // the socket file stays; nobody listens
    r = SendToJournal(e, dead);
    unlink(dead.c_str());
  }
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->how, JournalSendResult::How::kNoJournal);
  EXPECT_TRUE(absl::StrContains(r->note, "Connection refused")) << r->note;
  r = SendToJournal(e, std::string(200, 'x'));
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace store_test
}  // namespace saveoops
