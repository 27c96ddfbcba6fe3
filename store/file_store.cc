// File stores on ext4/xfs. See store/file_store.h.
#include "store/file_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

#include "common/byte_source.h"
#include "common/files.h"
#include "common/format.h"
#include "common/partition_table.h"
#include "store/extent_store.h"
#include "store/store_format.h"

namespace saveoops {
namespace {

std::string ErrnoText(int err) { return strerror(err); }

// A sysfs attribute's text, blanks trimmed; empty if unreadable.
std::string SysfsValue(const std::string& path) {
  StatusOr<std::string> text = ReadTextFileBounded(path, 4096, "sysfs attribute");
  if (!text.ok()) return "";
  const size_t first = text->find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text->substr(first, text->find_last_not_of(" \t\r\n") - first + 1);
}

bool SysfsNumber(const std::string& path, uint64_t* out) {
  const std::string v = SysfsValue(path);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19) {
    return false;
  }
  *out = strtoull(v.c_str(), nullptr, 10);
  return true;
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Whether `dir` has an entry other than . and ..
bool HasEntries(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) return false;
  while (dirent* e = readdir(d.get())) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) return true;
  }
  return false;
}

struct FlagRule {
  uint32_t flag;
  const char* why;
};

// FIEMAP flags a file store's extent must not carry
// (Documentation/filesystems/fiemap.rst).
constexpr FlagRule kRefusedExtentFlags[] = {
    {FIEMAP_EXTENT_UNKNOWN, "has no known location (FIEMAP_EXTENT_UNKNOWN)"},
    {FIEMAP_EXTENT_DELALLOC, "is not allocated yet (delayed allocation)"},
    {FIEMAP_EXTENT_ENCODED, "is encoded (compressed or otherwise transformed) on the disk"},
    {FIEMAP_EXTENT_DATA_ENCRYPTED, "is encrypted by the file system"},
    {FIEMAP_EXTENT_NOT_ALIGNED, "is not block-aligned on the disk"},
    {FIEMAP_EXTENT_DATA_INLINE, "is inline in file-system metadata"},
    {FIEMAP_EXTENT_DATA_TAIL, "shares its block with other files (tail packing)"},
    {FIEMAP_EXTENT_UNWRITTEN,
     "is unwritten (allocated but never written): the file system would read zeros"},
    {FIEMAP_EXTENT_SHARED, "is shared with another file (reflink): a raw write would change it"},
};

StatusOr<uint32_t> GetInodeFlags(int fd, const std::string& name) {
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    return FailedPreconditionError(
        Format("'%s': cannot read the inode flags (FS_IOC_GETFLAGS): %s", name, ErrnoText(errno)));
  }
  return static_cast<uint32_t>(flags);
}

Status SetImmutable(int fd, const std::string& name, bool on) {
  StatusOr<uint32_t> flags = GetInodeFlags(fd, name);
  if (!flags.ok()) return flags.status();
  int next = static_cast<int>(on ? (*flags | FS_IMMUTABLE_FL) : (*flags & ~FS_IMMUTABLE_FL));
  if (ioctl(fd, FS_IOC_SETFLAGS, &next) != 0) {
    return FailedPreconditionError(Format(
        "'%s': cannot %s FS_IMMUTABLE_FL (FS_IOC_SETFLAGS): %s%s", name, on ? "set" : "clear",
        ErrnoText(errno), errno == EPERM ? " (needs CAP_LINUX_IMMUTABLE: root)" : ""));
  }
  return OkStatus();
}

