#include "common/bundle.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/bundle_format.h"
#include "common/sha256.h"
#include "common/sha256_file.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

// Passes if `text` contains `needle`; says what it looked for otherwise.
testing::AssertionResult HasSubstr(absl::string_view text, absl::string_view needle) {
  if (absl::StrContains(text, needle)) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "'" << text << "' does not contain '" << needle << "'";
}

std::vector<uint8_t> RandomBytes(std::mt19937_64& rng, size_t size) {
  std::vector<uint8_t> bytes(size);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

// Parts of odd sizes that span several pages, so layout bugs show.
BundleContents SampleContents() {
  std::mt19937_64 rng(42);
  BundleContents contents;
  contents.capture_kernel = RandomBytes(rng, 3 * 4096 + 123);
  contents.capture_initramfs = RandomBytes(rng, 2 * 4096 + 7);
  contents.capture_cmdline = "console=ttyS0,115200 nr_cpus=1 reset_devices";
  contents.purgatory = RandomBytes(rng, 1500);
  return contents;
}

std::vector<uint8_t> Serialize(const BundleContents& contents) {
  absl::StatusOr<std::vector<uint8_t>> bytes = SerializeBundle(contents);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *std::move(bytes) : std::vector<uint8_t>();
}

BundleFixedHeader GetFixed(const std::vector<uint8_t>& bytes) {
  BundleFixedHeader fixed;
  memcpy(&fixed, bytes.data(), sizeof(fixed));
  return fixed;
}

void SetFixed(std::vector<uint8_t>& bytes, const BundleFixedHeader& fixed) {
  memcpy(bytes.data(), &fixed, sizeof(fixed));
}

size_t EntryOffset(int index) {
  return sizeof(BundleFixedHeader) + static_cast<size_t>(index) * sizeof(BundlePartEntry);
}

BundlePartEntry GetEntry(const std::vector<uint8_t>& bytes, int index) {
  BundlePartEntry entry;
  memcpy(&entry, bytes.data() + EntryOffset(index), sizeof(entry));
  return entry;
}

void SetEntry(std::vector<uint8_t>& bytes, int index, const BundlePartEntry& entry) {
  memcpy(bytes.data() + EntryOffset(index), &entry, sizeof(entry));
}

// Recomputes the header digest after a test edited the header, so that the
// parser gets past the digest check and the deeper check is what fails.
void ResignHeader(std::vector<uint8_t>& bytes) {
  const size_t digest_offset = GetFixed(bytes).header_size - kSha256DigestSize;
  const Sha256Digest digest =
      Sha256BoringSsl(absl::Span<const uint8_t>(bytes.data(), digest_offset));
  memcpy(bytes.data() + digest_offset, digest.bytes, kSha256DigestSize);
}

// Builds a bundle from raw (type, data) parts laid out in the given order,
// with correct digests: lets tests make structurally valid headers that
// SerializeBundle() refuses to write (missing, duplicate, empty parts).
std::vector<uint8_t> BuildRaw(const std::vector<std::pair<uint32_t, std::string>>& parts) {
  const uint32_t count = static_cast<uint32_t>(parts.size());
  const uint32_t header_size = BundleHeaderSize(count);
  std::vector<BundlePartEntry> entries(count);
  uint64_t end = header_size;
  for (uint32_t i = 0; i < count; ++i) {
    entries[i] = {};
    entries[i].type = parts[i].first;
    entries[i].offset = (end + 4095) / 4096 * 4096;
    entries[i].size = parts[i].second.size();
    const Sha256Digest d =
        Sha256Hash(parts[i].second.data(), parts[i].second.size(), Sha256Engine::kPortable);
    memcpy(entries[i].sha256, d.bytes, sizeof(d.bytes));
    end = entries[i].offset + entries[i].size;
  }
  std::vector<uint8_t> bytes(end, 0);
  BundleFixedHeader fixed = {};
  memcpy(fixed.magic, kBundleMagic, 8);
  fixed.format_version = 1;
  fixed.header_size = header_size;
  fixed.part_count = count;
  fixed.file_size = end;
  SetFixed(bytes, fixed);
  for (uint32_t i = 0; i < count; ++i) {
    SetEntry(bytes, static_cast<int>(i), entries[i]);
    memcpy(bytes.data() + entries[i].offset, parts[i].second.data(), parts[i].second.size());
  }
  ResignHeader(bytes);
  return bytes;
}

std::vector<std::pair<uint32_t, std::string>> ValidRawParts() {
  return {{kBundlePartCaptureKernel, std::string(5000, 'k')},
          {kBundlePartCaptureInitramfs, std::string(100, 'i')},
          {kBundlePartCaptureCmdline, "console=ttyS0"},
          {kBundlePartPurgatory, std::string(300, 'p')}};
}

BundleError HeaderError(const std::vector<uint8_t>& bytes, int* failed_part = nullptr) {
  BundleView view;
  const BundleError error = ParseBundleHeader(bytes.data(), bytes.size(), &view);
  if (failed_part != nullptr) *failed_part = view.failed_part;
  return error;
}

// Expects both the freestanding and the host parser to reject `bytes`: the
// former with `error`, the latter with a message containing every needle.
void ExpectRejected(const std::vector<uint8_t>& bytes, BundleError error,
                    const std::vector<std::string>& needles) {
  EXPECT_EQ(HeaderError(bytes), error)
      << "got " << BundleErrorName(HeaderError(bytes)) << ", want " << BundleErrorName(error);
  absl::StatusOr<BundleContents> parsed = ParseBundle(bytes);
  ASSERT_FALSE(parsed.ok());
  for (const std::string& needle : needles) {
    EXPECT_TRUE(HasSubstr(parsed.status().message(), needle));
  }
}

TEST(BundleTest, RoundTrip) {
  const BundleContents contents = SampleContents();
  const std::vector<uint8_t> bytes = Serialize(contents);
  absl::StatusOr<BundleContents> parsed = ParseBundle(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(*parsed == contents);
}

TEST(BundleTest, PreparedKernelImageRoundTripsAsAFifthPart) {
  BundleContents contents = SampleContents();
  contents.capture_kernel_image.assign(10000, 0x5c);
  const std::vector<uint8_t> bytes = Serialize(contents);
  BundleView view;
  ASSERT_EQ(ParseBundleHeader(bytes.data(), bytes.size(), &view), BundleError::kOk);
  EXPECT_EQ(view.part_count, 5u);
  const BundlePartView* image = FindBundlePart(view, kBundlePartCaptureKernelImage);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->size, 10000u);
  absl::StatusOr<BundleContents> parsed = ParseBundle(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(*parsed == contents);
  // The reader hands on the digests it checked, one per part.
  ASSERT_EQ(parsed->verified_sha256.size(), 5u);
  const Sha256Digest want =
      Sha256Hash(contents.capture_kernel_image.data(), contents.capture_kernel_image.size(),
                 Sha256Engine::kPortable);
  EXPECT_EQ(
      std::memcmp(parsed->verified_sha256.at(kBundlePartCaptureKernelImage).bytes, want.bytes, 32),
      0);

  // Without one, the bundle is the four-part layout it always was.
  contents.capture_kernel_image.clear();
  const std::vector<uint8_t> four = Serialize(contents);
  ASSERT_EQ(ParseBundleHeader(four.data(), four.size(), &view), BundleError::kOk);
  EXPECT_EQ(view.part_count, 4u);
  EXPECT_EQ(FindBundlePart(view, kBundlePartCaptureKernelImage), nullptr);

  // A damaged image is named like any other part.
  std::vector<uint8_t> damaged = bytes;
  damaged[image->offset + 5000] ^= 1;
  ExpectRejected(damaged, BundleError::kOk, {"part 'capture_kernel_image' SHA-256 mismatch"});
}

TEST(BundleTest, LayoutFollowsTheFormat) {
  const BundleContents contents = SampleContents();
  const std::vector<uint8_t> bytes = Serialize(contents);
  const BundleFixedHeader fixed = GetFixed(bytes);
  EXPECT_EQ(memcmp(bytes.data(), "SVOOPSBN", 8), 0);
  EXPECT_EQ(fixed.format_version, 1u);
  EXPECT_EQ(fixed.header_size, 32u + 4 * 56 + 32);
  EXPECT_EQ(fixed.part_count, 4u);
  EXPECT_EQ(fixed.flags, 0u);
  EXPECT_EQ(fixed.file_size, bytes.size());

  // The header digest covers everything before it.
  Sha256Digest header_digest;
  memcpy(header_digest.bytes, bytes.data() + 256, 32);
  EXPECT_EQ(header_digest, Sha256BoringSsl(absl::Span<const uint8_t>(bytes.data(), 256)));

  const uint32_t expected_types[] = {1, 2, 3, 4};
  const size_t expected_sizes[] = {contents.capture_kernel.size(),
                                   contents.capture_initramfs.size(),
                                   contents.capture_cmdline.size(), contents.purgatory.size()};
  uint64_t previous_end = fixed.header_size;
  for (int i = 0; i < 4; ++i) {
    const BundlePartEntry entry = GetEntry(bytes, i);
    EXPECT_EQ(entry.type, expected_types[i]);
    EXPECT_EQ(entry.reserved, 0u);
    EXPECT_EQ(entry.size, expected_sizes[i]);
    EXPECT_EQ(entry.offset % 4096, 0u);
    // Each part starts at the first page boundary after the previous one,
    // and the gap is zero-filled.
    EXPECT_EQ(entry.offset, (previous_end + 4095) / 4096 * 4096);
    for (uint64_t pad = previous_end; pad < entry.offset; ++pad) {
      ASSERT_EQ(bytes[pad], 0) << "padding byte at " << pad;
    }
    Sha256Digest stored;
    memcpy(stored.bytes, entry.sha256, 32);
    EXPECT_EQ(stored,
              Sha256BoringSsl(absl::Span<const uint8_t>(bytes.data() + entry.offset, entry.size)));
    previous_end = entry.offset + entry.size;
  }
  EXPECT_EQ(previous_end, bytes.size());
}

TEST(BundleTest, HeaderViewPointsAtParts) {
  const BundleContents contents = SampleContents();
  const std::vector<uint8_t> bytes = Serialize(contents);
  BundleView view;
  ASSERT_EQ(ParseBundleHeader(bytes.data(), bytes.size(), &view), BundleError::kOk);
  EXPECT_EQ(view.failed_part, -1);
  EXPECT_EQ(view.part_count, 4u);
  EXPECT_EQ(view.header_size, 288u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(VerifyBundlePart(view, i), BundleError::kOk) << i;
  }
  EXPECT_EQ(VerifyBundlePart(view, -1), BundleError::kBadPartIndex);
  EXPECT_EQ(VerifyBundlePart(view, 4), BundleError::kBadPartIndex);

  const BundlePartView* cmdline = FindBundlePart(view, kBundlePartCaptureCmdline);
  ASSERT_NE(cmdline, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(cmdline->data), cmdline->size),
            contents.capture_cmdline);
  const BundlePartView* purgatory = FindBundlePart(view, kBundlePartPurgatory);
  ASSERT_NE(purgatory, nullptr);
  EXPECT_EQ(purgatory->size, contents.purgatory.size());
  EXPECT_EQ(purgatory->sha256, Sha256BoringSsl(contents.purgatory));
  EXPECT_EQ(FindBundlePart(view, 5), nullptr);
}

TEST(BundleTest, RandomContentsRoundTrip) {
  std::mt19937_64 rng(1234567);
  for (int iteration = 0; iteration < 200; ++iteration) {
    // Sizes cluster around page multiples, where padding bugs live.
    auto size = [&](size_t min) {
      const size_t pages = rng() % 4;
      const int64_t jitter = static_cast<int64_t>(rng() % 5) - 2;
      const int64_t s = static_cast<int64_t>(pages * 4096) + jitter;
      return static_cast<size_t>(std::max<int64_t>(static_cast<int64_t>(min), s));
    };
    BundleContents contents;
    contents.capture_kernel = RandomBytes(rng, size(1));
    contents.capture_initramfs = RandomBytes(rng, size(1));
    contents.purgatory = RandomBytes(rng, size(1));
    const size_t cmdline_size = rng() % 2 ? rng() % 4097 : rng() % 8;
    for (size_t i = 0; i < cmdline_size; ++i) {
      contents.capture_cmdline.push_back(static_cast<char>(1 + rng() % 255));
    }
    const std::vector<uint8_t> bytes = Serialize(contents);
    absl::StatusOr<BundleContents> parsed = ParseBundle(bytes);
    ASSERT_TRUE(parsed.ok()) << "iteration " << iteration << ": " << parsed.status();
    ASSERT_TRUE(*parsed == contents) << "iteration " << iteration;
    // Serialization is deterministic.
    ASSERT_EQ(Serialize(*parsed), bytes) << "iteration " << iteration;
  }
}

TEST(BundleTest, EmptyAndMaximalCommandLinesRoundTrip) {
  for (const std::string& cmdline : {std::string(), std::string(4096, 'x'), std::string(1, ' ')}) {
    BundleContents contents = SampleContents();
    contents.capture_cmdline = cmdline;
    absl::StatusOr<BundleContents> parsed = ParseBundle(Serialize(contents));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->capture_cmdline, cmdline);
  }
}

