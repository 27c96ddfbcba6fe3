// Random-access bytes: the one way Saveoops parsers read a file, a device or
// a buffer at arbitrary offsets. The vmcore reader (capture/vmcore.h), the
// record store (store/ring.h), the partition-table walker
// (common/partition_table.h) and the UEFI backend's strict GPT reader all
// read through a ByteSource, so each works the same on /proc/vmcore, a block
// device, a disk image file and a test buffer.
//
// absl-free (common/status.h; absl::Span is header-only), because the
// static capture program links it.
//
// Example:
//   StatusOr<std::unique_ptr<FileByteSource>> disk = FileByteSource::Open(path);
//   if (!disk.ok()) return disk.status();
//   LegacyMbr mbr;
//   Status s = ReadStructAt(**disk, 0, &mbr, "disk.img");
//   // "disk.img: read of 512 bytes at byte 0 is outside its 100 bytes"
#ifndef SAVEOOPS_COMMON_BYTE_SOURCE_H_
#define SAVEOOPS_COMMON_BYTE_SOURCE_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>

#include "absl/types/span.h"
#include "common/status.h"

namespace saveoops {

// Bytes read by offset. Implementations never move any shared file offset,
// so one source can serve several readers.
class ByteSource {
 public:
  // Value of size() when the length is not known (then reads past the end
  // simply come back short).
  static constexpr uint64_t kUnknownSize = UINT64_MAX;

  virtual ~ByteSource() = default;

  // Reads up to out.size() bytes at `offset` into `out`. Returns how many
  // were read: fewer than out.size() only at the end of the source (0 at or
  // past it). Fails only on an I/O error.
  virtual StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> out) const = 0;

  // Total length in bytes, or kUnknownSize.
  virtual uint64_t size() const = 0;
};

// A ByteSource over a caller-owned buffer that must outlive it.
class MemoryByteSource : public ByteSource {
 public:
  explicit MemoryByteSource(absl::Span<const uint8_t> bytes) : bytes_(bytes) {}

  StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> out) const override;
  uint64_t size() const override { return bytes_.size(); }

 private:
  absl::Span<const uint8_t> bytes_;
};

// A ByteSource over a file descriptor, read with pread(2) (so it never moves
// the descriptor's file offset). The size is fstat(2)'s for a regular file
// (/proc/vmcore reports its true size there), the one given to the
// constructor if any (a block device's BLKGETSIZE64), else kUnknownSize.
class FileByteSource : public ByteSource {
 public:
  // Wraps `fd` without taking ownership; the caller closes it.
  explicit FileByteSource(int fd);
  // As above, with the size known to the caller.
  FileByteSource(int fd, uint64_t size);
  ~FileByteSource() override;
  FileByteSource(const FileByteSource&) = delete;
  FileByteSource& operator=(const FileByteSource&) = delete;

  // Opens `path` read-only; the returned source closes it when destroyed.
  // The error names the path and errno text.
  static StatusOr<std::unique_ptr<FileByteSource>> Open(const std::string& path);

  StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> out) const override;
  uint64_t size() const override { return size_; }

 private:
  FileByteSource(int fd, bool owns_fd, uint64_t size);

  int fd_;
  bool owns_fd_;
  uint64_t size_;
};

// The window [offset, offset + size) of another source (which must outlive
// it), clipped to that source's size when it is known: byte 0 of the slice
// is byte `offset` of the base.
class ByteSourceSlice : public ByteSource {
 public:
  ByteSourceSlice(const ByteSource& base, uint64_t offset, uint64_t size);

  StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> out) const override;
  uint64_t size() const override { return size_; }

 private:
  const ByteSource& base_;
  uint64_t offset_;
  uint64_t size_;
};

// Reads exactly out.size() bytes at `offset`, or fails naming `name`:
//   OutOfRange "NAME: read of N bytes at byte M is outside its S bytes"
//     (checked before reading, when the size is known);
//   DataLoss   "NAME: read of N bytes at byte M failed: <I/O error>";
//   DataLoss   "NAME: read of N bytes at byte M hit end of file after K
//               bytes (did the file shrink?)" (the source came back short).
Status ReadExactlyAt(const ByteSource& source, uint64_t offset, absl::Span<uint8_t> out,
                     const std::string& name);

// ReadExactlyAt() into a plain-data struct (a packed on-disk header).
template <typename T>
Status ReadStructAt(const ByteSource& source, uint64_t offset, T* out, const std::string& name) {
  return ReadExactlyAt(source, offset,
                       absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(out), sizeof(T)), name);
}

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_BYTE_SOURCE_H_
