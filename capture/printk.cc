#include "capture/printk.h"

#include <string.h>

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/format.h"
#include "common/status.h"
#include "common/status_macros.h"

namespace saveoops {
namespace {

// --- The ring format (kernel/printk/printk_ringbuffer.{h,c}, Linux 6.1).

// prb_desc.state_var holds the descriptor id in the low bits and the state
// in the top two: DESC_SV_BITS = BITS_PER_LONG (64), DESC_FLAGS_SHIFT =
// DESC_SV_BITS - 2, DESC_ID_MASK = ~DESC_FLAGS_MASK. Ids, head_id and
// tail_id live in the same 62-bit space and wrap within it.
constexpr int kDescFlagsShift = 62;
constexpr uint64_t kDescIdMask = (uint64_t{1} << kDescFlagsShift) - 1;

// enum desc_state.
constexpr uint64_t kDescReserved = 0;
constexpr uint64_t kDescCommitted = 1;
constexpr uint64_t kDescFinalized = 2;
constexpr uint64_t kDescReusable = 3;

// Bit 0 of an lpos marks a data-less record (LPOS_DATALESS()); real lpos
// values are multiples of kBlockIdSize. FAILED_LPOS (0x1) records a failed
// allocation; NO_LPOS (0x3) an intentionally empty text (data_alloc() with
// size 0; get_data() returns "" for it).
constexpr uint64_t kNoLpos = 0x3;

// A data block is "unsigned long id; char data[]" (struct prb_data_block)
// and blocks are aligned to the id's size (to_blk_size()).
constexpr uint64_t kBlockIdSize = 8;

// What ReadPrintkLog accepts from the ring header (see printk.h).
constexpr uint32_t kMaxCountBits = 24;
constexpr uint32_t kMinSizeBits = 3;
constexpr uint32_t kMaxSizeBits = 30;
// None of the structs involved is near this size; a larger SIZE() or
// OFFSET() in VMCOREINFO is damage, and the cap keeps reads small.
constexpr uint64_t kMaxStructSize = 4096;

// --- x86-64 address translation (arch/x86/include/asm/page_64_types.h,
// arch/x86/include/asm/pgtable_types.h).

// __START_KERNEL_map: the kernel image's mapping, where
// __pa_symbol(x) == x - __START_KERNEL_map + phys_base (__phys_addr_symbol()).
constexpr uint64_t kStartKernelMap = 0xffffffff80000000;
// KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE, if VMCOREINFO lacks it.
constexpr uint64_t kDefaultKernelImageSize = uint64_t{1} << 30;
// _PAGE_PRESENT, _PAGE_PSE (a large page at the PUD or PMD level) and the
// physical-address field of an entry (bits 12..51, PTE_PFN_MASK).
constexpr uint64_t kPtePresent = uint64_t{1} << 0;
constexpr uint64_t kPteLarge = uint64_t{1} << 7;
constexpr uint64_t kPteAddrMask = 0x000ffffffffff000;
constexpr uint64_t kPageSize = 4096;

// Little-endian load of `width` bytes at `off`; the caller has checked
// off + width <= b.size().
uint64_t LoadLe(absl::Span<const uint8_t> b, uint64_t off, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | b[off + i];
  return v;
}

// Where the fields ReadPrintkLog uses sit, all from VMCOREINFO. Offsets are
// absolute within the named struct (nested offsets already added).
struct RingLayout {
  // struct printk_ringbuffer.
  uint64_t rb_size = 0;
  uint64_t count_bits = 0;  // desc_ring.count_bits, unsigned int
  uint64_t descs = 0;       // desc_ring.descs, pointer
  uint64_t infos = 0;       // desc_ring.infos, pointer
  uint64_t head_id = 0;     // desc_ring.head_id, atomic_long_t
  uint64_t tail_id = 0;     // desc_ring.tail_id, atomic_long_t
  uint64_t size_bits = 0;   // text_data_ring.size_bits, unsigned int
  uint64_t data = 0;        // text_data_ring.data, pointer
  // struct prb_desc.
  uint64_t desc_size = 0;
  uint64_t state_var = 0;   // atomic_long_t
  uint64_t lpos_begin = 0;  // text_blk_lpos.begin, unsigned long
  uint64_t lpos_next = 0;   // text_blk_lpos.next, unsigned long
  // struct printk_info.
  uint64_t info_size = 0;
  uint64_t seq = 0;        // u64
  uint64_t ts_nsec = 0;    // u64
  uint64_t text_len = 0;   // u16
  uint64_t caller_id = 0;  // u32
  // The byte holding facility, and the one holding "u8 flags:5, level:3",
  // when known (see LoadLayout).
  std::optional<uint64_t> facility;
  std::optional<uint64_t> flags_level;
};

// Reads the VMCOREINFO keys of the ring layout, remembering the first
// problem so that LoadLayout reads as a list of keys.
class LayoutKeys {
 public:
  explicit LayoutKeys(const VmcoreInfo& info) : info_(info) {}

