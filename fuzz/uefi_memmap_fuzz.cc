// Fuzzes ParseUefiMemoryMap(). The first byte picks the descriptor size
// (32..287: too small, exactly 40, and larger strides), the second the
// version (mostly the valid 1); the rest is the map.
#include <stddef.h>
#include <stdint.h>

#include "common/memmap.h"
#include "fuzz/memmap_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  if (size < 2) return 0;
  const size_t descriptor_size = 32 + data[0];
  const uint32_t version = data[1] < 0xf0 ? 1 : data[1] & 0x3;
  absl::StatusOr<MemoryMap> map =
      ParseUefiMemoryMap(absl::Span<const uint8_t>(data + 2, size - 2), descriptor_size, version);
  if (!map.ok()) return 0;
  FuzzCheck(descriptor_size >= sizeof(EfiMemoryDescriptor));
  FuzzCheck(version == kEfiMemoryDescriptorVersion);
  FuzzCheck(map->regions().size() <= (size - 2) / descriptor_size);
  CheckParsedMap(*map);
  return 0;
}
