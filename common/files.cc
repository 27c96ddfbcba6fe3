#include "common/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "common/format.h"

namespace saveoops {
namespace {

std::string Errno(int err) { return strerror(err); }

Status ErrnoError(int err, const std::string& message) {
  const std::string text = Format("%s: %s", message, Errno(err));
  switch (err) {
    case ENOENT:
      return NotFoundError(text);
    case EACCES:
    case EPERM:
      return PermissionDeniedError(text);
    default:
      return InternalError(text);
  }
}

// Why a path of this mode cannot be read as a file: "" if it can.
std::string RefusedKind(mode_t mode, ReadableKind kind) {
  if (S_ISREG(mode)) return "";
  if (S_ISBLK(mode) && kind == ReadableKind::kFileOrBlockDevice) return "";
  if (S_ISDIR(mode)) return "is a directory, not a file";
  if (S_ISFIFO(mode)) return "is a FIFO, not a file";
  if (S_ISSOCK(mode)) return "is a socket, not a file";
  if (S_ISCHR(mode)) return "is a character device, not a file";
  if (S_ISBLK(mode)) return "is a block device, not a file";
  return "is not a regular file";
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int UniqueFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

StatusOr<std::vector<uint8_t>> ReadFileBounded(const std::string& path, uint64_t max_bytes,
                                               const std::string& what, ReadableKind kind) {
  const std::string name = Format("%s %s", what, path);
  if (path.empty()) return InvalidArgumentError(Format("%s: no path given", what));
  // O_NONBLOCK: opening a FIFO must not wait for a writer; cleared below.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == EISDIR)
      return InvalidArgumentError(Format("%s: is a directory, not a file", name));
    return ErrnoError(errno, Format("cannot open %s", name));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoError(errno, Format("cannot stat %s", name));
  const std::string refused = RefusedKind(st.st_mode, kind);
  if (!refused.empty()) return InvalidArgumentError(Format("%s: %s", name, refused));
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags >= 0) fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);

  uint64_t expected = 0;
  if (S_ISBLK(st.st_mode)) {
    const off_t end = lseek(fd.get(), 0, SEEK_END);
    if (end < 0 || lseek(fd.get(), 0, SEEK_SET) != 0) {
      return ErrnoError(errno, Format("cannot size %s", name));
    }
    expected = static_cast<uint64_t>(end);
  } else {
    expected = static_cast<uint64_t>(st.st_size);
  }
  if (expected > max_bytes) {
    return InvalidArgumentError(
        Format("%s: %u bytes is more than the %u a %s can be", name, expected, max_bytes, what));
  }
  std::vector<uint8_t> out;
  out.reserve(expected);
  // Read to the end whatever stat() said: /proc and /sys files report 0.
  uint8_t chunk[65536];
  for (;;) {
    const ssize_t n = read(fd.get(), chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EISDIR)
        return InvalidArgumentError(Format("%s: is a directory, not a file", name));
      return ErrnoError(errno, Format("cannot read %s", name));
    }
    if (n == 0) break;
    if (out.size() + static_cast<uint64_t>(n) > max_bytes) {
      return InvalidArgumentError(
          Format("%s: more than the %u bytes a %s can be", name, max_bytes, what));
    }
    out.insert(out.end(), chunk, chunk + n);
  }
  return out;
}

StatusOr<std::string> ReadTextFileBounded(const std::string& path, uint64_t max_bytes,
                                          const std::string& what) {
  StatusOr<std::vector<uint8_t>> bytes = ReadFileBounded(path, max_bytes, what);
  if (!bytes.ok()) return bytes.status();
  return std::string(bytes->begin(), bytes->end());
}

Status PreadFull(int fd, void* buf, size_t size, uint64_t offset, const std::string& what) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, Format("cannot read %s at offset %u", what, offset + done));
    }
    if (n == 0) {
      return OutOfRangeError(Format("%s ends at offset %u, before the %u bytes wanted at %u", what,
                                    offset + done, size, offset));
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status PwriteFull(int fd, const void* buf, size_t size, uint64_t offset, const std::string& what) {
  const auto* p = static_cast<const uint8_t*>(buf);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pwrite(fd, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, Format("cannot write %s at offset %u", what, offset + done));
    }
    if (n == 0) return InternalError(Format("cannot write %s at offset %u", what, offset + done));
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status WriteFull(int fd, const void* buf, size_t size, const std::string& what) {
  const auto* p = static_cast<const uint8_t*>(buf);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, p + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, Format("cannot write %s", what));
    }
    if (n == 0) return InternalError(Format("cannot write %s", what));
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status CheckTrustedDirectory(const std::string& dir, const std::string& what) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0)
    return ErrnoError(errno, Format("cannot stat %s %s", what, dir));
  if (S_ISLNK(st.st_mode)) {
    return InvalidArgumentError(
        Format("%s %s: is a symlink; give the directory itself, not a link to it", what, dir));
  }
  if (!S_ISDIR(st.st_mode)) {
    return InvalidArgumentError(Format("%s %s: is not a directory", what, dir));
  }
  const uid_t me = geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    return PermissionDeniedError(
        Format("%s %s: owned by uid %u, not by you (uid %u) or root, who alone may write there; "
               "choose a directory of your own",
               what, dir, static_cast<uint64_t>(st.st_uid), static_cast<uint64_t>(me)));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return PermissionDeniedError(
        Format("%s %s: writable by group or others (mode %04o) without the sticky bit, so "
               "another user could replace what is written there; chmod go-w it or choose another",
               what, dir, static_cast<uint64_t>(st.st_mode & 07777)));
  }
  return OkStatus();
}

