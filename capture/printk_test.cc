#include "capture/printk.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "capture/test_vmcore.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

// A dead kernel and what was read from it.
struct Capture {
  BuiltVmcore image;
  absl::StatusOr<PrintkLog> log = absl::UnknownError("not read");
};

absl::StatusOr<PrintkLog> ReadImage(const std::vector<uint8_t>& bytes,
                                    const PrintkOptions& options = {}) {
  MemoryByteSource source(bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  if (!core.ok()) return core.status();
  std::optional<std::string> text = core->VmcoreInfo();
  if (!text) return absl::NotFoundError("no VMCOREINFO");
  absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo(*text);
  if (!info.ok()) return info.status();
  return ReadPrintkLog(*core, *info, options);
}

Capture Read(const FakeKernel& kernel, bool with_vaddr = true, absl::string_view vmcoreinfo = "") {
  Capture c;
  c.image = kernel.Build(with_vaddr, vmcoreinfo);
  c.log = ReadImage(c.image.bytes);
  return c;
}

// A message whose length varies with i so that blocks land everywhere in
// the data ring, wrapping now and then.
std::string Message(int i) {
  return absl::StrFormat("message %d %s", i, std::string(i * 7 % 53, 'x'));
}

// Writes n messages with increasing timestamps, levels and callers.
void Fill(FakePrintkRing& ring, int n, int first = 0) {
  for (int i = first; i < first + n; ++i) {
    ring.Append(Message(i), 1000000000ull + i * 1234567ull, static_cast<uint8_t>(i % 8),
                0x80000000u | (i % 4));
  }
}

// Asserts that `log` holds exactly the ring's live records.
void ExpectLive(const PrintkLog& log, const FakePrintkRing& ring, bool with_level) {
  const std::vector<FakePrintkRing::Written> live = ring.Live();
  ASSERT_EQ(log.records.size(), live.size());
  for (size_t i = 0; i < live.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("record ", i, " id ", live[i].id));
    EXPECT_EQ(log.records[i].seq, live[i].seq);
    EXPECT_EQ(log.records[i].ts_nsec, live[i].ts_nsec);
    EXPECT_EQ(log.records[i].caller_id, live[i].caller_id);
    EXPECT_EQ(log.records[i].text, live[i].text);
    if (with_level) {
      EXPECT_EQ(log.records[i].level, live[i].level);
      EXPECT_EQ(log.records[i].facility, 0);
    } else {
      EXPECT_EQ(log.records[i].level, kPrintkLevelUnknown);
    }
  }
  if (!live.empty()) {
    EXPECT_EQ(log.first_seq, live.front().seq);
    EXPECT_EQ(log.next_seq, live.back().seq + 1);
  }
}

bool AnyWrapped(const FakePrintkRing& ring) {
  for (const FakePrintkRing::Written& w : ring.Live()) {
    if (w.wrapped) return true;
  }
  return false;
}

FakeKernel::Options Debian61Options() {
  absl::StatusOr<VmcoreInfo> info = ParseVmcoreInfo(ReadTestdataVmcoreInfo61());
  EXPECT_TRUE(info.ok()) << info.status();
  FakeKernel::Options o;
  o.layout = *PrintkLayout::FromVmcoreInfo(*info);
  o.prb_symbol = *info->Symbol("prb");
  o.phys_base = static_cast<uint64_t>(*info->Number("phys_base"));
  return o;
}

TEST(PrintkTest, ReadsARingLaidOutAsInDebian61) {
  FakeKernel kernel(Debian61Options());
  Fill(kernel.ring(), 40);
  ASSERT_TRUE(AnyWrapped(kernel.ring()));
  // The real note's keys drive the reader; its other symbols are unused.
  Capture c = Read(kernel, true, ReadTestdataVmcoreInfo61());
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  ExpectLive(*c.log, kernel.ring(), /*with_level=*/true);
  EXPECT_EQ(c.log->skipped_damaged, 0u);
  EXPECT_EQ(c.log->skipped_unfinished, 0u);
  // The data ring (512 bytes) holds fewer records than the 16 descriptors:
  // the oldest descriptors in the walk were made reusable.
  EXPECT_GT(c.log->skipped_no_data, 0u);
  EXPECT_EQ(c.log->records.size() + c.log->skipped_no_data, 16u);
  // Independently of the writer's bookkeeping: the newest messages, in
  // order, ending with the last one written.
  ASSERT_FALSE(c.log->records.empty());
  const size_t n = c.log->records.size();
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(c.log->records[i].text, Message(static_cast<int>(40 - n + i)));
    EXPECT_EQ(c.log->records[i].seq, 40 - n + i);
  }
}

