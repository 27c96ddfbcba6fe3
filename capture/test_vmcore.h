// Test-only: synthetic kdump cores with a synthetic printk ring inside.
//
// VmcoreImageBuilder writes an ELF-64 core the way fs/proc/vmcore.c
// presents one. FakeKernelMemory is the dead kernel's memory as a few
// regions; FakePrintkRing writes a printk_ringbuffer into it following the
// kernel's writer (prb_reserve() / prb_commit() / prb_final_commit() in
// kernel/printk/printk_ringbuffer.c, including descriptor recycling, data
// tail pushing and wrapping data blocks), at whatever struct offsets a
// PrintkLayout says. FakeKernel puts it all together. Misuse aborts.
#ifndef SAVEOOPS_CAPTURE_TEST_VMCORE_H_
#define SAVEOOPS_CAPTURE_TEST_VMCORE_H_

#include <stddef.h>
#include <stdint.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "capture/vmcoreinfo.h"

namespace saveoops {

// An ELF core image and where its pieces landed.
struct BuiltVmcore {
  std::vector<uint8_t> bytes;
  // File offset of each PT_LOAD's data, in AddLoad() order.
  std::vector<uint64_t> load_offsets;
};

// Writes ELF-64 x86-64 ET_CORE files: one PT_NOTE with every note, then
// the PT_LOADs in the order added.
class VmcoreImageBuilder {
 public:
  void AddNote(absl::string_view name, uint32_t type, std::vector<uint8_t> desc);
  // A "VMCOREINFO" note (type 0) holding `text` and a NUL, as the kernel's
  // append_elf_note() writes it.
  void AddVmcoreInfo(absl::string_view text);
  // A PT_LOAD of `bytes` at `paddr`/`vaddr`; memsz defaults to its size
  // and may be larger (the rest reads as zeros).
  void AddLoad(uint64_t paddr, uint64_t vaddr, std::vector<uint8_t> bytes, uint64_t memsz = 0);
  BuiltVmcore Build() const;

 private:
  struct Note {
    std::string name;
    uint32_t type;
    std::vector<uint8_t> desc;
  };
  struct Load {
    uint64_t paddr, vaddr, memsz;
    std::vector<uint8_t> bytes;
  };
  std::vector<Note> notes_;
  std::vector<Load> loads_;
};

// The dead kernel's memory: regions of bytes, each with its physical
// address and the virtual address the kernel mapped it at.
class FakeKernelMemory {
 public:
  struct Region {
    uint64_t paddr;
    uint64_t vaddr;
    std::vector<uint8_t> bytes;
  };

  // Adds `size` zero bytes. Regions must not overlap (aborts otherwise).
  void AddRegion(uint64_t paddr, uint64_t vaddr, size_t size);

  void WriteVirt(uint64_t vaddr, const void* data, size_t size);
  void WritePhys(uint64_t paddr, const void* data, size_t size);
  void WriteVirt64(uint64_t vaddr, uint64_t value);
  void WritePhys64(uint64_t paddr, uint64_t value);
  uint64_t ReadVirt64(uint64_t vaddr) const;
  uint64_t ReadPhys64(uint64_t paddr) const;

  const std::vector<Region>& regions() const { return regions_; }

  // Adds every region as a PT_LOAD; with `with_vaddr` false the p_vaddr
  // are left 0 (a core header that does not know the kernel's mappings).
  void AddLoadsTo(VmcoreImageBuilder* builder, bool with_vaddr) const;

 private:
  uint8_t* Locate(uint64_t addr, size_t size, bool virt);
  const uint8_t* Locate(uint64_t addr, size_t size, bool virt) const;

  std::vector<Region> regions_;
};

// Where a printk_ringbuffer's fields sit, as VMCOREINFO states them.
// Offsets within the named struct; nested structs have their own offsets.
struct PrintkLayout {
  uint64_t rb_size, rb_desc_ring, rb_text_data_ring, rb_fail;
  uint64_t dr_size, dr_count_bits, dr_descs, dr_infos, dr_head_id, dr_tail_id;
  uint64_t desc_size, desc_state_var, desc_text_blk_lpos;
  uint64_t lpos_size, lpos_begin, lpos_next;
  uint64_t info_size, info_seq, info_ts_nsec, info_text_len, info_caller_id;
  uint64_t data_size, data_size_bits, data_data, data_head_lpos, data_tail_lpos;

  // The layout of the keys in `info` (e.g. testdata/vmcoreinfo-6.1.txt).
  static absl::StatusOr<PrintkLayout> FromVmcoreInfo(const VmcoreInfo& info);
  // Made-up but consistent offsets, every struct reordered relative to
  // Linux 6.1, so a reader that hard-codes 6.1 fails on it. caller_id does
  // not follow text_len, so the level cannot be located.
  static PrintkLayout Scrambled();
  // The printk keys as log_buf_vmcoreinfo_setup() prints them.
  std::string VmcoreInfoLines() const;
  // Whether facility/level sit between text_len and caller_id (as in 6.1).
  bool HasLevelByte() const { return info_caller_id == info_text_len + 4; }
};

// A printk ring written the kernel's way into FakeKernelMemory.
class FakePrintkRing {
 public:
  // Where the ring's pieces live (virtual addresses in `mem`).
  struct Placement {
    uint64_t rb;     // struct printk_ringbuffer
    uint64_t descs;  // struct prb_desc[1 << count_bits]
    uint64_t infos;  // struct printk_info[1 << count_bits]
    uint64_t data;   // char[1 << size_bits]
  };

