// Placing the capture pieces inside the crash reservation.
//
// A kdump-style capture needs, all inside the memory reserved with
// crashkernel=: the capture kernel (which decompresses in place and uses
// init_size bytes from its load address), its initrd, its zero page
// (boot_params + command line + setup_data), the ELF core header describing
// the dead kernel's memory, the purgatory, and optionally a backup of low
// memory. Whatever is left stays free: the capture kernel runs in it.
//
// Every piece becomes one kexec segment, and kexec_load(KEXEC_ON_CRASH)
// requires each segment to be page aligned, a whole number of pages, and
// inside the crash reservation (kernel/kexec_core.c,
// sanity_check_segment_list()). So the planner rounds sizes up to 4 KiB and
// never aligns below 4 KiB.
//
// Example (the Debian 6.1 kernel as capture kernel, 256 MiB reservation):
//   CaptureSizes sizes;
//   sizes.kernel_init_size = 0x3f98000;  sizes.kernel_alignment = 0x200000;
//   sizes.initrd_size = 9 << 20;  ...  sizes.runtime_headroom = 96 << 20;
//   ASSIGN_OR_RETURN(Plan plan,
//                    PlanPlacement(MakeCaptureRequest(sizes), reservation));
//   ASSIGN_OR_RETURN(uint64_t need,
//                    SmallestReservation(MakeCaptureRequest(sizes)));
//   CrashkernelArgument(need);  // e.g. "crashkernel=169M"
#ifndef SAVEOOPS_COMMON_PLANNER_H_
#define SAVEOOPS_COMMON_PLANNER_H_

#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/memmap.h"

