#include "common/elfcore.h"

#include <string.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace saveoops {
namespace {

absl::Status FieldError(absl::string_view field, absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat("ELF core header: '", field, "' ", detail));
}

// Largest e_phnum vmcore.c can take (kPnXnum is an escape it ignores).
constexpr size_t kMaxPhnum = kPnXnum - 1;

bool Wraps(uint64_t start, uint64_t size) { return start > UINT64_MAX - size; }

// A range is usable when it is nonempty and [start, start + size) does not
// wrap; `field` names it in the error.
absl::Status CheckRange(absl::string_view field, const PhysRange& r) {
  if (r.size == 0) {
    return FieldError(field, absl::StrFormat("is empty (start 0x%x)", r.start));
  }
  if (Wraps(r.start, r.size)) {
    return FieldError(field, absl::StrFormat("[0x%x, +0x%x) wraps past 2^64", r.start, r.size));
  }
  return absl::OkStatus();
}

ElfCoreProgramHeader NoteHeader(const PhysRange& r) {
  ElfCoreProgramHeader p;
  p.type = kPtNote;
  p.offset = r.start;  // vmcore.c reads the note from p_offset in old memory.
  p.paddr = r.start;
  p.filesz = r.size;
  p.memsz = r.size;
  return p;
}

ElfCoreProgramHeader LoadHeader(const PhysRange& r, uint64_t vaddr) {
  ElfCoreProgramHeader p;
  p.type = kPtLoad;
  p.flags = kPfR | kPfW | kPfX;
  p.offset = r.start;
  p.vaddr = vaddr;
  p.paddr = r.start;
  p.filesz = r.size;
  p.memsz = r.size;
  return p;
}

}  // namespace

bool ElfCoreProgramHeader::operator==(const ElfCoreProgramHeader& o) const {
  return type == o.type && flags == o.flags && offset == o.offset && vaddr == o.vaddr &&
         paddr == o.paddr && filesz == o.filesz && memsz == o.memsz && align == o.align;
}

absl::StatusOr<std::vector<ElfCoreProgramHeader>> ElfCoreProgramHeaders(const ElfCoreSpec& spec) {
  if (spec.cpu_crash_notes.empty()) {
    return FieldError("cpu_crash_notes", "is empty; at least the panicking CPU's note is needed");
  }
  const size_t phnum = spec.cpu_crash_notes.size() + 2 + spec.ram.size();
  if (phnum > kMaxPhnum) {
    return FieldError(
        "ram", absl::StrFormat("%u CPU notes + %u RAM ranges + 2 make %u "
                               "program headers, more than e_phnum's %u",
                               spec.cpu_crash_notes.size(), spec.ram.size(), phnum, kMaxPhnum));
  }

  std::vector<ElfCoreProgramHeader> phdrs;
  phdrs.reserve(phnum);
  for (size_t i = 0; i < spec.cpu_crash_notes.size(); ++i) {
    const PhysRange& r = spec.cpu_crash_notes[i];
    if (absl::Status s = CheckRange(absl::StrCat("cpu_crash_notes[", i, "]"), r); !s.ok()) {
      return s;
    }
    phdrs.push_back(NoteHeader(r));
  }

  if (absl::Status s = CheckRange("vmcoreinfo_note", spec.vmcoreinfo_note); !s.ok()) {
    return s;
  }
  phdrs.push_back(NoteHeader(spec.vmcoreinfo_note));

  if (absl::Status s = CheckRange("kernel_text", spec.kernel_text); !s.ok()) {
    return s;
  }
  if (Wraps(spec.kernel_text_vaddr, spec.kernel_text.size)) {
    return FieldError("kernel_text_vaddr",
                      absl::StrFormat("0x%x + size 0x%x wraps past 2^64", spec.kernel_text_vaddr,
                                      spec.kernel_text.size));
  }
  phdrs.push_back(LoadHeader(spec.kernel_text, spec.kernel_text_vaddr));

  for (size_t i = 0; i < spec.ram.size(); ++i) {
    const PhysRange& r = spec.ram[i];
    const std::string field = absl::StrCat("ram[", i, "]");
    RETURN_IF_ERROR(CheckRange(field, r));
    // Direct map: the range is visible at page_offset + physical address.
    if (Wraps(spec.page_offset, r.start) || Wraps(spec.page_offset + r.start, r.size)) {
      return FieldError(field, absl::StrFormat("[0x%x, +0x%x) at page_offset 0x%x wraps "
                                               "past 2^64 virtually",
                                               r.start, r.size, spec.page_offset));
    }
    phdrs.push_back(LoadHeader(r, spec.page_offset + r.start));
  }
  return phdrs;
}

