// ELF64 on-the-wire structures (System V gABI, "ELF Header" and "Program
// Header"; the same layout as <elf.h>'s Elf64_Ehdr/Elf64_Phdr, declared here
// so that this code does not depend on the host's <elf.h>). Shared by the
// elfcorehdr= writer and reader (common/elfcore.h), the /proc/vmcore
// reader of the static capture program (capture/vmcore.h), which must not
// include elfcore.h's absl API, and the vmlinux layout of a prepared
// capture kernel (common/kernel_image.h).
#ifndef SAVEOOPS_COMMON_ELF64_H_
#define SAVEOOPS_COMMON_ELF64_H_

#include <stddef.h>
#include <stdint.h>

namespace saveoops {

inline constexpr size_t kElfIdentSize = 16;  // EI_NIDENT
inline constexpr size_t kEiClass = 4;        // EI_CLASS
inline constexpr size_t kEiData = 5;         // EI_DATA
inline constexpr size_t kEiVersion = 6;      // EI_VERSION
inline constexpr size_t kEiOsAbi = 7;        // EI_OSABI
inline constexpr uint8_t kElfMagic[4] = {0x7f, 'E', 'L', 'F'};
inline constexpr uint8_t kElfClass64 = 2;   // ELFCLASS64
inline constexpr uint8_t kElfData2Lsb = 1;  // ELFDATA2LSB
inline constexpr uint8_t kEvCurrent = 1;    // EV_CURRENT
inline constexpr uint16_t kEtExec = 2;      // ET_EXEC
inline constexpr uint16_t kEtCore = 4;      // ET_CORE
inline constexpr uint16_t kEmX86_64 = 62;   // EM_X86_64
inline constexpr uint32_t kPtLoad = 1;      // PT_LOAD
inline constexpr uint32_t kPtNote = 4;      // PT_NOTE
inline constexpr uint32_t kPfX = 1;         // PF_X
inline constexpr uint32_t kPfW = 2;         // PF_W
inline constexpr uint32_t kPfR = 4;         // PF_R
// e_phnum value meaning "the real count is elsewhere" (gABI); vmcore.c does
// not implement that escape, so a crash header has at most 0xfffe entries.
inline constexpr uint16_t kPnXnum = 0xffff;

// Elf64_Ehdr.
struct __attribute__((packed)) Elf64Ehdr {
  uint8_t e_ident[kElfIdentSize];
  uint16_t e_type;
  uint16_t e_machine;
  uint32_t e_version;
  uint64_t e_entry;
  uint64_t e_phoff;
  uint64_t e_shoff;
  uint32_t e_flags;
  uint16_t e_ehsize;
  uint16_t e_phentsize;
  uint16_t e_phnum;
  uint16_t e_shentsize;
  uint16_t e_shnum;
  uint16_t e_shstrndx;
};
static_assert(sizeof(Elf64Ehdr) == 64, "gABI: Elf64_Ehdr is 64 bytes");
static_assert(offsetof(Elf64Ehdr, e_ident) == 0, "gABI");
static_assert(offsetof(Elf64Ehdr, e_type) == 16, "gABI");
static_assert(offsetof(Elf64Ehdr, e_machine) == 18, "gABI");
static_assert(offsetof(Elf64Ehdr, e_version) == 20, "gABI");
static_assert(offsetof(Elf64Ehdr, e_entry) == 24, "gABI");
static_assert(offsetof(Elf64Ehdr, e_phoff) == 32, "gABI");
static_assert(offsetof(Elf64Ehdr, e_shoff) == 40, "gABI");
static_assert(offsetof(Elf64Ehdr, e_flags) == 48, "gABI");
static_assert(offsetof(Elf64Ehdr, e_ehsize) == 52, "gABI");
static_assert(offsetof(Elf64Ehdr, e_phentsize) == 54, "gABI");
static_assert(offsetof(Elf64Ehdr, e_phnum) == 56, "gABI");
static_assert(offsetof(Elf64Ehdr, e_shentsize) == 58, "gABI");
static_assert(offsetof(Elf64Ehdr, e_shnum) == 60, "gABI");
static_assert(offsetof(Elf64Ehdr, e_shstrndx) == 62, "gABI");

// Elf64_Phdr.
struct __attribute__((packed)) Elf64Phdr {
  uint32_t p_type;
  uint32_t p_flags;
  uint64_t p_offset;
  uint64_t p_vaddr;
  uint64_t p_paddr;
  uint64_t p_filesz;
  uint64_t p_memsz;
  uint64_t p_align;
};
static_assert(sizeof(Elf64Phdr) == 56, "gABI: Elf64_Phdr is 56 bytes");
static_assert(offsetof(Elf64Phdr, p_type) == 0, "gABI");
static_assert(offsetof(Elf64Phdr, p_flags) == 4, "gABI");
static_assert(offsetof(Elf64Phdr, p_offset) == 8, "gABI");
static_assert(offsetof(Elf64Phdr, p_vaddr) == 16, "gABI");
static_assert(offsetof(Elf64Phdr, p_paddr) == 24, "gABI");
static_assert(offsetof(Elf64Phdr, p_filesz) == 32, "gABI");
static_assert(offsetof(Elf64Phdr, p_memsz) == 40, "gABI");
static_assert(offsetof(Elf64Phdr, p_align) == 48, "gABI");

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_ELF64_H_