TEST(BundleTest, SerializeRejectsWhatTheReaderWouldReject) {
  struct Case {
    void (*edit)(BundleContents&);
    std::string needle;
  };
  const Case cases[] = {
      {[](BundleContents& c) { c.capture_kernel.clear(); }, "part 'capture_kernel' is empty"},
      {[](BundleContents& c) { c.capture_initramfs.clear(); }, "part 'capture_initramfs' is empty"},
      {[](BundleContents& c) { c.purgatory.clear(); }, "part 'purgatory' is empty"},
      {[](BundleContents& c) { c.capture_cmdline = std::string(4097, 'x'); },
       "part 'capture_cmdline' is 4097 bytes, at most 4096"},
      {[](BundleContents& c) { c.capture_cmdline = std::string("ab\0c", 4); },
       "part 'capture_cmdline' has a NUL byte at offset 2"},
  };
  for (const Case& c : cases) {
    BundleContents contents = SampleContents();
    c.edit(contents);
    absl::StatusOr<std::vector<uint8_t>> bytes = SerializeBundle(contents);
    ASSERT_FALSE(bytes.ok()) << c.needle;
    EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(HasSubstr(bytes.status().message(), c.needle));
  }
}

TEST(BundleTest, EveryHeaderByteFlipIsRejected) {
  const std::vector<uint8_t> good = Serialize(SampleContents());
  const uint32_t header_size = GetFixed(good).header_size;
  int rejected = 0;
  for (uint32_t pos = 0; pos < header_size; ++pos) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bad = good;
      bad[pos] ^= mask;
      EXPECT_NE(HeaderError(bad), BundleError::kOk) << "byte " << pos << " ^ " << int{mask};
      EXPECT_FALSE(ParseBundle(bad).ok()) << "byte " << pos << " ^ " << int{mask};
      ++rejected;
    }
  }
  EXPECT_EQ(rejected, 288 * 3);

  // A flip past the magic/version/count/size fields is caught by the digest.
  std::vector<uint8_t> bad = good;
  bad[EntryOffset(1) + offsetof(BundlePartEntry, size)] ^= 0x01;
  ExpectRejected(bad, BundleError::kHeaderDigestMismatch,
                 {"bundle: header SHA-256 mismatch", "header says ",
                  Sha256Hex(Sha256BoringSsl(absl::Span<const uint8_t>(bad.data(), 256)))});
}

