#include "initramfs/cpio.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace saveoops {
namespace {

// Header field names in on-disk order (buffer-format.rst), used both to
// parse and to name a failing field in errors.
constexpr const char* kFieldNames[13] = {"c_ino",   "c_mode",     "c_uid",   "c_gid", "c_nlink",
                                         "c_mtime", "c_filesize", "c_maj",   "c_min", "c_rmaj",
                                         "c_rmin",  "c_namesize", "c_chksum"};
enum Field {
  kIno,
  kMode,
  kUid,
  kGid,
  kNlink,
  kMtime,
  kFilesize,
  kMaj,
  kMin,
  kRmaj,
  kRmin,
  kNamesize,
  kChksum,
  kFieldCount
};
static_assert(kFieldCount == 13, "newc has 13 header fields");
static_assert(6 + 8 * kFieldCount == kCpioHeaderSize,
              "magic + 13 fields of 8 hex digits is the 110-byte header");

constexpr absl::string_view kMagicNoChecksum = "070701";
constexpr absl::string_view kMagicChecksum = "070702";

constexpr uint32_t kImplicitDirMode = 0755;
constexpr uint32_t kSymlinkMode = 0777;

// Every newc header, name end and data end sits on a 4-byte boundary
// (buffer-format.rst: "padded to a multiple of four bytes").
constexpr size_t Align4(size_t n) { return (n + 3) & ~static_cast<size_t>(3); }

absl::Status PathError(absl::string_view path, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("cpio: path '", path, "' ", why));
}

// Checks a path for CpioWriter and returns it without its leading '/'.
absl::StatusOr<std::string> NormalizePath(absl::string_view path) {
  absl::string_view name = path;
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  if (name.empty()) return PathError(path, "is empty (the root needs no entry)");
  if (name.find('\0') != absl::string_view::npos) {
    return PathError(path, "contains a NUL byte");
  }
  if (name.size() + 1 > kCpioPathMax) {
    return PathError(path, absl::StrFormat("is %d bytes long; the kernel skips names of "
                                           "more than %d bytes including the NUL",
                                           name.size(), kCpioPathMax - 1));
  }
  // A member literally named TRAILER!!! would end the archive early.
  if (name == kCpioTrailerName) {
    return PathError(path, "is the archive trailer's name");
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == absl::string_view::npos) end = name.size();
    const absl::string_view component = name.substr(start, end - start);
    // Empty, "." and ".." components would make two spellings of one file,
    // so duplicate detection and parent creation could be fooled.
    if (component.empty() || component == "." || component == "..") {
      return PathError(path, absl::StrCat("has a component '", component,
                                          "' (empty, '.' and '..' are not "
                                          "allowed)"));
    }
    start = end + 1;
  }
  return std::string(name);
}

absl::Status CheckPermissions(absl::string_view path, uint32_t mode) {
  if ((mode & ~kCpioPermissionMask) != 0) {
    return PathError(path, absl::StrFormat("has mode 0%o with bits outside 07777; "
                                           "give permission bits only",
                                           mode));
  }
  return absl::OkStatus();
}

void AppendHeader(std::vector<uint8_t>& out, uint32_t ino, uint32_t mode, uint32_t nlink,
                  uint32_t filesize, uint32_t rdev_major, uint32_t rdev_minor, uint32_t namesize) {
  const uint32_t fields[kFieldCount] = {ino,         mode,     /*uid=*/0,   /*gid=*/0, nlink,
                                        /*mtime=*/0, filesize, /*maj=*/0,   /*min=*/0, rdev_major,
                                        rdev_minor,  namesize, /*chksum=*/0};
  std::string header(kMagicNoChecksum);
  for (uint32_t value : fields) absl::StrAppendFormat(&header, "%08x", value);
  out.insert(out.end(), header.begin(), header.end());
}

void PadTo4(std::vector<uint8_t>& out) { out.resize(Align4(out.size()), 0); }

