// A file store's bytes through its extents. See store/extent_store.h.
#include "store/extent_store.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <utility>

#include "common/format.h"
#include "common/partition_table.h"

namespace saveoops {
namespace {

std::string Hex(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

// Why the partition table of `disk` does not describe `want`, or OK.
Status CheckDiskIdentity(const ByteSource& disk, const std::string& name, const StoreDisk& want) {
  StatusOr<std::vector<Partition>> parts = WalkPartitionTable(disk, name);
  if (!parts.ok()) return parts.status();
  if (want.scheme == StoreDiskScheme::kWholeDisk) {
    if (!parts->empty()) {
      return FailedPreconditionError(
          Format("%s: has a partition table; the armed store is on a disk without one", name));
    }
    if (disk.size() != want.partition_size) {
      return FailedPreconditionError(Format("%s: is %u bytes; the armed store's disk is %u", name,
                                            disk.size(), want.partition_size));
    }
    return OkStatus();
  }
  const PartitionScheme scheme =
      want.scheme == StoreDiskScheme::kGpt ? PartitionScheme::kGpt : PartitionScheme::kMbr;
  const Partition* found = nullptr;
  for (const Partition& p : *parts) {
    if (p.number == static_cast<int>(want.partition)) found = &p;
  }
  if (parts->empty() || (*parts)[0].scheme != scheme) {
    return FailedPreconditionError(
        Format("%s: has no %s partition table", name, StoreDiskSchemeName(want.scheme)));
  }
  if (found == nullptr) {
    return FailedPreconditionError(Format("%s: has no %s partition %u", name,
                                          StoreDiskSchemeName(want.scheme), want.partition));
  }
  const size_t id_size = want.scheme == StoreDiskScheme::kGpt ? 16 : 4;
  if (memcmp(found->disk_id.data(), want.disk_id.data(), id_size) != 0) {
    // The MBR signature as fdisk prints it ("Disk identifier: 0x1234abcd").
    auto id_text = [&](const std::array<uint8_t, 16>& id) {
      if (id_size == 16) return Hex(id.data(), 16);
      uint32_t sig;
      memcpy(&sig, id.data(), 4);
      return Format("0x%08x", sig);
    };
    return FailedPreconditionError(Format("%s: %s disk id %s, the armed store's disk has %s", name,
                                          StoreDiskSchemeName(want.scheme), id_text(found->disk_id),
                                          id_text(want.disk_id)));
  }
  if (found->gpt_unique != want.partition_guid) {
    return FailedPreconditionError(Format(
        "%s: GPT partition %u has partition GUID %s, the armed store's has %s", name,
        want.partition, Hex(found->gpt_unique.data(), 16), Hex(want.partition_guid.data(), 16)));
  }
  if (found->offset != want.partition_offset || found->size != want.partition_size) {
    return FailedPreconditionError(Format("%s: %s partition %u is [%u, +%u); armed for [%u, +%u)",
                                          name, StoreDiskSchemeName(want.scheme), want.partition,
                                          found->offset, found->size, want.partition_offset,
                                          want.partition_size));
  }
  return OkStatus();
}

}  // namespace

ExtentByteSource::ExtentByteSource(const ByteSource& disk, std::vector<StoreExtent> extents)
    : disk_(disk), extents_(std::move(extents)) {
  for (const StoreExtent& e : extents_) size_ += e.length;
}

StatusOr<size_t> ExtentByteSource::ReadAt(uint64_t offset, absl::Span<uint8_t> out) const {
  size_t done = 0;
  // Extents are in store order and contiguous: find the one holding each
  // next byte.
  for (const StoreExtent& e : extents_) {
    if (done == out.size()) break;
    const uint64_t at = offset + done;
    if (at < e.logical || at - e.logical >= e.length) continue;
    const uint64_t in_extent = at - e.logical;
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(e.length - in_extent, out.size() - done));
    StatusOr<size_t> got = disk_.ReadAt(e.disk_offset + in_extent, out.subspan(done, n));
    if (!got.ok()) return got.status();
    done += *got;
    if (*got < n) break;  // the disk ended: a short read
  }
  return done;
}

ExtentStoreIo::ExtentStoreIo(UniqueFd disk, uint64_t disk_size, std::vector<StoreExtent> extents,
                             std::string name)
    : fd_(std::move(disk)),
      disk_(fd_.get(), disk_size),
      bytes_(disk_, extents),
      extents_(std::move(extents)),
      name_(std::move(name)) {}

Status ExtentStoreIo::Write(uint64_t offset_in_store, absl::Span<const uint8_t> data) {
  const uint64_t size = bytes_.size();
  if (offset_in_store > size || data.size() > size - offset_in_store) {
    return OutOfRangeError(
        Format("%s: refusing a write of %u bytes at store byte %u: it reaches store bytes no "
               "extent maps (the store is %u bytes)",
               name_, data.size(), offset_in_store, size));
  }
  size_t done = 0;
  for (const StoreExtent& e : extents_) {
    if (done == data.size()) break;
    const uint64_t at = offset_in_store + done;
    if (at < e.logical || at - e.logical >= e.length) continue;
    const uint64_t in_extent = at - e.logical;
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(e.length - in_extent, data.size() - done));
    if (Status s = PwriteFull(fd_.get(), data.data() + done, n, e.disk_offset + in_extent,
                              Format("%s (store byte %u)", name_, at));
        !s.ok()) {
      return DataLossError(std::string(s.message()));
    }
    done += n;
  }
  return OkStatus();
}