namespace saveoops {

// kexec segments are page granular (kernel/kexec_core.c).
inline constexpr uint64_t kPlannerPageSize = 4096;

// Where x86 puts a crashkernel=SIZE reservation: at a multiple of
// CRASH_ALIGN, 16 MiB (arch/x86/include/asm/crash_reserve.h; older kernels
// define it in arch/x86/kernel/setup.c). crashkernel=SIZE@OFFSET places it
// at OFFSET instead.
inline constexpr uint64_t kCrashKernelAlignment = 16ull << 20;

// The legacy real-mode memory below the EBDA/VGA hole: [0, 640 KiB).
inline constexpr uint64_t kLowMemoryEnd = 0xa0000;

// One piece to place and its constraints.
struct PieceRequest {
  // Label in the plan and in error messages ("kernel", "initrd", ...).
  std::string name;
  // Bytes needed; rounded up to a whole page. 0: nothing is placed.
  uint64_t size = 0;
  // Alignment of the start address; a power of two. Values below 4096 are
  // raised to 4096 (kexec segments are page aligned).
  uint64_t align = kPlannerPageSize;
  // The piece must start at or above this address.
  uint64_t min_addr = 0;
  // The piece must end (exclusively) at or below this address, e.g.
  // 0x100000000 for a piece that needs 32-bit addresses.
  uint64_t max_end = UINT64_MAX;
  // True if the capture kernel must not use this memory as RAM, so that
  // CaptureKernelMemoryMap() leaves it out: the ELF core header (the capture
  // kernel reads it for /proc/vmcore) and the low-memory backup (it holds
  // the first kernel's data).
  bool preserve = false;
};

// Everything to place for one capture. Pieces of size 0 are skipped (backup
// and initrd are optional).
struct CaptureRequest {
  PieceRequest purgatory{"purgatory"};
  PieceRequest boot_params{"boot_params"};
  PieceRequest elfcorehdr{"elfcorehdr"};
  // Copy of the first kernel's low memory; size 0 means none.
  PieceRequest backup{"backup"};
  // The relocatable capture kernel; placed lowest (see PlanPlacement).
  PieceRequest kernel{"kernel"};
  PieceRequest initrd{"initrd"};
  // Bytes the capture kernel needs free to run (page tables, slab, the
  // unpacked initramfs, the capture tool), contiguous or not. They stay
  // unallocated inside the reservation.
  uint64_t runtime_headroom = 0;
};

// The sizes a loader knows, from which MakeCaptureRequest() builds a
// CaptureRequest with the usual constraints.
struct CaptureSizes {
  uint64_t purgatory_size = 0;
  // Zero page plus whatever the loader puts next to it (command line,
  // setup_data).
  uint64_t boot_params_size = 0;
  uint64_t elfcorehdr_size = 0;
  uint64_t backup_size = 0;
  // setup_header.init_size: memory the kernel needs from its load address
  // to decompress and run (Documentation/arch/x86/boot.rst).
  uint64_t kernel_init_size = 0;
  // Bytes of the protected-mode kernel as copied (BzImageInfo.payload_size);
  // the kernel piece is max(init_size, payload) because the copy must fit.
  uint64_t kernel_payload_size = 0;
  // setup_header.kernel_alignment; a power of two.
  uint64_t kernel_alignment = 2ull << 20;
  uint64_t initrd_size = 0;
  // setup_header.initrd_addr_max: the highest address the initrd may
  // occupy (its last byte).
  uint64_t initrd_addr_max = 0x7fffffff;
  // XLF_CAN_BE_LOADED_ABOVE_4G is set: the initrd may go anywhere.
  bool initrd_above_4g_ok = false;
  uint64_t runtime_headroom = 0;
};

// Builds the request for `sizes` with these constraints:
//   purgatory, boot_params: 4 KiB aligned, anywhere (entered and read in
//     64-bit mode with all memory identity mapped).
//   elfcorehdr: 4 KiB aligned, preserved. The kernel's own kexec_file
//     loader uses ELF_CORE_HEADER_ALIGN = 4096 (include/linux/crash_core.h,
//     formerly include/linux/kexec.h);
//     kexec-tools settles for 1024 only because it passes memmap=...K on the
//     command line. elfcorehdr= takes any address (kernel/crash_dump.c,
//     setup_elfcorehdr(): memparse), so 4 KiB serves the segment and e820
//     granularity, not the kernel.
//   backup: 4 KiB aligned, preserved.
//   kernel: max(init_size, payload) bytes at kernel_alignment.
//   initrd: 4 KiB aligned, ending at or below initrd_addr_max + 1 unless
//     initrd_above_4g_ok (boot.rst, "initrd_addr_max", XLF flags).
CaptureRequest MakeCaptureRequest(const CaptureSizes& sizes);

// A placed piece.
struct Placement {
  std::string name;
  // Page aligned, a whole number of pages, inside the reservation.
  Range range;
  // Copied from the PieceRequest.
  bool preserve = false;
};

// The result of PlanPlacement().
struct Plan {
  Range reservation;
  // In ascending address order.
  std::vector<Placement> pieces;
  // reservation.size minus the placed bytes (alignment gaps included: they
  // are RAM the capture kernel can use).
  uint64_t free_bytes = 0;

  // Each piece of the CaptureRequest where it landed, by the request's
  // member of the same name: plan.kernel is where request.kernel went. A
  // piece that was not requested (size 0) has an empty range here and no
  // entry in `pieces`.
  Range purgatory;
  Range boot_params;
  Range elfcorehdr;
  Range backup;
  Range kernel;
  Range initrd;