Status RemoveTree(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? OkStatus() : ErrnoError(errno, Format("cannot stat %s", path));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path.c_str()) != 0) return ErrnoError(errno, Format("cannot remove %s", path));
    return OkStatus();
  }
  // Children first, each looked at with lstat: a symlink to a directory is
  // an entry to unlink, never a directory to descend into.
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return ErrnoError(errno, Format("cannot open directory %s", path));
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  for (const std::string& name : names) {
    const std::string child = path + "/" + name;
    struct stat cst {};
    if (lstat(child.c_str(), &cst) != 0) return ErrnoError(errno, Format("cannot stat %s", child));
    if (S_ISDIR(cst.st_mode) && cst.st_dev != st.st_dev) {
      return FailedPreconditionError(Format("%s is another file system's mount point", child));
    }
    if (Status s = RemoveTree(child); !s.ok()) return s;
  }
  if (rmdir(path.c_str()) != 0) return ErrnoError(errno, Format("cannot remove %s", path));
  return OkStatus();
}

Status FsyncDirectory(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(errno, Format("cannot open directory %s", dir));
  if (fsync(fd.get()) != 0) return ErrnoError(errno, Format("cannot fsync directory %s", dir));
  return OkStatus();
}

AtomicFile::AtomicFile(std::string path, std::string temp_path, mode_t mode, UniqueFd fd)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), mode_(mode), fd_(std::move(fd)) {}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      mode_(other.mode_),
      fd_(std::move(other.fd_)),
      done_(other.done_) {
  other.done_ = true;
}

AtomicFile::~AtomicFile() {
  if (done_) return;
  fd_.reset();
  unlink(temp_path_.c_str());
}

StatusOr<AtomicFile> AtomicFile::Create(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgumentError("no output path given");
  // A few tries: a name taken by someone else's file is skipped, never
  // opened (O_EXCL), and a symlink planted there is never followed.
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint32_t random = 0;
    if (getrandom(&random, sizeof(random), 0) != sizeof(random)) {
      random = static_cast<uint32_t>(getpid()) * 2654435761u + static_cast<uint32_t>(attempt);
    }
    const std::string temp = Format("%s.tmp-%08x", path, random);
    const int fd =
        open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
    if (fd >= 0) return AtomicFile(path, temp, mode, UniqueFd(fd));
    if (errno != EEXIST) return ErrnoError(errno, Format("cannot create %s", temp));
  }
  return InternalError(Format("cannot create a temporary file beside %s", path));
}

Status AtomicFile::Commit() {
  if (done_) return FailedPreconditionError(Format("%s: already committed", path_));
  auto fail = [&](const Status& s) {
    done_ = true;
    fd_.reset();
    unlink(temp_path_.c_str());
    return s;
  };
  // fchmod, not the open mode: the umask must not loosen or tighten it.
  if (fchmod(fd_.get(), mode_) != 0)
    return fail(ErrnoError(errno, Format("cannot chmod %s", temp_path_)));
  if (fsync(fd_.get()) != 0) return fail(ErrnoError(errno, Format("cannot fsync %s", temp_path_)));
  if (close(fd_.release()) != 0)
    return fail(ErrnoError(errno, Format("cannot close %s", temp_path_)));
  if (rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return fail(ErrnoError(errno, Format("cannot rename %s to %s", temp_path_, path_)));
  }
  done_ = true;
  return FsyncDirectory(DirectoryOf(path_));
}

Status WriteFileAtomic(const std::string& path, const void* data, size_t size, mode_t mode) {
  StatusOr<AtomicFile> file = AtomicFile::Create(path, mode);
  if (!file.ok()) return file.status();
  Status written = WriteFull(file->fd(), data, size, file->temp_path());
  if (!written.ok()) return written;  // ~AtomicFile removes the temporary file
  return file->Commit();
}

}  // namespace saveoops
