#include "fuzz/allocation_meter.h"

#include <stddef.h>

#include <algorithm>
#include <vector>

namespace saveoops {
namespace {

thread_local bool t_counting = false;
thread_local uint64_t t_live = 0;
thread_local uint64_t t_peak = 0;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

AllocationMeter::AllocationMeter() {
  t_live = 0;
  t_peak = 0;
  t_counting = true;
}

AllocationMeter::~AllocationMeter() { t_counting = false; }

uint64_t AllocationMeter::peak() const { return t_peak; }

void CheckAllocatedAtMost(const AllocationMeter& meter, uint64_t bytes) {
  static const bool meter_works = [] {
    const bool was_counting = t_counting;
    const uint64_t live = t_live, peak = t_peak;
    t_counting = true;
    t_live = 0;
    t_peak = 0;
    auto* probe = new std::vector<uint8_t>(4096);
    const bool counted = t_peak >= 4096;
    delete probe;
    t_counting = was_counting;
    t_live = live;
    t_peak = peak;
    return counted;
  }();
  Check(meter_works);
  Check(meter.peak() <= bytes);
}

}  // namespace saveoops

// ASan's allocation hooks (sanitizer/allocator_interface.h), found by name
// at startup: they feed AllocationMeter.
extern "C" {
size_t __sanitizer_get_allocated_size(const volatile void* p);

void __sanitizer_malloc_hook(const volatile void* /*ptr*/, size_t size) {
  if (!saveoops::t_counting) return;
  saveoops::t_live += size;
  saveoops::t_peak = std::max(saveoops::t_peak, saveoops::t_live);
}

void __sanitizer_free_hook(const volatile void* ptr) {
  if (!saveoops::t_counting || ptr == nullptr) return;
  const uint64_t size = __sanitizer_get_allocated_size(ptr);
  saveoops::t_live -= std::min(size, saveoops::t_live);
}
}
