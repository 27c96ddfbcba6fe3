// Fuzzes the printk ring walk: the input is the dead kernel's memory (the
// kernel image holding `prb` at its first byte, also mapped in the direct
// map), read with a fixed Linux 6.1 VMCOREINFO. Every pointer, id, lpos and
// length in the ring comes from the fuzzer; the walk must stay in bounds,
// terminate within the ring size, and account for every descriptor.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "capture/printk.h"
#include "capture/test_vmcore.h"
#include "capture/vmcore.h"
#include "capture/vmcoreinfo.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// The input's first byte is kernel-image address kImage (physical
// kPhys, phys_base 0) and direct-map address kDirect. init_top_pgt sits
// 4 KiB in, so a page-table walk reads input bytes too.
constexpr uint64_t kPhys = 0x1000000;
constexpr uint64_t kImage = 0xffffffff81000000;
constexpr uint64_t kDirect = 0xffff888000000000 + kPhys;
constexpr uint64_t kMaxRecords = 4096;

const char kVmcoreInfo[] =
    "OSRELEASE=6.1.0-18-amd64\n"
    "PAGESIZE=4096\n"
    "SYMBOL(prb)=ffffffff81000000\n"
    "SYMBOL(init_top_pgt)=ffffffff81001000\n"
    "NUMBER(phys_base)=0\n"
    "NUMBER(pgtable_l5_enabled)=0\n"
    "SIZE(printk_ringbuffer)=88\n"
    "OFFSET(printk_ringbuffer.desc_ring)=0\n"
    "OFFSET(printk_ringbuffer.text_data_ring)=48\n"
    "OFFSET(printk_ringbuffer.fail)=80\n"
    "SIZE(prb_desc_ring)=48\n"
    "OFFSET(prb_desc_ring.count_bits)=0\n"
    "OFFSET(prb_desc_ring.descs)=8\n"
    "OFFSET(prb_desc_ring.infos)=16\n"
    "OFFSET(prb_desc_ring.head_id)=24\n"
    "OFFSET(prb_desc_ring.tail_id)=32\n"
    "SIZE(prb_desc)=24\n"
    "OFFSET(prb_desc.state_var)=0\n"
    "OFFSET(prb_desc.text_blk_lpos)=8\n"
    "SIZE(prb_data_blk_lpos)=16\n"
    "OFFSET(prb_data_blk_lpos.begin)=0\n"
    "OFFSET(prb_data_blk_lpos.next)=8\n"
    "SIZE(printk_info)=88\n"
    "OFFSET(printk_info.seq)=0\n"
    "OFFSET(printk_info.ts_nsec)=8\n"
    "OFFSET(printk_info.text_len)=16\n"
    "OFFSET(printk_info.caller_id)=20\n"
    "SIZE(prb_data_ring)=32\n"
    "OFFSET(prb_data_ring.size_bits)=0\n"
    "OFFSET(prb_data_ring.data)=8\n"
    "OFFSET(prb_data_ring.head_lpos)=16\n"
    "OFFSET(prb_data_ring.tail_lpos)=24\n"
    "SIZE(atomic_long_t)=8\n"
    "OFFSET(atomic_long_t.counter)=0\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<uint8_t> memory(data, data + size);
  saveoops::VmcoreImageBuilder builder;
  builder.AddVmcoreInfo(kVmcoreInfo);
  builder.AddLoad(kPhys, kImage, memory);
  builder.AddLoad(kPhys, kDirect, memory);
  const saveoops::BuiltVmcore image = builder.Build();
  saveoops::MemoryByteSource source(image.bytes);
  absl::StatusOr<saveoops::Vmcore> core = saveoops::Vmcore::Open(&source);
  Check(core.ok());
  // The note is fixed: parse it once.
  static const absl::StatusOr<saveoops::VmcoreInfo> info = saveoops::ParseVmcoreInfo(kVmcoreInfo);
  Check(info.ok());
  Check(core->VmcoreInfo() == std::string(kVmcoreInfo));

  saveoops::PrintkOptions options;
  options.max_records = kMaxRecords;
  absl::StatusOr<saveoops::PrintkLog> log = saveoops::ReadPrintkLog(*core, *info, options);
  if (!log.ok()) return 0;
  const uint64_t walked =
      log->records.size() + log->skipped_damaged + log->skipped_unfinished + log->skipped_no_data;
  Check(walked >= 1 && walked <= kMaxRecords);
  Check(log->warnings.size() <= saveoops::kMaxPrintkWarnings);
  for (const saveoops::PrintkRecord& r : log->records) {
    Check(r.text.size() <= 0xffff);
    Check(r.level <= 7);  // The 6.1 layout locates the level bits.
  }
  if (!log->records.empty()) {
    Check(log->first_seq == log->records.front().seq);
    Check(log->next_seq == log->records.back().seq + 1);
  }
  (void)saveoops::FormatPrintkLog(*log);
  (void)saveoops::FindPanicReason(*log);
  return 0;
}
