#include "store/ring.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

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
#include "gtest/gtest.h"
#include "store/display.h"
#include "store/store_format.h"
#include "store/test_util.h"

namespace saveoops {
namespace store_test {
namespace {

// --- Format, append, list ----------------------------------------------------

TEST(StoreTest, FormatAppendListRoundTrip) {
  const std::string dir = MakeTempDir();
  // Unaligned offset inside a bigger file: stores live at any byte offset.
  const StoreLocation loc{dir + "/store.img", 12345, 256 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(9)).ok());
  EXPECT_EQ(ReadFile(loc.path).size(), loc.offset + loc.size);

  absl::StatusOr<StoreInfo> info = ReadStoreInfo(loc);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->uuid, TestUuid(9));
  EXPECT_EQ(info->store_size, 256u * 1024);
  EXPECT_EQ(info->ring_start, kRingStartOffset);
  EXPECT_EQ(info->ring_end, 256u * 1024);
  EXPECT_EQ(info->max_record_bytes, (62 / 3) * kBlock);
  EXPECT_EQ(info->superblock_used, 0);

  std::mt19937_64 rng(1);
  std::vector<CaptureRecord> written;
  for (size_t size : {0, 100, 5000}) {
    NewRecord r = MakeNewRecord(rng, size);
    absl::StatusOr<CaptureRecord> w = AppendRecord(loc, r);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->log_text, r.log_text);
    EXPECT_EQ(w->kernel_release, r.kernel_release);
    EXPECT_EQ(w->panic_reason, r.panic_reason);
    EXPECT_EQ(w->boot_id, r.boot_id);
    EXPECT_EQ(w->capture_time_unix, r.capture_time_unix);
    EXPECT_FALSE(w->log_truncated);
    EXPECT_EQ(w->original_log_size, size);
    written.push_back(*w);
  }
  EXPECT_EQ(written[0].sequence, 1u);
  EXPECT_EQ(written[1].sequence, 2u);
  EXPECT_EQ(written[2].sequence, 3u);
  EXPECT_EQ(written[0].offset_in_store, kRingStartOffset);
  EXPECT_EQ(written[0].record_bytes, kBlock);
  EXPECT_EQ(written[1].offset_in_store, kRingStartOffset + kBlock);
  EXPECT_EQ(written[2].offset_in_store, kRingStartOffset + 2 * kBlock);
  EXPECT_EQ(written[2].record_bytes, 2 * kBlock);  // 480 + 5000 bytes

  absl::StatusOr<StoreListing> l = ListRecords(loc);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->skipped_corrupt, 0);
  EXPECT_EQ(l->skipped_foreign, 0);
  EXPECT_EQ(l->info.superblock_used, 0);
  ASSERT_EQ(l->records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) ExpectSameRecord(l->records[i], written[i]);

  // The same bytes parse identically from memory.
  std::vector<uint8_t> file = ReadFile(loc.path);
  std::vector<uint8_t> region(file.begin() + loc.offset, file.end());
  StoreListing from_memory = MustParse(region);
  ASSERT_EQ(from_memory.records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) ExpectSameRecord(from_memory.records[i], written[i]);
  // Bytes before the store are untouched.
  for (uint64_t i = 0; i < loc.offset; ++i) ASSERT_EQ(file[i], 0) << i;
}

TEST(StoreTest, SizeZeroMeansToEndOfFile) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/s", std::vector<uint8_t>(4096 + 64 * 1024 + 100, 0));
  const StoreLocation loc{dir + "/s", 4096, 0};
  ASSERT_TRUE(FormatStore(loc, TestUuid(3)).ok());
  absl::StatusOr<StoreInfo> info = ReadStoreInfo(loc);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->store_size, 64u * 1024 + 100);
  EXPECT_EQ(info->ring_end, 64u * 1024);  // rounded down to a block
}

