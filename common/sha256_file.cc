#include "common/sha256_file.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/sha256.h"

namespace saveoops {
namespace {

constexpr size_t kFileChunkSize = size_t{1} << 20;  // 1 MiB.

static_assert(SHA256_DIGEST_LENGTH == kSha256DigestSize,
              "BoringSSL and common/sha256.h agree on the digest size");

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<Sha256Digest> Sha256OfFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("sha256: cannot open '", path, "'"));
  }
  FdCloser closer(fd);

  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  std::unique_ptr<uint8_t[]> chunk(new uint8_t[kFileChunkSize]);
  uint64_t offset = 0;
  for (;;) {
    const ssize_t n = read(fd, chunk.get(), kFileChunkSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(
          errno, absl::StrCat("sha256: cannot read '", path, "' at offset ", offset));
    }
    if (n == 0) break;
    SHA256_Update(&ctx, chunk.get(), static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }

  Sha256Digest digest;
  SHA256_Final(digest.bytes, &ctx);
  return digest;
}

Sha256Digest Sha256BoringSsl(absl::Span<const uint8_t> data) {
  Sha256Digest digest;
  SHA256(data.data(), data.size(), digest.bytes);
  return digest;
}

std::string Sha256Hex(const Sha256Digest& digest) {
  char hex[2 * kSha256DigestSize + 1];
  Sha256ToHex(digest, hex);
  return std::string(hex);
}

}  // namespace saveoops
