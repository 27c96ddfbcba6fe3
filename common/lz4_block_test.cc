#include "common/lz4_block.h"

#include <lz4.h>
#include <lz4hc.h>

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::vector<uint8_t> Compress(const std::vector<uint8_t>& in, bool hc) {
  std::vector<uint8_t> out(LZ4_compressBound(static_cast<int>(in.size())));
  const int n =
      hc ? LZ4_compress_HC(reinterpret_cast<const char*>(in.data()),
                           reinterpret_cast<char*>(out.data()), in.size(), out.size(),
                           LZ4HC_CLEVEL_DEFAULT)
         : LZ4_compress_default(reinterpret_cast<const char*>(in.data()),
                                reinterpret_cast<char*>(out.data()), in.size(), out.size());
  EXPECT_GT(n, 0);
  out.resize(n);
  return out;
}

// Inputs that exercise every path: literal-only, long literal and match
// runs (length extensions), overlapping matches with offsets 1..7, far
// offsets and incompressible bytes.
std::vector<std::vector<uint8_t>> Inputs() {
  std::vector<std::vector<uint8_t>> v;
  v.push_back({42});
  v.push_back(std::vector<uint8_t>(13, 'a'));
  v.push_back(std::vector<uint8_t>(1 << 20, 0));
  std::mt19937 rng(7);
  std::vector<uint8_t> random(100000);
  for (auto& b : random) b = static_cast<uint8_t>(rng());
  v.push_back(random);
  for (int period = 1; period <= 9; ++period) {
    std::vector<uint8_t> p(5000 + period);
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i % period * 37);
    v.push_back(p);
  }
  std::vector<uint8_t> text;
  for (int i = 0; i < 20000; ++i) {
    const std::string word = "saveoops" + std::to_string(rng() % 500) + " ";
    text.insert(text.end(), word.begin(), word.end());
    if (i % 1000 == 0) text.insert(text.end(), random.begin(), random.begin() + 300);
  }
  v.push_back(text);
  return v;
}

TEST(Lz4BlockTest, DecodesWhatLiblz4Encodes) {
  for (bool hc : {false, true}) {
    for (const std::vector<uint8_t>& in : Inputs()) {
      const std::vector<uint8_t> block = Compress(in, hc);
      std::vector<uint8_t> out(in.size());
      ASSERT_EQ(Lz4DecodeBlockExact(block.data(), block.size(), out.data(), out.size()),
                Lz4Error::kOk)
          << "size " << in.size() << " hc " << hc;
      EXPECT_EQ(out, in);
      // With spare capacity it reports the size it produced.
      std::vector<uint8_t> roomy(in.size() + 100);
      size_t produced = 0;
      ASSERT_EQ(Lz4DecodeBlock(block.data(), block.size(), roomy.data(), roomy.size(), &produced),
                Lz4Error::kOk);
      EXPECT_EQ(produced, in.size());
    }
  }
}

TEST(Lz4BlockTest, RefusesTooSmallOutput) {
  for (const std::vector<uint8_t>& in : Inputs()) {
    const std::vector<uint8_t> block = Compress(in, true);
    std::vector<uint8_t> out(in.size());
    EXPECT_EQ(Lz4DecodeBlockExact(block.data(), block.size(), out.data(), in.size() - 1),
              Lz4Error::kOutputOverrun);
  }
}

TEST(Lz4BlockTest, RefusesLargerExpectedSize) {
  const std::vector<uint8_t> in(4096, 'x');
  const std::vector<uint8_t> block = Compress(in, false);
  std::vector<uint8_t> out(in.size() + 1);
  EXPECT_EQ(Lz4DecodeBlockExact(block.data(), block.size(), out.data(), out.size()),
            Lz4Error::kSizeMismatch);
}

TEST(Lz4BlockTest, EveryTruncationIsAnError) {
  std::vector<uint8_t> in;
  for (int i = 0; i < 3000; ++i) in.push_back(static_cast<uint8_t>(i * i % 251 < 20 ? 0 : i % 7));
  const std::vector<uint8_t> block = Compress(in, true);
  std::vector<uint8_t> out(in.size());
  for (size_t n = 0; n < block.size(); ++n) {
    EXPECT_NE(Lz4DecodeBlockExact(block.data(), n, out.data(), out.size()), Lz4Error::kOk)
        << "prefix of " << n << " bytes";
  }
}

TEST(Lz4BlockTest, HandWrittenBlocks) {
  uint8_t out[64];
  size_t n = 0;
  // 2 literals "ab", then a match of 4 at offset 2, then 1 literal "c".
  const uint8_t good[] = {0x20, 'a', 'b', 0x02, 0x00, 0x10, 'c'};
  ASSERT_EQ(Lz4DecodeBlock(good, sizeof(good), out, sizeof(out), &n), Lz4Error::kOk);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), "abababc");
  // Offset 0 and an offset reaching before the output.
  const uint8_t zero_offset[] = {0x20, 'a', 'b', 0x00, 0x00, 0x10, 'c'};
  EXPECT_EQ(Lz4DecodeBlock(zero_offset, sizeof(zero_offset), out, sizeof(out), &n),
            Lz4Error::kBadOffset);
  const uint8_t far_offset[] = {0x20, 'a', 'b', 0x03, 0x00, 0x10, 'c'};
  EXPECT_EQ(Lz4DecodeBlock(far_offset, sizeof(far_offset), out, sizeof(out), &n),
            Lz4Error::kBadOffset);
  // A literal length extension that never ends.
  const uint8_t endless[] = {0xf0, 255, 255, 255};
  EXPECT_EQ(Lz4DecodeBlock(endless, sizeof(endless), out, sizeof(out), &n), Lz4Error::kTruncated);
  // Literals claimed beyond the input.
  const uint8_t short_literals[] = {0x50, 'a', 'b'};
  EXPECT_EQ(Lz4DecodeBlock(short_literals, sizeof(short_literals), out, sizeof(out), &n),
            Lz4Error::kTruncated);
  // A huge match length runs past the output instead of wrapping.
  const uint8_t long_match[] = {0x1f, 'a', 0x01, 0x00, 255, 255, 255, 255, 10, 0x10, 'c'};
  EXPECT_EQ(Lz4DecodeBlock(long_match, sizeof(long_match), out, sizeof(out), &n),
            Lz4Error::kOutputOverrun);
  EXPECT_EQ(Lz4DecodeBlock(good, 0, out, sizeof(out), &n), Lz4Error::kTruncated);
  EXPECT_STREQ(Lz4ErrorName(Lz4Error::kBadOffset), "LZ4 match offset points outside the output");
}

}  // namespace
}  // namespace saveoops
