// Fuzzes Vmcore::Open on arbitrary bytes (and reads through every segment
// it accepts), then builds a core from a spec drawn from the same bytes
// with the test builder and checks that reading it gives back exactly the
// notes, segments and memory bytes the spec describes.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "capture/test_vmcore.h"
#include "capture/vmcore.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Hands out the fuzz input; zeros once it runs dry.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{U8()} << (8 * i);
    return v;
  }
  std::vector<uint8_t> Bytes(size_t n) {
    std::vector<uint8_t> v(n);
    for (uint8_t& b : v) b = U8();
    return v;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

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
  ByteReader in(data, size);
  saveoops::VmcoreImageBuilder builder;
  struct Note {
    std::string name;
    uint32_t type;
    std::vector<uint8_t> desc;
  };
  std::vector<Note> notes;
  const int note_count = in.U8() % 5;
  for (int i = 0; i < note_count; ++i) {
    Note n;
    const int name_len = in.U8() % 12;
    for (int j = 0; j < name_len; ++j) {
      n.name += static_cast<char>('A' + in.U8() % 26);  // No NUL inside.
    }
    n.type = static_cast<uint32_t>(in.U64());
    n.desc = in.Bytes(in.U8() % 40);
    builder.AddNote(n.name, n.type, n.desc);
    notes.push_back(n);
  }
  struct Load {
    uint64_t paddr, vaddr;
    std::vector<uint8_t> bytes;
  };
  std::vector<Load> loads;
  uint64_t paddr = in.U64() >> 8;
  const int load_count = 1 + in.U8() % 4;
  for (int i = 0; i < load_count; ++i) {
    Load l;
    l.paddr = paddr;
    l.vaddr = in.U64() >> 1;
    l.bytes = in.Bytes(1 + in.U8() % 64);
    paddr += l.bytes.size() + in.U8();  // Disjoint, maybe contiguous.
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
  absl::StatusOr<saveoops::Vmcore> core = saveoops::Vmcore::Open(&source);
  if (core.ok()) ReadEverything(*core);
  RoundTrip(data, size);
  return 0;
}
