#include "capture/test_vmcore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "capture/elf_note.h"
#include "common/elfcore.h"

namespace saveoops {
namespace {

// The ring-format constants, restated from kernel/printk/printk_ringbuffer.h
// (not shared with capture/printk.cc on purpose: the writer and the reader
// should not agree merely because they share a typo).
constexpr uint64_t kIdMask = (uint64_t{1} << 62) - 1;
constexpr uint64_t kReserved = 0;
constexpr uint64_t kCommitted = 1;
constexpr uint64_t kFinalized = 2;
constexpr uint64_t kReusable = 3;
constexpr uint64_t kMiss = 4;  // Pseudo state: the id does not match.
constexpr uint64_t kFailedLpos = 0x1;
constexpr uint64_t kNoLpos = 0x3;

constexpr uint64_t kStartKernelMap = 0xffffffff80000000;
constexpr uint64_t kPteFlags = 0x63;  // present | rw | accessed | dirty
constexpr uint64_t kPteLarge = 0x80;
constexpr uint64_t kPteAddrMask = 0x000ffffffffff000;
constexpr uint64_t kImageRegionSize = 0x10000;

[[noreturn]] void Die(const std::string& message) {
  fprintf(stderr, "test_vmcore: %s\n", message.c_str());
  abort();
}

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

uint64_t Sv(uint64_t id, uint64_t state) { return (state << 62) | id; }

void AppendBytes(std::vector<uint8_t>* out, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}

void PadTo(std::vector<uint8_t>* out, uint64_t align) {
  out->resize(AlignUp(out->size(), align), 0);
}

}  // namespace

// --- VmcoreImageBuilder

void VmcoreImageBuilder::AddNote(absl::string_view name, uint32_t type, std::vector<uint8_t> desc) {
  notes_.push_back(Note{std::string(name), type, std::move(desc)});
}

void VmcoreImageBuilder::AddVmcoreInfo(absl::string_view text) {
  std::vector<uint8_t> desc(text.begin(), text.end());
  desc.push_back(0);
  AddNote("VMCOREINFO", 0, std::move(desc));
}

void VmcoreImageBuilder::AddLoad(uint64_t paddr, uint64_t vaddr, std::vector<uint8_t> bytes,
                                 uint64_t memsz) {
  const uint64_t size = bytes.size();
  loads_.push_back(Load{paddr, vaddr, memsz ? memsz : size, std::move(bytes)});
}

BuiltVmcore VmcoreImageBuilder::Build() const {
  std::vector<uint8_t> notes;
  for (const Note& n : notes_) {
    ElfNoteHeader nh{static_cast<uint32_t>(n.name.size() + 1), static_cast<uint32_t>(n.desc.size()),
                     n.type};
    AppendBytes(&notes, &nh, sizeof(nh));
    AppendBytes(&notes, n.name.c_str(), n.name.size() + 1);
    PadTo(&notes, kElfNoteAlign);
    AppendBytes(&notes, n.desc.data(), n.desc.size());
    PadTo(&notes, kElfNoteAlign);
  }
  const size_t phnum = (notes_.empty() ? 0 : 1) + loads_.size();
  BuiltVmcore out;
  std::vector<Elf64Phdr> phdrs;
  uint64_t offset = AlignUp(sizeof(Elf64Ehdr) + phnum * sizeof(Elf64Phdr) + notes.size(), 8);
  if (!notes_.empty()) {
    Elf64Phdr ph = {};
    ph.p_type = kPtNote;
    ph.p_offset = sizeof(Elf64Ehdr) + phnum * sizeof(Elf64Phdr);
    ph.p_filesz = ph.p_memsz = notes.size();
    phdrs.push_back(ph);
  }
  for (const Load& l : loads_) {
    Elf64Phdr ph = {};
    ph.p_type = kPtLoad;
    ph.p_flags = kPfR | kPfW | kPfX;  // As kexec-tools writes.
    ph.p_offset = offset;
    ph.p_vaddr = l.vaddr;
    ph.p_paddr = l.paddr;
    ph.p_filesz = l.bytes.size();
    ph.p_memsz = l.memsz;
    phdrs.push_back(ph);
    out.load_offsets.push_back(offset);
    offset = AlignUp(offset + l.bytes.size(), 8);
  }
  Elf64Ehdr eh = {};
  memcpy(eh.e_ident, kElfMagic, sizeof(kElfMagic));
  eh.e_ident[kEiClass] = kElfClass64;
  eh.e_ident[kEiData] = kElfData2Lsb;
  eh.e_ident[kEiVersion] = kEvCurrent;
  eh.e_type = kEtCore;
  eh.e_machine = kEmX86_64;
  eh.e_version = kEvCurrent;
  eh.e_phoff = sizeof(Elf64Ehdr);
  eh.e_ehsize = sizeof(Elf64Ehdr);
  eh.e_phentsize = sizeof(Elf64Phdr);
  eh.e_phnum = static_cast<uint16_t>(phnum);
  AppendBytes(&out.bytes, &eh, sizeof(eh));
  AppendBytes(&out.bytes, phdrs.data(), phdrs.size() * sizeof(Elf64Phdr));
  AppendBytes(&out.bytes, notes.data(), notes.size());
  for (const Load& l : loads_) {
    PadTo(&out.bytes, 8);
    AppendBytes(&out.bytes, l.bytes.data(), l.bytes.size());
  }
  return out;
}

// --- FakeKernelMemory

void FakeKernelMemory::AddRegion(uint64_t paddr, uint64_t vaddr, size_t size) {
  for (const Region& r : regions_) {
    if (paddr < r.paddr + r.bytes.size() && r.paddr < paddr + size) {
      Die(absl::StrFormat("region at physical 0x%x overlaps one at 0x%x", paddr, r.paddr));
    }
  }
  regions_.push_back(Region{paddr, vaddr, std::vector<uint8_t>(size)});
}

const uint8_t* FakeKernelMemory::Locate(uint64_t addr, size_t size, bool virt) const {
  for (const Region& r : regions_) {
    const uint64_t base = virt ? r.vaddr : r.paddr;
    if (addr >= base && addr - base + size <= r.bytes.size()) {
      return r.bytes.data() + (addr - base);
    }
  }
  Die(absl::StrFormat("%s address 0x%x (+%u) is in no region", virt ? "virtual" : "physical", addr,
                      size));
}

uint8_t* FakeKernelMemory::Locate(uint64_t addr, size_t size, bool virt) {
  return const_cast<uint8_t*>(static_cast<const FakeKernelMemory*>(this)->Locate(addr, size, virt));
}

void FakeKernelMemory::WriteVirt(uint64_t vaddr, const void* data, size_t size) {
  memcpy(Locate(vaddr, size, true), data, size);
}

void FakeKernelMemory::WritePhys(uint64_t paddr, const void* data, size_t size) {
  memcpy(Locate(paddr, size, false), data, size);
}

void FakeKernelMemory::WriteVirt64(uint64_t vaddr, uint64_t value) {
  WriteVirt(vaddr, &value, 8);  // x86-64 is little-endian, like the host.
}

void FakeKernelMemory::WritePhys64(uint64_t paddr, uint64_t value) { WritePhys(paddr, &value, 8); }

uint64_t FakeKernelMemory::ReadVirt64(uint64_t vaddr) const {
  uint64_t v;
  memcpy(&v, Locate(vaddr, 8, true), 8);
  return v;
}

uint64_t FakeKernelMemory::ReadPhys64(uint64_t paddr) const {
  uint64_t v;
  memcpy(&v, Locate(paddr, 8, false), 8);
  return v;
}

void FakeKernelMemory::AddLoadsTo(VmcoreImageBuilder* builder, bool with_vaddr) const {
  for (const Region& r : regions_) {
    builder->AddLoad(r.paddr, with_vaddr ? r.vaddr : 0, r.bytes);
  }
}

// --- PrintkLayout

absl::StatusOr<PrintkLayout> PrintkLayout::FromVmcoreInfo(const VmcoreInfo& info) {
  PrintkLayout l;
  absl::Status status;
  auto size = [&](absl::string_view name) -> uint64_t {
    absl::StatusOr<uint64_t> v = info.Size(name);
    if (!v.ok() && status.ok()) status = v.status();
    return v.value_or(0);
  };
  auto offset = [&](absl::string_view name) -> uint64_t {
    absl::StatusOr<uint64_t> v = info.Offset(name);
    if (!v.ok() && status.ok()) status = v.status();
    return v.value_or(0);
  };
  l.rb_size = size("printk_ringbuffer");
  l.rb_desc_ring = offset("printk_ringbuffer.desc_ring");
  l.rb_text_data_ring = offset("printk_ringbuffer.text_data_ring");
  l.rb_fail = offset("printk_ringbuffer.fail");
  l.dr_size = size("prb_desc_ring");
  l.dr_count_bits = offset("prb_desc_ring.count_bits");
  l.dr_descs = offset("prb_desc_ring.descs");
  l.dr_infos = offset("prb_desc_ring.infos");
  l.dr_head_id = offset("prb_desc_ring.head_id");
  l.dr_tail_id = offset("prb_desc_ring.tail_id");
  l.desc_size = size("prb_desc");
  l.desc_state_var = offset("prb_desc.state_var");
  l.desc_text_blk_lpos = offset("prb_desc.text_blk_lpos");
  l.lpos_size = size("prb_data_blk_lpos");
  l.lpos_begin = offset("prb_data_blk_lpos.begin");
  l.lpos_next = offset("prb_data_blk_lpos.next");
  l.info_size = size("printk_info");
  l.info_seq = offset("printk_info.seq");
  l.info_ts_nsec = offset("printk_info.ts_nsec");
  l.info_text_len = offset("printk_info.text_len");
  l.info_caller_id = offset("printk_info.caller_id");
  l.data_size = size("prb_data_ring");
  l.data_size_bits = offset("prb_data_ring.size_bits");
  l.data_data = offset("prb_data_ring.data");
  l.data_head_lpos = offset("prb_data_ring.head_lpos");
  l.data_tail_lpos = offset("prb_data_ring.tail_lpos");
  if (!status.ok()) return status;
  return l;
}

PrintkLayout PrintkLayout::Scrambled() {
  PrintkLayout l;
  // struct printk_ringbuffer { fail; pad; text_data_ring; pad; desc_ring; }
  l.rb_fail = 0;
  l.rb_text_data_ring = 16;
  l.rb_desc_ring = 64;
  l.rb_size = 120;
  // struct prb_data_ring { tail_lpos; head_lpos; data; pad; size_bits; }
  l.data_tail_lpos = 0;
  l.data_head_lpos = 8;
  l.data_data = 16;
  l.data_size_bits = 32;
  l.data_size = 40;
  // struct prb_desc_ring { head_id; tail_id; infos; descs; pad; count_bits; }
  l.dr_head_id = 0;
  l.dr_tail_id = 8;
  l.dr_infos = 16;
  l.dr_descs = 24;
  l.dr_count_bits = 40;
  l.dr_size = 56;
  // struct prb_data_blk_lpos { next; begin; }
  l.lpos_next = 0;
  l.lpos_begin = 8;
  l.lpos_size = 16;
  // struct prb_desc { text_blk_lpos; pad; state_var; pad; }
  l.desc_text_blk_lpos = 0;
  l.desc_state_var = 24;
  l.desc_size = 40;
  // struct printk_info { caller_id; text_len; pad; ts_nsec; seq; ... }
  l.info_caller_id = 0;
  l.info_text_len = 4;
  l.info_ts_nsec = 8;
  l.info_seq = 16;
  l.info_size = 72;
  return l;
}

std::string PrintkLayout::VmcoreInfoLines() const {
  std::string s;
  auto size = [&](absl::string_view name, uint64_t v) {
    absl::StrAppendFormat(&s, "SIZE(%s)=%u\n", name, v);
  };
  auto offset = [&](absl::string_view name, uint64_t v) {
    absl::StrAppendFormat(&s, "OFFSET(%s)=%u\n", name, v);
  };
  size("printk_ringbuffer", rb_size);
  offset("printk_ringbuffer.desc_ring", rb_desc_ring);
  offset("printk_ringbuffer.text_data_ring", rb_text_data_ring);
  offset("printk_ringbuffer.fail", rb_fail);
  size("prb_desc_ring", dr_size);
  offset("prb_desc_ring.count_bits", dr_count_bits);
  offset("prb_desc_ring.descs", dr_descs);
  offset("prb_desc_ring.infos", dr_infos);
  offset("prb_desc_ring.head_id", dr_head_id);
  offset("prb_desc_ring.tail_id", dr_tail_id);
  size("prb_desc", desc_size);
  offset("prb_desc.state_var", desc_state_var);
  offset("prb_desc.text_blk_lpos", desc_text_blk_lpos);
  size("prb_data_blk_lpos", lpos_size);
  offset("prb_data_blk_lpos.begin", lpos_begin);
  offset("prb_data_blk_lpos.next", lpos_next);
  size("printk_info", info_size);
  offset("printk_info.seq", info_seq);
  offset("printk_info.ts_nsec", info_ts_nsec);
  offset("printk_info.text_len", info_text_len);
  offset("printk_info.caller_id", info_caller_id);
  size("prb_data_ring", data_size);
  offset("prb_data_ring.size_bits", data_size_bits);
  offset("prb_data_ring.data", data_data);
  offset("prb_data_ring.head_lpos", data_head_lpos);
  offset("prb_data_ring.tail_lpos", data_tail_lpos);
  size("atomic_long_t", 8);
  offset("atomic_long_t.counter", 0);
  return s;
}

// --- FakePrintkRing

FakePrintkRing::FakePrintkRing(FakeKernelMemory* mem, const PrintkLayout& layout,
                               const Placement& where, uint32_t count_bits, uint32_t size_bits)
    : mem_(mem),
      l_(layout),
      at_(where),
      size_bits_(size_bits),
      count_(uint64_t{1} << count_bits),
      data_size_(uint64_t{1} << size_bits) {
  // DEFINE_PRINTKRB(): head and tail start at the last descriptor, which is
  // reusable and data-less (DESC0_ID, DESC0_SV); infos[0].seq is -count so
  // that the first reservation makes it 0; data lpos start at BLK0_LPOS.
  head_id_ = tail_id_ = (0 - (count_ + 1)) & kIdMask;
  head_lpos_ = tail_lpos_ = 0 - data_size_;
  const uint64_t last = DescAddr(head_id_);
  mem_->WriteVirt64(last + l_.desc_state_var, Sv(head_id_, kReusable));
  mem_->WriteVirt64(last + l_.desc_text_blk_lpos + l_.lpos_begin, kFailedLpos);
  mem_->WriteVirt64(last + l_.desc_text_blk_lpos + l_.lpos_next, kFailedLpos);
  mem_->WriteVirt64(at_.infos + l_.info_seq, 0 - count_);
  mem_->WriteVirt64(InfoAddr(head_id_) + l_.info_seq, 0);
  StoreRbHeader();
}

uint64_t FakePrintkRing::DescAddr(uint64_t id) const {
  return at_.descs + (id & (count_ - 1)) * l_.desc_size;
}

uint64_t FakePrintkRing::InfoAddr(uint64_t id) const {
  return at_.infos + (id & (count_ - 1)) * l_.info_size;
}

uint64_t FakePrintkRing::Begin(uint64_t id) const {
  return mem_->ReadVirt64(DescAddr(id) + l_.desc_text_blk_lpos + l_.lpos_begin);
}

uint64_t FakePrintkRing::Next(uint64_t id) const {
  return mem_->ReadVirt64(DescAddr(id) + l_.desc_text_blk_lpos + l_.lpos_next);
}

uint64_t FakePrintkRing::BlockIndex(uint64_t id) const { return Begin(id) & (data_size_ - 1); }

uint64_t FakePrintkRing::State(uint64_t id) const {
  const uint64_t sv = mem_->ReadVirt64(DescAddr(id) + l_.desc_state_var);
  if ((sv & kIdMask) != id) return kMiss;
  return sv >> 62;
}

void FakePrintkRing::SetState(uint64_t id, uint64_t state) {
  mem_->WriteVirt64(DescAddr(id) + l_.desc_state_var, Sv(id, state));
}

void FakePrintkRing::StoreRbHeader() {
  const uint64_t dr = at_.rb + l_.rb_desc_ring;
  const uint64_t tr = at_.rb + l_.rb_text_data_ring;
  const uint32_t count_bits = __builtin_ctzll(count_);
  mem_->WriteVirt(dr + l_.dr_count_bits, &count_bits, 4);
  mem_->WriteVirt64(dr + l_.dr_descs, at_.descs);
  mem_->WriteVirt64(dr + l_.dr_infos, at_.infos);
  mem_->WriteVirt64(dr + l_.dr_head_id, head_id_);
  mem_->WriteVirt64(dr + l_.dr_tail_id, tail_id_);
  mem_->WriteVirt(tr + l_.data_size_bits, &size_bits_, 4);
  mem_->WriteVirt64(tr + l_.data_data, at_.data);
  mem_->WriteVirt64(tr + l_.data_head_lpos, head_lpos_);
  mem_->WriteVirt64(tr + l_.data_tail_lpos, tail_lpos_);
}

// data_push_tail(): invalidate blocks from the data tail up to `lpos`,
// making their (finalized) descriptors reusable; fail on a block whose
// descriptor is still reserved or committed.
bool FakePrintkRing::DataPushTail(uint64_t lpos) {
  if (lpos & 1) return true;  // Data-less: nothing to push.
  while ((lpos - tail_lpos_) - 1 < data_size_) {
    const uint64_t id = mem_->ReadVirt64(at_.data + (tail_lpos_ & (data_size_ - 1)));
    const uint64_t state = State(id);
    if (state != kFinalized && state != kReusable) return false;
    if (Begin(id) != tail_lpos_) return false;
    if (state == kFinalized) SetState(id, kReusable);
    tail_lpos_ = Next(id);
  }
  return true;
}

std::optional<uint64_t> FakePrintkRing::Reserve(absl::string_view text, uint64_t ts_nsec,
                                                uint8_t level, uint32_t caller_id) {
  const uint64_t block_size = AlignUp(text.size() + 8, 8);
  // data_check_size(): the largest block still leaves room for an id.
  if (!text.empty() && block_size > data_size_ - 8) return std::nullopt;

  // desc_reserve(): recycle the oldest descriptor when the ring is full.
  const uint64_t id = (head_id_ + 1) & kIdMask;
  if (((id - count_) & kIdMask) == tail_id_) {
    const uint64_t state = State(tail_id_);
    if (state != kFinalized && state != kReusable) return std::nullopt;
    if (state == kFinalized) SetState(tail_id_, kReusable);
    if (!DataPushTail(Next(tail_id_))) return std::nullopt;
    tail_id_ = (tail_id_ + 1) & kIdMask;
  }
  head_id_ = id;
  SetState(id, kReserved);

  // prb_reserve(): clear the info but keep advancing its seq.
  const uint64_t info = InfoAddr(id);
  const uint64_t index = id & (count_ - 1);
  const uint64_t old_seq = mem_->ReadVirt64(info + l_.info_seq);
  std::vector<uint8_t> zeros(l_.info_size);
  mem_->WriteVirt(info, zeros.data(), zeros.size());
  const uint64_t seq = (old_seq == 0 && index != 0) ? index : old_seq + count_;
  mem_->WriteVirt64(info + l_.info_seq, seq);
  // A new reservation finalizes the previous record if it was committed.
  if (seq > 0 && State((id - 1) & kIdMask) == kCommitted) {
    SetState((id - 1) & kIdMask, kFinalized);
  }

  Written w;
  w.id = id;
  w.seq = seq;
  w.ts_nsec = ts_nsec;
  w.level = level;
  w.caller_id = caller_id;
  w.text = std::string(text);

  // data_alloc().
  uint64_t begin = kNoLpos;
  uint64_t next = kNoLpos;
  if (!text.empty()) {
    begin = head_lpos_;
    next = begin + block_size;
    if ((begin >> size_bits_) != (next >> size_bits_)) {
      // get_next_lpos(): a block never straddles the end; it restarts at
      // index 0 of the next wrap, leaving only its id at `begin`.
      next = (next & ~(data_size_ - 1)) + block_size;
    }
    if (DataPushTail(next - data_size_)) {
      head_lpos_ = next;
      uint64_t id_copy = id;
      mem_->WriteVirt(at_.data + (begin & (data_size_ - 1)), &id_copy, 8);
      uint64_t text_at = begin & (data_size_ - 1);
      if ((begin >> size_bits_) != (next >> size_bits_)) {
        mem_->WriteVirt(at_.data, &id_copy, 8);
        text_at = 0;
        w.wrapped = true;
      }
      mem_->WriteVirt(at_.data + text_at + 8, text.data(), text.size());
    } else {
      begin = next = kFailedLpos;
      w.failed = true;
    }
  }
  const uint64_t desc = DescAddr(id);
  mem_->WriteVirt64(desc + l_.desc_text_blk_lpos + l_.lpos_begin, begin);
  mem_->WriteVirt64(desc + l_.desc_text_blk_lpos + l_.lpos_next, next);

  if (w.failed) {
    // prb_reserve() commits the data-less record and reports failure; the
    // caller never fills in the info.
    w.ts_nsec = 0;
    w.level = 0;
    w.caller_id = 0;
    w.text.clear();
    written_[id] = w;
    StoreRbHeader();
    Commit(id);
    return id;
  }
  // vprintk_store() fills in the rest of the info.
  mem_->WriteVirt64(info + l_.info_ts_nsec, ts_nsec);
  const uint16_t text_len = static_cast<uint16_t>(text.size());
  mem_->WriteVirt(info + l_.info_text_len, &text_len, 2);
  mem_->WriteVirt(info + l_.info_caller_id, &caller_id, 4);
  if (l_.HasLevelByte()) {
    const uint8_t facility = 0;
    const uint8_t flags_level = static_cast<uint8_t>(level << 5) | 0x2;
    mem_->WriteVirt(info + l_.info_text_len + 2, &facility, 1);
    mem_->WriteVirt(info + l_.info_text_len + 3, &flags_level, 1);
  }
  written_[id] = w;
  StoreRbHeader();
  return id;
}

void FakePrintkRing::Commit(uint64_t id) {
  SetState(id, kCommitted);
  // prb_commit(): no longer the head means it can never be extended.
  if (head_id_ != id) SetState(id, kFinalized);
}

void FakePrintkRing::FinalCommit(uint64_t id) { SetState(id, kFinalized); }

uint64_t FakePrintkRing::Append(absl::string_view text, uint64_t ts_nsec, uint8_t level,
                                uint32_t caller_id) {
  std::optional<uint64_t> id = Reserve(text, ts_nsec, level, caller_id);
  if (!id || written_.at(*id).failed) {
    Die(absl::StrCat("Append(\"", text, "\"): prb_reserve() failed"));
  }
  FinalCommit(*id);
  return *id;
}

std::vector<FakePrintkRing::Written> FakePrintkRing::Live() const {
  std::vector<Written> live;
  const uint64_t n = ((head_id_ - tail_id_) & kIdMask) + 1;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t id = (tail_id_ + i) & kIdMask;
    const uint64_t state = State(id);
    if (state != kCommitted && state != kFinalized) continue;
    if (Begin(id) == kFailedLpos && Next(id) == kFailedLpos) continue;
    live.push_back(written_.at(id));
  }
  return live;
}

