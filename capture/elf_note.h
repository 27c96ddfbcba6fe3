// The ELF note header, the one on-disk ELF structure the capture code needs
// beyond common/elf64.h's Elf64Ehdr and Elf64Phdr.
//
// Private to capture/: the vmcore reader (capture/vmcore.cc) parses notes
// and the test image builder (capture/test_vmcore.cc) writes them. Layout
// from the System V gABI "Note Section" and include/uapi/linux/elf.h
// (Elf64_Nhdr); little-endian on x86-64. Read with memcpy from untrusted
// bytes, so packed and pinned by static_asserts.
#ifndef SAVEOOPS_CAPTURE_ELF_NOTE_H_
#define SAVEOOPS_CAPTURE_ELF_NOTE_H_

#include <stddef.h>
#include <stdint.h>

namespace saveoops {

// Elf64_Nhdr: a note header, followed by the name and the descriptor, each
// padded to 4 bytes.
struct __attribute__((packed)) ElfNoteHeader {
  uint32_t n_namesz;
  uint32_t n_descsz;
  uint32_t n_type;
};
static_assert(sizeof(ElfNoteHeader) == 12, "Elf64_Nhdr is 12 bytes");
static_assert(offsetof(ElfNoteHeader, n_namesz) == 0, "n_namesz at 0");
static_assert(offsetof(ElfNoteHeader, n_descsz) == 4, "n_descsz at 4");
static_assert(offsetof(ElfNoteHeader, n_type) == 8, "n_type at 8");

// Note name and descriptor padding. Linux core notes use 4-byte alignment
// even in ELF-64 (append_elf_note() in kernel/crash_core.c and
// fs/proc/vmcore.c round with ALIGN(x, 4)).
inline constexpr uint64_t kElfNoteAlign = 4;

}  // namespace saveoops

#endif  // SAVEOOPS_CAPTURE_ELF_NOTE_H_
