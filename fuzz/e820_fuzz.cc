// Fuzzes ParseE820Table() on raw zero-page e820 bytes.
#include <stddef.h>
#include <stdint.h>

#include "common/memmap.h"
#include "fuzz/memmap_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  absl::StatusOr<MemoryMap> map = ParseE820Table(absl::Span<const uint8_t>(data, size));
  if (!map.ok()) return 0;
  FuzzCheck(size % sizeof(BootE820Entry) == 0);
  FuzzCheck(map->regions().size() <= size / sizeof(BootE820Entry));
  CheckParsedMap(*map);
  return 0;
}