void AppendMember(std::vector<uint8_t>& out, uint32_t ino, uint32_t mode, uint32_t nlink,
                  uint32_t rdev_major, uint32_t rdev_minor, absl::string_view name,
                  absl::Span<const uint8_t> data) {
  AppendHeader(out, ino, mode, nlink, static_cast<uint32_t>(data.size()), rdev_major, rdev_minor,
               static_cast<uint32_t>(name.size() + 1));
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  PadTo4(out);
  out.insert(out.end(), data.begin(), data.end());
  PadTo4(out);
}

// ---------------------------------------------------------------- reader

// Parses exactly 8 hex digits. Written out by hand because strtoul would
// accept signs, spaces and "0x" that the format does not allow.
bool ParseHex8(const uint8_t* p, uint32_t* value) {
  uint32_t v = 0;
  for (int i = 0; i < 8; ++i) {
    const uint8_t c = p[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    v = (v << 4) | digit;
  }
  *value = v;
  return true;
}

std::string Printable(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' && p[i] != '\\') {
      s.push_back(static_cast<char>(p[i]));
    } else {
      absl::StrAppendFormat(&s, "\\x%02x", p[i]);
    }
  }
  return s;
}

// Names the compression format whose magic starts `p` (n >= 6 bytes), or
// returns "" if none matches. These are the formats the kernel's
// decompress_method() recognises (lib/decompress.c).
absl::string_view CompressionName(const uint8_t* p) {
  struct Magic {
    const char* bytes;
    size_t size;
    const char* name;
  };
  static constexpr Magic kMagics[] = {
      {"\x1f\x8b", 2, "gzip"},
      {"\x1f\x9e", 2, "gzip"},
      {"BZh", 3, "bzip2"},
      {"\x5d\x00\x00", 3, "lzma"},
      {"\xfd"
       "7zXZ\x00",
       6, "xz"},
      {"\x89LZO", 4, "lzo"},
      {"\x02\x21\x4c\x18", 4, "lz4"},
      {"\x28\xb5\x2f\xfd", 4, "zstd"},
  };
  for (const Magic& m : kMagics) {
    if (memcmp(p, m.bytes, m.size) == 0) return m.name;
  }
  return "";
}

const char* TypeName(uint32_t type) {
  switch (type) {
    case kCpioTypeSocket:
      return "socket";
    case kCpioTypeSymlink:
      return "symlink";
    case kCpioTypeRegular:
      return "regular file";
    case kCpioTypeBlockDevice:
      return "block device";
    case kCpioTypeDirectory:
      return "directory";
    case kCpioTypeCharDevice:
      return "character device";
    case kCpioTypeFifo:
      return "fifo";
    default:
      return nullptr;
  }
}

class Reader {
 public:
  explicit Reader(absl::Span<const uint8_t> bytes) : bytes_(bytes) {}

