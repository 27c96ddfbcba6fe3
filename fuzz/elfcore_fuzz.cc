// Fuzzes ParseElfCoreHeader on arbitrary bytes, then builds a header from a
// spec drawn from the same bytes and checks that parsing it gives back
// exactly the program headers the spec describes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vector>

#include "absl/strings/match.h"
#include "common/elfcore.h"
#include "fuzz/allocation_meter.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Hands out the fuzz input as integers; zeros once it runs dry.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t U64() {
    uint64_t v = 0;
    const size_t n = size_ - pos_ < 8 ? size_ - pos_ : 8;
    memcpy(&v, data_ + pos_, n);
    pos_ += n;
    return v;
  }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

saveoops::PhysRange Range(ByteReader& r) {
  saveoops::PhysRange range;
  range.start = r.U64();
  range.size = r.U64();
  return range;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;

  // 1. The reader on raw bytes.
  AllocationMeter meter;
  absl::StatusOr<ElfCoreInfo> raw = ParseElfCoreHeader(absl::MakeConstSpan(data, size));
  // The program headers are copied from the input, never sized by e_phnum.
  CheckAllocatedAtMost(meter, 4 * uint64_t{size} + kFixedAllocationSlack);
  if (raw.ok()) {
    Check(raw->header_bytes <= size);
    Check(raw->header_bytes == sizeof(Elf64Ehdr) + raw->phdrs.size() * sizeof(Elf64Phdr));
    Check(!raw->phdrs.empty());
    Check(raw->phdrs.size() == raw->note_count + raw->load_count);
    for (const ElfCoreProgramHeader& p : raw->phdrs) {
      Check(p.type == kPtNote || p.type == kPtLoad);
      Check(p.offset == p.paddr && p.filesz == p.memsz && p.memsz != 0);
    }
  } else {
    Check(absl::StartsWith(raw.status().message(), "ELF core header"));
  }

  // 2. Build -> Parse round trip on a spec taken from the same bytes.
  ByteReader r(data, size);
  ElfCoreSpec spec;
  const size_t cpus = r.U8() % 9;  // 0 is an error case worth covering.
  for (size_t i = 0; i < cpus; ++i) spec.cpu_crash_notes.push_back(Range(r));
  spec.vmcoreinfo_note = Range(r);
  spec.kernel_text = Range(r);
  spec.kernel_text_vaddr = r.U64();
  spec.page_offset = r.U64();
  const size_t ranges = r.U8() % 17;
  for (size_t i = 0; i < ranges; ++i) spec.ram.push_back(Range(r));

  absl::StatusOr<std::vector<uint8_t>> bytes = BuildElfCoreHeader(spec);
  absl::StatusOr<std::vector<ElfCoreProgramHeader>> expected = ElfCoreProgramHeaders(spec);
  Check(bytes.ok() == expected.ok());
  if (!bytes.ok()) {
    Check(bytes.status() == expected.status());
    return 0;
  }
  Check(bytes->size() == ElfCoreHeaderSize(cpus + 2 + ranges));
  absl::StatusOr<ElfCoreInfo> parsed = ParseElfCoreHeader(*bytes);
  Check(parsed.ok());
  Check(parsed->phdrs == *expected);
  // And against the spec itself, not only the shared helper.
  Check(parsed->phdrs.size() == cpus + 2 + ranges);
  for (size_t i = 0; i < cpus; ++i) {
    const ElfCoreProgramHeader& p = parsed->phdrs[i];
    Check(p.type == kPtNote && p.paddr == spec.cpu_crash_notes[i].start &&
          p.memsz == spec.cpu_crash_notes[i].size);
  }
  const ElfCoreProgramHeader& vmcoreinfo = parsed->phdrs[cpus];
  Check(vmcoreinfo.type == kPtNote && vmcoreinfo.paddr == spec.vmcoreinfo_note.start &&
        vmcoreinfo.memsz == spec.vmcoreinfo_note.size);
  const ElfCoreProgramHeader& text = parsed->phdrs[cpus + 1];
  Check(text.type == kPtLoad && text.vaddr == spec.kernel_text_vaddr &&
        text.paddr == spec.kernel_text.start && text.memsz == spec.kernel_text.size);
  for (size_t i = 0; i < ranges; ++i) {
    const ElfCoreProgramHeader& p = parsed->phdrs[cpus + 2 + i];
    Check(p.type == kPtLoad && p.paddr == spec.ram[i].start && p.offset == spec.ram[i].start &&
          p.vaddr == spec.page_offset + spec.ram[i].start && p.memsz == spec.ram[i].size &&
          p.filesz == spec.ram[i].size);
  }
  return 0;
}
