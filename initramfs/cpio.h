// Writing and reading the "newc" cpio format the kernel unpacks as its
// initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
//
// An archive is a sequence of entries, each a 110-byte ASCII header
//   magic "070701" (or "070702": data checksum present), then 13 fields of
//   exactly 8 hex digits: c_ino c_mode c_uid c_gid c_nlink c_mtime
//   c_filesize c_maj c_min c_rmaj c_rmin c_namesize c_chksum
// followed by the NUL-terminated name (c_namesize bytes including the NUL),
// zero padding so that header + name ends on a 4-byte boundary, the data
// (c_filesize bytes: file contents, or a symlink's target without NUL) and
// zero padding to a 4-byte boundary. An entry named "TRAILER!!!" ends the
// archive. The kernel accepts several archives back to back, separated by
// any number of zero bytes, each starting on a 4-byte boundary
// (buffer-format.rst: "initramfs ... may contain ... 0-padding", and
// init/initramfs.c, unpack_to_rootfs()).
//
// Example:
//   CpioWriter w;
//   RETURN_IF_ERROR(w.AddFile("/init", capture_binary, 0755));
//   RETURN_IF_ERROR(w.AddCharDevice("/dev/console", 0600, 5, 1));
//   std::vector<uint8_t> archive = w.Finish();
//   ASSIGN_OR_RETURN(std::vector<CpioEntry> entries, ParseCpio(archive));
//   // entries: "init", "dev" (added as /dev/console's parent), "dev/console"
#ifndef SAVEOOPS_INITRAMFS_CPIO_H_
#define SAVEOOPS_INITRAMFS_CPIO_H_

#include <stddef.h>
#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace saveoops {

// Size of a newc header: 6 magic bytes + 13 fields * 8 hex digits
// (buffer-format.rst, the "struct cpio_newc_header" table).
inline constexpr size_t kCpioHeaderSize = 110;

// Name of the entry that ends an archive (buffer-format.rst).
inline constexpr absl::string_view kCpioTrailerName = "TRAILER!!!";

// Longest name or symlink target the kernel unpacks, including the name's
// NUL: init/initramfs.c skips entries whose c_namesize exceeds PATH_MAX and
// symlinks whose c_filesize does.
inline constexpr uint32_t kCpioPathMax = 4096;

// st_mode file-type bits, spelled out so this header does not depend on the
// host's <sys/stat.h> (the values are the kernel's, include/uapi/linux/stat.h,
// which buffer-format.rst's c_mode refers to).
inline constexpr uint32_t kCpioTypeMask = 0170000;
inline constexpr uint32_t kCpioTypeSocket = 0140000;
inline constexpr uint32_t kCpioTypeSymlink = 0120000;
inline constexpr uint32_t kCpioTypeRegular = 0100000;
inline constexpr uint32_t kCpioTypeBlockDevice = 0060000;
inline constexpr uint32_t kCpioTypeDirectory = 0040000;
inline constexpr uint32_t kCpioTypeCharDevice = 0020000;
inline constexpr uint32_t kCpioTypeFifo = 0010000;
// Permission bits (rwx for user/group/other plus setuid, setgid, sticky).
inline constexpr uint32_t kCpioPermissionMask = 07777;

// One member of an archive as read by ParseCpio(). The trailer entries are
// not reported.
struct CpioEntry {
  // The name exactly as stored, without the NUL; newc names carry no
  // leading '/' when written by CpioWriter or gen_init_cpio ("init",
  // "dev/console").
  std::string name;
  // c_mode: file type (kCpioType*) | permission bits.
  uint32_t mode = 0;
  uint32_t ino = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 0;
  uint32_t mtime = 0;
  // Device holding the file (c_maj, c_min); the kernel uses it only to match
  // hard links.
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  // Device a character/block special file stands for (c_rmaj, c_rmin).
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
  // File contents, or a symlink's target (no NUL); empty for the others.
  std::vector<uint8_t> data;
  // Byte offset of this entry's header in the parsed buffer.
  size_t header_offset = 0;

