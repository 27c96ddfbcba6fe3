// What `saveoops arm` learns about the running (first) kernel before it
// stages a capture kernel: the crash reservation, where each CPU's crash
// note and the VMCOREINFO note live, the kernel's mappings, and firmware
// pointers the capture kernel needs. Every path is taken relative to a root
// so tests can run on a fake /proc + /sys tree.
#ifndef SAVEOOPS_ARMING_SYSINFO_H_
#define SAVEOOPS_ARMING_SYSINFO_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/elfcore.h"
#include "common/memmap.h"

namespace saveoops {

// x86-64 __START_KERNEL_map (arch/x86/include/asm/page_64_types.h): kernel
// image addresses are __START_KERNEL_map + physical - phys_base.
inline constexpr uint64_t kStartKernelMap = 0xffffffff80000000ull;
// PAGE_OFFSET without KASLR's memory randomisation (4-level paging).
inline constexpr uint64_t kDefaultPageOffset = 0xffff888000000000ull;

struct CrashSystemInfo {
  // /proc/iomem as parsed; RAM, ACPI, reserved ranges and the reservation.
  MemoryMap iomem;
  Range crash_reservation;
  // One per possible CPU that has crash_notes in sysfs.
  std::vector<PhysRange> cpu_crash_notes;
  PhysRange vmcoreinfo_note;
  // "Kernel code" start .. "Kernel bss" end, physical.
  PhysRange kernel_image;
  // Virtual address of kernel_image.start; from /proc/kcore when readable,
  // else derived from phys_base in the VMCOREINFO text.
  uint64_t kernel_image_vaddr = 0;
  // Start of the direct map; from /proc/kcore when readable.
  uint64_t page_offset = kDefaultPageOffset;
  bool page_offset_from_kcore = false;
  // The ACPI RSDP the first kernel used (boot_params.acpi_rsdp_addr or the
  // EFI system table's ACPI20/ACPI entry); 0 lets the capture kernel search
  // the BIOS areas itself.
  uint64_t acpi_rsdp = 0;
  // uname -r of the first kernel.
  std::string kernel_release;
  // Human-readable notes on fallbacks taken (printed by `arm --verbose`).
  std::vector<std::string> notes;
};

// Reads everything above from `root` ("/" on a live system). Errors name the
// file and say how to fix the system. A kernel booted without crashkernel=
// (no "Crash kernel" range in /proc/iomem) is its own outcome:
// IsNoCrashReservation() is true of that error and of no other, so a caller
// can answer it (with the crashkernel= a bundle needs) without reading the
// message.
absl::StatusOr<CrashSystemInfo> ReadCrashSystemInfo(const std::string& root = "/");

// The error ReadCrashSystemInfo returns when the running kernel has no crash
// reservation: NotFound with `message`, marked so IsNoCrashReservation()
// knows it (a status payload; it survives copies, not a rewritten message:
// keep the status, or mark the new one again).
absl::Status NoCrashReservationError(absl::string_view message);
bool IsNoCrashReservation(const absl::Status& status);

// "0x1234 4096\n" (the format of /sys/kernel/vmcoreinfo) -> {0x1234, 4096}.
absl::StatusOr<PhysRange> ParseAddressSizeLine(const std::string& text, const std::string& what);

}  // namespace saveoops

#endif  // SAVEOOPS_ARMING_SYSINFO_H_