TEST(PrintkTest, FollowsWhateverLayoutVmcoreInfoStates) {
  FakeKernel::Options o;
  o.layout = PrintkLayout::Scrambled();
  FakeKernel kernel(o);
  Fill(kernel.ring(), 57);
  ASSERT_TRUE(AnyWrapped(kernel.ring()));
  Capture c = Read(kernel);
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  ExpectLive(*c.log, kernel.ring(), /*with_level=*/false);
  EXPECT_EQ(c.log->skipped_damaged, 0u);
}

TEST(PrintkTest, EmptyRingHasNoRecords) {
  FakeKernel kernel(Debian61Options());
  Capture c = Read(kernel);
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  EXPECT_TRUE(c.log->records.empty());
  // Only the bootstrap descriptor (reusable, data-less) is in the walk.
  EXPECT_EQ(c.log->skipped_no_data, 1u);
  EXPECT_EQ(c.log->first_seq, 0u);
  EXPECT_EQ(c.log->next_seq, 0u);
}

TEST(PrintkTest, ReservedRecordIsSkippedUntilCommitted) {
  for (bool commit_later : {false, true}) {
    SCOPED_TRACE(commit_later ? "committed later" : "never committed");
    FakeKernel kernel(Debian61Options());
    Fill(kernel.ring(), 3);
    std::optional<uint64_t> in_flight = kernel.ring().Reserve("half-written line", 5, 4, 7);
    ASSERT_TRUE(in_flight.has_value());
    Fill(kernel.ring(), 2, 3);
    if (commit_later) kernel.ring().Commit(*in_flight);
    Capture c = Read(kernel);
    ASSERT_TRUE(c.log.ok()) << c.log.status();
    ExpectLive(*c.log, kernel.ring(), true);
    EXPECT_EQ(c.log->skipped_unfinished, commit_later ? 0u : 1u);
    ASSERT_EQ(c.log->records.size(), commit_later ? 6u : 5u);
    if (commit_later) EXPECT_EQ(c.log->records[3].text, "half-written line");
    EXPECT_EQ(c.log->skipped_damaged, 0u);
  }
}

TEST(PrintkTest, CommittedButNotFinalizedHeadIsKept) {
  FakeKernel kernel(Debian61Options());
  Fill(kernel.ring(), 5);
  std::optional<uint64_t> id = kernel.ring().Reserve("last words", 9, 0, 1);
  ASSERT_TRUE(id.has_value());
  kernel.ring().Commit(*id);  // Still the head: stays committed.
  Capture c = Read(kernel);
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  ASSERT_FALSE(c.log->records.empty());
  EXPECT_EQ(c.log->records.back().text, "last words");
  EXPECT_EQ(c.log->records.back().level, 0);
  ExpectLive(*c.log, kernel.ring(), true);
}

TEST(PrintkTest, FailedAllocationIsADatalessRecord) {
  FakeKernel kernel(Debian61Options());
  Fill(kernel.ring(), 2);
  // A writer that never commits pins its data block; later writers then
  // run out of data space and the kernel commits data-less records.
  ASSERT_TRUE(kernel.ring().Reserve("pinned", 1, 6, 1).has_value());
  std::optional<uint64_t> failed;
  for (int i = 0; i < 12 && !failed; ++i) {
    std::optional<uint64_t> id = kernel.ring().Reserve(Message(100 + i), 2, 6, 1);
    ASSERT_TRUE(id.has_value());
    if (kernel.ring().written(*id).failed) {
      failed = id;
    } else {
      kernel.ring().FinalCommit(*id);
    }
  }
  ASSERT_TRUE(failed.has_value());
  Capture c = Read(kernel);
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  ExpectLive(*c.log, kernel.ring(), true);
  EXPECT_EQ(c.log->skipped_unfinished, 1u);  // "pinned"
  EXPECT_GE(c.log->skipped_no_data, 1u);     // the failed one
  for (const PrintkRecord& r : c.log->records) EXPECT_NE(r.text, "pinned");
}