TEST(StoreTest, WipeZeroesOnlyTheSuperblocksInsideTheRegion) {
  const std::string dir = MakeTempDir();
  std::vector<uint8_t> bytes(4096 + 64 * 1024 + 4096, 0xee);
  WriteFile(dir + "/s", bytes);
  const StoreLocation loc{dir + "/s", 4096, 64 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(4)).ok());
  ASSERT_TRUE(ReadStoreInfo(loc).ok());
  ASSERT_TRUE(WipeStore(loc).ok());
  EXPECT_FALSE(ReadStoreInfo(loc).ok());
  const std::vector<uint8_t> after = ReadFile(dir + "/s");
  ASSERT_EQ(after.size(), bytes.size());
  for (size_t i = 0; i < 4096; ++i) ASSERT_EQ(after[i], 0xee) << i;         // before the region
  for (size_t i = 4096; i < 4096 + 8192; ++i) ASSERT_EQ(after[i], 0) << i;  // both copies
  for (size_t i = 4096 + 64 * 1024; i < after.size(); ++i) ASSERT_EQ(after[i], 0xee) << i;
  // A region smaller than two blocks is wiped only up to its end.
  const StoreLocation tiny{dir + "/s", 4096 + 64 * 1024, 100};
  ASSERT_TRUE(WipeStore(tiny).ok());
  const std::vector<uint8_t> again = ReadFile(dir + "/s");
  for (size_t i = 4096 + 64 * 1024; i < 4096 + 64 * 1024 + 100; ++i) ASSERT_EQ(again[i], 0) << i;
  for (size_t i = 4096 + 64 * 1024 + 100; i < again.size(); ++i) ASSERT_EQ(again[i], 0xee) << i;
}

TEST(StoreTest, RandomUuidsDifferAndAreVersion4) {
  const std::string dir = MakeTempDir();
  const StoreLocation a{dir + "/a", 0, 64 * 1024};
  const StoreLocation b{dir + "/b", 0, 64 * 1024};
  ASSERT_TRUE(FormatStore(a).ok());
  ASSERT_TRUE(FormatStore(b).ok());
  absl::StatusOr<StoreInfo> ia = ReadStoreInfo(a);
  absl::StatusOr<StoreInfo> ib = ReadStoreInfo(b);
  ASSERT_TRUE(ia.ok() && ib.ok());
  EXPECT_NE(ia->uuid, ib->uuid);
  EXPECT_EQ(ia->uuid[6] >> 4, 4);
  EXPECT_EQ(ia->uuid[8] >> 6, 2);
}

TEST(StoreTest, AppendNeverWritesSuperblocks) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 20 * kBlock};
  ASSERT_TRUE(FormatStore(loc, TestUuid(4)).ok());
  const std::vector<uint8_t> before = ReadFile(loc.path);
  std::mt19937_64 rng(2);
  for (int i = 0; i < 20; ++i) {  // wraps the 18-block ring several times
    ASSERT_TRUE(AppendRecord(loc, MakeNewRecord(rng, rng() % 20000)).ok());
  }
  const std::vector<uint8_t> after = ReadFile(loc.path);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + kRingStartOffset, after.begin()));
}

// --- The ring ----------------------------------------------------------------

// Many records of random sizes fill a small ring several times. A model
// tracks which records must still exist: a record disappears exactly when a
// newer record's blocks overlap it. The newest record always survives and
// sequence numbers increase by one per append.
TEST(StoreTest, RingWrapsKeepingNewestRecords) {
  constexpr uint64_t kRingBlocks = 15;  // per-record limit: 5 blocks
  std::vector<uint8_t> image = NewImage(kRingBlocks);
  const uint64_t max_log = kRingBlocks / 3 * kBlock - kHeader;
  std::mt19937_64 rng(42);
  std::map<uint64_t, CaptureRecord> model;  // by sequence
  uint64_t wraps = 0, last_offset = 0, truncated = 0;
  for (uint64_t i = 1; i <= 150; ++i) {
    NewRecord r = MakeNewRecord(rng, rng() % (max_log + 5000));
    CaptureRecord w = AppendToImage(image, r);
    ASSERT_EQ(w.sequence, i);
    if (r.log_text.size() > max_log) {
      ++truncated;
      ASSERT_TRUE(w.log_truncated);
      ASSERT_EQ(w.log_text, r.log_text.substr(r.log_text.size() - max_log));
    }
    if (i > 1 && w.offset_in_store <= last_offset) ++wraps;
    last_offset = w.offset_in_store;
    ASSERT_GE(w.offset_in_store, kRingStartOffset);
    ASSERT_LE(w.offset_in_store + w.record_bytes, image.size());
    for (auto it = model.begin(); it != model.end();) {
      if (Overlaps(it->second.offset_in_store, it->second.record_bytes, w.offset_in_store,
                   w.record_bytes)) {
        ASSERT_LT(it->first + 1, i) << "the newest record was overwritten";
        it = model.erase(it);
      } else {
        ++it;
      }
    }
    model[i] = w;

    StoreListing l = MustParse(image);
    ASSERT_EQ(l.skipped_corrupt, 0) << "append " << i;
    ASSERT_EQ(l.records.size(), model.size()) << "append " << i;
    size_t k = 0;
    for (const auto& [seq, expected] : model) {
      ExpectSameRecord(l.records[k++], expected);
    }
    ASSERT_EQ(l.records.back().sequence, i);
    ASSERT_EQ(l.highest_sequence_seen, i);
  }
  EXPECT_GE(wraps, 20u);      // the ring really was filled many times
  EXPECT_GE(truncated, 10u);  // and over-long logs were exercised
}

