// Fuzzes the store map parser (store/store_map.h): it never reads outside
// the input, and every map it accepts serializes back to the input bytes
// (one canonical encoding), passes the placement check arming makes, and
// maps at least a store's worth of bytes when it has extents.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "fuzz/allocation_meter.h"
#include "store/store_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::vector<uint8_t> bytes(data, data + size);
  StatusOr<StoreMap> map = StoreMap();
  {
    AllocationMeter meter;
    map = ParseStoreMap(bytes.data(), bytes.size());
    CheckAllocatedAtMost(meter, bytes.size() + kFixedAllocationSlack);
  }
  if (map.ok()) {
    const std::vector<uint8_t> again = SerializeStoreMap(*map);
    if (again != bytes) abort();
    if (FormatStoreUuid(map->store_uuid).size() != 36) abort();
    if (!CheckStoreMapPlacement(*map).ok()) abort();
    if (map->disk.has_value() != !map->extents.empty()) abort();
    if (map->disk && MappedStoreSize(*map) < kMinStoreSize) abort();
  }
  return 0;
}