  uint64_t Size(absl::string_view name) {
    return Check(info_.Size(name), Concat("SIZE(", name, ")"));
  }
  uint64_t Offset(absl::string_view name) {
    return Check(info_.Offset(name), Concat("OFFSET(", name, ")"));
  }

  // Requires a `width`-byte field at `offset` to lie inside a `size`-byte
  // struct.
  void Field(uint64_t offset, int width, uint64_t size, absl::string_view what) {
    if (!status_.ok() || offset + width <= size) return;
    status_ = InvalidArgumentError(
        Format("VMCOREINFO: %s (%u bytes at offset %u) does not fit in its struct "
               "of %u bytes",
               what, width, offset, size));
  }

  const Status& status() const { return status_; }

 private:
  uint64_t Check(StatusOr<uint64_t> v, const std::string& key) {
    if (!status_.ok()) return 0;
    if (!v.ok()) {
      status_ =
          Status(v.status().code(),
                 Concat(v.status().message(), v.status().code() == StatusCode::kNotFound
                                                  ? ": kernel too old for the lockless printk ring "
                                                    "(< 5.10)?"
                                                  : ""));
      return 0;
    }
    if (*v > kMaxStructSize) {
      status_ = InvalidArgumentError(
          Format("VMCOREINFO: %s=%u is implausibly large (more than %u)", key, *v, kMaxStructSize));
      return 0;
    }
    return *v;
  }