  // What the writer stored for one descriptor id.
  struct Written {
    uint64_t id = 0;
    uint64_t seq = 0;
    uint64_t ts_nsec = 0;
    uint8_t level = 0;
    uint8_t facility = 0;
    uint32_t caller_id = 0;
    std::string text;
    // The data block wrapped past the end of the data ring.
    bool wrapped = false;
    // Data allocation failed (FAILED_LPOS).
    bool failed = false;
  };

  // Initializes the ring as DEFINE_PRINTKRB()/prb_init() do.
  FakePrintkRing(FakeKernelMemory* mem, const PrintkLayout& layout, const Placement& where,
                 uint32_t count_bits, uint32_t size_bits);

  // prb_reserve() and the caller's filling-in of the info. Returns the new
  // id, or nullopt where the kernel's prb_reserve() fails (the oldest
  // descriptor is still reserved/committed, or the text can never fit).
  // When the text cannot be allocated the kernel commits a data-less
  // record and fails; this returns that record's id with `failed` set.
  std::optional<uint64_t> Reserve(absl::string_view text, uint64_t ts_nsec, uint8_t level = 6,
                                  uint32_t caller_id = 1);
  // prb_commit(): committed, finalized at once unless it is the head.
  void Commit(uint64_t id);
  // prb_final_commit().
  void FinalCommit(uint64_t id);
  // Reserve() + FinalCommit(); aborts if Reserve() fails.
  uint64_t Append(absl::string_view text, uint64_t ts_nsec, uint8_t level = 6,
                  uint32_t caller_id = 1);

  // What a correct reader returns: every committed or finalized record with
  // its text, walked from tail_id to head_id.
  std::vector<Written> Live() const;

  uint64_t head_id() const { return head_id_; }
  uint64_t tail_id() const { return tail_id_; }
  uint64_t count() const { return count_; }
  uint64_t data_size() const { return data_size_; }
  // Virtual addresses of one id's descriptor and info.
  uint64_t DescAddr(uint64_t id) const;
  uint64_t InfoAddr(uint64_t id) const;
  // Ring index of the data block of `id` (where its id is stamped).
  uint64_t BlockIndex(uint64_t id) const;
  const Written& written(uint64_t id) const { return written_.at(id); }

 private:
  uint64_t State(uint64_t id) const;  // enum desc_state, or 4 for a miss
  void SetState(uint64_t id, uint64_t state);
  uint64_t Begin(uint64_t id) const;
  uint64_t Next(uint64_t id) const;
  bool DataPushTail(uint64_t lpos);
  void StoreRbHeader();

  FakeKernelMemory* mem_;
  PrintkLayout l_;
  Placement at_;
  uint32_t size_bits_;
  uint64_t count_;
  uint64_t data_size_;
  uint64_t head_id_, tail_id_;
  uint64_t head_lpos_, tail_lpos_;
  std::map<uint64_t, Written> written_;
};

// A whole small dead kernel: its image (holding `prb` and the ring
// header), RAM holding the ring's arrays, optional page tables, the ring,
// and the VMCOREINFO describing it.
class FakeKernel {
 public:
  // page_offset_base of the fake kernel (KASLR-randomized on a real one;
  // 1 GiB aligned).
  static constexpr uint64_t kPageOffset = 0xffff9c4b40000000;

  struct Options {
    PrintkLayout layout = PrintkLayout::Scrambled();
    uint32_t count_bits = 4;
    uint32_t size_bits = 9;
    // SYMBOL(prb) and NUMBER(phys_base); the image region is placed where
    // they say.
    uint64_t prb_symbol = 0xffffffffa0a6c8d8;
    uint64_t phys_base = 0x2c200000;
    // Paging levels of the page tables written for the ring's arrays
    // (4 or 5), and the SME bit set in every entry (0 for none).
    int paging_levels = 4;
    uint64_t sme_mask = 0;
  };

  explicit FakeKernel(const Options& options);

  FakePrintkRing& ring() { return *ring_; }
  FakeKernelMemory& memory() { return mem_; }
  const Options& options() const { return options_; }
  const FakePrintkRing::Placement& placement() const { return placement_; }

  // VMCOREINFO for this kernel: OSRELEASE, PAGESIZE, the symbols and
  // numbers address translation needs, and the layout's printk keys.
  std::string VmcoreInfoText() const;

  // The core: a VMCOREINFO note (`vmcoreinfo`, or VmcoreInfoText() if
  // empty) and one PT_LOAD per memory region; `with_vaddr` as in
  // FakeKernelMemory::AddLoadsTo.
  BuiltVmcore Build(bool with_vaddr = true, absl::string_view vmcoreinfo = "") const;

  // The file offset, within Build()'s image, of virtual address `vaddr`.
  uint64_t FileOffsetOf(const BuiltVmcore& core, uint64_t vaddr) const;

 private:
  void MapPage(uint64_t vaddr, uint64_t paddr, int leaf_level);

  Options options_;
  FakeKernelMemory mem_;
  FakePrintkRing::Placement placement_;
  uint64_t image_paddr_ = 0;
  uint64_t image_vaddr_ = 0;
  uint64_t top_table_vaddr_ = 0;
  uint64_t next_table_paddr_ = 0;
  std::unique_ptr<FakePrintkRing> ring_;
};

// The text of capture/testdata/vmcoreinfo-6.1.txt (aborts if unreadable),
// found relative to the working directory (the workspace root both for
// `bazel test` and for running a test binary from /work/main) or under
// $TEST_SRCDIR/saveoops.
std::string ReadTestdataVmcoreInfo61();

}  // namespace saveoops

#endif  // SAVEOOPS_CAPTURE_TEST_VMCORE_H_
