// Reading a kdump core: the ELF-64 file /proc/vmcore that the capture kernel
// exports for the kernel that panicked.
//
// fs/proc/vmcore.c presents the dead kernel as an ET_CORE file: one PT_NOTE
// segment holding the per-CPU "CORE" notes (NT_PRSTATUS) and the
// "VMCOREINFO" note, and one PT_LOAD segment per range of the dead kernel's
// memory, with p_paddr its physical address and p_vaddr where the dead
// kernel mapped it (PAGE_OFFSET + p_paddr for RAM; __START_KERNEL_map + ...
// for the kernel image). Vmcore reads the headers once, keeps the notes and
// the segment table, and then serves reads of physical or virtual addresses
// from the underlying bytes.
//
// Every size it is given is distrusted: the header must be a well-formed
// x86-64 little-endian ELF-64 core, every table and note must lie inside the
// file, and caps (kMaxNoteDescSize, kMaxNoteSegmentSize, ...) keep a garbage
// header from making it allocate much memory.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<FileByteSource> file,
//                    FileByteSource::Open("/proc/vmcore"));
//   ASSIGN_OR_RETURN(Vmcore core, Vmcore::Open(file.get()));
//   std::optional<std::string> info = core.VmcoreInfo();
//   uint64_t prb_pointer;
//   RETURN_IF_ERROR(core.ReadVirt(0xffffffff82a3c6d8,
//                   absl::MakeSpan(reinterpret_cast<uint8_t*>(&prb_pointer),
//                                  sizeof(prb_pointer))));
#ifndef SAVEOOPS_CAPTURE_VMCORE_H_
#define SAVEOOPS_CAPTURE_VMCORE_H_

#include <stddef.h>
#include <stdint.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/byte_source.h"
#include "common/status.h"

namespace saveoops {

// One ELF note from a PT_NOTE segment.
struct ElfNote {
  // The name without its terminating NUL ("CORE", "VMCOREINFO", ...).
  std::string name;
  // n_type (NT_PRSTATUS = 1 for "CORE" notes; 0 for "VMCOREINFO").
  uint32_t type = 0;
  // The descriptor bytes, exactly n_descsz of them (no padding).
  std::vector<uint8_t> desc;
};

// One PT_LOAD segment: memsz bytes of the dead kernel's memory at physical
// address `paddr` and virtual address `vaddr`; the first filesz of them are
// in the file at `offset`, the rest read as zero (ELF semantics).
struct VmcoreSegment {
  // p_paddr of a segment with no physical address (/proc/kcore's vmalloc and
  // module areas); ReadPhys() never uses such a segment.
  static constexpr uint64_t kNoPhysicalAddress = UINT64_MAX;

  uint64_t paddr = 0;
  uint64_t vaddr = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
};

// A validated kdump core. Holds the notes and the PT_LOAD table; reads memory
// on demand through the ByteSource (common/byte_source.h) given to Open(),
// which must outlive it.
// Not thread-safe (reads share a lookup cache).
class Vmcore {
 public:
  // Caps applied while parsing (see the file comment).
  // Largest accepted note descriptor. A CORE note is a few hundred bytes and
  // VMCOREINFO at most one page (VMCOREINFO_BYTES, include/linux/crash_core.h).
  static constexpr uint32_t kMaxNoteDescSize = 1 << 20;
  // Largest accepted note name (names are short ASCII: "CORE", "VMCOREINFO").
  static constexpr uint32_t kMaxNoteNameSize = 256;
  // Largest accepted PT_NOTE segment: 8192 CPUs' notes fit in a few MiB.
  static constexpr uint64_t kMaxNoteSegmentSize = 64 << 20;
  // Most notes kept across all PT_NOTE segments.
  static constexpr size_t kMaxNotes = 1 << 16;

  // Validates the ELF header, the program headers and every note, and keeps
  // the notes and PT_LOAD segments. Errors say which field is wrong and why,
  // e.g. "vmcore: ELF header field 'e_machine' is 3, need 62 (EM_X86_64)".
  static StatusOr<Vmcore> Open(ByteSource* source);

  Vmcore(Vmcore&&) = default;
  Vmcore& operator=(Vmcore&&) = default;

  // Every note of every PT_NOTE segment, in file order.
  const std::vector<ElfNote>& notes() const { return notes_; }

  // Every non-empty PT_LOAD segment, in file order.
  const std::vector<VmcoreSegment>& segments() const { return segments_; }

  // The text of the first "VMCOREINFO" note with trailing NULs removed, or
  // nullopt if there is none.
  std::optional<std::string> VmcoreInfo() const;

  // Fills `out` with the dead kernel's memory at physical address `paddr`,
  // located through the segments' p_paddr. The range may span several
  // segments as long as they are contiguous; fails (naming the first
  // address not covered) if any byte is not in a segment.
  Status ReadPhys(uint64_t paddr, absl::Span<uint8_t> out) const;

  // As ReadPhys, but through the segments' p_vaddr.
  Status ReadVirt(uint64_t vaddr, absl::Span<uint8_t> out) const;

 private:
  Vmcore(ByteSource* source, std::vector<ElfNote> notes, std::vector<VmcoreSegment> segments)
      : source_(source), notes_(std::move(notes)), segments_(std::move(segments)) {}

  // Shared by ReadPhys and ReadVirt; `use_vaddr` picks the address field.
  Status Read(uint64_t addr, absl::Span<uint8_t> out, bool use_vaddr, absl::string_view what) const;

  ByteSource* source_;
  std::vector<ElfNote> notes_;
  std::vector<VmcoreSegment> segments_;
  // Index of the segment that served the last read: reads walk memory
  // mostly sequentially, so try it first.
  mutable size_t last_hit_ = 0;
};

}  // namespace saveoops

#endif  // SAVEOOPS_CAPTURE_VMCORE_H_