// The same on a real file through AppendRecord/ListRecords (fewer rounds:
// every append is fdatasync()ed).
TEST(StoreTest, RingWrapsOnFile) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, kRingStartOffset + 12 * kBlock};
  ASSERT_TRUE(FormatStore(loc, TestUuid(5)).ok());
  std::mt19937_64 rng(3);
  uint64_t last_seq = 0;
  for (int i = 0; i < 30; ++i) {
    absl::StatusOr<CaptureRecord> w = AppendRecord(loc, MakeNewRecord(rng, rng() % 9000));
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_EQ(w->sequence, last_seq + 1);
    last_seq = w->sequence;
    absl::StatusOr<StoreListing> l = ListRecords(loc);
    ASSERT_TRUE(l.ok()) << l.status();
    ASSERT_FALSE(l->records.empty());
    ExpectSameRecord(l->records.back(), *w);
    for (size_t k = 1; k < l->records.size(); ++k) {
      ASSERT_LT(l->records[k - 1].sequence, l->records[k].sequence);
    }
  }
}

TEST(StoreTest, HugeLogIsTruncatedFromTheFront) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, kRingStartOffset + 30 * kBlock};
  ASSERT_TRUE(FormatStore(loc, TestUuid(6)).ok());
  std::mt19937_64 rng(4);
  NewRecord r = MakeNewRecord(rng, 5 * 30 * kBlock);
  r.log_text += "\nKernel panic - not syncing: the end\n";
  r.kernel_release = std::string(100, 'r');
  r.panic_reason = std::string(300, 'p');
  absl::StatusOr<CaptureRecord> w = AppendRecord(loc, r);
  ASSERT_TRUE(w.ok()) << w.status();
  const size_t kept = 10 * kBlock - kHeader;
  EXPECT_TRUE(w->log_truncated);
  EXPECT_EQ(w->original_log_size, r.log_text.size());
  EXPECT_EQ(w->log_text, r.log_text.substr(r.log_text.size() - kept));
  EXPECT_TRUE(absl::EndsWith(w->log_text, "the end\n"));
  EXPECT_EQ(w->record_bytes, 10 * kBlock);
  EXPECT_TRUE(w->kernel_release_truncated);
  EXPECT_TRUE(w->panic_reason_truncated);
  EXPECT_EQ(w->kernel_release, std::string(64, 'r'));
  EXPECT_EQ(w->panic_reason, std::string(256, 'p'));

  absl::StatusOr<StoreListing> l = ListRecords(loc);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->records.size(), 1u);
  ExpectSameRecord(l->records[0], *w);
  const std::string shown = FormatRecordForDisplay(l->records[0]);
  EXPECT_TRUE(
      absl::StrContains(shown, absl::StrCat("TRUNCATED: the first ", r.log_text.size() - kept,
                                            " of ", r.log_text.size(), " bytes")))
      << shown.substr(0, 600);
  EXPECT_TRUE(absl::StrContains(shown, "[cut]"));
}

// --- Torn writes -------------------------------------------------------------