// --- FakeKernel

FakeKernel::FakeKernel(const Options& options) : options_(options) {
  const PrintkLayout& l = options_.layout;
  const uint64_t count = uint64_t{1} << options_.count_bits;
  const uint64_t prb_paddr = options_.prb_symbol - kStartKernelMap + options_.phys_base;
  image_paddr_ = prb_paddr & ~uint64_t{0xfff};
  image_vaddr_ = options_.prb_symbol & ~uint64_t{0xfff};
  mem_.AddRegion(image_paddr_, image_vaddr_, kImageRegionSize);
  top_table_vaddr_ = image_vaddr_ + 0x2000;
  next_table_paddr_ = image_paddr_ + 0x3000;
  // The arrays live in the direct map (memblock_alloc() in setup_log_buf()),
  // in three regions that the page tables map with 4 KiB, 2 MiB and 1 GiB
  // pages respectively.
  const uint64_t descs_pa = 0x01000000;
  const uint64_t infos_pa = 0x08000800;
  const uint64_t data_pa = 0x40003000;
  const uint64_t descs_size = AlignUp(count * l.desc_size, 4096);
  const uint64_t infos_size = AlignUp(count * l.info_size, 4096);
  const uint64_t data_size = AlignUp(uint64_t{1} << options_.size_bits, 4096);
  mem_.AddRegion(descs_pa, kPageOffset + descs_pa, descs_size);
  mem_.AddRegion(infos_pa, kPageOffset + infos_pa, infos_size);
  mem_.AddRegion(data_pa, kPageOffset + data_pa, data_size);
  for (uint64_t off = 0; off < descs_size; off += 4096) {
    MapPage(kPageOffset + descs_pa + off, descs_pa + off, 1);
  }
  const uint64_t two_mib = uint64_t{1} << 21;
  for (uint64_t pa = infos_pa & ~(two_mib - 1); pa < infos_pa + infos_size; pa += two_mib) {
    MapPage(kPageOffset + pa, pa, 2);
  }
  const uint64_t one_gib = uint64_t{1} << 30;
  MapPage(kPageOffset + (data_pa & ~(one_gib - 1)), data_pa & ~(one_gib - 1), 3);

  placement_.rb = image_vaddr_ + 0x1000;
  placement_.descs = kPageOffset + descs_pa;
  placement_.infos = kPageOffset + infos_pa;
  placement_.data = kPageOffset + data_pa;
  ring_ = std::make_unique<FakePrintkRing>(&mem_, l, placement_, options_.count_bits,
                                           options_.size_bits);
  mem_.WriteVirt64(options_.prb_symbol, placement_.rb);
}