TEST(PrintkTest, EmptyLineRecordIsKept) {
  FakeKernel kernel(Debian61Options());
  Fill(kernel.ring(), 2);
  kernel.ring().Append("", 77, 6, 1);
  Fill(kernel.ring(), 1, 2);
  Capture c = Read(kernel);
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  ASSERT_EQ(c.log->records.size(), 4u);
  EXPECT_EQ(c.log->records[2].text, "");
  EXPECT_EQ(c.log->records[2].ts_nsec, 77u);
}

TEST(PrintkTest, HeadCaughtMidReserveCountsAsUnfinished) {
  // desc_reserve() advances head_id, then stamps the descriptor. Die in
  // between: on a never-used descriptor (state_var 0) and on a recycled one
  // (previous wrap's id).
  for (int written : {5, 40}) {
    SCOPED_TRACE(written);
    FakeKernel kernel(Debian61Options());
    Fill(kernel.ring(), written);
    std::vector<FakePrintkRing::Written> live = kernel.ring().Live();
    const PrintkLayout& l = kernel.options().layout;
    const uint64_t dr = kernel.placement().rb + l.rb_desc_ring;
    const uint64_t head = kernel.ring().head_id() + 1;
    uint64_t tail = kernel.ring().tail_id();
    if (((head - kernel.ring().count()) & ((uint64_t{1} << 62) - 1)) == tail) {
      // The kernel pushes the tail first (desc_push_tail()).
      tail += 1;
      live.erase(std::remove_if(live.begin(), live.end(),
                                [&](const FakePrintkRing::Written& w) { return w.id == tail - 1; }),
                 live.end());
    }
    kernel.memory().WriteVirt64(dr + l.dr_head_id, head);
    kernel.memory().WriteVirt64(dr + l.dr_tail_id, tail);
    Capture c = Read(kernel);
    ASSERT_TRUE(c.log.ok()) << c.log.status();
    EXPECT_EQ(c.log->skipped_unfinished, 1u);
    EXPECT_EQ(c.log->skipped_damaged, 0u);
    ASSERT_EQ(c.log->records.size(), live.size());
    for (size_t i = 0; i < live.size(); ++i) {
      EXPECT_EQ(c.log->records[i].text, live[i].text);
    }
  }
}

TEST(PrintkTest, ReadsThroughPageTablesWhenTheCoreHasNoVirtualAddresses) {
  for (int levels : {4, 5}) {
    SCOPED_TRACE(levels);
    FakeKernel::Options o = Debian61Options();
    o.paging_levels = levels;
    if (levels == 5) o.sme_mask = uint64_t{1} << 47;  // AMD SME C-bit.
    FakeKernel kernel(o);
    Fill(kernel.ring(), 40);
    Capture c = Read(kernel, /*with_vaddr=*/false);
    ASSERT_TRUE(c.log.ok()) << c.log.status();
    ExpectLive(*c.log, kernel.ring(), true);
    EXPECT_FALSE(c.log->records.empty());
    EXPECT_EQ(c.log->skipped_damaged, 0u);
  }
}

TEST(PrintkTest, WithoutVirtualAddressesOrPageTablesRecordsAreDamaged) {
  FakeKernel kernel(Debian61Options());
  Fill(kernel.ring(), 10);
  std::string text = kernel.VmcoreInfoText();
  text = absl::StrReplaceAll(text, {{"SYMBOL(init_top_pgt)", "SYMBOL(x)"}});
  Capture c = Read(kernel, /*with_vaddr=*/false, text);
  // prb and the ring header are in the kernel image (found through
  // phys_base), the arrays are not reachable.
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  EXPECT_TRUE(c.log->records.empty());
  // The bootstrap descriptor and the 10 written: none is reachable.
  EXPECT_EQ(c.log->skipped_damaged, 11u);
  ASSERT_FALSE(c.log->warnings.empty());
  EXPECT_NE(c.log->warnings[0].find("page-table walk"), std::string::npos) << c.log->warnings[0];
}

TEST(PrintkTest, LargeRingIsReadCompletely) {
  FakeKernel::Options o = Debian61Options();
  o.count_bits = 12;  // CONFIG_LOG_BUF_SHIFT=17: 4096 descriptors,
  o.size_bits = 17;   // 128 KiB of text.
  FakeKernel kernel(o);
  Fill(kernel.ring(), 10000);
  Capture c = Read(kernel);
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  ExpectLive(*c.log, kernel.ring(), true);
  EXPECT_GT(c.log->records.size(), 2000u);
  EXPECT_EQ(c.log->records.back().text, Message(9999));
}

