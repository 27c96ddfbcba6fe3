// The store map: which store the capture program may write, as arming saw
// it. `saveoops arm` builds it from the store it was armed with and puts it
// into the capture initramfs (kStoreMapPath), which the purgatory verifies
// with the rest of the initrd segment (SHA-256): the capture program trusts
// it because nothing else could have changed it after arming. It writes a
// record only to a store whose superblock carries the map's store UUID.
//
// A store that is a file on the root file system (store/file_store.h) is
// written through its extents: the map then also names the disk the file's
// blocks are on, by the identity its partition table gives it (never by a
// device name, which another boot may hand to another disk), and the byte
// ranges of that disk the file occupies. The capture program finds the disk
// by that identity, reads the superblock through the first extent, checks
// its UUID, and writes only inside the extents.
//
// FORMAT (little-endian; version 1)
//   0   magic      "SVOOPSMP"
//   8   u16 version          kStoreMapVersion
//   10  u16 reserved         zero
//   12  u32 total_size       bytes of the whole map, header included
//   16  entries, back to back, filling [16, total_size) exactly:
//         u16 type, u16 length, `length` bytes of value, no padding;
//         types in increasing order, each at most once (one encoding per
//         map)
//
//   Entry types:
//     1  store UUID: length 16, the superblock's uuid. Required.
//     2  disk (file stores): length 56
//          0  u8  scheme         0 whole disk (no partition table), 1 MBR,
//                                2 GPT
//          1  u8[3] reserved     zero
//          4  u32 partition      Linux's number (GPT entry index + 1, MBR
//                                1-4 primaries, 5.. logicals); 0 whole disk
//          8  u8[16] disk id     GPT DiskGUID; MBR UniqueMBRDiskSignature in
//                                bytes 0-3, zero after; whole disk: zero
//          24 u8[16] partition   GPT UniquePartitionGUID; zero otherwise
//          40 u64 offset         the partition's first byte on the disk
//                                (whole disk: 0)
//          48 u64 size           the partition's bytes (whole disk: the
//                                disk's size)
//     3  disk serial (optional, needs entry 2): 1..kStoreMapMaxSerial bytes
//        of printable ASCII, the disk's serial or WWN as sysfs gives it
//        (/sys/block/X/serial, device/serial, device/wwid); when present,
//        the disk must carry it.
//     4  extents (exactly when entry 2 is there): 24 bytes per extent,
//        1..kStoreMapMaxExtents of them, in store order
//          0  u64 logical        store byte of the extent's first byte
//          8  u64 disk offset    its byte on the WHOLE disk
//          16 u64 length         bytes
//        The first starts at logical 0 and each where the previous ended
//        (they cover [0, store size) exactly); offsets and lengths are
//        multiples of 512; each lies inside the partition of entry 2; no
//        two overlap on the disk.
//   An older reader refuses an entry type it does not know: it must not
//   write to a store it cannot fully place.
//
// The parser refuses: a short buffer, a wrong magic, another version,
// nonzero reserved bits, total_size other than the buffer's size (so no
// trailing bytes), an entry running past the end, entries out of order or
// repeated, an entry of the wrong length, a missing UUID entry, a disk
// without extents or the reverse, and extents breaking the rules above. It
// never reads outside the buffer.
//
// Example:
//   StoreMap map;
//   map.store_uuid = info.uuid;
//   std::vector<uint8_t> bytes = SerializeStoreMap(map);
//   StatusOr<StoreMap> back = ParseStoreMap(bytes.data(), bytes.size());
#ifndef SAVEOOPS_STORE_STORE_MAP_H_
#define SAVEOOPS_STORE_STORE_MAP_H_

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/store_format.h"