  absl::StatusOr<std::vector<CpioEntry>> Run() {
    std::vector<CpioEntry> entries;
    size_t pos = 0;
    // Offset of the first entry after the last trailer, or npos if every
    // archive seen so far was closed by its trailer.
    size_t open_archive = absl::string_view::npos;
    for (;;) {
      // init/initramfs.c (unpack_to_rootfs, do_reset) eats zero bytes
      // between members and between archives, then expects the next member
      // on a 4-byte boundary.
      while (pos < bytes_.size() && bytes_[pos] == 0) ++pos;
      if (pos == bytes_.size()) break;
      if (pos % 4 != 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("cpio entry %d at offset 0x%x: does not start on a 4-byte "
                            "boundary after zero padding (the kernel would take these bytes "
                            "for a compressed archive)",
                            index_, pos));
      }
      if (open_archive == absl::string_view::npos) open_archive = pos;
      bool trailer = false;
      CpioEntry entry;
      absl::Status status = ParseEntry(pos, &entry, &pos, &trailer);
      if (!status.ok()) return status;
      ++index_;
      if (trailer) {
        open_archive = absl::string_view::npos;
      } else {
        entries.push_back(std::move(entry));
      }
    }
    if (open_archive != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("cpio entry %d at offset 0x%x: input ends without a '%s' entry "
                          "closing the archive that starts at offset 0x%x (truncated?)",
                          index_, pos, kCpioTrailerName, open_archive));
    }
    return entries;
  }

 private:
  template <typename... Args>
  absl::Status Error(size_t offset, const absl::FormatSpec<Args...>& format, const Args&... args) {
    return absl::InvalidArgumentError(
        absl::StrCat(absl::StrFormat("cpio entry %d at offset 0x%x: ", index_, offset),
                     absl::StrFormat(format, args...)));
  }

  absl::Status ParseEntry(size_t pos, CpioEntry* entry, size_t* next, bool* trailer) {
    const size_t left = bytes_.size() - pos;
    const uint8_t* header = bytes_.data() + pos;
    if (left < 6) {
      return Error(pos, "truncated header: %d bytes left, need %d", left, kCpioHeaderSize);
    }
    const absl::string_view magic(reinterpret_cast<const char*>(header), 6);
    const bool has_checksum = magic == kMagicChecksum;
    if (magic != kMagicNoChecksum && !has_checksum) {
      const absl::string_view compression = CompressionName(header);
      if (!compression.empty()) {
        return Error(pos,
                     "data is %s-compressed; only uncompressed newc archives "
                     "are supported",
                     compression);
      }
      if (magic == "070707") {
        return Error(pos,
                     "magic '070707' is the old portable (odc) format; the "
                     "kernel needs newc (070701), e.g. cpio -H newc");
      }
      return Error(pos, "bad magic '%s', need '%s' or '%s'", Printable(header, 6), kMagicNoChecksum,
                   kMagicChecksum);
    }
    if (left < kCpioHeaderSize) {
      return Error(pos, "truncated header: %d bytes left, need %d", left, kCpioHeaderSize);
    }
    uint32_t f[kFieldCount];
    for (int i = 0; i < kFieldCount; ++i) {
      const uint8_t* text = header + 6 + size_t{8} * i;
      if (!ParseHex8(text, &f[i])) {
        return Error(pos, "field '%s' is '%s', not 8 hex digits", kFieldNames[i],
                     Printable(text, 8));
      }
    }

    const uint32_t namesize = f[kNamesize];
    if (namesize == 0 || namesize > kCpioPathMax) {
      return Error(pos,
                   "field 'c_namesize' is %d; need 1..%d (the name with its "
                   "NUL, at most PATH_MAX)",
                   namesize, kCpioPathMax);
    }
    const size_t name_pos = pos + kCpioHeaderSize;
    if (namesize > bytes_.size() - name_pos) {
      return Error(pos,
                   "truncated name: c_namesize is %d but only %d bytes "
                   "remain",
                   namesize, bytes_.size() - name_pos);
    }
    const uint8_t* name = bytes_.data() + name_pos;
    if (name[namesize - 1] != 0) {
      return Error(pos, "name '%s' is not NUL-terminated at c_namesize %d",
                   Printable(name, namesize), namesize);
    }
    const void* first_nul = memchr(name, 0, namesize);
    if (first_nul != name + namesize - 1) {
      return Error(pos, "name '%s' has a NUL before its end (c_namesize %d)",
                   Printable(name, namesize - 1), namesize);
    }
    if (namesize == 1) return Error(pos, "empty name");
    entry->name.assign(reinterpret_cast<const char*>(name), namesize - 1);

    // namesize <= 4096 and name_pos + namesize <= size, so no wrap here.
    const size_t data_pos = Align4(name_pos + namesize);
    if (data_pos > bytes_.size()) {
      return Error(pos, "truncated padding after name '%s'", Printable(name, namesize - 1));
    }
    const uint32_t filesize = f[kFilesize];
    if (filesize > bytes_.size() - data_pos) {
      return Error(pos,
                   "truncated data of '%s': c_filesize is %d but only %d "
                   "bytes remain",
                   Printable(name, namesize - 1), filesize, bytes_.size() - data_pos);
    }
    const size_t data_end = data_pos + filesize;
    if (Align4(data_end) > bytes_.size()) {
      return Error(pos, "truncated padding after the data of '%s'", Printable(name, namesize - 1));
    }
    *next = Align4(data_end);

    if (entry->name == kCpioTrailerName) {
      *trailer = true;
      return absl::OkStatus();
    }
    *trailer = false;

    const uint32_t mode = f[kMode];
    // The kernel keeps c_mode in a 16-bit umode_t (init/initramfs.c), so
    // higher bits would be dropped silently.
    if ((mode & ~(kCpioTypeMask | kCpioPermissionMask)) != 0) {
      return Error(pos,
                   "field 'c_mode' of '%s' is 0x%08x: bits above the "
                   "16-bit st_mode are set",
                   entry->name, mode);
    }
    const uint32_t type = mode & kCpioTypeMask;
    const char* type_name = TypeName(type);
    if (type_name == nullptr) {
      return Error(pos, "field 'c_mode' of '%s' is 0%o: unknown file type 0%o", entry->name, mode,
                   type);
    }
    if (type == kCpioTypeSymlink) {
      if (filesize == 0 || filesize >= kCpioPathMax) {
        return Error(pos, "symlink '%s' has a %d-byte target; need 1..%d bytes", entry->name,
                     filesize, kCpioPathMax - 1);
      }
      // The kernel NUL-terminates the target it read (do_symlink), so an
      // inner NUL would silently shorten it.
      if (memchr(bytes_.data() + data_pos, 0, filesize) != nullptr) {
        return Error(pos, "symlink '%s' has a NUL byte in its target", entry->name);
      }
    } else if (type != kCpioTypeRegular && filesize != 0) {
      // init/initramfs.c (do_header) silently skips such a member.
      return Error(pos,
                   "field 'c_filesize' of %s '%s' is %d; only regular "
                   "files and symlinks carry data",
                   type_name, entry->name, filesize);
    }
    const uint8_t* data = bytes_.data() + data_pos;
    if (has_checksum && type == kCpioTypeRegular) {
      // buffer-format.rst: with magic 070702, c_chksum is the 32-bit sum of
      // all data bytes; init/initramfs.c rejects a mismatch.
      uint32_t sum = 0;
      for (uint32_t i = 0; i < filesize; ++i) sum += data[i];
      if (sum != f[kChksum]) {
        return Error(pos,
                     "field 'c_chksum' of '%s' is 0x%08x but the data sums "
                     "to 0x%08x",
                     entry->name, f[kChksum], sum);
      }
    }

    entry->mode = mode;
    entry->ino = f[kIno];
    entry->uid = f[kUid];
    entry->gid = f[kGid];
    entry->nlink = f[kNlink];
    entry->mtime = f[kMtime];
    entry->dev_major = f[kMaj];
    entry->dev_minor = f[kMin];
    entry->rdev_major = f[kRmaj];
    entry->rdev_minor = f[kRmin];
    entry->data.assign(data, data + filesize);
    entry->header_offset = pos;
    return absl::OkStatus();
  }

  absl::Span<const uint8_t> bytes_;
  int index_ = 0;
};

}  // namespace