TEST(PrintkTest, MaxRecordsBoundsTheWalk) {
  FakeKernel kernel(Debian61Options());
  Fill(kernel.ring(), 40);
  BuiltVmcore image = kernel.Build();
  PrintkOptions options;
  options.max_records = 3;
  absl::StatusOr<PrintkLog> log = ReadImage(image.bytes, options);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->records.size(), 3u);
  EXPECT_EQ(log->records.back().text, Message(39));
  EXPECT_FALSE(log->warnings.empty());
}

// --- Damage to single records: skipped and counted, the rest still read.

struct Damaged {
  FakeKernel kernel{Debian61Options()};
  std::vector<FakePrintkRing::Written> live;
  uint64_t victim = 0;  // id of a live record in the middle

  Damaged() {
    Fill(kernel.ring(), 40);
    live = kernel.ring().Live();
    victim = live[live.size() / 2].id;
  }

  // Reads, and checks that exactly the victim is missing and counted.
  void ExpectOnlyVictimLost(absl::string_view why) {
    Capture c = Read(kernel);
    ASSERT_TRUE(c.log.ok()) << c.log.status();
    EXPECT_EQ(c.log->skipped_damaged, 1u);
    ASSERT_EQ(c.log->records.size(), live.size() - 1);
    size_t j = 0;
    for (const FakePrintkRing::Written& w : live) {
      if (w.id == victim) continue;
      EXPECT_EQ(c.log->records[j++].text, w.text);
    }
    ASSERT_FALSE(c.log->warnings.empty());
    EXPECT_NE(c.log->warnings.back().find(std::string(why)), std::string::npos)
        << c.log->warnings.back();
  }
  const PrintkLayout& l() const { return kernel.options().layout; }
};

TEST(PrintkTest, DescriptorWithTheWrongIdIsSkipped) {
  Damaged d;
  const uint64_t sv_at = d.kernel.ring().DescAddr(d.victim) + d.l().desc_state_var;
  d.kernel.memory().WriteVirt64(sv_at, d.kernel.memory().ReadVirt64(sv_at) ^ 0x100);
  d.ExpectOnlyVictimLost("holds id");
}

TEST(PrintkTest, OverwrittenDataBlockIsSkipped) {
  Damaged d;
  const uint64_t block = d.kernel.placement().data + d.kernel.ring().BlockIndex(d.victim);
  d.kernel.memory().WriteVirt64(block, 0x1234);
  d.ExpectOnlyVictimLost("has id 0x1234");
}

TEST(PrintkTest, TextLenBeyondTheBlockIsSkipped) {
  Damaged d;
  const uint16_t text_len = 400;
  d.kernel.memory().WriteVirt(d.kernel.ring().InfoAddr(d.victim) + d.l().info_text_len, &text_len,
                              2);
  d.ExpectOnlyVictimLost("text_len 400 exceeds");
}

TEST(PrintkTest, SeqFromAnotherSlotIsSkipped) {
  Damaged d;
  const uint64_t at = d.kernel.ring().InfoAddr(d.victim) + d.l().info_seq;
  d.kernel.memory().WriteVirt64(at, d.kernel.memory().ReadVirt64(at) + 1);
  d.ExpectOnlyVictimLost("does not belong");
}

TEST(PrintkTest, BadLposAreSkipped) {
  const struct {
    uint64_t begin_delta, next_delta;
    const char* why;
  } cases[] = {
      {4, 0, "misaligned"},                    // not 8-aligned
      {0, uint64_t{1} << 40, "not a block"},   // next many wraps ahead
      {0, ~uint64_t{0} << 20, "not a block"},  // next 1 MiB before begin
      {1, 0, "not a block"},                   // begin odd, next even
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.why);
    Damaged d;
    const uint64_t lpos = d.kernel.ring().DescAddr(d.victim) + d.l().desc_text_blk_lpos;
    FakeKernelMemory& m = d.kernel.memory();
    m.WriteVirt64(lpos + d.l().lpos_begin, m.ReadVirt64(lpos + d.l().lpos_begin) + c.begin_delta);
    m.WriteVirt64(lpos + d.l().lpos_next, m.ReadVirt64(lpos + d.l().lpos_next) + c.next_delta);
    Capture cap = Read(d.kernel);
    ASSERT_TRUE(cap.log.ok()) << cap.log.status();
    EXPECT_EQ(cap.log->skipped_damaged, 1u);
    EXPECT_EQ(cap.log->records.size(), d.live.size() - 1);
  }
}