  const VmcoreInfo& info_;
  Status status_;
};

StatusOr<RingLayout> LoadLayout(const VmcoreInfo& info) {
  LayoutKeys k(info);
  RingLayout l;
  // atomic_long_t is a struct { s64 counter; }; makedumpfile adds this
  // offset too. Missing means 0.
  uint64_t counter = 0;
  if (StatusOr<uint64_t> c = info.Offset("atomic_long_t.counter"); c.ok() && *c <= kMaxStructSize) {
    counter = *c;
  }

  l.rb_size = k.Size("printk_ringbuffer");
  const uint64_t desc_ring = k.Offset("printk_ringbuffer.desc_ring");
  const uint64_t data_ring = k.Offset("printk_ringbuffer.text_data_ring");
  l.count_bits = desc_ring + k.Offset("prb_desc_ring.count_bits");
  l.descs = desc_ring + k.Offset("prb_desc_ring.descs");
  l.infos = desc_ring + k.Offset("prb_desc_ring.infos");
  l.head_id = desc_ring + k.Offset("prb_desc_ring.head_id") + counter;
  l.tail_id = desc_ring + k.Offset("prb_desc_ring.tail_id") + counter;
  l.size_bits = data_ring + k.Offset("prb_data_ring.size_bits");
  l.data = data_ring + k.Offset("prb_data_ring.data");
  k.Field(l.count_bits, 4, l.rb_size, "prb_desc_ring.count_bits");
  k.Field(l.descs, 8, l.rb_size, "prb_desc_ring.descs");
  k.Field(l.infos, 8, l.rb_size, "prb_desc_ring.infos");
  k.Field(l.head_id, 8, l.rb_size, "prb_desc_ring.head_id");
  k.Field(l.tail_id, 8, l.rb_size, "prb_desc_ring.tail_id");
  k.Field(l.size_bits, 4, l.rb_size, "prb_data_ring.size_bits");
  k.Field(l.data, 8, l.rb_size, "prb_data_ring.data");

  l.desc_size = k.Size("prb_desc");
  const uint64_t blk_lpos = k.Offset("prb_desc.text_blk_lpos");
  l.state_var = k.Offset("prb_desc.state_var") + counter;
  l.lpos_begin = blk_lpos + k.Offset("prb_data_blk_lpos.begin");
  l.lpos_next = blk_lpos + k.Offset("prb_data_blk_lpos.next");
  k.Field(l.state_var, 8, l.desc_size, "prb_desc.state_var");
  k.Field(l.lpos_begin, 8, l.desc_size, "prb_data_blk_lpos.begin");
  k.Field(l.lpos_next, 8, l.desc_size, "prb_data_blk_lpos.next");

  l.info_size = k.Size("printk_info");
  l.seq = k.Offset("printk_info.seq");
  l.ts_nsec = k.Offset("printk_info.ts_nsec");
  l.text_len = k.Offset("printk_info.text_len");
  l.caller_id = k.Offset("printk_info.caller_id");
  k.Field(l.seq, 8, l.info_size, "printk_info.seq");
  k.Field(l.ts_nsec, 8, l.info_size, "printk_info.ts_nsec");
  k.Field(l.text_len, 2, l.info_size, "printk_info.text_len");
  k.Field(l.caller_id, 4, l.info_size, "printk_info.caller_id");
  if (!k.status().ok()) return k.status();

  // VMCOREINFO exports no offset for facility or the flags:5/level:3
  // bitfield byte. In struct printk_info they are the two u8s between
  // "u16 text_len" and "u32 caller_id"; trust that only when the exported
  // offsets show exactly that gap. (GCC on x86 allocates bitfields from the
  // least significant bit, so level is the top three bits.)
  if (l.caller_id == l.text_len + 4) {
    l.facility = l.text_len + 2;
    l.flags_level = l.text_len + 3;
  }
  return l;
}

// Reads the dead kernel's virtual memory out of the vmcore.
class KernelMemory {
 public:
  KernelMemory(const Vmcore& core, const VmcoreInfo& info) : core_(core) {
    if (StatusOr<int64_t> v = info.Number("phys_base"); v.ok()) {
      phys_base_ = static_cast<uint64_t>(*v);
    }
    if (StatusOr<int64_t> v = info.Number("KERNEL_IMAGE_SIZE"); v.ok() && *v > 0) {
      image_size_ = static_cast<uint64_t>(*v);
    }
    // On x86-64 swapper_pg_dir is init_top_pgt; both are exported.
    for (const char* name : {"init_top_pgt", "swapper_pg_dir"}) {
      if (StatusOr<uint64_t> v = info.Symbol(name); v.ok()) {
        top_table_ = *v;
        break;
      }
    }
    if (StatusOr<int64_t> v = info.Number("pgtable_l5_enabled"); v.ok()) {
      five_level_ = *v == 1;
    }
    // With AMD SME the encryption bit is set in page table entries; it is
    // not part of the address (NUMBER(sme_mask), arch_crash_save_vmcoreinfo).
    if (StatusOr<int64_t> v = info.Number("sme_mask"); v.ok()) {
      sme_mask_ = static_cast<uint64_t>(*v);
    }
  }

  // Fills `out` from virtual address `vaddr`: through the PT_LOAD p_vaddr
  // when they cover it, else page by page through ToPhys().
  Status Read(uint64_t vaddr, absl::Span<uint8_t> out) {
    if (core_.ReadVirt(vaddr, out).ok()) return OkStatus();
    uint64_t addr = vaddr;
    size_t done = 0;
    while (done < out.size()) {
      const size_t chunk = std::min<uint64_t>(out.size() - done, kPageSize - addr % kPageSize);
      absl::Span<uint8_t> piece = out.subspan(done, chunk);
      if (!core_.ReadVirt(addr, piece).ok()) {
        StatusOr<uint64_t> paddr = ToPhys(addr);
        if (!paddr.ok()) {
          return NotFoundError(Format("virtual address 0x%x is not in the vmcore: %s", addr,
                                      paddr.status().message()));
        }
        if (Status s = core_.ReadPhys(*paddr, piece); !s.ok()) {
          return NotFoundError(
              Format("virtual address 0x%x (physical 0x%x) is not in the vmcore: %s", addr, *paddr,
                     s.message()));
        }
      }
      done += chunk;
      addr += chunk;
    }
    return OkStatus();
  }