TEST(BundleTest, FlipInEachPartIsRejectedNamingThePart) {
  const BundleContents contents = SampleContents();
  const std::vector<uint8_t> good = Serialize(contents);
  for (int i = 0; i < 4; ++i) {
    const BundlePartEntry entry = GetEntry(good, i);
    const std::string name = BundlePartTypeName(entry.type);
    for (uint64_t where : {uint64_t{0}, entry.size / 2, entry.size - 1}) {
      std::vector<uint8_t> bad = good;
      bad[entry.offset + where] ^= 0x20;

      // The header is intact; only this part's digest fails.
      BundleView view;
      ASSERT_EQ(ParseBundleHeader(bad.data(), bad.size(), &view), BundleError::kOk);
      for (int j = 0; j < 4; ++j) {
        EXPECT_EQ(VerifyBundlePart(view, j),
                  j == i ? BundleError::kPartDigestMismatch : BundleError::kOk)
            << name << " flipped, verifying part " << j;
      }

      Sha256Digest stored;
      memcpy(stored.bytes, entry.sha256, 32);
      const Sha256Digest actual =
          Sha256BoringSsl(absl::Span<const uint8_t>(bad.data() + entry.offset, entry.size));
      absl::StatusOr<BundleContents> parsed = ParseBundle(bad);
      ASSERT_FALSE(parsed.ok()) << name << " byte " << where;
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_EQ(parsed.status().message(),
                "bundle: part '" + name + "' SHA-256 mismatch: header says " + Sha256Hex(stored) +
                    ", data hashes to " + Sha256Hex(actual));
    }
  }
}

