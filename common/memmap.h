// Physical memory maps: ranges, typed regions, and the three formats a
// Saveoops loader meets them in.
//
//   /proc/iomem         what `saveoops arm` (kexec backend) reads at run time;
//                       the only place the "Crash kernel" reservation shows.
//   e820 table          the zero-page table (struct boot_e820_entry[]), what
//                       the Syslinux backend gets from the BIOS and what every
//                       backend writes for the capture kernel.
//   UEFI memory map     EFI_MEMORY_DESCRIPTOR[] from GetMemoryMap(), what the
//                       UEFI backend starts from.
//
// All three parse into one MemoryMap, and MemoryMap::ToE820() writes the e820
// table the capture kernel boots with. The shape follows u-root's
// pkg/boot/kexec (Range with Overlaps/Minus/Intersect, a typed memory map).
//
// Example:
//   ASSIGN_OR_RETURN(MemoryMap map, ParseProcIomem(iomem_text));
//   ASSIGN_OR_RETURN(Range crash, map.CrashReservation());
//   // crash == {0x2f000000, 0x10000000} for crashkernel=256M on a 1 GiB guest
#ifndef SAVEOOPS_COMMON_MEMMAP_H_
#define SAVEOOPS_COMMON_MEMMAP_H_

#include <stddef.h>
#include <stdint.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/e820.h"

namespace saveoops {

// A contiguous span of physical addresses [start, start + size).
//
// Overflow rule: a Range never wraps. Every Range this library creates has
// start + size <= 2^64 - 1, so end() is always representable, and parsers
// reject input whose end would pass that (the kernel rejects such e820
// entries too: arch/x86/kernel/e820.c, e820__update_table()). The price is
// that the very last byte, 0xffff'ffff'ffff'ffff, can never be covered; no
// x86 machine has memory there (physical addresses are at most 52 bits).
// Use Range::Valid() before building a Range from untrusted numbers.
//
// A Range of size 0 is empty: it contains no address and overlaps nothing.
struct Range {
  // First address in the range.
  uint64_t start = 0;
  // Number of bytes; 0 means empty.
  uint64_t size = 0;

  // True if {start, size} obeys the overflow rule (start + size <= 2^64 - 1).
  static bool Valid(uint64_t start, uint64_t size) { return size <= UINT64_MAX - start; }

  // The range [start, end). An inverted pair (end < start) yields the empty
  // range {start, 0}; callers that parse outside input check the order
  // themselves so they can name the bad value.
  static Range FromStartEnd(uint64_t start, uint64_t end) {
    return Range{start, end >= start ? end - start : 0};
  }

  // One past the last address (exclusive end).
  uint64_t end() const { return start + size; }

  // True if the range holds no address.
  bool empty() const { return size == 0; }

  // True if start <= addr < end().
  bool Contains(uint64_t addr) const { return addr >= start && addr < end(); }

  // True if every address of `other` is in this range. An empty `other` is
  // contained when start <= other.start <= end() (as in u-root's
  // IsSupersetOf).
  bool Contains(const Range& other) const { return other.start >= start && other.end() <= end(); }

  // True if the two ranges share at least one address. Touching ranges
  // ([0, 4096) and [4096, 8192)) do not overlap; empty ranges overlap nothing.
  bool Overlaps(const Range& other) const {
    return !empty() && !other.empty() && start < other.end() && other.start < end();
  }

  // The addresses common to both ranges, or nullopt if they do not overlap.
  std::optional<Range> Intersect(const Range& other) const;

  // This range with every address of `other` removed: zero, one or two
  // non-empty ranges in ascending order.
  //   {0x1000, 0x3000}.Minus({0x2000, 0x1000}) == {{0x1000, 0x1000},
  //                                                {0x3000, 0x1000}}
  std::vector<Range> Minus(const Range& other) const;

  // "[0x1000, 0x2000)".
  std::string ToString() const;