// The file system and device checks of the directory or file at `path`
// (whose st_dev is `dev`): what format and arm both refuse.
StatusOr<BackingDevice> CheckPlacement(const std::string& path, const std::string& name, dev_t dev,
                                       const std::string& sys_root, const std::string& proc_root) {
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) {
    return NotFoundError(Format("'%s': statfs failed: %s", name, ErrnoText(errno)));
  }
  if (Status s = CheckStoreFileSystem(static_cast<uint64_t>(fs.f_type), name); !s.ok()) return s;
  StatusOr<std::string> mountinfo =
      ReadTextFileBounded(proc_root + "/self/mountinfo", 4 << 20, "mountinfo");
  if (mountinfo.ok() && MountedWithDataJournal(*mountinfo, major(dev), minor(dev))) {
    return FailedPreconditionError(
        Format("'%s': the file system is mounted with data=journal: a journal replay after the "
               "crash could write older data over the record; use data=ordered or writeback",
               name));
  }
  return ResolveBackingDevice(major(dev), minor(dev), sys_root);
}

// The disk `device.disk` opened read-only with its size.
struct OpenedDisk {
  UniqueFd fd;
  uint64_t size = 0;
};

StatusOr<OpenedDisk> OpenDisk(const std::string& path) {
  OpenedDisk d;
  d.fd.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (d.fd.get() < 0) {
    return NotFoundError(Format("cannot open the disk %s: %s", path, ErrnoText(errno)));
  }
  struct stat st;
  if (fstat(d.fd.get(), &st) != 0 || !(S_ISBLK(st.st_mode) || S_ISREG(st.st_mode))) {
    return FailedPreconditionError(Format("%s is not a block device", path));
  }
  if (S_ISREG(st.st_mode)) {
    d.size = static_cast<uint64_t>(st.st_size);  // an image standing in for the disk (tests)
  } else if (ioctl(d.fd.get(), BLKGETSIZE64, &d.size) != 0) {
    return InternalError(Format("%s: ioctl(BLKGETSIZE64) failed: %s", path, ErrnoText(errno)));
  }
  // Reads below must see what the file system wrote, not pages of the
  // disk cached before the store file was written.
  posix_fadvise(d.fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  return d;
}

// Entry 2 of the map: the disk's identity from its partition table.
StatusOr<StoreDisk> IdentifyDisk(const ByteSource& disk, const std::string& disk_path,
                                 const BackingDevice& device) {
  StatusOr<std::vector<Partition>> parts = WalkPartitionTable(disk, disk_path);
  if (!parts.ok()) return parts.status();
  StoreDisk d;
  if (device.partition.empty()) {
    if (!parts->empty()) {
      return FailedPreconditionError(Format(
          "%s holds the file system on the whole disk but also a partition table", disk_path));
    }
    d.scheme = StoreDiskScheme::kWholeDisk;
    d.partition_size = disk.size();
    return d;
  }
  for (const Partition& p : *parts) {
    if (p.number != device.partition_number) continue;
    if (p.offset != device.partition_start || p.size != device.partition_size) {
      return FailedPreconditionError(Format(
          "%s: the partition table says partition %d is [%u, +%u), the kernel uses [%u, "
          "+%u) (re-read the partition table, or reboot, before arming)",
          disk_path, p.number, p.offset, p.size, device.partition_start, device.partition_size));
    }
    d.scheme = p.scheme == PartitionScheme::kGpt ? StoreDiskScheme::kGpt : StoreDiskScheme::kMbr;
    d.partition = static_cast<uint32_t>(p.number);
    d.disk_id = p.disk_id;
    d.partition_guid = p.gpt_unique;
    d.partition_offset = p.offset;
    d.partition_size = p.size;
    return d;
  }
  return FailedPreconditionError(
      Format("%s: its partition table has no partition %d (%s), which holds the file system",
             disk_path, device.partition_number, device.partition));
}

Status WriteZeros(int fd, uint64_t size, const std::string& name) {
  const std::vector<uint8_t> zeros(1 << 20, 0);
  for (uint64_t at = 0; at < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), size - at));
    if (Status s = PwriteFull(fd, zeros.data(), n, at, Format("'%s'", name)); !s.ok()) {
      return DataLossError(std::string(s.message()));
    }
    at += n;
  }
  return OkStatus();
}

}  // namespace

