#include "common/byte_source.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::vector<uint8_t> Counting(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i);
  return v;
}

TEST(ByteSourceTest, MemoryReadsShortAtTheEnd) {
  const std::vector<uint8_t> data = Counting(10);
  MemoryByteSource source(data);
  EXPECT_EQ(source.size(), 10u);
  uint8_t out[4] = {};
  EXPECT_EQ(*source.ReadAt(8, absl::MakeSpan(out)), 2u);
  EXPECT_EQ(out[0], 8);
  EXPECT_EQ(out[1], 9);
  EXPECT_EQ(*source.ReadAt(10, absl::MakeSpan(out)), 0u);
  EXPECT_EQ(*source.ReadAt(UINT64_MAX, absl::MakeSpan(out)), 0u);
  EXPECT_EQ(*source.ReadAt(0, absl::Span<uint8_t>()), 0u);
}

TEST(ByteSourceTest, FileReadsWhatWasWrittenAndKnowsItsSize) {
  std::string path = testing::TempDir() + "/byte_source_test.XXXXXX";
  const int fd = mkstemp(&path[0]);
  ASSERT_GE(fd, 0);
  const std::vector<uint8_t> data = Counting(300);
  ASSERT_EQ(write(fd, data.data(), data.size()), 300);
  {
    FileByteSource source(fd);
    EXPECT_EQ(source.size(), 300u);
    uint8_t out[8];
    ASSERT_EQ(*source.ReadAt(296, absl::MakeSpan(out)), 4u);
    EXPECT_EQ(out[3], static_cast<uint8_t>(299));
    EXPECT_EQ(*source.ReadAt(UINT64_MAX - 2, absl::MakeSpan(out)), 0u);
    // A size given by the caller (a block device's) is kept.
    FileByteSource sized(fd, 100);
    EXPECT_EQ(sized.size(), 100u);
  }
  close(fd);
  absl::StatusOr<std::unique_ptr<FileByteSource>> opened = FileByteSource::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ((*opened)->size(), 300u);
  unlink(path.c_str());
  absl::StatusOr<std::unique_ptr<FileByteSource>> missing = FileByteSource::Open(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.status().message(), path)) << missing.status();
}

TEST(ByteSourceTest, PipeHasUnknownSizeAndReadsFail) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    FileByteSource source(fds[0]);
    EXPECT_EQ(source.size(), ByteSource::kUnknownSize);
    uint8_t out[4];
    // pread on a pipe fails with ESPIPE: an error, not a crash.
    EXPECT_FALSE(source.ReadAt(0, absl::MakeSpan(out)).ok());
    absl::Status s = ReadExactlyAt(source, 0, absl::MakeSpan(out), "pipe");
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(absl::StrContains(s.message(), "pipe: read of 4 bytes at byte 0 failed: pread"))
        << s;
  }
  close(fds[0]);
  close(fds[1]);
}

TEST(ByteSourceTest, SliceIsAWindowClippedToItsBase) {
  const std::vector<uint8_t> data = Counting(100);
  MemoryByteSource base(data);
  ByteSourceSlice slice(base, 90, 50);
  EXPECT_EQ(slice.size(), 10u);
  uint8_t out[16];
  ASSERT_EQ(*slice.ReadAt(0, absl::MakeSpan(out)), 10u);
  EXPECT_EQ(out[0], 90);
  EXPECT_EQ(*slice.ReadAt(10, absl::MakeSpan(out)), 0u);
  ByteSourceSlice past(base, 200, 10);
  EXPECT_EQ(past.size(), 0u);
  ByteSourceSlice inner(base, 10, 20);
  ASSERT_EQ(*inner.ReadAt(15, absl::MakeSpan(out)), 5u);
  EXPECT_EQ(out[0], 25);
  EXPECT_EQ(out[4], 29);
}

TEST(ByteSourceTest, ReadExactlyNamesTheSourceAndTheRange) {
  const std::vector<uint8_t> data = Counting(64);
  MemoryByteSource source(data);
  uint8_t out[16];
  EXPECT_TRUE(ReadExactlyAt(source, 48, absl::MakeSpan(out), "disk").ok());
  EXPECT_EQ(out[15], 63);
  absl::Status s = ReadExactlyAt(source, 49, absl::MakeSpan(out), "disk");
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(), "disk: read of 16 bytes at byte 49 is outside its 64 bytes");
  s = ReadExactlyAt(source, UINT64_MAX, absl::MakeSpan(out), "disk");
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  struct Pair {
    uint32_t a, b;
  } pair;
  ASSERT_TRUE(ReadStructAt(source, 4, &pair, "disk").ok());
  EXPECT_EQ(pair.a, 0x07060504u);

  // A source that says it is bigger than it is (a file that shrank).
  class Shrunk : public ByteSource {
   public:
    StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> out) const override {
      return offset < 10 ? std::min<size_t>(out.size(), 10 - offset) : 0;
    }
    uint64_t size() const override { return 100; }
  } shrunk;
  s = ReadExactlyAt(shrunk, 4, absl::MakeSpan(out), "store");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "store: read of 16 bytes at byte 4 hit end of file after 6 bytes (did the file "
            "shrink?)");
}

}  // namespace
}  // namespace saveoops