// Sets `torn` to `image` with only the first k bytes of `plan`'s write
// applied: the state a power cut leaves if the medium wrote a prefix.
// `torn` must already equal `image` outside the write's extent (it is
// reused across calls to keep the every-byte loops fast).
void ApplyPrefix(const std::vector<uint8_t>& image, const PlannedRecordWrite& plan, size_t k,
                 std::vector<uint8_t>& torn) {
  const size_t at = plan.offset_in_store;
  std::copy(image.begin() + at, image.begin() + at + plan.bytes.size(), torn.begin() + at);
  std::copy(plan.bytes.begin(), plan.bytes.begin() + k, torn.begin() + at);
}

// Power cut after every byte of a record write into free ring space: all
// older records survive, the new one is complete or absent, and the next
// append works.
TEST(StoreTest, TornWriteAtEveryByteKeepsOlderRecords) {
  std::vector<uint8_t> image = NewImage(24);
  std::mt19937_64 rng(5);
  std::vector<CaptureRecord> older;
  for (int i = 0; i < 3; ++i) older.push_back(AppendToImage(image, MakeNewRecord(rng, 500 * i)));
  const NewRecord fresh = MakeNewRecord(rng, 3000);  // 1 block
  absl::StatusOr<PlannedRecordWrite> plan = PlanAppendToImage(image, fresh);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->bytes.size(), kBlock);
  const size_t len = plan->bytes.size();

  const std::string dir = MakeTempDir();
  const std::string path = dir + "/torn.img";
  int present = 0;
  std::vector<uint8_t> torn = image;
  for (size_t k = 0; k <= len; ++k) {
    ApplyPrefix(image, *plan, k, torn);
    StoreListing l = MustParse(torn);
    ASSERT_LE(l.skipped_corrupt, 1) << "k=" << k;
    for (const CaptureRecord& o : older) {
      const CaptureRecord* got = FindSeq(l, o.sequence);
      ASSERT_NE(got, nullptr) << "older record " << o.sequence << " lost, k=" << k;
      ExpectSameRecord(*got, o);
    }
    const CaptureRecord* got = FindSeq(l, plan->record.sequence);
    if (got != nullptr) {
      ++present;
      ExpectSameRecord(*got, plan->record);
    }
    ASSERT_EQ(l.records.size(), older.size() + (got != nullptr ? 1 : 0));
    if (k == len) ASSERT_NE(got, nullptr);
    // The header alone is not a record.
    if (k < kHeader + fresh.log_text.size()) ASSERT_EQ(got, nullptr) << k;

    // Now and then: the same through a file, then recover by appending.
    if (k % 1021 == 0 || k == len || k == kHeader) {
      WriteFile(path, torn);
      const StoreLocation loc{path, 0, 0};
      absl::StatusOr<StoreListing> fl = ListRecords(loc);
      ASSERT_TRUE(fl.ok()) << fl.status();
      ASSERT_EQ(fl->records.size(), l.records.size());
      std::mt19937_64 rng2(k);
      absl::StatusOr<CaptureRecord> next = AppendRecord(loc, MakeNewRecord(rng2, 2000));
      ASSERT_TRUE(next.ok()) << next.status();
      fl = ListRecords(loc);
      ASSERT_TRUE(fl.ok()) << fl.status();
      for (const CaptureRecord& o : older) {
        const CaptureRecord* g = FindSeq(*fl, o.sequence);
        ASSERT_NE(g, nullptr);
        ExpectSameRecord(*g, o);
      }
      ASSERT_NE(FindSeq(*fl, next->sequence), nullptr);
      ASSERT_GT(next->sequence, older.back().sequence);
      // A complete new record is kept; an incomplete one is replaced in place.
      if (got != nullptr) {
        EXPECT_EQ(next->offset_in_store, plan->offset_in_store + plan->bytes.size());
      } else {
        EXPECT_EQ(next->offset_in_store, plan->offset_in_store);
      }
    }
  }
  // The zero padding needs no writing on a fresh ring, so the record is
  // complete as soon as header + log are written.
  EXPECT_EQ(present, static_cast<int>(len - kHeader - fresh.log_text.size() + 1));
}

