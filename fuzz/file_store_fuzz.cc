// Fuzzes what arming parses of a file store from the kernel
// (store/file_store.h): /proc/self/mountinfo text (MountedWithDataJournal)
// and FIEMAP extent arrays (PlaceFileExtents). Byte 0 picks which. Extents
// PlaceFileExtents accepts must cover the file exactly, lie inside the
// partition, be aligned, and pass the store map's own placement check:
// arming serializes them as they are.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "store/file_store.h"
#include "store/store_format.h"
#include "store/store_map.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

uint64_t Take64(const uint8_t*& p) {
  uint64_t v;
  memcpy(&v, p, 8);
  p += 8;
  return v;
}

uint32_t Take32(const uint8_t*& p) {
  uint32_t v;
  memcpy(&v, p, 4);
  p += 4;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  if (size < 1) return 0;
  if (data[0] % 2 == 0) {
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    const bool a = MountedWithDataJournal(text, 8, 3);
    Check(a == MountedWithDataJournal(text, 8, 3));
    if (text.find("data=journal") == std::string::npos) Check(!a);
    return 0;
  }
  // Header: file size (u32, in 512-byte units), partition start and size
  // (u32 each, in 512-byte units), logical block size shift (u8); then
  // 28-byte extents: logical, physical, length (u64), flags (u32).
  constexpr size_t kHeader = 1 + 12 + 1;
  if (size < kHeader) return 0;
  const uint8_t* p = data + 1;
  const uint64_t file_size = uint64_t{Take32(p)} * 512;
  BackingDevice dev;
  dev.disk = "vda";
  dev.partition = "vda1";
  dev.partition_number = 1;
  dev.partition_start = uint64_t{Take32(p)} * 512;
  dev.partition_size = uint64_t{Take32(p)} * 512;
  dev.logical_block_size = uint64_t{512} << (*p++ % 4);
  std::vector<FileExtent> in;
  while (static_cast<size_t>(data + size - p) >= 28) {
    FileExtent e;
    e.logical = Take64(p);
    e.physical = Take64(p);
    e.length = Take64(p);
    e.flags = Take32(p);
    in.push_back(e);
  }
  StatusOr<std::vector<StoreExtent>> out = PlaceFileExtents(in, file_size, dev, "fuzz");
  if (!out.ok()) return 0;
  uint64_t next = 0;
  for (const StoreExtent& e : *out) {
    Check(e.logical == next);
    Check(e.length > 0 && e.length % dev.logical_block_size == 0);
    Check(e.disk_offset % dev.logical_block_size == 0);
    Check(e.disk_offset >= dev.partition_start);
    Check(e.disk_offset - dev.partition_start + e.length <= dev.partition_size);
    next += e.length;
  }
  Check(next == file_size);
  Check(out->size() <= kStoreMapMaxExtents);
  if (file_size >= kMinStoreSize) {
    StoreMap map;
    StoreDisk disk;
    disk.scheme = StoreDiskScheme::kGpt;
    disk.partition = 1;
    disk.partition_offset = dev.partition_start;
    disk.partition_size = dev.partition_size;
    map.disk = disk;
    map.extents = *out;
    Check(CheckStoreMapPlacement(map).ok());
  }
  return 0;
}