void FakeKernel::MapPage(uint64_t vaddr, uint64_t paddr, int leaf_level) {
  const uint64_t sme = options_.sme_mask;
  uint64_t table = image_paddr_ + (top_table_vaddr_ - image_vaddr_);
  for (int level = options_.paging_levels; level > leaf_level; --level) {
    const uint64_t entry_pa = table + ((vaddr >> (12 + 9 * (level - 1))) & 511) * 8;
    uint64_t entry = mem_.ReadPhys64(entry_pa);
    if ((entry & 1) == 0) {
      if (next_table_paddr_ + 4096 > image_paddr_ + kImageRegionSize) {
        Die("FakeKernel: out of page-table pages");
      }
      entry = next_table_paddr_ | kPteFlags | sme;
      next_table_paddr_ += 4096;
      mem_.WritePhys64(entry_pa, entry);
    }
    table = entry & ~sme & kPteAddrMask;
  }
  const uint64_t entry_pa = table + ((vaddr >> (12 + 9 * (leaf_level - 1))) & 511) * 8;
  mem_.WritePhys64(entry_pa, paddr | kPteFlags | sme | (leaf_level > 1 ? kPteLarge : 0));
}

std::string FakeKernel::VmcoreInfoText() const {
  std::string s = absl::StrFormat(
      "OSRELEASE=6.1.0-fake-amd64\n"
      "PAGESIZE=4096\n"
      "SYMBOL(prb)=%x\n"
      "SYMBOL(init_top_pgt)=%x\n"
      "NUMBER(phys_base)=%d\n"
      "NUMBER(pgtable_l5_enabled)=%d\n"
      "NUMBER(sme_mask)=%d\n",
      options_.prb_symbol, top_table_vaddr_, static_cast<int64_t>(options_.phys_base),
      options_.paging_levels == 5 ? 1 : 0, static_cast<int64_t>(options_.sme_mask));
  absl::StrAppend(&s, options_.layout.VmcoreInfoLines());
  return s;
}