namespace saveoops {

// Where the map is inside the capture initramfs.
inline constexpr char kStoreMapPath[] = "/saveoops/store.map";

inline constexpr char kStoreMapMagic[8] = {'S', 'V', 'O', 'O', 'P', 'S', 'M', 'P'};
inline constexpr uint16_t kStoreMapVersion = 1;
inline constexpr size_t kStoreMapHeaderSize = 16;
inline constexpr size_t kStoreMapEntryHeaderSize = 4;
inline constexpr uint16_t kStoreMapEntryStoreUuid = 1;
inline constexpr uint16_t kStoreMapEntryDisk = 2;
inline constexpr uint16_t kStoreMapEntryDiskSerial = 3;
inline constexpr uint16_t kStoreMapEntryExtents = 4;
inline constexpr size_t kStoreMapDiskEntrySize = 56;
inline constexpr size_t kStoreMapExtentSize = 24;
// A store file of more extents than this is refused at arm time (a 16 MiB
// file written at once on ext4 or xfs has one to a few).
inline constexpr size_t kStoreMapMaxExtents = 1024;
inline constexpr size_t kStoreMapMaxSerial = 128;
// Upper bound of a map (a raw store's is 36 bytes, a file store's with
// kStoreMapMaxExtents extents under 25 KiB): the capture program reads no
// more than this from kStoreMapPath.
inline constexpr size_t kStoreMapMaxSize = 64 * 1024;
// Extent offsets and lengths are multiples of this (the smallest logical
// block a disk has).
inline constexpr uint64_t kStoreMapSectorSize = 512;

// How entry 2 names the disk.
enum class StoreDiskScheme : uint8_t { kWholeDisk = 0, kMbr = 1, kGpt = 2 };

// The disk and partition holding a file store (entry 2).
struct StoreDisk {
  StoreDiskScheme scheme = StoreDiskScheme::kWholeDisk;
  uint32_t partition = 0;
  std::array<uint8_t, 16> disk_id{};
  std::array<uint8_t, 16> partition_guid{};
  uint64_t partition_offset = 0;
  uint64_t partition_size = 0;
  bool operator==(const StoreDisk& o) const {
    return scheme == o.scheme && partition == o.partition && disk_id == o.disk_id &&
           partition_guid == o.partition_guid && partition_offset == o.partition_offset &&
           partition_size == o.partition_size;
  }
};

// Store bytes [logical, logical + length) are disk bytes [disk_offset,
// disk_offset + length).
struct StoreExtent {
  uint64_t logical = 0;
  uint64_t disk_offset = 0;
  uint64_t length = 0;
  bool operator==(const StoreExtent& o) const {
    return logical == o.logical && disk_offset == o.disk_offset && length == o.length;
  }
};

struct StoreMap {
  std::array<uint8_t, kUuidSize> store_uuid{};
  // Set for a file store (with `extents`); unset for a raw partition or
  // disk store, which the capture finds by scanning for its UUID.
  std::optional<StoreDisk> disk;
  std::string disk_serial;  // empty: none recorded
  std::vector<StoreExtent> extents;
};

// "whole disk", "MBR" or "GPT", for messages.
const char* StoreDiskSchemeName(StoreDiskScheme scheme);

// The bytes the extents map (the file store's size); 0 without extents.
uint64_t MappedStoreSize(const StoreMap& map);

// Why `map`'s disk and extents break the format's rules (what the parser
// refuses), or OK; what arming checks before it serializes a map.
Status CheckStoreMapPlacement(const StoreMap& map);

std::vector<uint8_t> SerializeStoreMap(const StoreMap& map);

// Errors name what is wrong and where, e.g.
//   store map: entry at byte 16 (type 1) is 15 bytes; a store UUID is 16
//   store map: extent 2 (logical 8192) does not start where extent 1 ended
//   (4096)
StatusOr<StoreMap> ParseStoreMap(const uint8_t* data, size_t size);

// The UUID as 8-4-4-4-12 lowercase hex.
std::string FormatStoreUuid(const std::array<uint8_t, kUuidSize>& uuid);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_STORE_MAP_H_
