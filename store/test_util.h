// Helpers shared by the store's tests (ring, collect, locate).
#ifndef SAVEOOPS_STORE_TEST_UTIL_H_
#define SAVEOOPS_STORE_TEST_UTIL_H_

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/ring.h"
#include "store/store_format.h"

namespace saveoops {
namespace store_test {

constexpr uint64_t kBlock = kStoreBlockSize;
constexpr uint64_t kHeader = sizeof(RecordHeader);

inline std::string MakeTempDir() {
  std::string tmpl = testing::TempDir();
  if (tmpl.empty() || tmpl.back() != '/') tmpl += '/';
  tmpl += "store_test.XXXXXX";
  char* made = mkdtemp(&tmpl[0]);
  EXPECT_NE(made, nullptr);
  return tmpl;
}

inline void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ASSERT_TRUE(f.good()) << path;
}

inline std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  std::vector<uint8_t> bytes(static_cast<size_t>(f.tellg()));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(bytes.data()), bytes.size());
  return bytes;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

inline Uuid TestUuid(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<uint8_t>(seed + i * 7);
  return u;
}

// Kernel-log-like text of exactly `size` bytes.
inline std::string MakeLog(std::mt19937_64& rng, size_t size) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 []:.,-_=ABCDEFXYZ";
  std::string s;
  s.reserve(size);
  while (s.size() < size) {
    if (rng() % 60 == 0) {
      s += '\n';
    } else {
      s += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    }
  }
  return s;
}

inline NewRecord MakeNewRecord(std::mt19937_64& rng, size_t log_size) {
  NewRecord r;
  for (auto& b : r.boot_id) b = static_cast<uint8_t>(rng());
  r.capture_time_unix = 1700000000 + rng() % 100000000;
  r.kernel_release = absl::StrCat("6.1.0-", rng() % 40, "-amd64");
  r.panic_reason = absl::StrCat("Kernel panic - not syncing: test ", rng());
  r.log_text = MakeLog(rng, log_size);
  return r;
}

// Every field, including where the record lives.
inline void ExpectSameRecord(const CaptureRecord& a, const CaptureRecord& b) {
  EXPECT_EQ(a.sequence, b.sequence);
  EXPECT_EQ(a.store_uuid, b.store_uuid);
  EXPECT_EQ(a.boot_id, b.boot_id);
  EXPECT_EQ(a.capture_time_unix, b.capture_time_unix);
  EXPECT_EQ(a.kernel_release, b.kernel_release);
  EXPECT_EQ(a.panic_reason, b.panic_reason);
  EXPECT_TRUE(a.log_text == b.log_text) << "log text differs, seq " << a.sequence;
  EXPECT_EQ(a.log_truncated, b.log_truncated);
  EXPECT_EQ(a.original_log_size, b.original_log_size);
  EXPECT_EQ(a.log_size, b.log_size);
  EXPECT_EQ(a.kernel_release_truncated, b.kernel_release_truncated);
  EXPECT_EQ(a.panic_reason_truncated, b.panic_reason_truncated);
  EXPECT_EQ(a.log_sha256, b.log_sha256);
  EXPECT_EQ(a.offset_in_store, b.offset_in_store);
  EXPECT_EQ(a.record_bytes, b.record_bytes);
}

inline bool Overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) {
  return a < b + b_len && b < a + a_len;
}

// An in-memory store of `ring_blocks` ring blocks.
inline std::vector<uint8_t> NewImage(uint64_t ring_blocks, uint8_t uuid_seed = 1) {
  std::vector<uint8_t> image(kRingStartOffset + ring_blocks * kBlock);
  EXPECT_TRUE(FormatStoreImage(absl::MakeSpan(image), TestUuid(uuid_seed)).ok());
  return image;
}

// Appends to an in-memory image exactly as AppendRecord does to a file.
inline CaptureRecord AppendToImage(std::vector<uint8_t>& image, const NewRecord& r) {
  absl::StatusOr<PlannedRecordWrite> plan = PlanAppendToImage(image, r);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (!plan.ok()) return {};
  std::copy(plan->bytes.begin(), plan->bytes.end(), image.begin() + plan->offset_in_store);
  return plan->record;
}

inline StoreListing MustParse(const std::vector<uint8_t>& image) {
  absl::StatusOr<StoreListing> l = ParseStoreImage(image);
  EXPECT_TRUE(l.ok()) << l.status();
  return l.ok() ? *l : StoreListing{};
}

inline const CaptureRecord* FindSeq(const StoreListing& l, uint64_t seq) {
  for (const CaptureRecord& r : l.records) {
    if (r.sequence == seq) return &r;
  }
  return nullptr;
}

}  // namespace store_test
}  // namespace saveoops

#endif  // SAVEOOPS_STORE_TEST_UTIL_H_