  friend bool operator==(const Range& a, const Range& b) {
    return a.start == b.start && a.size == b.size;
  }
  friend bool operator!=(const Range& a, const Range& b) { return !(a == b); }
};

// Every range of `ranges` with `hole` removed, in the order given.
std::vector<Range> Subtract(absl::Span<const Range> ranges, const Range& hole);

// `ranges` sorted by start, with overlapping and touching ranges merged and
// empty ones dropped: [0,10) [5,20) [20,30) [40,50) -> [0,30) [40,50).
std::vector<Range> Coalesce(std::vector<Range> ranges);

// What a region of physical memory is used for. The names follow the
// /proc/iomem resource names the kernel gives each e820 type
// (arch/x86/kernel/e820.c, e820_type_to_string()) and the resources it nests
// inside System RAM (arch/x86/kernel/setup.c: the kernel image and the
// crashkernel= reservation).
enum class MemoryType {
  kRam,          // "System RAM", e820 type 1.
  kReserved,     // "Reserved" (and "Soft Reserved"), e820 type 2.
  kAcpi,         // "ACPI Tables", e820 type 3 (reclaimable after parsing).
  kNvs,          // "ACPI Non-volatile Storage", e820 type 4.
  kUnusable,     // "Unusable memory", e820 type 5.
  kPersistent,   // "Persistent Memory" (type 7) and "(legacy)" (type 12).
  kCrashKernel,  // "Crash kernel": the crashkernel= reservation.
  kKernelCode,   // "Kernel code" of the running kernel.
  kKernelData,   // "Kernel data" and "Kernel rodata".
  kKernelBss,    // "Kernel bss".
  kOther,        // An e820 type this library does not know.
};

// The /proc/iomem name of `type` ("System RAM", "Crash kernel", ...); "Other"
// for kOther.
const char* MemoryTypeName(MemoryType type);

// The e820 type to describe `type` with. The crash reservation and the
// kernel image are RAM to the firmware (they sit inside "System RAM");
// persistent memory is reported as type 7; kOther as reserved, because the
// kernel never uses a range of a type it does not know.
uint32_t ToE820Type(MemoryType type);

// One typed range of a memory map. `name` is the text it came with (the
// /proc/iomem name, the EFI type name, or the e820 type name).
struct MemoryRegion {
  Range range;
  MemoryType type = MemoryType::kOther;
  std::string name;

  friend bool operator==(const MemoryRegion& a, const MemoryRegion& b) {
    return a.range == b.range && a.type == b.type && a.name == b.name;
  }
};

// A physical memory map: typed regions sorted by start address (then larger
// first, so an enclosing region comes before what it encloses). Regions may
// overlap or nest, as in /proc/iomem where "Crash kernel" sits inside
// "System RAM"; ToE820() resolves overlaps into a flat table.
class MemoryMap {
 public:
  // Inserts `region` in sorted position, after regions with the same start
  // and size. Empty regions are ignored. Precondition: region.range obeys
  // the Range overflow rule (the parsers below check it on their input).
  void Add(MemoryRegion region);

  // Add({range, type, name}); an empty `name` becomes MemoryTypeName(type).
  void Add(Range range, MemoryType type, std::string name = "");

  // All regions, sorted.
  const std::vector<MemoryRegion>& regions() const { return regions_; }

  // The ranges of the regions of exactly `type`, coalesced (sorted, touching
  // or overlapping ones merged). Nesting is not subtracted: RangesOf(kRam)
  // of /proc/iomem still covers the "Crash kernel" inside System RAM.
  std::vector<Range> RangesOf(MemoryType type) const;

  // Every "Crash kernel" range, ascending. crashkernel=X,high gives two: the
  // high reservation and a low one for DMA (reserve_crashkernel_low() in
  // arch/x86/kernel/setup.c, later kernel/crash_reserve.c).
  std::vector<Range> CrashReservations() const;