Status CheckStoreFileSystem(uint64_t f_type, const std::string& path) {
  if (f_type == kExtSuperMagic || f_type == kXfsSuperMagic) return OkStatus();
  struct Known {
    uint64_t magic;
    const char* name;
    const char* why;
  };
  static constexpr Known kKnown[] = {
      {0x9123683E, "btrfs",
       "copy-on-write: a write through the file system moves the file's blocks, and data may "
       "be compressed or on several devices"},
      {0x01021994, "tmpfs", "it lives in memory, on no disk"},
      {0x858458f6, "ramfs", "it lives in memory, on no disk"},
      {0x794c7630, "overlay", "the file's blocks belong to another file system, and may move"},
      {0x6969, "nfs", "a network file system: no local disk holds the file"},
      {0xFF534D42, "cifs", "a network file system: no local disk holds the file"},
      {0xFE534D42, "smb2", "a network file system: no local disk holds the file"},
      {0x517B, "smb", "a network file system: no local disk holds the file"},
      {0x00c36400, "ceph", "a network file system: no local disk holds the file"},
      {0x01021997, "9p", "a network file system: no local disk holds the file"},
      {0x65735546, "fuse", "a user-space file system: where its bytes are is its own business"},
      {0xF2F52010, "f2fs", "log-structured: it moves blocks as it writes"},
      {0x2fc12fc1, "zfs", "copy-on-write, and its blocks are on a pool, not one disk"},
      {0x73717368, "squashfs", "read-only and compressed"},
      {0xf15f, "ecryptfs", "its data is encrypted on the disk"},
  };
  for (const Known& k : kKnown) {
    if (k.magic == f_type) {
      return FailedPreconditionError(
          Format("'%s' is on %s, which cannot hold a Saveoops file store: %s; use ext4 or xfs, or "
                 "a raw partition",
                 path, k.name, k.why));
    }
  }
  return FailedPreconditionError(
      Format("'%s' is on a file system of type 0x%x: Saveoops file stores are supported on ext4 "
             "and xfs only (or use a raw partition)",
             path, f_type));
}

bool MountedWithDataJournal(const std::string& mountinfo, unsigned major, unsigned minor) {
  const std::string dev = Format("%u:%u", major, minor);
  for (std::string_view line : Split(mountinfo, '\n')) {
    // mount ID, parent ID, major:minor, root, mount point, options, optional
    // fields..., "-", fstype, source, super options (proc(5)).
    std::vector<std::string_view> f = Split(line, ' ');
    if (f.size() < 3 || f[2] != dev) continue;
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash + 3 >= f.size()) continue;
    for (std::string_view opt : Split(f[dash + 3], ',')) {
      if (opt == "data=journal") return true;
    }
  }
  return false;
}