  // A table for logs and --dry-run output, in address order with the free
  // gaps; preserved pieces are starred:
  //   reservation [0x2f000000, 0x3f000000)  256 MiB
  //     kernel       [0x2f000000, 0x32f98000)             63.6 MiB
  //     (free)       [0x32f98000, 0x3e6ef000)             183.3 MiB
  //     boot_params  [0x3e6ef000, 0x3e6f2000)             12 KiB
  //     elfcorehdr*  [0x3e6f2000, 0x3e6f6000)             16 KiB
  //     ...
  //   free 183.3 MiB (0xb757000 bytes); * = kept out of the capture ...
  std::string ToString() const;
};

// Places `request` inside `reservation`. Deterministic.
//
// Strategy: the kernel goes at the lowest kernel_alignment-aligned address
// (at or above its min_addr); it then grows upward through init_size. The
// other pieces are packed from the top of the reservation downwards, each at
// the highest aligned address that is free and meets its constraints, the
// most constrained first (lowest max_end, then largest alignment, then
// largest size, then request order). This keeps the free memory in one
// block between the kernel and the packed pieces, where the capture kernel
// finds it. Finally free_bytes must be >= runtime_headroom.
//
// Errors name the piece that does not fit, how many bytes it is short of the
// largest usable gap, and the reservation size that would work at this
// start (as SmallestReservationAt() computes it); or, for headroom, how much
// is missing. An alignment that is not a power of two is an error too.
absl::StatusOr<Plan> PlanPlacement(const CaptureRequest& request, Range reservation);

// The smallest size S, a multiple of 4096, for which PlanPlacement succeeds
// with a reservation of S bytes starting at `start`.
//
// Found by bisection between a size that fails and one that succeeds, so
// PlanPlacement always succeeds at S and fails at S - 4096. When only the
// kernel has a minimum address and max_end caps do not bind (every request
// MakeCaptureRequest builds, placed below 4 GiB), success is monotone in
// the size and S is the true minimum. Error if no size works (e.g. a piece
// must end below `start`).
absl::StatusOr<uint64_t> SmallestReservationAt(const CaptureRequest& request, uint64_t start);

// SmallestReservationAt(request, start_alignment): the size to ask for with
// crashkernel=, where the kernel picks a start that is a multiple of
// `start_alignment` (kCrashKernelAlignment on x86). Evaluating at
// start_alignment itself is the worst case for the kernel's alignment gap:
// among multiples of start_alignment it leaves the largest distance to the
// next kernel_alignment boundary. start_alignment must be a power of two
// >= 4096.
absl::StatusOr<uint64_t> SmallestReservation(const CaptureRequest& request,
                                             uint64_t start_alignment = kCrashKernelAlignment);

// "crashkernel=NM", rounding `bytes` up to whole MiB: 72 MiB + 1 byte ->
// "crashkernel=73M".
std::string CrashkernelArgument(uint64_t bytes);

// The memory map the capture kernel should boot with (its e820 table is
// CaptureKernelMemoryMap(...).ToE820()):
//   - the reservation as RAM, except the preserved pieces of `plan`
//     (elfcorehdr, backup), which are left out entirely, as both kexec-tools
//     (load_crashdump_segments(): delete_memmap()) and the kernel
//     (arch/x86/kernel/crash.c, memmap_exclude_ranges()) do. /proc/vmcore
//     still reads the header: it maps old memory with ioremap, which needs
//     no RAM entry. The other pieces become ordinary RAM: the capture kernel
//     reserves its own image and initrd, copies boot_params and the command
//     line at entry, and never returns to the purgatory.
//   - other "Crash kernel" ranges of the first kernel (the low DMA range of
//     crashkernel=X,high) as RAM, as the kernel adds crashk_low_res.
//   - every non-RAM region of the first kernel (ACPI tables, ACPI NVS,
//     reserved, unusable, persistent, unknown) unchanged, so the capture
//     kernel maps and parses the ACPI tables and never treats those ranges
//     as RAM.
//   - if include_low_640k, the first kernel's System RAM below 640 KiB as
//     RAM. The capture kernel wants some low memory (real-mode trampoline),
//     and a first kernel booted with crashkernel= keeps its hands off the
//     low 1 MiB (commit 6f599d84231f "x86/kdump: Always reserve the low 1M
//     when the crashkernel option is specified"; every boot reserves it
//     since "x86/setup: Always reserve the first 1M of RAM", 5.13), so no
//     first-kernel data is lost there and no backup is needed. The kernel's
//     own kexec_file loader passes the same range (arch/x86/kernel/crash.c,
//     crash_setup_memmap_entries(), "Add the low 1M").
// No other first-kernel RAM appears: it is the dead kernel's memory, the
// thing being dumped.
MemoryMap CaptureKernelMemoryMap(const MemoryMap& first_kernel, Range reservation, const Plan& plan,
                                 bool include_low_640k);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_PLANNER_H_
