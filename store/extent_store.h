// A file store's bytes on its disk: the store map's extents
// (store/store_map.h) as a StoreIo (store/ring.h), and the checks that a
// disk is the one arming saw. What saveoops-capture writes a file store
// through: it never runs file-system code, it writes disk bytes inside the
// extents and nothing else.
//
// absl-free (common/status.h): the static capture program links it.
//
// Example (capture):
//   StatusOr<std::unique_ptr<ExtentStoreIo>> io =
//       OpenMappedStore(map, "/dev/vda", ReadDiskSerial("/sys/block/vda"));
//   // refused: "disk /dev/vda: GPT partition 1 has partition GUID 3a.., the
//   //           armed store's has 9f.."
//   StatusOr<CaptureRecord> written = AppendRecord(**io, record);
#ifndef SAVEOOPS_STORE_EXTENT_STORE_H_
#define SAVEOOPS_STORE_EXTENT_STORE_H_

#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "common/byte_source.h"
#include "common/files.h"
#include "common/status.h"
#include "store/ring.h"
#include "store/store_map.h"

namespace saveoops {

// Store bytes read through extents of `disk`: store byte L is disk byte
// extent.disk_offset + (L - extent.logical). size() is the extents' total;
// reads past it come back short. The extents must cover [0, size)
// contiguously (CheckStoreMapPlacement).
class ExtentByteSource : public ByteSource {
 public:
  ExtentByteSource(const ByteSource& disk, std::vector<StoreExtent> extents);
  StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> out) const override;
  uint64_t size() const override { return size_; }

 private:
  const ByteSource& disk_;
  std::vector<StoreExtent> extents_;
  uint64_t size_ = 0;
};

// The StoreIo of a file store on an opened disk (a block device, or a disk
// image file in tests). Write() refuses, before writing anything, an access
// that reaches a store byte no extent maps; each extent's piece is one
// pwrite() to the disk; Sync() is fdatasync() of the disk.
class ExtentStoreIo : public StoreIo {
 public:
  // `extents` passed CheckStoreMapPlacement and lie inside the disk's
  // `disk_size` bytes (OpenMappedStore checks both).
  ExtentStoreIo(UniqueFd disk, uint64_t disk_size, std::vector<StoreExtent> extents,
                std::string name);
  const ByteSource& bytes() const override { return bytes_; }
  Status Write(uint64_t offset_in_store, absl::Span<const uint8_t> data) override;
  Status Sync() override;
  const std::string& name() const override { return name_; }

 private:
  UniqueFd fd_;
  FileByteSource disk_;
  ExtentByteSource bytes_;
  std::vector<StoreExtent> extents_;
  std::string name_;
};

// Opens `disk_path` (a whole disk, read-write) as the armed file store of
// `map` (which has a disk and extents), or says why it is not it:
//  - the disk's partition table must describe map.disk exactly: the same
//    scheme, disk id (GPT DiskGUID / MBR signature), partition number, GPT
//    partition GUID, start and size; for a whole-disk store, no partition
//    table and the same size;
//  - a serial in the map must equal `disk_serial` (ReadDiskSerial());
//  - every extent must lie inside the disk;
//  - the superblock read through the extents must verify and carry the
//    map's store UUID (a file replaced after arming has other blocks or
//    another UUID there).
// Nothing is written. Errors start with "disk DISK_PATH: ".
StatusOr<std::unique_ptr<ExtentStoreIo>> OpenMappedStore(const StoreMap& map,
                                                         const std::string& disk_path,
                                                         const std::string& disk_serial);

// The serial or WWN sysfs gives the disk whose /sys/block directory is
// `sys_block_dir`: the first non-empty of `serial` (virtio-blk, NVMe),
// `device/serial`, `device/wwid` (SCSI, NVMe), surrounding blanks
// stripped, non-printable bytes as '?', at most kStoreMapMaxSerial bytes;
// empty if none.
std::string ReadDiskSerial(const std::string& sys_block_dir);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_EXTENT_STORE_H_