StatusOr<BackingDevice> ResolveBackingDevice(unsigned major, unsigned minor,
                                             const std::string& sys_root) {
  const std::string link = Format("%s/dev/block/%u:%u", sys_root, major, minor);
  char resolved[PATH_MAX];
  if (realpath(link.c_str(), resolved) == nullptr) {
    return FailedPreconditionError(
        Format("device %u:%u: not a block device sysfs knows (%s: %s); a file store needs a file "
               "system on a disk partition or a whole disk",
               major, minor, link, ErrnoText(errno)));
  }
  const std::string dir = resolved;
  const std::string name = Basename(dir);
  if (StartsWith(name, "dm-")) {
    const std::string dm_name = SysfsValue(dir + "/dm/name");
    const std::string uuid = SysfsValue(dir + "/dm/uuid");
    std::string what = "a device-mapper device";
    if (StartsWith(uuid, "CRYPT-LUKS")) {
      what = "a dm-crypt (LUKS) device";
    } else if (StartsWith(uuid, "CRYPT-")) {
      what = "a dm-crypt device";
    } else if (StartsWith(uuid, "LVM-")) {
      what = "an LVM logical volume";
    }
    return FailedPreconditionError(
        Format("the file system is on %s (%s%s): Saveoops does not write through device-mapper "
               "(dm-crypt would need the key, and it does not translate any dm table, dm-linear "
               "included); put the store on a plain partition",
               what, name, dm_name.empty() ? "" : Format(", '%s'", dm_name)));
  }
  if (StartsWith(name, "md")) {
    return FailedPreconditionError(Format(
        "the file system is on %s, an md RAID device: a raw write would reach only some of its "
        "disks, or the wrong place; put the store on a plain partition",
        name));
  }
  for (const char* virt : {"loop", "nbd", "zram", "ram"}) {
    if (StartsWith(name, virt)) {
      return FailedPreconditionError(Format(
          "the file system is on %s, a %s device, which the capture kernel cannot reach as a "
          "disk; put the store on a disk partition",
          name, virt));
    }
  }
  if (HasEntries(dir + "/slaves")) {
    return FailedPreconditionError(Format(
        "the file system is on %s, a device stacked on other devices (see %s/slaves): Saveoops "
        "writes only plain partitions and disks",
        name, dir));
  }
  BackingDevice out;
  uint64_t n = 0;
  if (SysfsNumber(dir + "/partition", &n)) {
    out.partition = name;
    out.partition_number = static_cast<int>(std::min<uint64_t>(n, INT32_MAX));
    out.disk = Basename(dir.substr(0, dir.rfind('/')));
    uint64_t start = 0, size = 0;
    if (!SysfsNumber(dir + "/start", &start) || !SysfsNumber(dir + "/size", &size) ||
        start > (UINT64_MAX >> 9) || size > (UINT64_MAX >> 9)) {
      return FailedPreconditionError(
          Format("partition %s: sysfs gives no usable start and size in %s", name, dir));
    }
    out.partition_start = start * 512;
    out.partition_size = size * 512;
  } else {
    out.disk = name;
    uint64_t size = 0;
    if (!SysfsNumber(dir + "/size", &size) || size > (UINT64_MAX >> 9)) {
      return FailedPreconditionError(
          Format("disk %s: sysfs gives no usable size in %s", name, dir));
    }
    out.partition_size = size * 512;
  }
  uint64_t lbs = 0;
  if (SysfsNumber(Format("%s/block/%s/queue/logical_block_size", sys_root, out.disk), &lbs) &&
      lbs >= 512 && lbs <= 65536 && (lbs & (lbs - 1)) == 0) {
    out.logical_block_size = lbs;
  }
  return out;
}

StatusOr<std::vector<FileExtent>> ReadFileExtents(int fd, const std::string& name) {
  constexpr size_t kBatch = 64;
  std::vector<FileExtent> out;
  std::vector<uint8_t> buf(sizeof(struct fiemap) + kBatch * sizeof(struct fiemap_extent));
  uint64_t start = 0;
  for (;;) {
    std::fill(buf.begin(), buf.end(), 0);
    auto* fm = reinterpret_cast<struct fiemap*>(buf.data());
    fm->fm_start = start;
    fm->fm_length = FIEMAP_MAX_OFFSET - start;
    fm->fm_flags = FIEMAP_FLAG_SYNC;
    fm->fm_extent_count = kBatch;
    if (ioctl(fd, FS_IOC_FIEMAP, fm) != 0) {
      return FailedPreconditionError(Format(
          "'%s': FS_IOC_FIEMAP failed: %s (the file system cannot say where the file's blocks are)",
          name, ErrnoText(errno)));
    }
    if (fm->fm_mapped_extents == 0) return out;
    bool last = false;
    for (uint32_t i = 0; i < fm->fm_mapped_extents && i < kBatch; ++i) {
      const struct fiemap_extent& e = fm->fm_extents[i];
      out.push_back({e.fe_logical, e.fe_physical, e.fe_length, e.fe_flags});
      last = (e.fe_flags & FIEMAP_EXTENT_LAST) != 0;
      if (e.fe_logical + e.fe_length <= start) last = true;  // no progress: stop
      start = e.fe_logical + e.fe_length;
    }
    if (last || out.size() > kStoreMapMaxExtents) return out;
  }
}