// Power cut after every byte of a record that wraps to the ring start and
// overwrites the oldest records: records outside its extent (including the
// newest) survive intact, overlapped ones are either intact or gone, and the
// new record is complete or absent.
TEST(StoreTest, TornWrappingWriteAtEveryByteKeepsNewestRecords) {
  std::vector<uint8_t> image = NewImage(9);  // limit: 3 blocks per record
  std::mt19937_64 rng(6);
  // One block each: A=0, B=1, ..., H=7; block 8 free.
  std::vector<CaptureRecord> older;
  for (int i = 0; i < 8; ++i)
    older.push_back(AppendToImage(image, MakeNewRecord(rng, 100 + 50 * i)));
  ASSERT_EQ(older.back().offset_in_store, kRingStartOffset + 7 * kBlock);
  ASSERT_EQ(MustParse(image).records.size(), 8u);

  const NewRecord fresh = MakeNewRecord(rng, 3700);  // 2 blocks: wraps
  absl::StatusOr<PlannedRecordWrite> plan = PlanAppendToImage(image, fresh);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->offset_in_store, kRingStartOffset);
  const size_t len = plan->bytes.size();
  ASSERT_EQ(len, 2 * kBlock);

  std::vector<uint8_t> torn = image;
  for (size_t k = 0; k <= len; ++k) {
    ApplyPrefix(image, *plan, k, torn);
    StoreListing l = MustParse(torn);
    for (const CaptureRecord& o : older) {
      const CaptureRecord* got = FindSeq(l, o.sequence);
      const bool hit = Overlaps(o.offset_in_store, o.record_bytes, plan->offset_in_store, len);
      if (!hit) {
        ASSERT_NE(got, nullptr) << "record " << o.sequence << " lost at k=" << k;
      }
      if (got != nullptr) ExpectSameRecord(*got, o);
    }
    const CaptureRecord* got = FindSeq(l, plan->record.sequence);
    if (got != nullptr) ExpectSameRecord(*got, plan->record);
    if (k == len) {
      ASSERT_NE(got, nullptr);
      ASSERT_EQ(l.records.size(), 7u);  // A and B overwritten: C..H + new
    }
    if (k < kHeader + fresh.log_text.size()) ASSERT_EQ(got, nullptr) << k;
    // Nothing else is ever listed (no half-written or phantom record).
    for (const CaptureRecord& r : l.records) {
      ASSERT_TRUE(r.sequence == plan->record.sequence ||
                  std::any_of(older.begin(), older.end(),
                              [&](const CaptureRecord& o) { return o.sequence == r.sequence; }))
          << r.sequence;
    }
  }
}

// --- Damage ------------------------------------------------------------------

TEST(StoreTest, DamagedSuperblockCopyZeroUsesCopyOne) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 64 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(7)).ok());
  std::mt19937_64 rng(7);
  absl::StatusOr<CaptureRecord> w = AppendRecord(loc, MakeNewRecord(rng, 500));
  ASSERT_TRUE(w.ok());

  std::vector<uint8_t> bytes = ReadFile(loc.path);
  bytes[offsetof(StoreSuperblock, uuid)] ^= 0x10;  // copy 0
  WriteFile(loc.path, bytes);
  absl::StatusOr<StoreListing> l = ListRecords(loc);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->info.superblock_used, 1);
  EXPECT_EQ(l->info.uuid, TestUuid(7));
  ASSERT_EQ(l->records.size(), 1u);
  ExpectSameRecord(l->records[0], *w);
  // Appending still works and does not "repair" (write) copy 0.
  ASSERT_TRUE(AppendRecord(loc, MakeNewRecord(rng, 500)).ok());
  std::vector<uint8_t> after = ReadFile(loc.path);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.begin() + kRingStartOffset, after.begin()));

  // Copy 1 damaged, copy 0 good again: copy 0 is used.
  bytes = after;
  bytes[offsetof(StoreSuperblock, uuid)] ^= 0x10;
  bytes[kBlock + offsetof(StoreSuperblock, ring_end)] ^= 0x01;
  WriteFile(loc.path, bytes);
  l = ListRecords(loc);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->info.superblock_used, 0);
  EXPECT_EQ(l->records.size(), 2u);
}