  StatusOr<uint64_t> Read64(uint64_t vaddr) {
    uint8_t b[8];
    RETURN_IF_ERROR(Read(vaddr, absl::MakeSpan(b)));
    return LoadLe(b, 0, 8);
  }

 private:
  // The kernel image mapping is linear: no page tables needed.
  std::optional<uint64_t> KernelImageToPhys(uint64_t vaddr) const {
    if (!phys_base_ || vaddr < kStartKernelMap || vaddr - kStartKernelMap >= image_size_) {
      return std::nullopt;
    }
    return vaddr - kStartKernelMap + *phys_base_;
  }

  StatusOr<uint64_t> ToPhys(uint64_t vaddr) {
    if (std::optional<uint64_t> p = KernelImageToPhys(vaddr)) return *p;
    if (cached_size_ != 0 && vaddr - cached_vbase_ < cached_size_) {
      return cached_pbase_ + (vaddr - cached_vbase_);
    }
    return WalkPageTables(vaddr);
  }

  // The x86-64 4- or 5-level page walk (Intel SDM Vol. 3A, 4.5 "4-Level
  // Paging and 5-Level Paging"), from the kernel's top-level table.
  StatusOr<uint64_t> WalkPageTables(uint64_t vaddr) {
    if (!top_table_ || !phys_base_) {
      return NotFoundError(
          "no PT_LOAD p_vaddr covers it, and VMCOREINFO lacks "
          "SYMBOL(init_top_pgt) or NUMBER(phys_base) for a page-table walk");
    }
    std::optional<uint64_t> table = KernelImageToPhys(*top_table_);
    if (!table) {
      return NotFoundError(
          Format("SYMBOL(init_top_pgt)=0x%x is outside the kernel image mapping", *top_table_));
    }
    const int levels = five_level_ ? 5 : 4;
    const int va_bits = 12 + 9 * levels;
    // Only canonical addresses (bits va_bits-1..63 all equal) translate.
    const uint64_t high = vaddr >> (va_bits - 1);
    if (high != 0 && high != (UINT64_MAX >> (va_bits - 1))) {
      return NotFoundError(Format("0x%x is not canonical for %d-level paging", vaddr, levels));
    }
    uint64_t table_pa = *table & kPteAddrMask;
    for (int level = levels; level >= 1; --level) {
      const int shift = 12 + 9 * (level - 1);
      const uint64_t entry_pa = table_pa + ((vaddr >> shift) & 511) * 8;
      uint8_t b[8];
      if (Status s = core_.ReadPhys(entry_pa, absl::MakeSpan(b)); !s.ok()) {
        return NotFoundError(Format("level-%d page table entry at physical 0x%x unreadable: %s",
                                    level, entry_pa, s.message()));
      }
      const uint64_t entry = LoadLe(b, 0, 8) & ~sme_mask_;
      if ((entry & kPtePresent) == 0) {
        return NotFoundError(Format("not mapped (level-%d entry 0x%x not present)", level, entry));
      }
      const bool leaf = level == 1 || ((level == 2 || level == 3) && (entry & kPteLarge));
      if (leaf) {
        const uint64_t size = uint64_t{1} << shift;
        cached_vbase_ = vaddr & ~(size - 1);
        cached_pbase_ = entry & kPteAddrMask & ~(size - 1);
        cached_size_ = size;
        return cached_pbase_ + (vaddr & (size - 1));
      }
      table_pa = entry & kPteAddrMask;
    }
    return InternalError("page walk fell through");  // Unreachable.
  }