  // File-type bits of `mode`.
  uint32_t type() const { return mode & kCpioTypeMask; }
  // Permission bits of `mode`.
  uint32_t permissions() const { return mode & kCpioPermissionMask; }
};

// Builds one newc archive in memory with deterministic bytes: every entry
// has mtime 0, uid and gid 0, c_maj/c_min 0, inode numbers 1, 2, 3... in
// entry order, nlink 2 for directories and 1 for everything else (so the
// kernel never mistakes two files for hard links: init/initramfs.c only
// links entries with c_nlink >= 2), and magic 070701 (no checksum).
//
// Paths may be given with or without a leading '/'; they are stored without
// it, as gen_init_cpio does. Missing parent directories are added (mode
// 0755) just before the first entry that needs them, so the kernel always
// finds a parent when it creates a file. A later AddDirectory() for such an
// implicit directory sets its mode instead of failing. Adding any other path
// twice is an error.
class CpioWriter {
 public:
  CpioWriter() = default;

  // Adds a directory with permission bits `mode` (<= 07777).
  absl::Status AddDirectory(absl::string_view path, uint32_t mode);
  // Adds a regular file holding `bytes` with permission bits `mode`. Fails
  // if the file has 4 GiB or more (c_filesize is 32 bits).
  absl::Status AddFile(absl::string_view path, absl::Span<const uint8_t> bytes, uint32_t mode);
  // Convenience overload for text files.
  absl::Status AddFile(absl::string_view path, absl::string_view bytes, uint32_t mode);
  // Adds a symbolic link (mode 0777) pointing at `target`, which must be
  // non-empty, without NUL and shorter than kCpioPathMax.
  absl::Status AddSymlink(absl::string_view path, absl::string_view target);
  // Adds a character device node, e.g. ("/dev/console", 0600, 5, 1)
  // (Documentation/admin-guide/devices.txt: 5:1 is the system console).
  absl::Status AddCharDevice(absl::string_view path, uint32_t mode, uint32_t major, uint32_t minor);

  // Serializes every entry added so far followed by the trailer. The writer
  // is left unchanged, so more entries may be added and Finish() called
  // again.
  std::vector<uint8_t> Finish() const;

  // Number of entries so far, implicit parent directories included.
  size_t entry_count() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;  // without leading '/'
    uint32_t mode = 0;
    uint32_t rdev_major = 0;
    uint32_t rdev_minor = 0;
    std::vector<uint8_t> data;
    bool implicit = false;  // a parent directory nobody asked for (yet)
  };

  // Validates `path`, strips the leading '/', adds missing parents and
  // appends a new entry (or, for an implicit directory re-added as a
  // directory, updates it). On success *slot points at the entry to fill.
  absl::Status AddEntry(absl::string_view path, uint32_t type, uint32_t mode, Entry** slot);

  std::vector<Entry> entries_;
  // Entry name -> index in entries_.
  std::map<std::string, size_t> index_;
};

// Parses `bytes` as one or more newc archives (see the file comment) and
// returns every entry except the trailers, in archive order. All-zero or
// empty input yields no entries.
//
// Strict: fails on a bad magic (naming gzip/xz/zstd/... if the bytes look
// compressed, which this reader does not support), a field that is not 8 hex
// digits, c_namesize 0 or above kCpioPathMax, a name that does not end in
// its NUL or contains another NUL, an empty name, a name or data running past
// the end (sizes are checked before any offset arithmetic, so no size can
// wrap), an unknown file type, a symlink target of kCpioPathMax bytes or
// more or with a NUL, c_mode bits above 0177777, a 070702 data checksum
// mismatch, an archive without trailer, or a following archive that does not
// start on a 4-byte boundary. Errors name the entry index (counting trailers,
// from 0), its offset and the field, e.g. "cpio entry 3 at offset 0x1a4: field
// 'c_filesize' is 'zz000001', not 8 hex digits".
absl::StatusOr<std::vector<CpioEntry>> ParseCpio(absl::Span<const uint8_t> bytes);

}  // namespace saveoops

#endif  // SAVEOOPS_INITRAMFS_CPIO_H_
