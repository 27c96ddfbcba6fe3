// Invariant checks shared by the memory-map fuzz targets. A failed check
// calls __builtin_trap() so libFuzzer records the input.
#ifndef SAVEOOPS_FUZZ_MEMMAP_FUZZ_CHECK_H_
#define SAVEOOPS_FUZZ_MEMMAP_FUZZ_CHECK_H_

#include <string.h>

#include <vector>

#include "common/memmap.h"

namespace saveoops {

inline void FuzzCheck(bool condition) {
  if (!condition) __builtin_trap();
}

// Everything a successfully parsed map promises: sorted valid regions,
// coalesced RangesOf(), and a ToE820() table that is valid and reads back
// (ParseE820Entries) to exactly itself.
inline void CheckParsedMap(const MemoryMap& map) {
  const std::vector<MemoryRegion>& regions = map.regions();
  for (size_t i = 0; i < regions.size(); ++i) {
    FuzzCheck(!regions[i].range.empty());
    FuzzCheck(Range::Valid(regions[i].range.start, regions[i].range.size));
    if (i > 0) FuzzCheck(regions[i - 1].range.start <= regions[i].range.start);
  }
  for (MemoryType type :
       {MemoryType::kRam, MemoryType::kReserved, MemoryType::kCrashKernel, MemoryType::kOther}) {
    const std::vector<Range> ranges = map.RangesOf(type);
    for (size_t i = 1; i < ranges.size(); ++i) {
      FuzzCheck(ranges[i - 1].end() < ranges[i].start);
    }
  }
  const std::vector<BootE820Entry> table = map.ToE820();
  FuzzCheck(ValidateE820Table(table).ok());
  FuzzCheck(table.empty() == regions.empty());
  absl::StatusOr<MemoryMap> again = ParseE820Entries(table);
  FuzzCheck(again.ok());
  const std::vector<BootE820Entry> table_again = again->ToE820();
  FuzzCheck(table_again.size() == table.size());
  FuzzCheck(table.empty() ||
            memcmp(table.data(), table_again.data(), table.size() * sizeof(BootE820Entry)) == 0);
}

}  // namespace saveoops

#endif  // SAVEOOPS_FUZZ_MEMMAP_FUZZ_CHECK_H_