absl::Status CpioWriter::AddEntry(absl::string_view path, uint32_t type, uint32_t mode,
                                  Entry** slot) {
  absl::Status status = CheckPermissions(path, mode);
  if (!status.ok()) return status;
  absl::StatusOr<std::string> name = NormalizePath(path);
  if (!name.ok()) return name.status();

  auto existing = index_.find(*name);
  if (existing != index_.end()) {
    Entry& old = entries_[existing->second];
    if (old.implicit && type == kCpioTypeDirectory) {
      old.mode = kCpioTypeDirectory | mode;
      old.implicit = false;
      *slot = &old;
      return absl::OkStatus();
    }
    return PathError(path, "was already added");
  }

  // Create missing parents first: the kernel creates members in archive
  // order and fails to create a file whose directory does not exist yet.
  for (size_t slash = name->find('/'); slash != std::string::npos;
       slash = name->find('/', slash + 1)) {
    std::string parent = name->substr(0, slash);
    auto it = index_.find(parent);
    if (it != index_.end()) {
      if ((entries_[it->second].mode & kCpioTypeMask) != kCpioTypeDirectory) {
        return PathError(path, absl::StrCat("has parent '", parent, "', which is not a directory"));
      }
      continue;
    }
    Entry dir;
    dir.name = parent;
    dir.mode = kCpioTypeDirectory | kImplicitDirMode;
    dir.implicit = true;
    index_.emplace(std::move(parent), entries_.size());
    entries_.push_back(std::move(dir));
  }

  Entry entry;
  entry.name = *name;
  entry.mode = type | mode;
  index_.emplace(std::move(*name), entries_.size());
  entries_.push_back(std::move(entry));
  *slot = &entries_.back();
  return absl::OkStatus();
}