// mkswap overwrites block 0 (copy 0) and leaves block 1 (copy 1): the
// region is swap now and must not be taken for the store it was, by list or
// by the capture (which writes only where ReadStoreInfo succeeds).
TEST(StoreTest, RegionReformattedAsSwapIsNoLongerAStore) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 1024 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(9)).ok());
  const std::string cmd = absl::StrCat("/usr/sbin/mkswap -q '", loc.path, "' >/dev/null 2>&1");
  ASSERT_EQ(system(cmd.c_str()), 0) << cmd;
  std::vector<uint8_t> bytes = ReadFile(loc.path);
  StoreSuperblock copy1;
  memcpy(&copy1, bytes.data() + kBlock, sizeof(copy1));
  ASSERT_EQ(memcmp(copy1.magic, kSuperblockMagic, 8), 0) << "mkswap no longer leaves copy 1";
  absl::StatusOr<StoreInfo> info = ReadStoreInfo(loc);
  ASSERT_FALSE(info.ok()) << "the swap area is still taken for store " << FormatUuid(info->uuid);
  EXPECT_TRUE(absl::StrContains(info.status().message(), kReformattedByAnotherTool))
      << info.status();
  EXPECT_TRUE(absl::StrContains(info.status().message(), "swap signature")) << info.status();
  EXPECT_FALSE(ListRecords(loc).ok());
  std::mt19937_64 rng(9);
  EXPECT_FALSE(AppendRecord(loc, MakeNewRecord(rng, 100)).ok());
  EXPECT_EQ(ReadFile(loc.path), bytes) << "a write landed in the swap area";
}

TEST(StoreTest, BothSuperblocksDamagedIsAClearError) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 8192, 64 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(8)).ok());
  std::vector<uint8_t> bytes = ReadFile(loc.path);
  bytes[loc.offset + 0] = 'X';                                              // magic
  bytes[loc.offset + kBlock + offsetof(StoreSuperblock, store_size)] ^= 4;  // digest
  WriteFile(loc.path, bytes);
  absl::StatusOr<StoreListing> l = ListRecords(loc);
  ASSERT_FALSE(l.ok());
  const std::string msg(l.status().message());
  EXPECT_TRUE(absl::StrContains(msg, loc.path)) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "at offset 8192")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "no valid superblock")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "copy 0 (store byte 0): magic is \"XVOOPSST\"")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "copy 1 (store byte 4096): SHA-256 mismatch")) << msg;
  absl::StatusOr<CaptureRecord> w = AppendRecord(loc, NewRecord{});
  EXPECT_FALSE(w.ok());
}