  const Vmcore& core_;
  std::optional<uint64_t> phys_base_;
  uint64_t image_size_ = kDefaultKernelImageSize;
  std::optional<uint64_t> top_table_;
  bool five_level_ = false;
  uint64_t sme_mask_ = 0;
  // The last page-walk result: one page (of any size) of translation.
  uint64_t cached_vbase_ = 0;
  uint64_t cached_pbase_ = 0;
  uint64_t cached_size_ = 0;
};

// What became of one descriptor.
enum class Outcome { kRecord, kDamaged, kUnfinished, kNoData };

// Walks one ring whose header has been read and checked.
class RingWalker {
 public:
  RingWalker(KernelMemory* mem, const RingLayout& layout, uint32_t count_bits, uint64_t descs,
             uint64_t infos, uint32_t size_bits, uint64_t data)
      : mem_(mem),
        l_(layout),
        count_(uint64_t{1} << count_bits),
        descs_(descs),
        infos_(infos),
        data_size_(uint64_t{1} << size_bits),
        size_bits_(size_bits),
        data_(data),
        desc_buf_(layout.desc_size),
        info_buf_(layout.info_size) {}

  // Reads the descriptor `id` (prb_read() and desc_read_finalized_seq() in
  // printk_ringbuffer.c do the same checks, except that a crash dump also
  // keeps committed-but-not-finalized records: the writer of the newest
  // record may simply not have had a successor). `is_head`: id == head_id.
  Outcome Read(uint64_t id, bool is_head, PrintkRecord* rec, std::string* why) {
    const uint64_t index = id & (count_ - 1);
    if (Status s = mem_->Read(descs_ + index * l_.desc_size, absl::MakeSpan(desc_buf_)); !s.ok()) {
      *why = Concat("descriptor unreadable: ", s.message());
      return Outcome::kDamaged;
    }
    const uint64_t sv = LoadLe(desc_buf_, l_.state_var, 8);
    const uint64_t sv_id = sv & kDescIdMask;
    const uint64_t state = sv >> kDescFlagsShift;
    if (sv_id != id) {
      // desc_reserve() publishes the new head_id before it stamps the
      // descriptor with it: a head still carrying the previous wrap's id,
      // or the 0 of a never-used descriptor, was being reserved when the
      // kernel died.
      if (is_head && (sv == 0 || sv_id == ((id - count_) & kDescIdMask))) {
        return Outcome::kUnfinished;
      }
      *why = Format("state_var 0x%x holds id 0x%x", sv, sv_id);
      return Outcome::kDamaged;
    }
    switch (state) {
      case kDescReserved:
        return Outcome::kUnfinished;
      case kDescReusable:
        return Outcome::kNoData;
      case kDescCommitted:
      case kDescFinalized:
        break;  // The record is complete; read it.
    }

    if (Status s = mem_->Read(infos_ + index * l_.info_size, absl::MakeSpan(info_buf_)); !s.ok()) {
      *why = Concat("printk_info unreadable: ", s.message());
      return Outcome::kDamaged;
    }
    rec->seq = LoadLe(info_buf_, l_.seq, 8);
    rec->ts_nsec = LoadLe(info_buf_, l_.ts_nsec, 8);
    const uint64_t text_len = LoadLe(info_buf_, l_.text_len, 2);
    rec->caller_id = static_cast<uint32_t>(LoadLe(info_buf_, l_.caller_id, 4));
    if (l_.flags_level) {
      rec->level = info_buf_[*l_.flags_level] >> 5;
      rec->facility = info_buf_[*l_.facility];
    }
    // A descriptor's sequence numbers are always its index plus multiples
    // of the ring size (desc_reserve(): seq = index the first time, then
    // += DESCS_COUNT), which is how prb_read() finds a record by seq.
    if ((rec->seq & (count_ - 1)) != index) {
      *why = Format("seq %u does not belong to index %u", rec->seq, index);
      return Outcome::kDamaged;
    }

    const uint64_t begin = LoadLe(desc_buf_, l_.lpos_begin, 8);
    const uint64_t next = LoadLe(desc_buf_, l_.lpos_next, 8);
    if ((begin & 1) && (next & 1)) {
      if (begin == kNoLpos && next == kNoLpos) {
        // An empty line; get_data() yields "" and copy_data() then insists
        // that text_len fit in it.
        if (text_len != 0) {
          *why = Format("empty record claims text_len %u", text_len);
          return Outcome::kDamaged;
        }
        rec->text.clear();
        return Outcome::kRecord;
      }
      return Outcome::kNoData;  // FAILED_LPOS: the text was never stored.
    }
    // get_data(): a regular block has begin < next in the same wrap; a
    // wrapping one has next exactly one wrap ahead, and its data (id
    // included) starts again at index 0.
    uint64_t block_index;
    uint64_t block_size;
    const bool wraps = (begin >> size_bits_) != (next >> size_bits_);
    if (!wraps && begin < next) {
      block_index = begin & (data_size_ - 1);
      block_size = next - begin;
    } else if (((begin + data_size_) >> size_bits_) == (next >> size_bits_)) {
      block_index = 0;
      block_size = next & (data_size_ - 1);
    } else {
      *why = Format("text_blk_lpos {0x%x, 0x%x} is not a block", begin, next);
      return Outcome::kDamaged;
    }
    if (begin % kBlockIdSize != 0 || next % kBlockIdSize != 0 || next - begin > data_size_ ||
        block_size < kBlockIdSize) {
      *why = Format("text_blk_lpos {0x%x, 0x%x} is misaligned or out of range", begin, next);
      return Outcome::kDamaged;
    }
    if (text_len > block_size - kBlockIdSize) {
      *why =
          Format("text_len %u exceeds the %u-byte data block", text_len, block_size - kBlockIdSize);
      return Outcome::kDamaged;
    }
    // data_alloc() stamps the id at begin and, for a wrapping block, again
    // at index 0; an overwritten block no longer carries it.
    if (!BlockHasId(begin & (data_size_ - 1), id, why) || (wraps && !BlockHasId(0, id, why))) {
      return Outcome::kDamaged;
    }
    rec->text.resize(text_len);
    if (Status s =
            mem_->Read(data_ + block_index + kBlockIdSize,
                       absl::MakeSpan(reinterpret_cast<uint8_t*>(&rec->text[0]), rec->text.size()));
        !s.ok()) {
      *why = Concat("text unreadable: ", s.message());
      return Outcome::kDamaged;
    }
    return Outcome::kRecord;
  }

