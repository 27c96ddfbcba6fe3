// The store map: which store the capture program may write, as arming saw
// it. `saveoops arm` builds it from the store it was armed with and puts it
// into the capture initramfs (kStoreMapPath), which the purgatory verifies
// with the rest of the initrd segment (SHA-256): the capture program trusts
// it because nothing else could have changed it after arming. It writes a
// record only to a store whose superblock carries the map's store UUID.
//
// FORMAT (little-endian; version 1)
//   0   magic      "SVOOPSMP"
//   8   u16 version          kStoreMapVersion
//   10  u16 reserved         zero
//   12  u32 total_size       bytes of the whole map, header included
//   16  entries, back to back, filling [16, total_size) exactly:
//         u16 type, u16 length, `length` bytes of value, no padding
//
//   Entry types (version 1):
//     1  store UUID: length 16, the superblock's uuid. Exactly once.
//   Room for later versions: the disk the store is on (a partition UUID or
//   disk serial) and the extents of a store file on the root file system.
//   A version-1 reader refuses any entry type it does not know: it must not
//   write to a store it cannot fully place.
//
// The parser refuses: a short buffer, a wrong magic, another version,
// nonzero reserved bits, total_size other than the buffer's size (so no
// trailing bytes), an entry running past the end, a UUID entry of another
// length, a missing or repeated UUID entry. It never reads outside the
// buffer.
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
// Upper bound of a map (a version-1 map is 36 bytes): the capture program
// reads no more than this from kStoreMapPath.
inline constexpr size_t kStoreMapMaxSize = 64 * 1024;

struct StoreMap {
  std::array<uint8_t, kUuidSize> store_uuid{};
};

std::vector<uint8_t> SerializeStoreMap(const StoreMap& map);

// Errors name what is wrong and where, e.g.
//   store map: entry at byte 16 (type 1) is 15 bytes; a store UUID is 16
StatusOr<StoreMap> ParseStoreMap(const uint8_t* data, size_t size);

// The UUID as 8-4-4-4-12 lowercase hex.
std::string FormatStoreUuid(const std::array<uint8_t, kUuidSize>& uuid);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_STORE_MAP_H_