TEST(StoreTest, BitFlipsSkipExactlyTheDamagedRecord) {
  std::mt19937_64 rng(8);
  std::vector<uint8_t> image = NewImage(40);
  std::vector<CaptureRecord> recs;
  for (int i = 0; i < 5; ++i)
    recs.push_back(AppendToImage(image, MakeNewRecord(rng, 1000 + rng() % 5000)));
  for (int iter = 0; iter < 200; ++iter) {
    const CaptureRecord& victim = recs[rng() % recs.size()];
    const bool in_log = iter % 2 == 0;
    // Log bytes, or header bytes after the magic (the magic's own damage
    // is recognised by the fields after it; see below).
    const uint64_t at = in_log ? victim.offset_in_store + kHeader + rng() % victim.log_text.size()
                               : victim.offset_in_store + 8 + rng() % (kHeader - 8);
    std::vector<uint8_t> damaged = image;
    damaged[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    StoreListing l = MustParse(damaged);
    ASSERT_EQ(l.skipped_corrupt, 1) << "byte " << at;
    ASSERT_EQ(l.problems.size(), 1u);
    EXPECT_TRUE(absl::StrContains(l.problems[0], in_log ? "log SHA-256 mismatch" : "store byte"))
        << l.problems[0];
    ASSERT_EQ(l.records.size(), recs.size() - 1);
    ASSERT_EQ(FindSeq(l, victim.sequence), nullptr);
    for (const CaptureRecord& r : recs) {
      if (r.sequence == victim.sequence) continue;
      const CaptureRecord* got = FindSeq(l, r.sequence);
      ASSERT_NE(got, nullptr);
      ExpectSameRecord(*got, r);
    }
  }
  // Damaged magic: the fields after it (version, size, this store's UUID)
  // still say a record began here, so it counts as damaged, not as nothing.
  std::vector<uint8_t> damaged = image;
  damaged[recs[2].offset_in_store] ^= 1;
  StoreListing l = MustParse(damaged);
  EXPECT_EQ(l.skipped_corrupt, 1);
  ASSERT_EQ(l.problems.size(), 1u);
  EXPECT_TRUE(absl::StrContains(l.problems[0],
                                absl::StrCat("record at store byte ", recs[2].offset_in_store,
                                             " skipped: record magic damaged")))
      << l.problems[0];
  EXPECT_EQ(l.records.size(), recs.size() - 1);
}

// A damaged newest record's sequence number is not reused (it may already
// have been collected under that number); its space is reused.
TEST(StoreTest, DamagedNewestRecordSequenceIsNotReused) {
  std::mt19937_64 rng(9);
  std::vector<uint8_t> image = NewImage(40);
  std::vector<CaptureRecord> recs;
  for (int i = 0; i < 3; ++i) recs.push_back(AppendToImage(image, MakeNewRecord(rng, 3000)));
  image[recs[2].offset_in_store + kHeader + 10] ^= 0x20;
  StoreListing l = MustParse(image);
  EXPECT_EQ(l.records.size(), 2u);
  EXPECT_EQ(l.highest_sequence_seen, 3u);
  CaptureRecord w = AppendToImage(image, MakeNewRecord(rng, 100));
  EXPECT_EQ(w.sequence, 4u);
  EXPECT_EQ(w.offset_in_store, recs[2].offset_in_store);
}

TEST(StoreTest, RecordsOfAnEarlierFormatAreIgnored) {
  const std::string dir = MakeTempDir();
  const StoreLocation loc{dir + "/s", 0, 64 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(10)).ok());
  std::mt19937_64 rng(10);
  ASSERT_TRUE(AppendRecord(loc, MakeNewRecord(rng, 10)).ok());
  ASSERT_TRUE(AppendRecord(loc, MakeNewRecord(rng, 10)).ok());
  ASSERT_TRUE(FormatStore(loc, TestUuid(11)).ok());
  absl::StatusOr<StoreListing> l = ListRecords(loc);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->records.empty());
  EXPECT_EQ(l->skipped_foreign, 2);
  EXPECT_EQ(l->skipped_corrupt, 0);
  absl::StatusOr<CaptureRecord> w = AppendRecord(loc, MakeNewRecord(rng, 10));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->sequence, 1u);
  EXPECT_EQ(w->offset_in_store, kRingStartOffset);
  EXPECT_EQ(w->store_uuid, TestUuid(11));
}

// Garbage in the ring, including fake magics, never yields a record.
TEST(StoreTest, RandomRingContentsYieldNoRecords) {
  std::mt19937_64 rng(11);
  for (int iter = 0; iter < 100; ++iter) {
    std::vector<uint8_t> image = NewImage(3 + rng() % 10);
    for (uint64_t i = kRingStartOffset; i < image.size(); ++i) {
      image[i] = static_cast<uint8_t>(rng());
    }
    int fakes = 0;
    for (uint64_t b = kRingStartOffset; b < image.size(); b += kBlock) {
      if (rng() % 2) {
        memcpy(&image[b], kRecordMagic, 8);
        ++fakes;
      }
    }
    StoreListing l = MustParse(image);
    ASSERT_TRUE(l.records.empty());
    ASSERT_EQ(l.skipped_corrupt, fakes);
  }
}

