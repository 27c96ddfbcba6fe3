// Files, the one way Saveoops reads and writes them: an owned descriptor,
// bounded reads that refuse what is not a regular file, pread/pwrite loops,
// and one atomic write (a temporary file created exclusively beside the
// target, written, fsync()ed, renamed over the target, and the directory
// fsync()ed; on any failure the temporary file is removed, so a writer
// either completes or leaves nothing behind).
//
// absl-free (common/status.h), because the libraries below host/ need it
// too: store's collect, the initramfs builder, the capture program. Host
// code gets absl::Status by implicit conversion.
//
// Example:
//   StatusOr<std::vector<uint8_t>> kernel =
//       ReadFileBounded(path, kMaxKernelBytes, "--kernel");
//   // "--kernel /boot: is a directory, not a file"
//   Status s = WriteFileAtomic(out, bytes.data(), bytes.size(), 0600);
#ifndef SAVEOOPS_COMMON_FILES_H_
#define SAVEOOPS_COMMON_FILES_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace saveoops {

// An owned file descriptor: closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();
  // Closes the descriptor held, if any, and holds `fd`.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// What a bounded read accepts besides a regular file.
enum class ReadableKind {
  kRegularFile,
  // A regular file or a block device (a store partition, a disk).
  kFileOrBlockDevice,
};

// Reads all of `path`, which must be a regular file (or what `kind` allows)
// of at most `max_bytes`. `what` names the input in errors (a flag such as
// "--kernel", or "purgatory"): a directory, a FIFO, a character device
// (/dev/zero), a missing or unreadable path, or a file over the limit each
// get an error naming `what` and `path`. Files whose size stat() does not
// know (/proc, /sys) are read to their end, still bounded by `max_bytes`.
StatusOr<std::vector<uint8_t>> ReadFileBounded(const std::string& path, uint64_t max_bytes,
                                               const std::string& what,
                                               ReadableKind kind = ReadableKind::kRegularFile);
StatusOr<std::string> ReadTextFileBounded(const std::string& path, uint64_t max_bytes,
                                          const std::string& what);

// pread()/pwrite() of exactly `size` bytes at `offset`, retrying short
// transfers and EINTR. A read that meets the end of the file first is
// OutOfRange; `what` names the file in errors.
Status PreadFull(int fd, void* buf, size_t size, uint64_t offset, const std::string& what);
Status PwriteFull(int fd, const void* buf, size_t size, uint64_t offset, const std::string& what);
// write() of all `size` bytes at the file position.
Status WriteFull(int fd, const void* buf, size_t size, const std::string& what);

// A file written in place of `path` only when Commit() succeeds. Create()
// makes `path`.tmp-XXXXXXXX (random) in the same directory with
// O_CREAT|O_EXCL|O_NOFOLLOW, so a planted file or symlink is never written
// through; Commit() applies `mode` (whatever the umask), fsync()s the file,
// renames it over `path` and fsync()s the directory. Destroying an
// uncommitted AtomicFile removes the temporary file.
class AtomicFile {
 public:
  static StatusOr<AtomicFile> Create(const std::string& path, mode_t mode);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return fd_.get(); }
  const std::string& temp_path() const { return temp_path_; }
  Status Commit();

 private:
  AtomicFile(std::string path, std::string temp_path, mode_t mode, UniqueFd fd);
  std::string path_, temp_path_;
  mode_t mode_ = 0600;
  UniqueFd fd_;
  bool done_ = false;
};

// The whole of `data` as `path`, through AtomicFile.
Status WriteFileAtomic(const std::string& path, const void* data, size_t size, mode_t mode);
inline Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode) {
  return WriteFileAtomic(path, data.data(), data.size(), mode);
}
inline Status WriteFileAtomic(const std::string& path, const std::vector<uint8_t>& data,
                              mode_t mode) {
  return WriteFileAtomic(path, data.data(), data.size(), mode);
}

// Removes `path` and everything below it, never following a symlink (a link
// is removed, not what it points to) nor crossing into another file system.
// A missing `path` is OK; the first failure is returned, naming the entry.
Status RemoveTree(const std::string& path);

// fsync() of the directory `dir`, making a rename or a new name in it durable
// (rename(2) updates only the directory, which has its own dirty state).
Status FsyncDirectory(const std::string& dir);

// Refuses to write into `dir` when someone else could change what is
// written there: `dir` must be a directory (not a symlink to one) owned by
// the effective user or by root, and not writable by group or others unless
// it has the sticky bit (/tmp: nobody can then replace our names). `what`
// names it in errors ("--out"), which say which rule failed and why.
// A missing `dir` is NotFound.
Status CheckTrustedDirectory(const std::string& dir, const std::string& what);

// The directory part of `path` ("." for a bare name).
std::string DirectoryOf(const std::string& path);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_FILES_H_