StatusOr<std::vector<StoreExtent>> PlaceFileExtents(const std::vector<FileExtent>& extents,
                                                    uint64_t file_size, const BackingDevice& device,
                                                    const std::string& name) {
  const uint64_t lbs = std::max<uint64_t>(device.logical_block_size, kStoreMapSectorSize);
  // Aligned extents inside a misaligned partition are misaligned on the disk,
  // where the capture writes whole logical blocks.
  if (device.partition_start % lbs != 0) {
    return FailedPreconditionError(
        Format("'%s': %s starts at disk byte %u, not a multiple of the disk's %u-byte logical "
               "blocks: the store's blocks would not be the disk's",
               name, device.partition.empty() ? device.disk : device.partition,
               device.partition_start, lbs));
  }
  if (extents.size() > kStoreMapMaxExtents) {
    return FailedPreconditionError(
        Format("'%s': more than %u extents (too fragmented to map); delete it and format it "
               "again, on a file system with more contiguous free space",
               name, kStoreMapMaxExtents));
  }
  std::vector<FileExtent> sorted = extents;
  std::sort(sorted.begin(), sorted.end(),
            [](const FileExtent& a, const FileExtent& b) { return a.logical < b.logical; });
  std::vector<StoreExtent> out;
  uint64_t next = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const FileExtent& e = sorted[i];
    const std::string which = Format("'%s': extent %u (file byte %u)", name, i, e.logical);
    for (const FlagRule& rule : kRefusedExtentFlags) {
      if ((e.flags & rule.flag) != 0) {
        return FailedPreconditionError(Format("%s %s", which, rule.why));
      }
    }
    if (e.logical % lbs != 0 || e.physical % lbs != 0 || e.length % lbs != 0 || e.length == 0) {
      return FailedPreconditionError(
          Format("%s: disk byte %u, %u bytes: not aligned to the disk's %u-byte logical blocks",
                 which, e.physical, e.length, lbs));
    }
    if (e.logical != next) {
      return FailedPreconditionError(Format(
          "%s: %s (file bytes [%u, %u) have no extent)", which,
          e.logical > next ? "a hole before it" : "overlaps the previous extent", next, e.logical));
    }
    uint64_t end = 0, phys_end = 0;
    if (__builtin_add_overflow(e.logical, e.length, &end) ||
        __builtin_add_overflow(e.physical, e.length, &phys_end) ||
        phys_end > device.partition_size) {
      return FailedPreconditionError(
          Format("%s: disk bytes [%u, +%u) are outside the %u-byte %s", which, e.physical, e.length,
                 device.partition_size, device.partition.empty() ? device.disk : device.partition));
    }
    if (end > file_size) {
      return FailedPreconditionError(Format(
          "%s reaches byte %u, past the end of the %u-byte file (space allocated past its end)",
          which, end, file_size));
    }
    const uint64_t disk_offset = device.partition_start + e.physical;
    if (!out.empty() && out.back().disk_offset + out.back().length == disk_offset) {
      out.back().length += e.length;
    } else {
      out.push_back({e.logical, disk_offset, e.length});
    }
    next = end;
  }
  if (next != file_size) {
    return FailedPreconditionError(Format(
        "'%s': the extents cover file bytes [0, %u) of %u (a hole at the end: the file is not "
        "fully written)",
        name, next, file_size));
  }
  // Two file ranges on the same disk blocks: not a file Saveoops may write
  // through (a record would overwrite itself).
  std::vector<StoreExtent> by_disk = out;
  std::sort(by_disk.begin(), by_disk.end(), [](const StoreExtent& a, const StoreExtent& b) {
    return a.disk_offset < b.disk_offset;
  });
  for (size_t i = 1; i < by_disk.size(); ++i) {
    if (by_disk[i - 1].disk_offset + by_disk[i - 1].length > by_disk[i].disk_offset) {
      return FailedPreconditionError(
          Format("'%s': file bytes %u and %u are on the same disk blocks (disk byte %u)", name,
                 by_disk[i - 1].logical, by_disk[i].logical, by_disk[i].disk_offset));
    }
  }
  return out;
}

