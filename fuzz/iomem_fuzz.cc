// Fuzzes ParseProcIomem() and, when the text has a crash reservation, plans
// a capture into it and builds the capture kernel's memory map.
#include <stddef.h>
#include <stdint.h>

#include <string_view>

#include "common/memmap.h"
#include "common/planner.h"
#include "fuzz/memmap_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  absl::StatusOr<MemoryMap> map =
      ParseProcIomem(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!map.ok()) return 0;
  CheckParsedMap(*map);

  absl::StatusOr<Range> reservation = map->CrashReservation();
  if (!reservation.ok()) return 0;
  CaptureSizes sizes;
  sizes.purgatory_size = 0x5000;
  sizes.boot_params_size = 0x3000;
  sizes.elfcorehdr_size = 0x4000;
  sizes.backup_size = 0xa0000;
  sizes.kernel_init_size = 0x100000;
  sizes.initrd_size = 0x80000;
  sizes.runtime_headroom = 0x100000;
  absl::StatusOr<Plan> plan = PlanPlacement(MakeCaptureRequest(sizes), *reservation);
  if (!plan.ok()) return 0;
  for (const Placement& piece : plan->pieces) {
    FuzzCheck(reservation->Contains(piece.range));
  }
  const MemoryMap capture = CaptureKernelMemoryMap(*map, *reservation, *plan, size % 2 == 0);
  CheckParsedMap(capture);
  for (const BootE820Entry& entry : capture.ToE820()) {
    if (entry.type != kE820Ram) continue;
    for (const Placement& piece : plan->pieces) {
      if (piece.preserve) {
        FuzzCheck(!piece.range.Overlaps(Range{entry.addr, entry.size}));
      }
    }
  }
  return 0;
}