TEST(BundleTest, TruncationIsRejected) {
  const std::vector<uint8_t> good = Serialize(SampleContents());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 600; ++n) lengths.push_back(n);
  for (size_t n = 601; n < good.size(); n += 97) lengths.push_back(n);
  for (size_t n = good.size() - 64; n < good.size(); ++n) lengths.push_back(n);
  for (size_t n : lengths) {
    const std::vector<uint8_t> cut(good.data(), good.data() + n);
    EXPECT_EQ(HeaderError(cut), BundleError::kTruncated) << "length " << n;
    absl::StatusOr<BundleContents> parsed = ParseBundle(cut);
    ASSERT_FALSE(parsed.ok()) << "length " << n;
    EXPECT_TRUE(HasSubstr(parsed.status().message(), "truncated")) << "length " << n;
  }
  // The null/empty input too.
  EXPECT_FALSE(ParseBundle(absl::Span<const uint8_t>()).ok());
  BundleView view;
  EXPECT_EQ(ParseBundleHeader(nullptr, 0, &view), BundleError::kTruncated);
}

TEST(BundleTest, TrailingBytesAreRejected) {
  std::vector<uint8_t> bytes = Serialize(SampleContents());
  bytes.push_back(0);
  ExpectRejected(bytes, BundleError::kFileSizeMismatch, {"field 'file_size' is", "trailing data"});
}

