#include "common/sha256.h"

#include <stdint.h>
#include <stdio.h>

#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/sha256_file.h"
#include "gtest/gtest.h"

namespace saveoops {

// Makes gtest print engine parameters by name (found by argument-dependent
// lookup, so it lives in the enum's namespace).
void PrintTo(Sha256Engine engine, std::ostream* os) {
  *os << (engine == Sha256Engine::kShaNi ? "kShaNi" : "kPortable");
}

namespace {

// Passes if `text` contains `needle`; says what it looked for otherwise.
testing::AssertionResult HasSubstr(absl::string_view text, absl::string_view needle) {
  if (absl::StrContains(text, needle)) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "'" << text << "' does not contain '" << needle << "'";
}

std::string HashHex(const std::string& message, Sha256Engine engine) {
  return Sha256Hex(Sha256Hash(message.data(), message.size(), engine));
}

// The engines this CPU can run. kShaNi is included exactly when the CPU has
// the SHA extensions; CpuinfoAgreesWithCpuid below pins that to the kernel's
// view, so on a sha_ni machine (like the build machines) both engines run.
std::vector<Sha256Engine> RunnableEngines() {
  std::vector<Sha256Engine> engines = {Sha256Engine::kPortable};
  if (Sha256ShaNiSupported()) engines.push_back(Sha256Engine::kShaNi);
  return engines;
}

std::string EngineName(const testing::TestParamInfo<Sha256Engine>& info) {
  return info.param == Sha256Engine::kShaNi ? "ShaNi" : "Portable";
}

class Sha256EngineTest : public testing::TestWithParam<Sha256Engine> {};

INSTANTIATE_TEST_SUITE_P(Engines, Sha256EngineTest, testing::ValuesIn(RunnableEngines()),
                         EngineName);

// FIPS 180-2 Appendix B / NIST CAVP example vectors.
TEST_P(Sha256EngineTest, EmptyMessage) {
  EXPECT_EQ(HashHex("", GetParam()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_P(Sha256EngineTest, Abc) {
  EXPECT_EQ(HashHex("abc", GetParam()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_P(Sha256EngineTest, TwoBlockMessage448Bits) {
  EXPECT_EQ(HashHex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", GetParam()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_P(Sha256EngineTest, Message896Bits) {
  EXPECT_EQ(HashHex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                    GetParam()),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_P(Sha256EngineTest, OneMillionA) {
  const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  const std::string million(1000000, 'a');
  EXPECT_EQ(HashHex(million, GetParam()), expected);

  // The same message fed 1000 bytes at a time (not a multiple of 64).
  Sha256 streamed(GetParam());
  for (int i = 0; i < 1000; ++i) streamed.Update(million.data(), 1000);
  EXPECT_EQ(Sha256Hex(streamed.Finish()), expected);
}

// Every length around the padding boundaries (55/56/63/64 mod 64 bytes, FIPS
// 180-4 section 5.1.1) against BoringSSL.
TEST_P(Sha256EngineTest, EveryShortLengthMatchesBoringSsl) {
  std::mt19937_64 rng(0x5a0e0095);
  std::vector<uint8_t> data(300);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  for (size_t len = 0; len <= data.size(); ++len) {
    const absl::Span<const uint8_t> message(data.data(), len);
    EXPECT_EQ(Sha256Hash(message.data(), message.size(), GetParam()), Sha256BoringSsl(message))
        << "length " << len;
  }
}

// Random messages of random length, fed with random chunking, must hash to
// what BoringSSL computes.
TEST_P(Sha256EngineTest, RandomMessagesAndChunkingMatchBoringSsl) {
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<size_t> length_dist(0, 10000);
  constexpr int kIterations = 600;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    std::vector<uint8_t> message(length_dist(rng));
    for (uint8_t& b : message) b = static_cast<uint8_t>(rng());
    const Sha256Digest expected = Sha256BoringSsl(message);

    EXPECT_EQ(Sha256Hash(message.data(), message.size(), GetParam()), expected)
        << "one-shot, length " << message.size();

    // Chunk sizes mix tiny pieces (to exercise the partial-block buffer) and
    // large ones (to exercise in-place multi-block compression).
    Sha256 streamed(GetParam());
    size_t pos = 0;
    while (pos < message.size()) {
      const size_t max_chunk = (rng() % 4 == 0) ? 4096 : 70;
      size_t chunk = std::uniform_int_distribution<size_t>(0, max_chunk)(rng);
      if (chunk > message.size() - pos) chunk = message.size() - pos;
      streamed.Update(message.data() + pos, chunk);
      pos += chunk;
    }
    EXPECT_EQ(streamed.Finish(), expected)
        << "streamed, iteration " << iteration << ", length " << message.size();
  }
}

// SHA-NI reads the input in place with unaligned loads; feed it at every
// misalignment.
TEST_P(Sha256EngineTest, UnalignedInput) {
  std::mt19937_64 rng(77);
  std::vector<uint8_t> storage(64 * 9 + 16);
  for (uint8_t& b : storage) b = static_cast<uint8_t>(rng());
  for (size_t misalign = 0; misalign < 16; ++misalign) {
    const absl::Span<const uint8_t> message(storage.data() + misalign, size_t{64} * 9);
    EXPECT_EQ(Sha256Hash(message.data(), message.size(), GetParam()), Sha256BoringSsl(message))
        << "misalignment " << misalign;
  }
}

TEST_P(Sha256EngineTest, ZeroLengthUpdatesAreNoOps) {
  Sha256 hash(GetParam());
  hash.Update(nullptr, 0);
  hash.Update("a", 1);
  hash.Update(nullptr, 0);
  hash.Update("bc", 2);
  EXPECT_EQ(Sha256Hex(hash.Finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_P(Sha256EngineTest, ReportsItsEngine) { EXPECT_EQ(Sha256(GetParam()).engine(), GetParam()); }

// The kernel sets the "sha_ni" flag in /proc/cpuinfo from the same CPUID bit
// (arch/x86/include/asm/cpufeatures.h, X86_FEATURE_SHA_NI); the SSSE3 and
// SSE4.1 bits are "ssse3" and "sse4_1".
TEST(Sha256CpuTest, CpuinfoAgreesWithCpuid) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  ASSERT_TRUE(cpuinfo.is_open()) << "cannot open /proc/cpuinfo";
  std::string line;
  std::string flags;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      flags = line.substr(line.find(':') + 1) + " ";
      break;
    }
  }
  ASSERT_FALSE(flags.empty()) << "no 'flags' line in /proc/cpuinfo";
  const bool has_sha = flags.find(" sha_ni ") != std::string::npos;
  const bool has_ssse3 = flags.find(" ssse3 ") != std::string::npos;
  const bool has_sse41 = flags.find(" sse4_1 ") != std::string::npos;
  EXPECT_EQ(Sha256ShaNiSupported(), has_sha && has_ssse3 && has_sse41) << "cpuinfo flags:" << flags;
  EXPECT_EQ(Sha256BestEngine(),
            has_sha && has_ssse3 && has_sse41 ? Sha256Engine::kShaNi : Sha256Engine::kPortable);
}

TEST(Sha256DigestTest, EqualityComparesEveryByte) {
  Sha256Digest a = Sha256Hash("abc", 3, Sha256Engine::kPortable);
  Sha256Digest b = a;
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a != b);
  for (size_t i = 0; i < kSha256DigestSize; ++i) {
    b = a;
    b.bytes[i] ^= 0x01;
    EXPECT_FALSE(a == b) << "byte " << i;
    EXPECT_TRUE(a != b) << "byte " << i;
  }
}

TEST(Sha256DigestTest, ToHexIsLowercaseAndTerminated) {
  Sha256Digest d;
  for (size_t i = 0; i < kSha256DigestSize; ++i) {
    d.bytes[i] = static_cast<uint8_t>(i * 8 + 0x0f);
  }
  char hex[65];
  for (char& c : hex) c = 'X';
  Sha256ToHex(d, hex);
  EXPECT_EQ(hex[64], '\0');
  EXPECT_EQ(std::string(hex), "0f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff07");
  EXPECT_EQ(Sha256Hex(d), std::string(hex));
}

class Sha256FileTest : public testing::Test {
 protected:
  std::string WriteTempFile(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = testing::TempDir() + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    EXPECT_TRUE(out.good()) << "writing " << path;
    return path;
  }
};

TEST_F(Sha256FileTest, HashesFileLargerThanOneChunk) {
  // 2 MiB + 12345 bytes: two full 1 MiB reads and a short one.
  std::mt19937_64 rng(9);
  std::vector<uint8_t> bytes((2u << 20) + 12345);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  const std::string path = WriteTempFile("sha256_big.bin", bytes);

  absl::StatusOr<Sha256Digest> digest = Sha256OfFile(path);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, Sha256BoringSsl(bytes));
  EXPECT_EQ(*digest, Sha256Hash(bytes.data(), bytes.size(), Sha256BestEngine()));
  remove(path.c_str());
}

TEST_F(Sha256FileTest, HashesEmptyFile) {
  const std::string path = WriteTempFile("sha256_empty.bin", {});
  absl::StatusOr<Sha256Digest> digest = Sha256OfFile(path);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(Sha256Hex(*digest), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  remove(path.c_str());
}

TEST_F(Sha256FileTest, MissingFileNamesPathAndErrno) {
  const std::string path = testing::TempDir() + "/no_such_file_here";
  absl::StatusOr<Sha256Digest> digest = Sha256OfFile(path);
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(HasSubstr(digest.status().message(), path));
  EXPECT_TRUE(HasSubstr(digest.status().message(), "No such file"));
}

TEST_F(Sha256FileTest, DirectoryFailsOnReadNamingPath) {
  const std::string path = testing::TempDir();
  absl::StatusOr<Sha256Digest> digest = Sha256OfFile(path);
  ASSERT_FALSE(digest.ok());
  EXPECT_TRUE(HasSubstr(digest.status().message(), "cannot read"));
  EXPECT_TRUE(HasSubstr(digest.status().message(), path));
  EXPECT_TRUE(HasSubstr(digest.status().message(), "Is a directory"));
}

}  // namespace
}  // namespace saveoops
