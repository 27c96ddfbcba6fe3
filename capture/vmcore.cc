#include "capture/vmcore.h"

#include <string.h>

#include <algorithm>
#include <utility>

#include "capture/elf_note.h"
#include "common/elf64.h"
#include "common/format.h"
#include "common/status_macros.h"

namespace saveoops {
namespace {

// Every error from this file starts with "vmcore: " so that a caller who
// wraps it still says which artifact was wrong.
Status HeaderError(absl::string_view field, absl::string_view detail) {
  return InvalidArgumentError(Concat("vmcore: ELF header field '", field, "' ", detail));
}

uint64_t AlignUp4(uint64_t v) { return (v + kElfNoteAlign - 1) & ~(kElfNoteAlign - 1); }

// Reads exactly out.size() bytes at `offset`; a short read is an error that
// names `what` (the file is truncated or a header points past its end).
Status ReadExact(ByteSource* source, uint64_t offset, absl::Span<uint8_t> out,
                 absl::string_view what) {
  size_t done = 0;
  while (done < out.size()) {
    if (offset + done < offset) {
      return OutOfRangeError(
          Format("vmcore: %s at file offset 0x%x overflows 64 bits", what, offset));
    }
    StatusOr<size_t> n = source->ReadAt(offset + done, out.subspan(done));
    if (!n.ok()) {
      return Status(n.status().code(),
                    Concat("vmcore: reading ", what, ": ", n.status().message()));
    }
    if (*n == 0) {
      return OutOfRangeError(
          Format("vmcore: %s: wanted %u bytes at file offset 0x%x, the file ends "
                 "after %u of them",
                 what, out.size(), offset, done));
    }
    done += *n;
  }
  return OkStatus();
}

Status CheckEhdr(const Elf64Ehdr& eh) {
  if (memcmp(eh.e_ident, kElfMagic, sizeof(kElfMagic)) != 0) {
    return HeaderError("e_ident",
                       Format("starts %02x %02x %02x %02x, need 7f 45 "
                              "4c 46 (\"\\x7fELF\")",
                              eh.e_ident[0], eh.e_ident[1], eh.e_ident[2], eh.e_ident[3]));
  }
  if (eh.e_ident[kEiClass] != kElfClass64) {
    return HeaderError("e_ident[EI_CLASS]",
                       Format("is %u, need 2 (ELFCLASS64)", eh.e_ident[kEiClass]));
  }
  if (eh.e_ident[kEiData] != kElfData2Lsb) {
    return HeaderError("e_ident[EI_DATA]",
                       Format("is %u, need 1 (ELFDATA2LSB)", eh.e_ident[kEiData]));
  }
  if (eh.e_ident[kEiVersion] != kEvCurrent) {
    return HeaderError("e_ident[EI_VERSION]",
                       Format("is %u, need 1 (EV_CURRENT)", eh.e_ident[kEiVersion]));
  }
  if (eh.e_type != kEtCore) {
    return HeaderError("e_type", Format("is %u, need 4 (ET_CORE)", eh.e_type));
  }
  if (eh.e_machine != kEmX86_64) {
    return HeaderError("e_machine", Format("is %u, need 62 (EM_X86_64)", eh.e_machine));
  }
  if (eh.e_version != kEvCurrent) {
    return HeaderError("e_version", Format("is %u, need 1 (EV_CURRENT)", eh.e_version));
  }
  if (eh.e_ehsize != sizeof(Elf64Ehdr)) {
    return HeaderError("e_ehsize", Format("is %u, need 64 (sizeof(Elf64_Ehdr))", eh.e_ehsize));
  }
  if (eh.e_phentsize != sizeof(Elf64Phdr)) {
    return HeaderError("e_phentsize",
                       Format("is %u, need 56 (sizeof(Elf64_Phdr))", eh.e_phentsize));
  }
  if (eh.e_phnum == 0) {
    return HeaderError("e_phnum",
                       "is 0: a core without program headers has "
                       "neither notes nor memory");
  }
  if (eh.e_phnum == kPnXnum) {
    return HeaderError("e_phnum",
                       "is 0xffff (PN_XNUM, count in section header 0), which "
                       "fs/proc/vmcore.c never writes; not supported");
  }
  return OkStatus();
}

// Splits one PT_NOTE segment's bytes into notes (appended to `notes`).
// Stops early at an all-zero header, the terminator the kernel writes after
// each CPU's notes (final_note(), kernel/crash_core.c), which survives in raw
// elfcorehdr segments that fs/proc/vmcore.c has not yet compacted.
Status ParseNotes(absl::Span<const uint8_t> seg, size_t phdr_index, std::vector<ElfNote>* notes) {
  uint64_t pos = 0;
  while (pos < seg.size()) {
    const uint64_t left = seg.size() - pos;
    if (left < sizeof(ElfNoteHeader)) {
      const bool all_zero =
          std::all_of(seg.begin() + pos, seg.end(), [](uint8_t b) { return b == 0; });
      if (all_zero) break;
      return InvalidArgumentError(
          Format("vmcore: PT_NOTE (program header %u): %u bytes left at offset %u, "
                 "too few for a 12-byte note header",
                 phdr_index, left, pos));
    }
    ElfNoteHeader nh;
    memcpy(&nh, seg.data() + pos, sizeof(nh));
    if (nh.n_namesz == 0 && nh.n_descsz == 0 && nh.n_type == 0) break;
    if (nh.n_namesz > Vmcore::kMaxNoteNameSize) {
      return InvalidArgumentError(
          Format("vmcore: PT_NOTE (program header %u): note at offset %u has "
                 "n_namesz %u, more than the %u accepted",
                 phdr_index, pos, nh.n_namesz, Vmcore::kMaxNoteNameSize));
    }
    if (nh.n_descsz > Vmcore::kMaxNoteDescSize) {
      return InvalidArgumentError(
          Format("vmcore: PT_NOTE (program header %u): note at offset %u has "
                 "n_descsz %u, more than the %u accepted",
                 phdr_index, pos, nh.n_descsz, Vmcore::kMaxNoteDescSize));
    }
    const uint64_t name_at = pos + sizeof(nh);
    const uint64_t desc_at = name_at + AlignUp4(nh.n_namesz);
    // The descriptor's own bytes must be present; its trailing padding may
    // be cut off by the end of the segment.
    if (desc_at + nh.n_descsz > seg.size()) {
      return InvalidArgumentError(
          Format("vmcore: PT_NOTE (program header %u): note at offset %u "
                 "(n_namesz %u, n_descsz %u) runs past the segment's %u bytes",
                 phdr_index, pos, nh.n_namesz, nh.n_descsz, seg.size()));
    }
    if (notes->size() >= Vmcore::kMaxNotes) {
      return InvalidArgumentError(Format("vmcore: more than %u notes", Vmcore::kMaxNotes));
    }
    ElfNote note;
    const char* name = reinterpret_cast<const char*>(seg.data() + name_at);
    note.name.assign(name, strnlen(name, nh.n_namesz));
    note.type = nh.n_type;
    note.desc.assign(seg.begin() + desc_at, seg.begin() + desc_at + nh.n_descsz);
    notes->push_back(std::move(note));
    pos = std::min<uint64_t>(desc_at + AlignUp4(nh.n_descsz), seg.size());
  }
  return OkStatus();
}

}  // namespace

StatusOr<Vmcore> Vmcore::Open(ByteSource* source) {
  const uint64_t file_size = source->size();
  if (file_size != ByteSource::kUnknownSize && file_size < sizeof(Elf64Ehdr)) {
    return InvalidArgumentError(
        Format("vmcore: file is %u bytes, too small for the 64-byte ELF header", file_size));
  }
  Elf64Ehdr eh;
  RETURN_IF_ERROR(ReadExact(source, 0, absl::MakeSpan(reinterpret_cast<uint8_t*>(&eh), sizeof(eh)),
                            "ELF header"));
  RETURN_IF_ERROR(CheckEhdr(eh));

  const uint64_t table_size = uint64_t{eh.e_phnum} * sizeof(Elf64Phdr);
  if (eh.e_phoff + table_size < eh.e_phoff ||
      (file_size != ByteSource::kUnknownSize && eh.e_phoff + table_size > file_size)) {
    return HeaderError("e_phoff", Format("is 0x%x: %u program headers (%u bytes) from there "
                                         "do not fit in the %u-byte file",
                                         eh.e_phoff, eh.e_phnum, table_size, file_size));
  }
  std::vector<Elf64Phdr> phdrs(eh.e_phnum);
  if (Status s = ReadExact(source, eh.e_phoff,
                           absl::MakeSpan(reinterpret_cast<uint8_t*>(phdrs.data()), table_size),
                           "program header table");
      !s.ok()) {
    return s;
  }

  std::vector<ElfNote> notes;
  std::vector<VmcoreSegment> segments;
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const Elf64Phdr& ph = phdrs[i];
    if (ph.p_type != kPtNote && ph.p_type != kPtLoad) continue;
    const char* type = ph.p_type == kPtNote ? "PT_NOTE" : "PT_LOAD";
    if (ph.p_offset + ph.p_filesz < ph.p_offset ||
        (file_size != ByteSource::kUnknownSize && ph.p_offset + ph.p_filesz > file_size)) {
      return InvalidArgumentError(
          Format("vmcore: %s (program header %u): p_offset 0x%x + p_filesz 0x%x "
                 "runs past the end of the %u-byte file",
                 type, i, ph.p_offset, ph.p_filesz, file_size));
    }
    if (ph.p_type == kPtNote) {
      if (ph.p_filesz > kMaxNoteSegmentSize) {
        return InvalidArgumentError(
            Format("vmcore: PT_NOTE (program header %u): p_filesz 0x%x is more than "
                   "the %u bytes accepted",
                   i, ph.p_filesz, kMaxNoteSegmentSize));
      }
      std::vector<uint8_t> bytes(ph.p_filesz);
      RETURN_IF_ERROR(ReadExact(source, ph.p_offset, absl::MakeSpan(bytes), "PT_NOTE segment"));
      RETURN_IF_ERROR(ParseNotes(bytes, i, &notes));
      continue;
    }
    if (ph.p_filesz > ph.p_memsz) {
      return InvalidArgumentError(
          Format("vmcore: PT_LOAD (program header %u): p_filesz 0x%x is more than "
                 "p_memsz 0x%x",
                 i, ph.p_filesz, ph.p_memsz));
    }
    // One past the last byte must still be representable so that range
    // arithmetic in Read() cannot wrap. p_paddr = ~0 is /proc/kcore's "no
    // physical address" (vmalloc, modules; fs/proc/kcore.c): such a segment
    // is kept for virtual reads only.
    if (ph.p_paddr != VmcoreSegment::kNoPhysicalAddress && ph.p_paddr + ph.p_memsz < ph.p_paddr) {
      return InvalidArgumentError(
          Format("vmcore: PT_LOAD (program header %u): p_paddr 0x%x + p_memsz 0x%x "
                 "overflows 64 bits",
                 i, ph.p_paddr, ph.p_memsz));
    }
    if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr) {
      return InvalidArgumentError(
          Format("vmcore: PT_LOAD (program header %u): p_vaddr 0x%x + p_memsz 0x%x "
                 "overflows 64 bits",
                 i, ph.p_vaddr, ph.p_memsz));
    }
    if (ph.p_memsz == 0) continue;
    segments.push_back(VmcoreSegment{ph.p_paddr, ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz});
  }
  return Vmcore(source, std::move(notes), std::move(segments));
}