Status ExtentStoreIo::Sync() {
  if (fdatasync(fd_.get()) != 0) {
    return DataLossError(Format("%s: fdatasync failed: %s", name_, strerror(errno)));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<ExtentStoreIo>> OpenMappedStore(const StoreMap& map,
                                                         const std::string& disk_path,
                                                         const std::string& disk_serial) {
  const std::string name = Concat("disk ", disk_path);
  if (!map.disk || map.extents.empty()) {
    return InvalidArgumentError(Concat(name, ": the store map names no disk and extents"));
  }
  if (Status s = CheckStoreMapPlacement(map); !s.ok()) return s;
  UniqueFd fd(open(disk_path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) {
    return NotFoundError(Format("%s: cannot open for writing: %s", name, strerror(errno)));
  }
  struct stat st;
  uint64_t disk_size = 0;
  if (fstat(fd.get(), &st) != 0) {
    return InternalError(Format("%s: fstat failed: %s", name, strerror(errno)));
  }
  if (S_ISBLK(st.st_mode)) {
    if (ioctl(fd.get(), BLKGETSIZE64, &disk_size) != 0) {
      return InternalError(Format("%s: ioctl(BLKGETSIZE64) failed: %s", name, strerror(errno)));
    }
  } else if (S_ISREG(st.st_mode)) {
    disk_size = static_cast<uint64_t>(st.st_size);  // a disk image (tests)
  } else {
    return InvalidArgumentError(Concat(name, ": is neither a block device nor a disk image"));
  }
  if (!map.disk_serial.empty() && disk_serial != map.disk_serial) {
    return FailedPreconditionError(Format("%s: serial '%s', the armed store's disk has '%s'", name,
                                          HexEscape(disk_serial), HexEscape(map.disk_serial)));
  }
  {
    FileByteSource disk(fd.get(), disk_size);
    if (Status s = CheckDiskIdentity(disk, name, *map.disk); !s.ok()) return s;
  }
  for (const StoreExtent& e : map.extents) {
    if (e.disk_offset > disk_size || e.length > disk_size - e.disk_offset) {
      return FailedPreconditionError(
          Format("%s: extent at disk byte %u (%u bytes) is past the "
                 "end of the %u-byte disk",
                 name, e.disk_offset, e.length, disk_size));
    }
  }
  const std::string store_name =
      Format("file store on %s (%s partition %u, %u extents)", disk_path,
             StoreDiskSchemeName(map.disk->scheme), map.disk->partition, map.extents.size());
  auto io = std::make_unique<ExtentStoreIo>(std::move(fd), disk_size, map.extents, store_name);
  StatusOr<StoreInfo> info = ReadStoreInfo(io->bytes(), store_name);
  if (!info.ok()) {
    return FailedPreconditionError(
        Concat(name,
               ": no store superblock through the armed extents (the store file was "
               "replaced or moved after arming?): ",
               info.status().message()));
  }
  if (info->uuid != map.store_uuid) {
    return FailedPreconditionError(
        Concat(name, ": the superblock through the armed extents is store ",
               FormatStoreUuid(info->uuid), ", armed for store ", FormatStoreUuid(map.store_uuid),
               " (the store file was replaced or formatted again after arming)"));
  }
  return io;
}

std::string ReadDiskSerial(const std::string& sys_block_dir) {
  for (const char* leaf : {"serial", "device/serial", "device/wwid"}) {
    StatusOr<std::string> text =
        ReadTextFileBounded(Concat(sys_block_dir, "/", leaf), 4096, "disk serial");
    if (!text.ok()) continue;
    const size_t first = text->find_first_not_of(" \t\r\n");
    if (first == std::string::npos) continue;
    const size_t last = text->find_last_not_of(" \t\r\n");
    std::string serial = text->substr(first, last - first + 1);
    if (serial.size() > kStoreMapMaxSerial) serial.resize(kStoreMapMaxSerial);
    for (char& c : serial) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
    return serial;
  }
  return "";
}

}  // namespace saveoops