  // The reservation to load the capture kernel into: the highest "Crash
  // kernel" range. With crashkernel=X,high the low range is only a DMA pool
  // and the kernel refuses to load a panic kernel there (kexec-tools makes
  // the same choice in get_crash_kernel_load_range()). Error if none.
  absl::StatusOr<Range> CrashReservation() const;

  // The map as an e820 table: sorted by address, no two entries overlapping,
  // adjacent entries of the same type merged, no empty entries. Where
  // regions overlap, the larger e820 type value wins, as in the kernel's own
  // sanitizer (arch/x86/kernel/e820.c, e820__update_table()): RAM (1) never
  // hides a reserved range. The result may exceed the zero page's 128
  // entries (kE820MaxEntriesZeroPage); the caller spills the rest into
  // SETUP_E820_EXT.
  std::vector<BootE820Entry> ToE820() const;

  // One line per region: "[0x1000, 0x9fc00) System RAM".
  std::string ToString() const;

 private:
  std::vector<MemoryRegion> regions_;
};

// Checks the guarantees ToE820() makes: entries sorted by address, none
// empty, none wrapping past 2^64 - 1, none overlapping, no two touching
// entries of the same type. The error names the first offending entry.
absl::Status ValidateE820Table(absl::Span<const BootE820Entry> entries);

// Parses /proc/iomem: one resource per line, "START-END : NAME" with START
// and END inclusive hex addresses, nested by two spaces of indentation per
// level (kernel/resource.c, r_show()). Recognized names, at any depth:
//   System RAM, Reserved, Soft Reserved, ACPI Tables,
//   ACPI Non-volatile Storage, Unusable memory, Persistent Memory,
//   Persistent Memory (legacy), Crash kernel, Kernel code, Kernel rodata,
//   Kernel data, Kernel bss.
// Every other line (PCI windows, device BARs, ROMs, IOAPIC, ...) is checked
// for syntax and nesting and then dropped: those are address space, not
// memory, and the capture kernel finds devices itself. (A "Reserved" nested
// under a device, as under "PCI MMCONFIG", is kept.)
//
// Errors name the 1-based line and quote it: bad hex, END < START, END of
// 0xffffffffffffffff (the range would wrap), odd indentation, a child
// outside its parent, and a file where every address is 0 — what a reader
// without CAP_SYS_ADMIN sees (kernel/resource.c hides addresses from it).
absl::StatusOr<MemoryMap> ParseProcIomem(std::string_view text);

// Parses the zero page's e820 table: `bytes` is an array of 20-byte
// struct boot_e820_entry (Documentation/arch/x86/zero-page.rst, 0x2d0),
// e.g. the first e820_entries * 20 bytes at offset 0x2d0. Its size must be a
// multiple of 20. (Not /sys/firmware/memmap, which is a directory of text
// files.) Same rules as ParseE820Entries().
absl::StatusOr<MemoryMap> ParseE820Table(absl::Span<const uint8_t> bytes);

// Builds a map from e820 entries. Empty entries are skipped (firmware emits
// them; the kernel drops them too). An entry whose addr + size passes
// 2^64 - 1 is an error naming its index. Types 1-5, 7, 12 and 0xefffffff
// (soft reserved) map to their MemoryType; any other type becomes kOther
// named "e820 type N". Overlapping entries are kept as given.
absl::StatusOr<MemoryMap> ParseE820Entries(absl::Span<const BootE820Entry> entries);

// EFI_MEMORY_DESCRIPTOR, UEFI Specification 2.10, section 7.2
// (EFI_BOOT_SERVICES.GetMemoryMap()). The firmware may return descriptors
// larger than this struct (DescriptorSize); always step by that size.
struct __attribute__((packed)) EfiMemoryDescriptor {
  uint32_t type;
  uint32_t pad;  // Implicit padding: PhysicalStart is 8-byte aligned.
  uint64_t physical_start;
  uint64_t virtual_start;
  uint64_t number_of_pages;  // 4 KiB pages (EFI_PAGE_SIZE).
  uint64_t attribute;
};
static_assert(sizeof(EfiMemoryDescriptor) == 40, "EFI_MEMORY_DESCRIPTOR");
static_assert(offsetof(EfiMemoryDescriptor, type) == 0, "Type at 0");
static_assert(offsetof(EfiMemoryDescriptor, pad) == 4, "padding at 4");
static_assert(offsetof(EfiMemoryDescriptor, physical_start) == 8, "PhysicalStart at 8");
static_assert(offsetof(EfiMemoryDescriptor, virtual_start) == 16, "VirtualStart at 16");
static_assert(offsetof(EfiMemoryDescriptor, number_of_pages) == 24, "NumberOfPages at 24");
static_assert(offsetof(EfiMemoryDescriptor, attribute) == 32, "Attribute at 32");

// EFI_MEMORY_TYPE values (UEFI 2.10, table 7.6 "Memory Type Usage").
inline constexpr uint32_t kEfiReservedMemoryType = 0;
inline constexpr uint32_t kEfiLoaderCode = 1;
inline constexpr uint32_t kEfiLoaderData = 2;
inline constexpr uint32_t kEfiBootServicesCode = 3;
inline constexpr uint32_t kEfiBootServicesData = 4;
inline constexpr uint32_t kEfiRuntimeServicesCode = 5;
inline constexpr uint32_t kEfiRuntimeServicesData = 6;
inline constexpr uint32_t kEfiConventionalMemory = 7;
inline constexpr uint32_t kEfiUnusableMemory = 8;
inline constexpr uint32_t kEfiAcpiReclaimMemory = 9;
inline constexpr uint32_t kEfiAcpiMemoryNvs = 10;
inline constexpr uint32_t kEfiMemoryMappedIo = 11;
inline constexpr uint32_t kEfiMemoryMappedIoPortSpace = 12;
inline constexpr uint32_t kEfiPalCode = 13;
inline constexpr uint32_t kEfiPersistentMemory = 14;
inline constexpr uint32_t kEfiUnacceptedMemoryType = 15;
// EFI_MEMORY_SP: "specific purpose" memory, not for general allocation.
inline constexpr uint64_t kEfiMemorySp = 0x40000;
// EFI_MEMORY_DESCRIPTOR_VERSION, the only version defined.
inline constexpr uint32_t kEfiMemoryDescriptorVersion = 1;
// EFI_PAGE_SIZE.
inline constexpr uint64_t kEfiPageSize = 4096;

// Parses a UEFI memory map as GetMemoryMap() returns it: `bytes` holds
// bytes.size() / descriptor_size descriptors, each descriptor_size (>= 40)
// bytes apart. descriptor_version must be 1. Types map to the e820 types
// the kernel's EFI stub gives them (drivers/firmware/efi/libstub/
// x86-stub.c, setup_e820()):
//   loader code/data, boot services code/data, conventional -> kRam
//     (kReserved if the descriptor has EFI_MEMORY_SP: soft-reserved memory
//     is not general-purpose RAM)
//   ACPI reclaim -> kAcpi;  ACPI NVS -> kNvs;  unusable -> kUnusable;
//   persistent -> kPersistent;
//   everything else (reserved, runtime services, MMIO, PAL code, unaccepted
//   memory, OEM/OS-defined types) -> kReserved. The stub drops types it does
//   not know; keeping them reserved is equally safe and keeps them visible.
// Descriptors with 0 pages are skipped. Errors name the descriptor index:
// a PhysicalStart not 4 KiB aligned (the spec requires it), a page count
// whose size overflows, a range passing 2^64 - 1, a trailing partial
// descriptor.
absl::StatusOr<MemoryMap> ParseUefiMemoryMap(absl::Span<const uint8_t> bytes,
                                             size_t descriptor_size, uint32_t descriptor_version);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_MEMMAP_H_
