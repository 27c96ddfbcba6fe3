#include "common/kernel_image_decompress.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

// Reads common/testdata_payload/payload.<ext>, made at build time by
// kernel_image_decompress_testdata.sh with the kernel build's flags.
std::vector<uint8_t> Payload(const std::string& ext) {
  std::ifstream f("common/testdata_payload/payload." + ext, std::ios::binary);
  EXPECT_TRUE(f.good()) << "payload." << ext << " is missing";
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

const char* Extension(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gz";
    case Compression::kXz:
      return "xz";
    case Compression::kLzma:
      return "lzma";
    case Compression::kZstd:
      return "zst";
    case Compression::kLz4:
      return "lz4";
    case Compression::kBzip2:
      return "bz2";
    case Compression::kLzo:
      return "lzo";
    case Compression::kUnknown:
      break;
  }
  return "";
}

constexpr uint64_t kBound = 64ull << 20;

class DecompressTest : public ::testing::TestWithParam<Compression> {
 protected:
  void SetUp() override {
    raw_ = Payload("raw");
    packed_ = Payload(Extension(GetParam()));
    ASSERT_GT(raw_.size(), 9u << 20);
    ASSERT_FALSE(packed_.empty());
  }
  std::vector<uint8_t> raw_, packed_;
};

TEST_P(DecompressTest, DetectsAndUnpacksWhatTheToolWrote) {
  EXPECT_EQ(DetectCompression(packed_), GetParam());
  absl::StatusOr<std::vector<uint8_t>> out = Decompress(GetParam(), packed_, kBound, "kernel");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(*out == raw_) << "unpacked " << out->size() << " bytes, want " << raw_.size();
}

TEST_P(DecompressTest, RefusesAnOutputOverTheBound) {
  absl::StatusOr<std::vector<uint8_t>> out = Decompress(GetParam(), packed_, 4u << 20, "kernel");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted) << out.status();
  EXPECT_TRUE(absl::StrContains(out.status().message(), "more than 4 MiB")) << out.status();
  EXPECT_TRUE(absl::StartsWith(out.status().message(), "kernel: ")) << out.status();
}

TEST_P(DecompressTest, RefusesATruncatedStream) {
  std::vector<uint8_t> half(packed_.begin(), packed_.begin() + packed_.size() / 2);
  absl::StatusOr<std::vector<uint8_t>> out = Decompress(GetParam(), half, kBound, "module x.ko");
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(absl::StartsWith(out.status().message(), "module x.ko: ")) << out.status();
  EXPECT_TRUE(absl::StrContains(out.status().message(), "does not unpack")) << out.status();
}

TEST_P(DecompressTest, RefusesADamagedStream) {
  std::vector<uint8_t> damaged = packed_;
  // Past every header, inside the compressed data.
  for (size_t i = 0; i < 256; ++i) damaged[damaged.size() / 3 + i] ^= 0xa5;
  absl::StatusOr<std::vector<uint8_t>> out = Decompress(GetParam(), damaged, kBound, "kernel");
  if (out.ok()) {
    // LZ4 and stored lzop blocks carry no checksum of their own: damage may
    // still decode, but never to the original.
    EXPECT_TRUE(GetParam() == Compression::kLz4) << CompressionName(GetParam());
    EXPECT_FALSE(*out == raw_);
  } else {
    EXPECT_TRUE(absl::StrContains(out.status().message(), "does not unpack")) << out.status();
  }
}

TEST_P(DecompressTest, RefusesEveryOtherFormat) {
  for (Compression other : kAllCompressions) {
    if (other == GetParam()) continue;
    absl::StatusOr<std::vector<uint8_t>> out = Decompress(other, packed_, kBound, "kernel");
    EXPECT_FALSE(out.ok()) << CompressionName(other) << " took " << CompressionName(GetParam());
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKernelFormat, DecompressTest, ::testing::ValuesIn(kAllCompressions),
                         [](const ::testing::TestParamInfo<Compression>& info) {
                           return std::string(Extension(info.param));
                         });

TEST(DecompressTest, UnknownFormatIsUnimplemented) {
  const std::vector<uint8_t> elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  EXPECT_EQ(DetectCompression(elf), Compression::kUnknown);
  EXPECT_EQ(DetectCompression({}), Compression::kUnknown);
  absl::StatusOr<std::vector<uint8_t>> out =
      Decompress(Compression::kUnknown, elf, kBound, "kernel");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(DecompressTest, EmptyInputIsAnErrorForEveryFormat) {
  for (Compression c : kAllCompressions) {
    absl::StatusOr<std::vector<uint8_t>> out = Decompress(c, {}, kBound, "kernel");
    EXPECT_FALSE(out.ok()) << CompressionName(c);
  }
}

}  // namespace
}  // namespace saveoops