std::optional<std::string> Vmcore::VmcoreInfo() const {
  for (const ElfNote& note : notes_) {
    if (note.name != "VMCOREINFO") continue;
    std::string text(note.desc.begin(), note.desc.end());
    // The kernel reserves a whole page for the note (VMCOREINFO_BYTES) and
    // the text is NUL-terminated inside it.
    const size_t end = text.find_last_not_of('\0');
    text.resize(end == std::string::npos ? 0 : end + 1);
    return text;
  }
  return std::nullopt;
}

Status Vmcore::Read(uint64_t addr, absl::Span<uint8_t> out, bool use_vaddr,
                    absl::string_view what) const {
  const uint64_t start_addr = addr;
  while (!out.empty()) {
    const VmcoreSegment* hit = nullptr;
    auto contains = [&](const VmcoreSegment& s) {
      if (!use_vaddr && s.paddr == VmcoreSegment::kNoPhysicalAddress) return false;
      const uint64_t base = use_vaddr ? s.vaddr : s.paddr;
      return addr >= base && addr - base < s.memsz;
    };
    if (last_hit_ < segments_.size() && contains(segments_[last_hit_])) {
      hit = &segments_[last_hit_];
    } else {
      for (size_t i = 0; i < segments_.size(); ++i) {
        if (contains(segments_[i])) {
          hit = &segments_[i];
          last_hit_ = i;
          break;
        }
      }
    }
    if (hit == nullptr) {
      if (addr == start_addr) {
        return NotFoundError(
            Format("vmcore: %s address 0x%x is not in any PT_LOAD segment", what, addr));
      }
      return NotFoundError(
          Format("vmcore: %s address 0x%x (%u bytes into a %u-byte read at 0x%x) is "
                 "not in any PT_LOAD segment",
                 what, addr, addr - start_addr, addr - start_addr + out.size(), start_addr));
    }
    const uint64_t in_seg = addr - (use_vaddr ? hit->vaddr : hit->paddr);
    const size_t n = std::min<uint64_t>(out.size(), hit->memsz - in_seg);
    size_t from_file = 0;
    if (in_seg < hit->filesz) {
      from_file = std::min<uint64_t>(n, hit->filesz - in_seg);
      if (Status s =
              ReadExact(source_, hit->offset + in_seg, out.subspan(0, from_file), "PT_LOAD data");
          !s.ok()) {
        return s;
      }
    }
    memset(out.data() + from_file, 0, n - from_file);
    out = out.subspan(n);
    addr += n;
  }
  return OkStatus();
}

Status Vmcore::ReadPhys(uint64_t paddr, absl::Span<uint8_t> out) const {
  return Read(paddr, out, /*use_vaddr=*/false, "physical");
}

Status Vmcore::ReadVirt(uint64_t vaddr, absl::Span<uint8_t> out) const {
  return Read(vaddr, out, /*use_vaddr=*/true, "virtual");
}

}  // namespace saveoops
