// Counts the bytes a fuzz target's code under test allocates, so a target can
// check that no input makes a reader allocate more than the region it reads
// can justify, whatever its headers claim (a length field of 21 GiB, an ELF
// spanning 1 GiB). ASan's allocation hooks do the counting; every fuzz
// target is built with ASan (fuzz/fuzz.bzl).
//
//   {
//     AllocationMeter meter;
//     (void)ParseCpio(bytes);
//     CheckAllocatedAtMost(meter, size + kFixedAllocationSlack);
//   }
#ifndef SAVEOOPS_FUZZ_ALLOCATION_METER_H_
#define SAVEOOPS_FUZZ_ALLOCATION_METER_H_

#include <stdint.h>

namespace saveoops {

// What a reader may allocate beyond what its input justifies: names,
// formatted error messages, its own small bookkeeping.
inline constexpr uint64_t kFixedAllocationSlack = 64 * 1024;

// Peak bytes allocated and not yet freed on this thread while the meter
// lives. One meter at a time per thread.
class AllocationMeter {
 public:
  AllocationMeter();
  ~AllocationMeter();
  AllocationMeter(const AllocationMeter&) = delete;
  AllocationMeter& operator=(const AllocationMeter&) = delete;
  uint64_t peak() const;
};

// Traps if the meter's peak is above `bytes`, or if the hooks are not live
// (then a bound would check nothing).
void CheckAllocatedAtMost(const AllocationMeter& meter, uint64_t bytes);

}  // namespace saveoops

#endif  // SAVEOOPS_FUZZ_ALLOCATION_METER_H_