TEST(BundleTest, FixedHeaderFieldsAreChecked) {
  const std::vector<uint8_t> good = Serialize(SampleContents());
  {
    std::vector<uint8_t> bad = good;
    memcpy(bad.data(),
           "\x7f"
           "ELF\x02\x01\x01\x00",
           8);
    ExpectRejected(bad, BundleError::kBadMagic,
                   {"field 'magic' is \"\\x7f\\x45LF\\x02", "SVOOPSBN"});
  }
  {
    std::vector<uint8_t> bad = good;
    BundleFixedHeader fixed = GetFixed(bad);
    fixed.format_version = 2;
    SetFixed(bad, fixed);
    ResignHeader(bad);
    ExpectRejected(bad, BundleError::kUnsupportedVersion, {"field 'format_version' is 2, need 1"});
  }
  for (uint32_t count : {0u, 17u, 0xffffffffu}) {
    std::vector<uint8_t> bad = good;
    BundleFixedHeader fixed = GetFixed(bad);
    fixed.part_count = count;
    SetFixed(bad, fixed);
    ExpectRejected(bad, BundleError::kBadPartCount,
                   {"field 'part_count' is " + std::to_string(count)});
  }
  {
    std::vector<uint8_t> bad = good;
    BundleFixedHeader fixed = GetFixed(bad);
    fixed.part_count = 3;  // header_size still says 4 parts.
    SetFixed(bad, fixed);
    ExpectRejected(bad, BundleError::kBadHeaderSize,
                   {"field 'header_size' is 288, need 232 for part_count 3"});
  }
  {
    std::vector<uint8_t> bad = good;
    BundleFixedHeader fixed = GetFixed(bad);
    fixed.flags = 0x10;
    SetFixed(bad, fixed);
    ResignHeader(bad);
    ExpectRejected(bad, BundleError::kNonZeroFlags, {"field 'flags' is 0x10, need 0"});
  }
  {
    std::vector<uint8_t> bad = good;
    BundleFixedHeader fixed = GetFixed(bad);
    fixed.file_size -= 1;
    SetFixed(bad, fixed);
    ResignHeader(bad);
    ExpectRejected(bad, BundleError::kFileSizeMismatch,
                   {"field 'file_size' is " + std::to_string(bad.size() - 1)});
  }
  {
    std::vector<uint8_t> bad = good;
    BundleFixedHeader fixed = GetFixed(bad);
    fixed.file_size += 4096;
    SetFixed(bad, fixed);
    ResignHeader(bad);
    ExpectRejected(bad, BundleError::kTruncated, {"truncated", std::to_string(bad.size() + 4096)});
  }
}