TEST(PrintkTest, UnmappedArraysMakeEveryRecordDamaged) {
  Damaged d;
  const uint64_t dr = d.kernel.placement().rb + d.l().rb_desc_ring;
  d.kernel.memory().WriteVirt64(dr + d.l().dr_infos, 0xffffc90000000000);
  Capture c = Read(d.kernel);
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  EXPECT_TRUE(c.log->records.empty());
  EXPECT_EQ(c.log->skipped_damaged, d.live.size());
  EXPECT_LE(c.log->warnings.size(), kMaxPrintkWarnings);
}

TEST(PrintkTest, GarbageHeadAndTailAreBoundedByTheRingSize) {
  Damaged d;
  const uint64_t dr = d.kernel.placement().rb + d.l().rb_desc_ring;
  d.kernel.memory().WriteVirt64(dr + d.l().dr_tail_id, 0x123456789abcdef0);
  d.kernel.memory().WriteVirt64(dr + d.l().dr_head_id, 0xfedcba9876543210);
  Capture c = Read(d.kernel);
  ASSERT_TRUE(c.log.ok()) << c.log.status();
  EXPECT_EQ(c.log->records.size() + c.log->skipped_damaged + c.log->skipped_unfinished +
                c.log->skipped_no_data,
            16u);
  EXPECT_GT(c.log->skipped_damaged, 0u);
  EXPECT_NE(c.log->warnings[0].find("more than its 16 slots"), std::string::npos)
      << c.log->warnings[0];
}

TEST(PrintkTest, ImplausibleRingHeaderIsAnError) {
  const struct {
    bool count;  // else size_bits
    uint32_t value;
    const char* want;
  } cases[] = {
      {true, 25, "count_bits is 25"},
      {true, 0xffffffff, "count_bits"},
      {false, 2, "size_bits is 2"},
      {false, 31, "size_bits is 31"},
  };
  for (const auto& c : cases) {
    Damaged d;
    const uint64_t at =
        c.count ? d.kernel.placement().rb + d.l().rb_desc_ring + d.l().dr_count_bits
                : d.kernel.placement().rb + d.l().rb_text_data_ring + d.l().data_size_bits;
    d.kernel.memory().WriteVirt(at, &c.value, 4);
    Capture cap = Read(d.kernel);
    ASSERT_FALSE(cap.log.ok()) << c.want;
    EXPECT_TRUE(absl::IsDataLoss(cap.log.status()));
    EXPECT_NE(cap.log.status().message().find(c.want), std::string::npos) << cap.log.status();
  }
}

TEST(PrintkTest, UnreadablePrbIsAnError) {
  Damaged d;
  d.kernel.memory().WriteVirt64(d.kernel.options().prb_symbol, 0xffffffff00000000);
  Capture c = Read(d.kernel);
  ASSERT_FALSE(c.log.ok());
  EXPECT_NE(c.log.status().message().find("printk_ringbuffer"), std::string::npos)
      << c.log.status();

  std::string text = d.kernel.VmcoreInfoText();
  text = absl::StrReplaceAll(text, {{"SYMBOL(prb)", "SYMBOL(x)"}});
  c = Read(d.kernel, true, text);
  ASSERT_FALSE(c.log.ok());
  EXPECT_TRUE(absl::IsNotFound(c.log.status()));
  EXPECT_NE(c.log.status().message().find("SYMBOL(prb)"), std::string::npos) << c.log.status();
}

TEST(PrintkTest, MissingOrInconsistentLayoutKeysAreErrors) {
  FakeKernel kernel(Debian61Options());
  Fill(kernel.ring(), 3);
  const std::string good = kernel.VmcoreInfoText();

  std::string text = absl::StrReplaceAll(good, {{"OFFSET(prb_desc.state_var)", "OFFSET(x)"}});
  Capture c = Read(kernel, true, text);
  ASSERT_FALSE(c.log.ok());
  EXPECT_EQ(c.log.status().message(),
            "VMCOREINFO has no OFFSET(prb_desc.state_var): kernel too old for "
            "the lockless printk ring (< 5.10)?");

  text = absl::StrReplaceAll(good, {{"SIZE(printk_info)=88", "SIZE(printk_info)=10"}});
  c = Read(kernel, true, text);
  ASSERT_FALSE(c.log.ok());
  EXPECT_NE(c.log.status().message().find("printk_info.ts_nsec"), std::string::npos)
      << c.log.status();

  text = absl::StrReplaceAll(good, {{"SIZE(printk_info)=88", "SIZE(printk_info)=100000"}});
  c = Read(kernel, true, text);
  ASSERT_FALSE(c.log.ok());
  EXPECT_NE(c.log.status().message().find("implausibly large"), std::string::npos)
      << c.log.status();
}