Status ReleaseFileStore(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return NotFoundError(Format("'%s': cannot open: %s", path, ErrnoText(errno)));
  return SetImmutable(fd.get(), path, false);
}

bool LooksLikeFileStore(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  struct stat st;
  struct statfs fs;
  if (fd.get() < 0 || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      fstatfs(fd.get(), &fs) != 0 ||
      !CheckStoreFileSystem(static_cast<uint64_t>(fs.f_type), path).ok()) {
    return false;
  }
  StatusOr<uint32_t> flags = GetInodeFlags(fd.get(), path);
  return flags.ok() && (*flags & FS_IMMUTABLE_FL) != 0;
}

StatusOr<StoreMap> MapFileStore(const std::string& path, const std::string& sys_root,
                                const std::string& dev_root, const std::string& proc_root) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    return NotFoundError(Format("'%s': cannot open: %s%s", path, ErrnoText(errno),
                                errno == ELOOP ? " (a symlink: name the file itself)" : ""));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return FailedPreconditionError(Format("'%s' is not a regular file", path));
  }
  StatusOr<BackingDevice> device = CheckPlacement(path, path, st.st_dev, sys_root, proc_root);
  if (!device.ok()) return device.status();
  StatusOr<uint32_t> flags = GetInodeFlags(fd.get(), path);
  if (!flags.ok()) return flags.status();
  if ((*flags & FS_IMMUTABLE_FL) == 0) {
    return FailedPreconditionError(
        Format("'%s' is not immutable (FS_IMMUTABLE_FL): the file system may move or rewrite its "
               "blocks; create file stores with `saveoops store format --file-store`",
               path));
  }
  if ((*flags & FS_JOURNAL_DATA_FL) != 0) {
    return FailedPreconditionError(
        Format("'%s' has the journal-data flag (chattr +j): a journal replay could write older "
               "data over a record",
               path));
  }
  const StoreLocation location{path, 0, 0};
  StatusOr<StoreInfo> info = ReadStoreInfo(location);
  if (!info.ok()) return info.status();
  StatusOr<std::vector<FileExtent>> raw = ReadFileExtents(fd.get(), path);
  if (!raw.ok()) return raw.status();
  StatusOr<std::vector<StoreExtent>> extents =
      PlaceFileExtents(*raw, static_cast<uint64_t>(st.st_size), *device, path);
  if (!extents.ok()) return extents.status();

  const std::string disk_path = Format("%s/%s", dev_root, device->disk);
  StatusOr<OpenedDisk> disk = OpenDisk(disk_path);
  if (!disk.ok()) return disk.status();
  FileByteSource disk_bytes(disk->fd.get(), disk->size);
  StatusOr<StoreDisk> identity = IdentifyDisk(disk_bytes, disk_path, *device);
  if (!identity.ok()) return identity.status();
  StoreMap map;
  map.store_uuid = info->uuid;
  map.disk = *identity;
  map.disk_serial = ReadDiskSerial(Format("%s/block/%s", sys_root, device->disk));
  map.extents = std::move(*extents);
  if (Status s = CheckStoreMapPlacement(map); !s.ok()) {
    return FailedPreconditionError(Concat("'", path, "': ", s.message()));
  }
  // What the capture will do: the superblock through the extents, from the
  // disk itself.
  ExtentByteSource through(disk_bytes, map.extents);
  StatusOr<StoreInfo> seen =
      ReadStoreInfo(through, Format("%s through the extents of '%s'", disk_path, path));
  if (!seen.ok()) return seen.status();
  if (seen->uuid != info->uuid) {
    return FailedPreconditionError(
        Format("'%s': the disk %s shows store %s through the file's extents, the file store %s",
               path, disk_path, FormatStoreUuid(seen->uuid), FormatStoreUuid(info->uuid)));
  }
  return map;
}