BuiltVmcore FakeKernel::Build(bool with_vaddr, absl::string_view vmcoreinfo) const {
  VmcoreImageBuilder b;
  // One CPU's NT_PRSTATUS note (struct elf_prstatus is 336 bytes on x86-64).
  b.AddNote("CORE", 1, std::vector<uint8_t>(336, 0));
  b.AddVmcoreInfo(vmcoreinfo.empty() ? VmcoreInfoText() : std::string(vmcoreinfo));
  mem_.AddLoadsTo(&b, with_vaddr);
  return b.Build();
}

uint64_t FakeKernel::FileOffsetOf(const BuiltVmcore& core, uint64_t vaddr) const {
  const auto& regions = mem_.regions();
  for (size_t i = 0; i < regions.size(); ++i) {
    if (vaddr >= regions[i].vaddr && vaddr - regions[i].vaddr < regions[i].bytes.size()) {
      return core.load_offsets[i] + (vaddr - regions[i].vaddr);
    }
  }
  Die(absl::StrFormat("FileOffsetOf(0x%x): in no region", vaddr));
}

std::string ReadTestdataVmcoreInfo61() {
  const std::string rel = "capture/testdata/vmcoreinfo-6.1.txt";
  std::vector<std::string> candidates = {rel};
  if (const char* srcdir = getenv("TEST_SRCDIR")) {
    candidates.push_back(absl::StrCat(srcdir, "/saveoops/", rel));
  }
  for (const std::string& path : candidates) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  Die(absl::StrCat("cannot read ", rel, " (run from the workspace root or under bazel test)"));
}

}  // namespace saveoops