TEST(PrintkTest, RandomByteFlipsNeverCrashAndAreCounted) {
  FakeKernel kernel(Debian61Options());
  Fill(kernel.ring(), 40);
  const BuiltVmcore image = kernel.Build();
  const FakePrintkRing::Placement& at = kernel.placement();
  const PrintkLayout& l = kernel.options().layout;
  // The ring's bytes in the file: header, descriptors, infos, text.
  const struct {
    uint64_t offset, size;
  } areas[] = {
      {kernel.FileOffsetOf(image, at.rb), l.rb_size},
      {kernel.FileOffsetOf(image, at.descs), 16 * l.desc_size},
      {kernel.FileOffsetOf(image, at.infos), 16 * l.info_size},
      {kernel.FileOffsetOf(image, at.data), kernel.ring().data_size()},
  };
  const size_t live = kernel.ring().Live().size();
  std::mt19937_64 rng(0x5eed0003);
  int errors = 0, damaged = 0, intact = 0;
  for (int iter = 0; iter < 1000; ++iter) {
    std::vector<uint8_t> bytes = image.bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const auto& area = areas[rng() % 4];
      bytes[area.offset + rng() % area.size] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    absl::StatusOr<PrintkLog> log = ReadImage(bytes);
    if (!log.ok()) {
      ++errors;
      continue;
    }
    const uint64_t walked =
        log->records.size() + log->skipped_damaged + log->skipped_unfinished + log->skipped_no_data;
    EXPECT_LE(walked, 16u);
    for (const PrintkRecord& r : log->records) {
      EXPECT_LE(r.text.size(), kernel.ring().data_size());
    }
    if (log->skipped_damaged > 0) ++damaged;
    if (log->records.size() == live) ++intact;
  }
  // Flips land in unused bytes, in headers that stop the walk, and in
  // records that get skipped: all three must have happened.
  EXPECT_GT(damaged, 100);
  EXPECT_GT(intact, 0);
  EXPECT_GT(errors, 0);
}

// --- Formatting.

PrintkLog SampleLog() {
  PrintkLog log;
  log.records.push_back({0, 1234567890, 6, 0, 1, "a\nb"});
  log.records.push_back({1, 100000000001000, 4, 0, 1, ""});
  log.records.push_back({2, 5, 4, 0, 1, "tail\n"});
  return log;
}

TEST(PrintkFormatTest, PrefixesEveryLineLikeDmesg) {
  EXPECT_EQ(FormatPrintkLog(SampleLog()),
            "[    1.234567] a\n"
            "[    1.234567] b\n"
            "[100000.000001] \n"
            "[    0.000000] tail\n"
            "[    0.000000] \n");
  EXPECT_EQ(FormatPrintkLog(PrintkLog{}), "");
}

TEST(PrintkFormatTest, FindsThePanicLineFirst) {
  PrintkLog log;
  log.records.push_back({0, 1, 1, 0, 1, "BUG: kernel NULL pointer dereference"});
  log.records.push_back({1, 2, 4, 0, 1, "Oops: 0002 [#1] PREEMPT SMP NOPTI"});
  log.records.push_back({2, 3, 0, 0, 1, "Kernel panic - not syncing: sysrq triggered crash\nmore"});
  log.records.push_back({3, 4, 0, 0, 1, "general protection fault, late"});
  EXPECT_EQ(FindPanicReason(log), "Kernel panic - not syncing: sysrq triggered crash");
  log.records.erase(log.records.begin() + 2);
  EXPECT_EQ(FindPanicReason(log), "general protection fault, late");
  log.records.pop_back();
  EXPECT_EQ(FindPanicReason(log), "Oops: 0002 [#1] PREEMPT SMP NOPTI");
  log.records.pop_back();
  EXPECT_EQ(FindPanicReason(log), "BUG: kernel NULL pointer dereference");
  log.records.pop_back();
  EXPECT_EQ(FindPanicReason(log), "");
}

}  // namespace
}  // namespace saveoops