StatusOr<StoreInfo> FormatFileStore(const FileStoreRequest& request) {
  const std::string& path = request.path;
  if (request.size < kMinStoreSize || request.size % kStoreBlockSize != 0) {
    return InvalidArgumentError(
        Format("'%s': size %u: a file store is a multiple of %u bytes, at "
               "least %u",
               path, request.size, kStoreBlockSize, kMinStoreSize));
  }
  const std::string dir = DirectoryOf(path);
  struct stat dst;
  if (stat(dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode)) {
    return NotFoundError(Format("'%s': the directory '%s' does not exist", path, dir));
  }
  StatusOr<BackingDevice> device =
      CheckPlacement(dir, path, dst.st_dev, request.sys_root, request.proc_root);
  if (!device.ok()) return device.status();

  struct stat st;
  UniqueFd fd;
  bool created = false;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return FailedPreconditionError(Format("'%s' exists and is not a regular file", path));
    }
    StatusOr<StoreInfo> old = ReadStoreInfo(StoreLocation{path, 0, 0});
    if (!old.ok()) {
      return FailedPreconditionError(
          Format("'%s' exists and is not a Saveoops store: refusing to overwrite it", path));
    }
    if (!request.force) {
      return FailedPreconditionError(
          Format("'%s' is already Saveoops store %s: --force formats it again (a new UUID; its "
                 "records are lost; FS_IMMUTABLE_FL is cleared for the rewrite and set again)",
                 path, FormatStoreUuid(old->uuid)));
    }
    if (static_cast<uint64_t>(st.st_size) != request.size) {
      return FailedPreconditionError(Format(
          "'%s' is %u bytes, not the %u asked for: delete it (chattr -i first) to change its size",
          path, st.st_size, request.size));
    }
    fd.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) return NotFoundError(Format("'%s': cannot open: %s", path, ErrnoText(errno)));
    if (Status s = SetImmutable(fd.get(), path, false); !s.ok()) return s;
    fd.reset(open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) return NotFoundError(Format("'%s': cannot open: %s", path, ErrnoText(errno)));
    if (Status s = WriteZeros(fd.get(), request.size, path); !s.ok()) return s;
    if (fsync(fd.get()) != 0) {
      return DataLossError(Format("'%s': fsync failed: %s", path, ErrnoText(errno)));
    }
  } else {
    StatusOr<AtomicFile> file = AtomicFile::Create(path, 0600);
    if (!file.ok())
      return Status(file.status().code(), Concat("'", path, "': ", file.status().message()));
    // Every byte written, so that no extent stays unwritten (fallocate alone
    // leaves unwritten extents, which read back as zeros whatever the
    // capture wrote).
    if (Status s = WriteZeros(file->fd(), request.size, path); !s.ok()) return s;
    if (Status s = file->Commit(); !s.ok())
      return Status(s.code(), Concat("'", path, "': ", s.message()));
    created = true;
  }
  auto remove_new = [&](Status why) -> Status {
    if (created) {
      UniqueFd again(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (again.get() >= 0) (void)SetImmutable(again.get(), path, false).ok();
      unlink(path.c_str());
      return Status(why.code(), Concat(why.message(), " (the new file was removed)"));
    }
    return why;
  };
  if (Status s = FormatStore(StoreLocation{path, 0, request.size}); !s.ok()) return remove_new(s);
  fd.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0)
    return remove_new(NotFoundError(Format("'%s': cannot open: %s", path, ErrnoText(errno))));
  if (Status s = SetImmutable(fd.get(), path, true); !s.ok()) return remove_new(s);
  if (fsync(fd.get()) != 0) {
    return remove_new(DataLossError(Format("'%s': fsync failed: %s", path, ErrnoText(errno))));
  }
  if (Status s = FsyncDirectory(dir); !s.ok()) return remove_new(s);
  // The extents as arming will check them: refuse now rather than at arm.
  StatusOr<std::vector<FileExtent>> raw = ReadFileExtents(fd.get(), path);
  if (!raw.ok()) return remove_new(raw.status());
  StatusOr<std::vector<StoreExtent>> placed = PlaceFileExtents(*raw, request.size, *device, path);
  if (!placed.ok()) return remove_new(placed.status());
  return ReadStoreInfo(StoreLocation{path, 0, 0});
}

}  // namespace saveoops