absl::Status CpioWriter::AddDirectory(absl::string_view path, uint32_t mode) {
  Entry* entry;
  return AddEntry(path, kCpioTypeDirectory, mode, &entry);
}

absl::Status CpioWriter::AddFile(absl::string_view path, absl::Span<const uint8_t> bytes,
                                 uint32_t mode) {
  if (bytes.size() > UINT32_MAX) {
    return PathError(path, absl::StrFormat("is %d bytes; newc's c_filesize "
                                           "holds at most %d",
                                           bytes.size(), UINT32_MAX));
  }
  Entry* entry;
  absl::Status status = AddEntry(path, kCpioTypeRegular, mode, &entry);
  if (!status.ok()) return status;
  entry->data.assign(bytes.begin(), bytes.end());
  return absl::OkStatus();
}

absl::Status CpioWriter::AddFile(absl::string_view path, absl::string_view bytes, uint32_t mode) {
  return AddFile(
      path, absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
      mode);
}

absl::Status CpioWriter::AddSymlink(absl::string_view path, absl::string_view target) {
  if (target.empty() || target.size() >= kCpioPathMax ||
      target.find('\0') != absl::string_view::npos) {
    return PathError(path, absl::StrFormat("has symlink target of %d bytes; need 1..%d "
                                           "bytes without NUL",
                                           target.size(), kCpioPathMax - 1));
  }
  Entry* entry;
  absl::Status status = AddEntry(path, kCpioTypeSymlink, kSymlinkMode, &entry);
  if (!status.ok()) return status;
  entry->data.assign(target.begin(), target.end());
  return absl::OkStatus();
}

absl::Status CpioWriter::AddCharDevice(absl::string_view path, uint32_t mode, uint32_t major,
                                       uint32_t minor) {
  Entry* entry;
  absl::Status status = AddEntry(path, kCpioTypeCharDevice, mode, &entry);
  if (!status.ok()) return status;
  entry->rdev_major = major;
  entry->rdev_minor = minor;
  return absl::OkStatus();
}

std::vector<uint8_t> CpioWriter::Finish() const {
  std::vector<uint8_t> out;
  size_t total = kCpioHeaderSize + kCpioTrailerName.size() + 4;
  for (const Entry& e : entries_) {
    total += kCpioHeaderSize + e.name.size() + e.data.size() + 8;
  }
  out.reserve(total);
  uint32_t ino = 1;
  for (const Entry& e : entries_) {
    const bool dir = (e.mode & kCpioTypeMask) == kCpioTypeDirectory;
    AppendMember(out, ino++, e.mode, dir ? 2 : 1, e.rdev_major, e.rdev_minor, e.name, e.data);
  }
  // gen_init_cpio's trailer: inode 0, mode 0, one link, no data.
  AppendMember(out, /*ino=*/0, /*mode=*/0, /*nlink=*/1, 0, 0, kCpioTrailerName, {});
  return out;
}

absl::StatusOr<std::vector<CpioEntry>> ParseCpio(absl::Span<const uint8_t> bytes) {
  return Reader(bytes).Run();
}

}  // namespace saveoops