TEST(StoreTest, ErrorsNameTheFileAndOffset) {
  const std::string dir = MakeTempDir();
  absl::StatusOr<StoreListing> l = ListRecords({dir + "/missing", 0, 0});
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(absl::StrContains(l.status().message(), dir + "/missing"));

  WriteFile(dir + "/small", std::vector<uint8_t>(10000, 0));
  l = ListRecords({dir + "/small", 20000, 0});
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(absl::StrContains(l.status().message(), "offset 20000 is past the end"))
      << l.status();
  l = ListRecords({dir + "/small", 100, 10000});
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(absl::StrContains(l.status().message(), "size 10000 runs past the end"))
      << l.status();
  l = ListRecords({dir + "/small", 0, 0});
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(absl::StrContains(l.status().message(), "no valid superblock"));

  absl::Status s = FormatStore({dir + "/small", 0, 0}, TestUuid(1));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "10000 bytes is too small")) << s;

  // A store whose superblock claims more bytes than the region has.
  const StoreLocation loc{dir + "/cut", 0, 64 * 1024};
  ASSERT_TRUE(FormatStore(loc, TestUuid(1)).ok());
  ASSERT_EQ(truncate(loc.path.c_str(), 32 * 1024), 0);
  l = ListRecords({loc.path, 0, 0});
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(absl::StrContains(l.status().message(),
                                "store_size is 65536 bytes but the region holds only 32768"))
      << l.status();
}

// --- Formatting: mode, and failures that leave nothing --------------------

std::vector<std::string> DirNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  EXPECT_NE(d, nullptr) << dir;
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// A file store is created 0600 whatever the umask: its records are a dead
// kernel's log, for root only.
TEST(StoreTest, FormatCreatesAFileStore0600) {
  const std::string dir = MakeTempDir();
  const mode_t old_umask = umask(0);
  const absl::Status s = FormatStore({dir + "/s", 4096, 64 * 1024}, TestUuid(50));
  umask(old_umask);
  ASSERT_TRUE(s.ok()) << s;
  struct stat st;
  ASSERT_EQ(stat((dir + "/s").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 4096 + 64 * 1024);
  EXPECT_EQ(DirNames(dir), std::vector<std::string>{"s"});
}

// Runs `format` in a child whose writes stop at byte `limit` of any file
// (RLIMIT_FSIZE: write(2) past it fails with EFBIG, as a full disk fails
// with ENOSPC); returns whether the format reported failure.
bool FormatFailsUnderFileSizeLimit(uint64_t limit, const std::function<absl::Status()>& format) {
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const struct rlimit l = {limit, limit};
    if (setrlimit(RLIMIT_FSIZE, &l) != 0) _exit(3);
    _exit(format().ok() ? 1 : 0);
  }
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

// A format that fails midway leaves nothing list takes for the new store:
// no file at all for a new file store, no valid superblock of the new
// store in an existing file (before, copy 0 could land without copy 1 and
// list accepted an empty store).
TEST(StoreTest, FormatFailingMidwayLeavesNoStore) {
  const std::string dir = MakeTempDir();
  // An existing file (an image, a preallocated store): the superblock
  // write is cut after its first block.
  const std::string path = dir + "/existing";
  WriteFile(path, std::vector<uint8_t>(64 * 1024, 0));
  ASSERT_TRUE(FormatFailsUnderFileSizeLimit(kBlock, [&] {
    return FormatStore({path, 0, 0}, TestUuid(51));
  }));
  absl::StatusOr<StoreListing> l = ListRecords({path, 0, 0});
  ASSERT_FALSE(l.ok()) << "a half-written format is taken for a store";
  EXPECT_TRUE(absl::StrContains(l.status().message(), "no valid superblock")) << l.status();

  // Reformatting an existing store: whatever is left, it is never a store
  // with the new UUID.
  ASSERT_TRUE(FormatStore({path, 0, 0}, TestUuid(52)).ok());
  ASSERT_TRUE(FormatFailsUnderFileSizeLimit(kBlock, [&] {
    return FormatStore({path, 0, 0}, TestUuid(53));
  }));
  l = ListRecords({path, 0, 0});
  if (l.ok()) EXPECT_EQ(l->info.uuid, TestUuid(52));

  // A new file store: nothing at all is left, not even a temporary file.
  const std::string fresh = dir + "/fresh";
  ASSERT_TRUE(FormatFailsUnderFileSizeLimit(kBlock, [&] {
    return FormatStore({fresh, 0, 64 * 1024}, TestUuid(54));
  }));
  EXPECT_FALSE(Exists(fresh));
  EXPECT_EQ(DirNames(dir), std::vector<std::string>{"existing"});
}

}  // namespace
}  // namespace store_test
}  // namespace saveoops