// Applies `edit` to part table entry `index` and re-signs the header.
std::vector<uint8_t> WithEntry(std::vector<uint8_t> bytes, int index,
                               void (*edit)(BundlePartEntry&)) {
  BundlePartEntry entry = GetEntry(bytes, index);
  edit(entry);
  SetEntry(bytes, index, entry);
  ResignHeader(bytes);
  return bytes;
}

TEST(BundleTest, PartTableEntriesAreChecked) {
  const std::vector<uint8_t> good = Serialize(SampleContents());
  const BundlePartEntry kernel = GetEntry(good, 0);
  const BundlePartEntry initramfs = GetEntry(good, 1);
  ASSERT_EQ(kernel.offset, 4096u);
  ASSERT_GT(kernel.size, 3 * 4096u);

  struct Case {
    const char* what;
    int index;
    void (*edit)(BundlePartEntry&);
    BundleError error;
    std::vector<std::string> needles;
  };
  const Case cases[] = {
      {"reserved",
       2,
       [](BundlePartEntry& e) { e.reserved = 1; },
       BundleError::kNonZeroReserved,
       {"part 'capture_cmdline' (table entry 2): field 'reserved' is 0x1"}},
      {"unknown type",
       1,
       [](BundlePartEntry& e) { e.type = 6; },
       BundleError::kUnknownPartType,
       {"table entry 1: field 'type' is 6, need 1 (capture_kernel)"}},
      {"type zero",
       0,
       [](BundlePartEntry& e) { e.type = 0; },
       BundleError::kUnknownPartType,
       {"field 'type' is 0"}},
      {"duplicate",
       1,
       [](BundlePartEntry& e) { e.type = 1; },
       BundleError::kDuplicatePartType,
       {"part 'capture_kernel' (table entry 1): field 'type' is 1", "appear once"}},
      {"unaligned",
       1,
       [](BundlePartEntry& e) { e.offset += 1; },
       BundleError::kMisalignedPart,
       {"part 'capture_initramfs' (table entry 1): field 'offset' is", "need a multiple of 4096"}},
      {"inside header",
       0,
       [](BundlePartEntry& e) { e.offset = 0; },
       BundleError::kPartOverlapsHeader,
       {"part 'capture_kernel' (table entry 0): field 'offset' is 0",
        "inside the 288-byte header"}},
      {"size past end",
       3,
       [](BundlePartEntry& e) { e.size += 1; },
       BundleError::kPartOutOfRange,
       {"part 'purgatory' (table entry 3)", "run past file_size"}},
      {"offset past end",
       3,
       [](BundlePartEntry& e) { e.offset += uint64_t{4096} * 16; },
       BundleError::kPartOutOfRange,
       {"part 'purgatory' (table entry 3)"}},
      {"offset+size wraps",
       3,
       [](BundlePartEntry& e) { e.offset = 0xfffffffffffff000u; },
       BundleError::kPartOutOfRange,
       {"0xfffffffffffff000"}},
      {"huge size",
       2,
       [](BundlePartEntry& e) { e.size = ~uint64_t{0}; },
       BundleError::kPartOutOfRange,
       {"part 'capture_cmdline'"}},
      {"overlap",
       1,
       [](BundlePartEntry& e) { e.offset = uint64_t{2} * 4096; },
       BundleError::kPartsOverlap,
       {"part 'capture_initramfs' (table entry 1): field 'offset' is 0x2000, "
        "inside the previous part 'capture_kernel' [0x1000, "}},
      {"same offset as previous",
       1,
       [](BundlePartEntry& e) { e.offset = 4096; },
       BundleError::kPartsOverlap,
       {"inside the previous part 'capture_kernel'"}},
      {"empty kernel",
       0,
       [](BundlePartEntry& e) { e.size = 0; },
       BundleError::kEmptyPart,
       {"part 'capture_kernel' (table entry 0): field 'size' is 0"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::vector<uint8_t> bad = WithEntry(good, c.index, c.edit);
    int failed_part = -2;
    EXPECT_EQ(HeaderError(bad, &failed_part), c.error);
    EXPECT_EQ(failed_part, c.index);
    ExpectRejected(bad, c.error, c.needles);
  }

  // Out of order: entries 0 and 1 swapped (each still pointing at its data).
  std::vector<uint8_t> swapped = good;
  SetEntry(swapped, 0, initramfs);
  SetEntry(swapped, 1, kernel);
  ResignHeader(swapped);
  ExpectRejected(swapped, BundleError::kPartsOutOfOrder,
                 {"part 'capture_kernel' (table entry 1): field 'offset' is "
                  "0x1000, before the previous part 'capture_initramfs'"});
}

TEST(BundleTest, MissingPartsAreNamed) {
  auto parts = ValidRawParts();
  ASSERT_TRUE(ParseBundle(BuildRaw(parts)).ok());

  parts.pop_back();  // No purgatory.
  ExpectRejected(BuildRaw(parts), BundleError::kMissingPart,
                 {"bundle: required part 'purgatory' missing"});

  auto only_kernel = ValidRawParts();
  only_kernel.resize(1);
  ExpectRejected(BuildRaw(only_kernel), BundleError::kMissingPart,
                 {"'capture_initramfs', 'capture_cmdline', 'purgatory'"});
}

TEST(BundleTest, CommandLineRulesAreChecked) {
  auto parts = ValidRawParts();
  parts[2].second = std::string("quiet\0evil", 10);
  ExpectRejected(BuildRaw(parts), BundleError::kCmdlineHasNul,
                 {"part 'capture_cmdline' (table entry 2): the command line "
                  "has a NUL byte at offset 5"});

  parts[2].second = std::string(4097, 'x');
  ExpectRejected(BuildRaw(parts), BundleError::kCmdlineTooLong,
                 {"field 'size' is 4097", "at most 4096"});

  parts[2].second = std::string(4096, 'x');
  EXPECT_TRUE(ParseBundle(BuildRaw(parts)).ok());
  parts[2].second.clear();
  EXPECT_TRUE(ParseBundle(BuildRaw(parts)).ok());
}

TEST(BundleTest, OtherPartOrdersAndGapsAreAccepted) {
  // The reader requires table order, not a particular type order, and allows
  // gaps between parts.
  auto parts = ValidRawParts();
  std::swap(parts[0], parts[3]);
  std::vector<uint8_t> bytes = BuildRaw(parts);
  absl::StatusOr<BundleContents> parsed = ParseBundle(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->capture_cmdline, "console=ttyS0");
  EXPECT_EQ(parsed->purgatory, std::vector<uint8_t>(300, 'p'));
}

TEST(BundleTest, ErrorAndTypeNamesAreDistinct) {
  std::vector<std::string> names;
  for (int e = 0; e <= static_cast<int>(BundleError::kPartDigestMismatch); ++e) {
    const char* name = BundleErrorName(static_cast<BundleError>(e));
    ASSERT_NE(name, nullptr);
    for (const std::string& other : names) EXPECT_NE(other, name) << e;
    names.push_back(name);
  }
  EXPECT_STREQ(BundlePartTypeName(1), "capture_kernel");
  EXPECT_STREQ(BundlePartTypeName(2), "capture_initramfs");
  EXPECT_STREQ(BundlePartTypeName(3), "capture_cmdline");
  EXPECT_STREQ(BundlePartTypeName(4), "purgatory");
  EXPECT_STREQ(BundlePartTypeName(5), "capture_kernel_image");
  EXPECT_STREQ(BundlePartTypeName(0), "unknown");
  EXPECT_STREQ(BundlePartTypeName(99), "unknown");
}

class BundleFileTest : public testing::Test {
 protected:
  std::string dir_ = testing::TempDir();
};

TEST_F(BundleFileTest, WriteThenReadRoundTrips) {
  const std::string path = dir_ + "/roundtrip.bundle";
  const BundleContents contents = SampleContents();
  ASSERT_TRUE(WriteBundleFile(path, contents).ok());
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
  EXPECT_EQ(access((path + ".tmp").c_str(), F_OK), -1) << "temporary file left behind";

  absl::StatusOr<BundleContents> read = ReadBundleFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == contents);

  // The file holds exactly the serialized bytes.
  absl::StatusOr<Sha256Digest> file_digest = Sha256OfFile(path);
  ASSERT_TRUE(file_digest.ok()) << file_digest.status();
  EXPECT_EQ(*file_digest, Sha256BoringSsl(Serialize(contents)));

  // Overwriting replaces the old bundle.
  BundleContents other = contents;
  other.capture_cmdline = "quiet";
  ASSERT_TRUE(WriteBundleFile(path, other).ok());
  read = ReadBundleFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->capture_cmdline, "quiet");
  remove(path.c_str());
}