 private:
  // Whether the data block at ring index `at` starts with `id`.
  bool BlockHasId(uint64_t at, uint64_t id, std::string* why) {
    StatusOr<uint64_t> block_id = mem_->Read64(data_ + at);
    if (!block_id.ok()) {
      *why = Concat("data block unreadable: ", block_id.status().message());
      return false;
    }
    if (*block_id != id) {
      *why = Format("data block at ring index %u has id 0x%x", at, *block_id);
      return false;
    }
    return true;
  }

  KernelMemory* mem_;
  const RingLayout& l_;
  const uint64_t count_;
  const uint64_t descs_;
  const uint64_t infos_;
  const uint64_t data_size_;
  const uint32_t size_bits_;
  const uint64_t data_;
  std::vector<uint8_t> desc_buf_;
  std::vector<uint8_t> info_buf_;
};

void Warn(PrintkLog* log, std::string warning) {
  if (log->warnings.size() < kMaxPrintkWarnings) {
    log->warnings.push_back(std::move(warning));
  }
}

}  // namespace

StatusOr<PrintkLog> ReadPrintkLog(const Vmcore& core, const VmcoreInfo& info,
                                  const PrintkOptions& options) {
  ASSIGN_OR_RETURN(const RingLayout layout, LoadLayout(info));
  StatusOr<uint64_t> prb = info.Symbol("prb");
  if (!prb.ok()) {
    return Status(prb.status().code(), Concat(prb.status().message(),
                                              prb.status().code() == StatusCode::kNotFound
                                                  ? ": kernel too old for the lockless printk ring "
                                                    "(< 5.10)?"
                                                  : ""));
  }

  KernelMemory mem(core, info);
  // `prb` is a pointer (struct printk_ringbuffer *prb, kernel/printk/
  // printk.c): to printk_rb_static at boot, to printk_rb_dynamic once
  // setup_log_buf() has allocated a bigger ring.
  StatusOr<uint64_t> rb_addr = mem.Read64(*prb);
  if (!rb_addr.ok()) {
    return NotFoundError(Format("printk: cannot read the pointer prb at 0x%x: %s", *prb,
                                rb_addr.status().message()));
  }
  std::vector<uint8_t> rb(layout.rb_size);
  if (Status s = mem.Read(*rb_addr, absl::MakeSpan(rb)); !s.ok()) {
    return NotFoundError(
        Format("printk: cannot read struct printk_ringbuffer at 0x%x (from prb): %s", *rb_addr,
               s.message()));
  }
  const uint32_t count_bits = static_cast<uint32_t>(LoadLe(rb, layout.count_bits, 4));
  const uint32_t size_bits = static_cast<uint32_t>(LoadLe(rb, layout.size_bits, 4));
  if (count_bits > kMaxCountBits) {
    return DataLossError(
        Format("printk: desc_ring.count_bits is %u, more than %u: the ring header at "
               "0x%x is damaged",
               count_bits, kMaxCountBits, *rb_addr));
  }
  if (size_bits < kMinSizeBits || size_bits > kMaxSizeBits) {
    return DataLossError(
        Format("printk: text_data_ring.size_bits is %u, outside [%u, %u]: the ring "
               "header at 0x%x is damaged",
               size_bits, kMinSizeBits, kMaxSizeBits, *rb_addr));
  }
  const uint64_t count = uint64_t{1} << count_bits;
  const uint64_t head_id = LoadLe(rb, layout.head_id, 8) & kDescIdMask;
  uint64_t tail_id = LoadLe(rb, layout.tail_id, 8) & kDescIdMask;

  PrintkLog log;
  // The kernel keeps head_id - tail_id < count; a header claiming more is
  // damaged, and only the newest `count` ids can exist anyway.
  uint64_t walk = ((head_id - tail_id) & kDescIdMask) + 1;
  if (walk > count) {
    Warn(&log, Format("desc_ring spans ids 0x%x..0x%x, more than its "
                      "%u slots; reading the newest %u",
                      tail_id, head_id, count, count));
    walk = count;
  }
  if (walk > options.max_records) {
    Warn(&log, Format("reading only the newest %u of %u descriptors", options.max_records, walk));
    walk = options.max_records;
  }
  tail_id = (head_id - (walk - 1)) & kDescIdMask;

  RingWalker walker(&mem, layout, count_bits, LoadLe(rb, layout.descs, 8),
                    LoadLe(rb, layout.infos, 8), size_bits, LoadLe(rb, layout.data, 8));
  for (uint64_t i = 0; i < walk; ++i) {
    const uint64_t id = (tail_id + i) & kDescIdMask;
    PrintkRecord rec;
    std::string why;
    switch (walker.Read(id, id == head_id, &rec, &why)) {
      case Outcome::kRecord:
        log.records.push_back(std::move(rec));
        break;
      case Outcome::kDamaged:
        ++log.skipped_damaged;
        Warn(&log, Format("descriptor id 0x%x skipped: %s", id, why));
        break;
      case Outcome::kUnfinished:
        ++log.skipped_unfinished;
        break;
      case Outcome::kNoData:
        ++log.skipped_no_data;
        break;
    }
  }
  if (!log.records.empty()) {
    log.first_seq = log.records.front().seq;
    log.next_seq = log.records.back().seq + 1;
  }
  return log;
}

std::string FormatPrintkLog(const PrintkLog& log) {
  std::string out;
  for (const PrintkRecord& r : log.records) {
    // print_time(): "[%5lu.%06lu]" of seconds and microseconds.
    const std::string prefix =
        Format("[%5u.%06u] ", r.ts_nsec / 1000000000, (r.ts_nsec % 1000000000) / 1000);
    for (std::string_view line : Split(r.text, '\n')) {
      AppendTo(&out, prefix, line, "\n");
    }
  }
  return out;
}

std::string FindPanicReason(const PrintkLog& log) {
  std::string_view panic;
  std::string_view oops;
  auto contains = [](std::string_view line, std::string_view what) {
    return line.find(what) != std::string_view::npos;
  };
  for (const PrintkRecord& r : log.records) {
    for (std::string_view line : Split(r.text, '\n')) {
      // panic() prints "Kernel panic - not syncing: <reason>"
      // (kernel/panic.c); die() and friends print the others
      // (arch/x86/kernel/dumpstack.c, traps.c, lib/bug.c).
      if (contains(line, "Kernel panic - not syncing")) {
        panic = line;
      } else if (contains(line, "Oops") || contains(line, "BUG:") ||
                 contains(line, "general protection fault")) {
        oops = line;
      }
    }
  }
  return std::string(!panic.empty() ? panic : oops);
}

}  // namespace saveoops
