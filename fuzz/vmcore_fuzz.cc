// Fuzzes Vmcore::Open on arbitrary bytes (and reads through every segment
// it accepts), then builds a core from a spec drawn from the same bytes
// with the test builder and checks that reading it gives back exactly the
// notes, segments and memory bytes the spec describes.
#include <fuzzer/FuzzedDataProvider.h>
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "capture/test_vmcore.h"
#include "capture/vmcore.h"
#include "fuzz/allocation_meter.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void ReadEverything(const saveoops::Vmcore& core) {
  (void)core.VmcoreInfo();
  std::vector<uint8_t> out(48);
  for (const saveoops::VmcoreSegment& s : core.segments()) {
    (void)core.ReadPhys(s.paddr, absl::MakeSpan(out));
    (void)core.ReadPhys(s.paddr + s.memsz - 1, absl::MakeSpan(out));
    (void)core.ReadVirt(s.vaddr, absl::MakeSpan(out));
    (void)core.ReadVirt(s.vaddr + s.memsz - 24, absl::MakeSpan(out));
  }
}

void RoundTrip(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  saveoops::VmcoreImageBuilder builder;
  struct Note {
    std::string name;
    uint32_t type;
    std::vector<uint8_t> desc;
  };
  std::vector<Note> notes;
  const int note_count = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < note_count; ++i) {
    Note n;
    const int name_len = in.ConsumeIntegralInRange(0, 11);
    for (int j = 0; j < name_len; ++j) {
      n.name += in.ConsumeIntegralInRange('A', 'Z');  // No NUL inside.
    }
    n.type = in.ConsumeIntegral<uint32_t>();
    n.desc = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 39));
    builder.AddNote(n.name, n.type, n.desc);
    notes.push_back(n);
  }
  struct Load {
    uint64_t paddr, vaddr;
    std::vector<uint8_t> bytes;
  };
  std::vector<Load> loads;
  uint64_t paddr = in.ConsumeIntegral<uint64_t>() >> 8;
  const int load_count = in.ConsumeIntegralInRange(1, 4);
  for (int i = 0; i < load_count; ++i) {
    Load l;
    l.paddr = paddr;
    l.vaddr = in.ConsumeIntegral<uint64_t>() >> 1;
    l.bytes = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(1, 64));
    if (l.bytes.empty()) l.bytes.push_back(0);
    // Disjoint, maybe contiguous.
    paddr += l.bytes.size() + in.ConsumeIntegral<uint8_t>();
    builder.AddLoad(l.paddr, l.vaddr, l.bytes);
    loads.push_back(l);
  }
  const saveoops::BuiltVmcore image = builder.Build();
  saveoops::MemoryByteSource source(image.bytes);
  absl::StatusOr<saveoops::Vmcore> core = saveoops::Vmcore::Open(&source);
  Check(core.ok());
  Check(core->notes().size() == notes.size());
  for (size_t i = 0; i < notes.size(); ++i) {
    Check(core->notes()[i].name == notes[i].name);
    Check(core->notes()[i].type == notes[i].type);
    Check(core->notes()[i].desc == notes[i].desc);
  }
  Check(core->segments().size() == loads.size());
  for (size_t i = 0; i < loads.size(); ++i) {
    const saveoops::VmcoreSegment& s = core->segments()[i];
    Check(s.paddr == loads[i].paddr && s.vaddr == loads[i].vaddr);
    Check(s.filesz == loads[i].bytes.size() && s.memsz == s.filesz);
    std::vector<uint8_t> out(loads[i].bytes.size());
    Check(core->ReadPhys(loads[i].paddr, absl::MakeSpan(out)).ok());
    Check(out == loads[i].bytes);
  }
  ReadEverything(*core);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  saveoops::MemoryByteSource source(absl::MakeConstSpan(data, size));
  // Headers and notes are read out of the input: what Open keeps is
  // bounded by it, whatever p_filesz or a note's size claims.
  saveoops::AllocationMeter meter;
  absl::StatusOr<saveoops::Vmcore> core = saveoops::Vmcore::Open(&source);
  saveoops::CheckAllocatedAtMost(meter, 4 * uint64_t{size} + saveoops::kFixedAllocationSlack);
  if (core.ok()) ReadEverything(*core);
  RoundTrip(data, size);
  return 0;
}
