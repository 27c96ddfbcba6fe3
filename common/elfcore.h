// The ELF64 core header handed to the capture kernel with elfcorehdr=.
//
// This is not a core file: it is only an ELF header plus program headers,
// describing the DEAD kernel's memory, which the capture kernel's
// fs/proc/vmcore.c reads from physical memory to build /proc/vmcore.
// vmcore.c's rules (parse_crash_elf64_headers() and friends) shape it:
//   - e_ident "\x7fELF", ELFCLASS64, EV_CURRENT; e_type ET_CORE; e_machine
//     of the architecture (EM_X86_64); e_version EV_CURRENT; e_ehsize and
//     e_phentsize exactly sizeof(Elf64_Ehdr)/sizeof(Elf64_Phdr); e_phnum != 0;
//   - the program headers are read from right after the ELF header
//     (elfcorehdr_addr + sizeof(Elf64_Ehdr)), whatever e_phoff says, so
//     e_phoff must be 64;
//   - in a PT_NOTE or PT_LOAD, p_offset is the PHYSICAL address of the data
//     (vmcore.c reads p_memsz bytes of old memory from p_offset) and p_paddr
//     repeats it; vmcore.c rewrites offsets for /proc/vmcore itself.
// The content follows the kernel's own crash_prepare_elf64_headers()
// (kernel/kexec_file.c in 6.1, kernel/crash_core.c later): one PT_NOTE per CPU
// crash note, one PT_NOTE for VMCOREINFO, a PT_LOAD for the kernel text mapping
// (p_vaddr = the kernel virtual address), then one PT_LOAD per RAM range
// (p_vaddr = page_offset + physical address, the direct map). PT_LOAD flags are
// RWX, p_align 0.
//
// The output is padded with zeros to a multiple of 4096 bytes
// (kElfCoreHeaderAlign, the kernel's ELF_CORE_HEADER_ALIGN in
// include/linux/kexec.h, later include/linux/crash_core.h): the loader places
// it page-aligned and keeps those whole pages out of the capture kernel's
// usable RAM, as the kernel's kexec_file path does (memmap_exclude_ranges(),
// arch/x86/kernel/crash.c).
#ifndef SAVEOOPS_COMMON_ELFCORE_H_
#define SAVEOOPS_COMMON_ELFCORE_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/elf64.h"

namespace saveoops {

// Size the written header is padded to (ELF_CORE_HEADER_ALIGN).
inline constexpr size_t kElfCoreHeaderAlign = 4096;

// --- Building

// A range of physical memory: [start, start + size).
struct PhysRange {
  uint64_t start = 0;
  uint64_t size = 0;
};

// What the dead kernel's memory looks like, as the first kernel reports it
// (/sys/devices/system/cpu/cpuN/crash_notes, /sys/kernel/vmcoreinfo,
// /proc/iomem "Kernel code".."Kernel bss", System RAM ranges).
struct ElfCoreSpec {
  // Each CPU's crash note buffer (note_buf_t); at least one.
  std::vector<PhysRange> cpu_crash_notes;
  // The VMCOREINFO note (paddr_vmcoreinfo_note(), VMCOREINFO_NOTE_SIZE).
  PhysRange vmcoreinfo_note;
  // Physical range of the kernel image mapping (_text.._end) ...
  PhysRange kernel_text;
  // ... and the virtual address _text is mapped at.
  uint64_t kernel_text_vaddr = 0;
  // System RAM to expose; each becomes one PT_LOAD. May be empty.
  std::vector<PhysRange> ram;
  // Start of the kernel's direct map (PAGE_OFFSET, e.g. 0xffff888000000000
  // without KASLR): RAM range p_vaddr = page_offset + physical address.
  uint64_t page_offset = 0;
};

// One program header, decoded.
struct ElfCoreProgramHeader {
  uint32_t type = 0;   // kPtNote or kPtLoad.
  uint32_t flags = 0;  // kPf* bits.
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t paddr = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
  uint64_t align = 0;

  bool operator==(const ElfCoreProgramHeader& o) const;
  bool operator!=(const ElfCoreProgramHeader& o) const { return !(*this == o); }
};

// The program headers BuildElfCoreHeader writes for `spec`, in order: CPU
// notes, VMCOREINFO, kernel text, RAM ranges. Fails (InvalidArgument, naming
// the field, e.g. "ELF core header: 'ram[2]' ...") if cpu_crash_notes is
// empty, any range is empty or wraps past 2^64 (physically, or virtually
// once kernel_text_vaddr/page_offset is added), or there would be more than
// 0xfffe program headers.
absl::StatusOr<std::vector<ElfCoreProgramHeader>> ElfCoreProgramHeaders(const ElfCoreSpec& spec);

// Size of the written header for `phnum` program headers: 64 + 56 * phnum,
// rounded up to kElfCoreHeaderAlign. For a spec, phnum is
// cpu_crash_notes.size() + ram.size() + 2.
size_t ElfCoreHeaderSize(size_t phnum);

// Serializes the ELF header and ElfCoreProgramHeaders(spec), zero-padded to
// ElfCoreHeaderSize(). Same errors as ElfCoreProgramHeaders.
absl::StatusOr<std::vector<uint8_t>> BuildElfCoreHeader(const ElfCoreSpec& spec);

// --- Reading

// What ParseElfCoreHeader found.
struct ElfCoreInfo {
  // e_machine (always kEmX86_64 once accepted).
  uint16_t machine = 0;
  // Bytes used by the ELF header and program header table (before padding).
  size_t header_bytes = 0;
  // The program headers in file order.
  std::vector<ElfCoreProgramHeader> phdrs;
  // How many of phdrs are PT_NOTE and PT_LOAD (they add up to phdrs.size()).
  size_t note_count = 0;
  size_t load_count = 0;
};

// Strictly parses an elfcorehdr image (as BuildElfCoreHeader writes it, or
// as another loader would). Accepts exactly what fs/proc/vmcore.c accepts
// for x86-64, plus structural sanity: the checks listed at the top of this
// file, e_phnum != 0xffff, the table inside `bytes`, only PT_NOTE/PT_LOAD
// entries, each with p_offset == p_paddr, p_filesz == p_memsz != 0 and no
// address range wrapping past 2^64. Trailing bytes (padding) are allowed.
// Never reads outside `bytes`; errors name the field, e.g.
//   ELF core header: 'e_phoff' is 0x40000, need 64 (...)
absl::StatusOr<ElfCoreInfo> ParseElfCoreHeader(absl::Span<const uint8_t> bytes);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_ELFCORE_H_