size_t ElfCoreHeaderSize(size_t phnum) {
  const size_t used = sizeof(Elf64Ehdr) + phnum * sizeof(Elf64Phdr);
  return (used + kElfCoreHeaderAlign - 1) / kElfCoreHeaderAlign * kElfCoreHeaderAlign;
}

absl::StatusOr<std::vector<uint8_t>> BuildElfCoreHeader(const ElfCoreSpec& spec) {
  ASSIGN_OR_RETURN(std::vector<ElfCoreProgramHeader> phdrs, ElfCoreProgramHeaders(spec));

  std::vector<uint8_t> out(ElfCoreHeaderSize(phdrs.size()), 0);
  Elf64Ehdr eh;
  memset(&eh, 0, sizeof(eh));
  memcpy(eh.e_ident, kElfMagic, sizeof(kElfMagic));
  eh.e_ident[kEiClass] = kElfClass64;
  eh.e_ident[kEiData] = kElfData2Lsb;
  eh.e_ident[kEiVersion] = kEvCurrent;
  eh.e_ident[kEiOsAbi] = 0;  // ELFOSABI_NONE, as the kernel writes it.
  eh.e_type = kEtCore;
  eh.e_machine = kEmX86_64;
  eh.e_version = kEvCurrent;
  eh.e_phoff = sizeof(Elf64Ehdr);
  eh.e_ehsize = sizeof(Elf64Ehdr);
  eh.e_phentsize = sizeof(Elf64Phdr);
  eh.e_phnum = static_cast<uint16_t>(phdrs.size());
  memcpy(out.data(), &eh, sizeof(eh));

  for (size_t i = 0; i < phdrs.size(); ++i) {
    const ElfCoreProgramHeader& p = phdrs[i];
    Elf64Phdr ph;
    ph.p_type = p.type;
    ph.p_flags = p.flags;
    ph.p_offset = p.offset;
    ph.p_vaddr = p.vaddr;
    ph.p_paddr = p.paddr;
    ph.p_filesz = p.filesz;
    ph.p_memsz = p.memsz;
    ph.p_align = p.align;
    memcpy(out.data() + sizeof(Elf64Ehdr) + i * sizeof(Elf64Phdr), &ph, sizeof(ph));
  }
  return out;
}

