#include "common/byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

#include "common/format.h"

namespace saveoops {

StatusOr<size_t> MemoryByteSource::ReadAt(uint64_t offset, absl::Span<uint8_t> out) const {
  if (offset >= bytes_.size()) return size_t{0};
  const size_t n = std::min<uint64_t>(out.size(), bytes_.size() - offset);
  if (n != 0) memcpy(out.data(), bytes_.data() + offset, n);
  return n;
}

FileByteSource::FileByteSource(int fd) : FileByteSource(fd, false, kUnknownSize) {}

FileByteSource::FileByteSource(int fd, uint64_t size) : FileByteSource(fd, false, size) {}

FileByteSource::FileByteSource(int fd, bool owns_fd, uint64_t size)
    : fd_(fd), owns_fd_(owns_fd), size_(size) {
  struct stat st;
  if (size_ == kUnknownSize && fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
    size_ = static_cast<uint64_t>(st.st_size);
  }
}

FileByteSource::~FileByteSource() {
  if (owns_fd_) close(fd_);
}

StatusOr<std::unique_ptr<FileByteSource>> FileByteSource::Open(const std::string& path) {
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    return NotFoundError(Concat("cannot open ", path, ": ", strerror(err)));
  }
  return std::unique_ptr<FileByteSource>(new FileByteSource(fd, true, kUnknownSize));
}

StatusOr<size_t> FileByteSource::ReadAt(uint64_t offset, absl::Span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t at = offset + done;
    if (at < offset || at > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
      break;  // Beyond any file: behave like end of file.
    }
    const ssize_t n = pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return DataLossError(
          Format("pread of %u bytes at offset 0x%x: %s", out.size() - done, at, strerror(err)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

ByteSourceSlice::ByteSourceSlice(const ByteSource& base, uint64_t offset, uint64_t size)
    : base_(base), offset_(offset), size_(size) {
  const uint64_t base_size = base.size();
  if (base_size != kUnknownSize) {
    offset_ = std::min(offset_, base_size);
    size_ = std::min(size_, base_size - offset_);
  }
}

StatusOr<size_t> ByteSourceSlice::ReadAt(uint64_t offset, absl::Span<uint8_t> out) const {
  if (offset >= size_) return size_t{0};
  const size_t n = std::min<uint64_t>(out.size(), size_ - offset);
  uint64_t at = 0;
  if (__builtin_add_overflow(offset_, offset, &at)) return size_t{0};
  return base_.ReadAt(at, out.first(n));
}

Status ReadExactlyAt(const ByteSource& source, uint64_t offset, absl::Span<uint8_t> out,
                     const std::string& name) {
  const uint64_t size = source.size();
  if (size != ByteSource::kUnknownSize && (offset > size || out.size() > size - offset)) {
    return OutOfRangeError(Format("%s: read of %u bytes at byte %u is outside its %u bytes", name,
                                  out.size(), offset, size));
  }
  size_t done = 0;
  while (done < out.size()) {
    StatusOr<size_t> n = source.ReadAt(offset + done, out.subspan(done));
    if (!n.ok()) {
      return DataLossError(Format("%s: read of %u bytes at byte %u failed: %s", name, out.size(),
                                  offset, n.status().message()));
    }
    if (*n == 0) {
      return DataLossError(
          Format("%s: read of %u bytes at byte %u hit end of file after %u bytes "
                 "(did the file shrink?)",
                 name, out.size(), offset, done));
    }
    done += *n;
  }
  return OkStatus();
}

}  // namespace saveoops