TEST_F(BundleFileTest, WriteRefusesInvalidContentsAndKeepsOldFile) {
  const std::string path = dir_ + "/keep.bundle";
  ASSERT_TRUE(WriteBundleFile(path, SampleContents()).ok());
  BundleContents bad = SampleContents();
  bad.purgatory.clear();
  const absl::Status status = WriteBundleFile(path, bad);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(HasSubstr(status.message(), "part 'purgatory' is empty"));
  absl::StatusOr<BundleContents> read = ReadBundleFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == SampleContents());
  remove(path.c_str());
}

TEST_F(BundleFileTest, WriteIntoMissingDirectoryNamesPath) {
  const std::string path = dir_ + "/no/such/dir/x.bundle";
  const absl::Status status = WriteBundleFile(path, SampleContents());
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(HasSubstr(status.message(), path + ".tmp"));
  EXPECT_TRUE(HasSubstr(status.message(), "No such file or directory"));
}

TEST_F(BundleFileTest, ReadErrorsNameThePath) {
  const std::string missing = dir_ + "/missing.bundle";
  absl::StatusOr<BundleContents> read = ReadBundleFile(missing);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(HasSubstr(read.status().message(), missing));

  // A corrupted file: the message names the file and the part.
  const std::string path = dir_ + "/corrupt.bundle";
  std::vector<uint8_t> bytes = Serialize(SampleContents());
  bytes[GetEntry(bytes, 1).offset + 5] ^= 1;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  read = ReadBundleFile(path);
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(HasSubstr(read.status().message(),
                        "bundle '" + path + "': part 'capture_initramfs' SHA-256 mismatch"));
  remove(path.c_str());
}

}  // namespace
}  // namespace saveoops