absl::StatusOr<ElfCoreInfo> ParseElfCoreHeader(absl::Span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(Elf64Ehdr)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ELF core header: %u bytes, too small for the 64-byte ELF header", bytes.size()));
  }
  Elf64Ehdr eh;
  memcpy(&eh, bytes.data(), sizeof(eh));
  // Plain locals: StrFormat binds references, which must not point into a
  // packed struct.
  const uint16_t e_type = eh.e_type;
  const uint16_t e_machine = eh.e_machine;
  const uint32_t e_version = eh.e_version;
  const uint64_t e_phoff = eh.e_phoff;
  const uint16_t e_ehsize = eh.e_ehsize;
  const uint16_t e_phentsize = eh.e_phentsize;
  const uint16_t e_phnum = eh.e_phnum;

  if (memcmp(eh.e_ident, kElfMagic, sizeof(kElfMagic)) != 0) {
    return FieldError("e_ident",
                      absl::StrFormat("starts %02x %02x %02x %02x, need the "
                                      "ELF magic 7f 45 4c 46",
                                      eh.e_ident[0], eh.e_ident[1], eh.e_ident[2], eh.e_ident[3]));
  }
  if (eh.e_ident[kEiClass] != kElfClass64) {
    return FieldError("EI_CLASS", absl::StrFormat("is %u, need %u (ELFCLASS64)",
                                                  eh.e_ident[kEiClass], kElfClass64));
  }
  if (eh.e_ident[kEiData] != kElfData2Lsb) {
    return FieldError("EI_DATA", absl::StrFormat("is %u, need %u (ELFDATA2LSB)",
                                                 eh.e_ident[kEiData], kElfData2Lsb));
  }
  if (eh.e_ident[kEiVersion] != kEvCurrent) {
    return FieldError("EI_VERSION", absl::StrFormat("is %u, need %u (EV_CURRENT)",
                                                    eh.e_ident[kEiVersion], kEvCurrent));
  }
  if (e_type != kEtCore) {
    return FieldError("e_type", absl::StrFormat("is %u, need %u (ET_CORE)", e_type, kEtCore));
  }
  if (e_machine != kEmX86_64) {
    return FieldError("e_machine",
                      absl::StrFormat("is %u, need %u (EM_X86_64)", e_machine, kEmX86_64));
  }
  if (e_version != kEvCurrent) {
    return FieldError("e_version",
                      absl::StrFormat("is %u, need %u (EV_CURRENT)", e_version, kEvCurrent));
  }
  if (e_ehsize != sizeof(Elf64Ehdr)) {
    return FieldError("e_ehsize", absl::StrFormat("is %u, need %u", e_ehsize, sizeof(Elf64Ehdr)));
  }
  if (e_phentsize != sizeof(Elf64Phdr)) {
    return FieldError("e_phentsize",
                      absl::StrFormat("is %u, need %u", e_phentsize, sizeof(Elf64Phdr)));
  }
  if (e_phoff != sizeof(Elf64Ehdr)) {
    return FieldError("e_phoff", absl::StrFormat("is 0x%x, need 64: fs/proc/vmcore.c reads the "
                                                 "program headers from right after the ELF header",
                                                 e_phoff));
  }
  if (e_phnum == 0 || e_phnum == kPnXnum) {
    return FieldError("e_phnum", absl::StrFormat("is %u, need 1..%u (vmcore.c rejects 0 "
                                                 "and does not implement PN_XNUM)",
                                                 e_phnum, kMaxPhnum));
  }
  // e_phoff is 64 and e_phnum < 2^16, so this cannot overflow.
  const size_t table_end = sizeof(Elf64Ehdr) + size_t{e_phnum} * sizeof(Elf64Phdr);
  if (table_end > bytes.size()) {
    return FieldError("e_phnum", absl::StrFormat("is %u: the program header table would end at %u, "
                                                 "past the %u bytes given",
                                                 e_phnum, table_end, bytes.size()));
  }

  ElfCoreInfo info;
  info.machine = e_machine;
  info.header_bytes = table_end;
  info.phdrs.reserve(e_phnum);
  for (size_t i = 0; i < e_phnum; ++i) {
    Elf64Phdr ph;
    memcpy(&ph, bytes.data() + sizeof(Elf64Ehdr) + i * sizeof(Elf64Phdr), sizeof(ph));
    ElfCoreProgramHeader p;
    p.type = ph.p_type;
    p.flags = ph.p_flags;
    p.offset = ph.p_offset;
    p.vaddr = ph.p_vaddr;
    p.paddr = ph.p_paddr;
    p.filesz = ph.p_filesz;
    p.memsz = ph.p_memsz;
    p.align = ph.p_align;
    const std::string at = absl::StrCat("phdr[", i, "].");
    if (p.type != kPtNote && p.type != kPtLoad) {
      return FieldError(absl::StrCat(at, "p_type"), absl::StrFormat("is 0x%x, need PT_NOTE (4) or "
                                                                    "PT_LOAD (1)",
                                                                    p.type));
    }
    if (p.memsz == 0) {
      return FieldError(absl::StrCat(at, "p_memsz"), "is 0");
    }
    if (p.filesz != p.memsz) {
      return FieldError(absl::StrCat(at, "p_filesz"),
                        absl::StrFormat("is 0x%x but p_memsz is 0x%x; in a "
                                        "crash header both give the size "
                                        "of the memory described",
                                        p.filesz, p.memsz));
    }
    if (p.offset != p.paddr) {
      return FieldError(absl::StrCat(at, "p_offset"),
                        absl::StrFormat("is 0x%x but p_paddr is 0x%x; in a "
                                        "crash header p_offset is the "
                                        "physical address",
                                        p.offset, p.paddr));
    }
    if (Wraps(p.paddr, p.memsz)) {
      return FieldError(absl::StrCat(at, "p_paddr"),
                        absl::StrFormat("[0x%x, +0x%x) wraps past 2^64", p.paddr, p.memsz));
    }
    if (Wraps(p.vaddr, p.memsz)) {
      return FieldError(absl::StrCat(at, "p_vaddr"),
                        absl::StrFormat("[0x%x, +0x%x) wraps past 2^64", p.vaddr, p.memsz));
    }
    if (p.type == kPtNote) {
      ++info.note_count;
    } else {
      ++info.load_count;
    }
    info.phdrs.push_back(p);
  }
  return info;
}

}  // namespace saveoops
