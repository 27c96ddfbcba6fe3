// The BIOS e820 memory map entry as the x86 boot protocol carries it.
//
// Shared by the memory-map model (common/memmap.h), the zero-page builder
// (common/boot_params.h) and freestanding code, so it uses no libc.
#ifndef SAVEOOPS_COMMON_E820_H_
#define SAVEOOPS_COMMON_E820_H_

#include <stddef.h>
#include <stdint.h>

namespace saveoops {

// struct boot_e820_entry, Documentation/arch/x86/zero-page.rst (0x2d0) and
// arch/x86/include/uapi/asm/setup_data.h: 20 bytes, packed.
struct __attribute__((packed)) BootE820Entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};
static_assert(sizeof(BootE820Entry) == 20, "boot_e820_entry is 20 bytes");
static_assert(offsetof(BootE820Entry, addr) == 0, "addr at 0");
static_assert(offsetof(BootE820Entry, size) == 8, "size at 8");
static_assert(offsetof(BootE820Entry, type) == 16, "type at 16");

// E820 range types (ACPI specification, "Address Range Types", and
// arch/x86/include/asm/e820/types.h for the Linux-specific ones).
inline constexpr uint32_t kE820Ram = 1;
inline constexpr uint32_t kE820Reserved = 2;
inline constexpr uint32_t kE820Acpi = 3;
inline constexpr uint32_t kE820Nvs = 4;
inline constexpr uint32_t kE820Unusable = 5;
inline constexpr uint32_t kE820Pmem = 7;
// Legacy persistent memory type used by Linux (E820_TYPE_PRAM).
inline constexpr uint32_t kE820Pram = 12;

// The zero page holds at most this many entries in e820_table; the rest go
// into a SETUP_E820_EXT setup_data node (arch/x86/include/uapi/asm/setup_data.h).
inline constexpr size_t kE820MaxEntriesZeroPage = 128;

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_E820_H_
