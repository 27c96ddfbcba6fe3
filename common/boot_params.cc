#include "common/boot_params.h"

#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace saveoops {
namespace {

constexpr uint64_t k4GiB = uint64_t{1} << 32;
constexpr uint64_t kPageSize = 4096;

absl::Status SpecError(absl::string_view field, absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat("boot params: '", field, "' ", detail));
}

uint32_t Low32(uint64_t v) { return static_cast<uint32_t>(v); }
uint32_t High32(uint64_t v) { return static_cast<uint32_t>(v >> 32); }

// Entries beyond the zero page's 128 travel in one SETUP_E820_EXT node whose
// 32-bit len counts their bytes.
constexpr size_t kMaxE820Entries = kE820MaxEntriesZeroPage + UINT32_MAX / sizeof(BootE820Entry);

absl::Status CheckSpec(const BootParamsSpec& spec, const BootParamsLayout& layout) {
  const BzImageInfo& k = *spec.kernel;
  const bool above_4g_ok = (k.xloadflags & kXlfCanBeLoadedAbove4G) != 0;

  const size_t hdr_len = k.setup_header_bytes.size();
  if (hdr_len < kSetupHeaderMinEnd2_12 - kSetupHeaderOffset ||
      hdr_len > kSetupHeaderMaxEnd - kSetupHeaderOffset) {
    return SpecError("kernel", absl::StrFormat("setup header copy is %u bytes, need %u..%u (file "
                                               "offsets 0x1f1..0x268 at least, 0x290 at most); use "
                                               "the BzImageInfo from ParseBzImage",
                                               hdr_len, kSetupHeaderMinEnd2_12 - kSetupHeaderOffset,
                                               kSetupHeaderMaxEnd - kSetupHeaderOffset));
  }

  if (spec.blob_addr == 0 || spec.blob_addr % kPageSize != 0) {
    return SpecError("blob_addr",
                     absl::StrFormat("is 0x%x, need a nonzero multiple of 4096 (the zero "
                                     "page is a whole page)",
                                     spec.blob_addr));
  }
  if (spec.blob_addr > UINT64_MAX - layout.total_size) {
    return SpecError("blob_addr", absl::StrFormat("is 0x%x; a %u-byte blob there wraps "
                                                  "past 2^64",
                                                  spec.blob_addr, layout.total_size));
  }
  if (!above_4g_ok && spec.blob_addr + layout.total_size > k4GiB) {
    return SpecError("blob_addr",
                     absl::StrFormat("is 0x%x; the %u-byte blob ends above 4 GiB but the "
                                     "kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G, so "
                                     "boot_params and cmd_line_ptr must stay below 4 GiB",
                                     spec.blob_addr, layout.total_size));
  }

  // boot.rst, cmdline_size: "the command line can contain at most
  // cmdline_size characters" (without the terminating zero).
  if (spec.cmdline.size() > k.cmdline_size) {
    return SpecError("cmdline",
                     absl::StrFormat("is %u bytes, longer than the kernel's cmdline_size "
                                     "%u (the kernel would silently truncate it)",
                                     spec.cmdline.size(), k.cmdline_size));
  }
  const size_t nul = spec.cmdline.find('\0');
  if (nul != std::string::npos) {
    return SpecError("cmdline",
                     absl::StrFormat("contains a NUL byte at offset %u; the kernel would "
                                     "see only the part before it",
                                     nul));
  }

  if (spec.e820.empty()) {
    return SpecError("e820", "is empty; the capture kernel needs a memory map");
  }
  if (spec.e820.size() > kMaxE820Entries) {
    return SpecError("e820", absl::StrFormat("has %u entries, more than a SETUP_E820_EXT "
                                             "node's 32-bit len can carry",
                                             spec.e820.size()));
  }
  for (size_t i = 0; i < spec.e820.size(); ++i) {
    const uint64_t addr = spec.e820[i].addr;
    const uint64_t size = spec.e820[i].size;
    if (addr > UINT64_MAX - size) {
      return SpecError(absl::StrCat("e820[", i, "]"),
                       absl::StrFormat("is [0x%x, +0x%x), which wraps past 2^64", addr, size));
    }
  }

  if (spec.type_of_loader == 0) {
    return SpecError("type_of_loader",
                     "is 0; the kernel ignores the initrd of such a loader "
                     "(arch/x86/kernel/setup.c), use 0xff (undefined)");
  }

  if ((spec.initrd_addr == 0) != (spec.initrd_size == 0)) {
    return SpecError("initrd", absl::StrFormat("has address 0x%x and size 0x%x; give both or "
                                               "neither (the kernel treats either being 0 as \"no "
                                               "initrd\")",
                                               spec.initrd_addr, spec.initrd_size));
  }
  if (spec.initrd_size != 0) {
    if (spec.initrd_addr > UINT64_MAX - spec.initrd_size) {
      return SpecError("initrd", absl::StrFormat("[0x%x, +0x%x) wraps past 2^64", spec.initrd_addr,
                                                 spec.initrd_size));
    }
    // boot.rst, initrd_addr_max: "the address of the highest safe byte".
    // With XLF_CAN_BE_LOADED_ABOVE_4G the ramdisk may be anywhere (the ext_*
    // fields carry the high halves), as kexec_file's bzImage64 loader does.
    const uint64_t last = spec.initrd_addr + spec.initrd_size - 1;
    if (!above_4g_ok && last > k.initrd_addr_max) {
      return SpecError("initrd", absl::StrFormat("ends at 0x%x, above the kernel's initrd_addr_max "
                                                 "0x%x, and the kernel lacks "
                                                 "XLF_CAN_BE_LOADED_ABOVE_4G",
                                                 last, k.initrd_addr_max));
    }
  }
  return absl::OkStatus();
}

}  // namespace

BootParamsLayout BootParamsBlobLayout(size_t cmdline_len, size_t e820_count) {
  BootParamsLayout layout;
  size_t offset = sizeof(BootParams);
  if (e820_count > kE820MaxEntriesZeroPage) {
    layout.e820_ext_offset = offset;
    layout.e820_ext_size =
        sizeof(SetupData) + (e820_count - kE820MaxEntriesZeroPage) * sizeof(BootE820Entry);
    offset += layout.e820_ext_size;
  }
  layout.cmdline_offset = offset;
  layout.total_size = offset + cmdline_len + 1;
  return layout;
}

size_t BootParamsBlobSize(size_t cmdline_len, size_t e820_count) {
  return BootParamsBlobLayout(cmdline_len, e820_count).total_size;
}

absl::StatusOr<std::vector<uint8_t>> BuildBootParams(const BootParamsSpec& spec) {
  if (spec.kernel == nullptr) {
    return SpecError("kernel", "is null; pass the ParseBzImage result");
  }
  // The layout sums stay far from overflow for any string and vector that
  // fit in memory (at most a few multiples of their sizes).
  const BootParamsLayout layout = BootParamsBlobLayout(spec.cmdline.size(), spec.e820.size());
  if (absl::Status s = CheckSpec(spec, layout); !s.ok()) return s;

  std::vector<uint8_t> blob(layout.total_size, 0);
  BootParams bp;
  memset(&bp, 0, sizeof(bp));

  // boot.rst, "64-bit Boot Protocol": load the setup header from offset
  // 0x1f1 of the image, up to 0x202 + the byte at 0x201, into the zeroed
  // boot_params; then fill in the loader's fields.
  const std::vector<uint8_t>& hdr_bytes = spec.kernel->setup_header_bytes;
  memcpy(reinterpret_cast<uint8_t*>(&bp) + kSetupHeaderOffset, hdr_bytes.data(), hdr_bytes.size());

  bp.hdr.type_of_loader = spec.type_of_loader;
  bp.hdr.ext_loader_type = spec.ext_loader_type;
  bp.hdr.ext_loader_ver = spec.ext_loader_ver;
  bp.hdr.loadflags = bp.hdr.loadflags & kLoadedHigh;
  bp.hdr.heap_end_ptr = 0;

  const uint64_t cmdline_addr = spec.blob_addr + layout.cmdline_offset;
  bp.hdr.cmd_line_ptr = Low32(cmdline_addr);
  bp.ext_cmd_line_ptr = High32(cmdline_addr);

  bp.hdr.ramdisk_image = Low32(spec.initrd_addr);
  bp.ext_ramdisk_image = High32(spec.initrd_addr);
  bp.hdr.ramdisk_size = Low32(spec.initrd_size);
  bp.ext_ramdisk_size = High32(spec.initrd_size);

  bp.acpi_rsdp_addr = spec.acpi_rsdp_addr;

  const size_t in_page = std::min(spec.e820.size(), kE820MaxEntriesZeroPage);
  bp.e820_entries = static_cast<uint8_t>(in_page);
  memcpy(bp.e820_table, spec.e820.data(), in_page * sizeof(BootE820Entry));

  bp.hdr.setup_data = 0;
  if (layout.e820_ext_size != 0) {
    const size_t rest = spec.e820.size() - in_page;
    SetupData node;
    node.next = 0;
    node.type = kSetupE820Ext;
    node.len = static_cast<uint32_t>(rest * sizeof(BootE820Entry));
    memcpy(blob.data() + layout.e820_ext_offset, &node, sizeof(node));
    memcpy(blob.data() + layout.e820_ext_offset + sizeof(node), spec.e820.data() + in_page,
           rest * sizeof(BootE820Entry));
    bp.hdr.setup_data = spec.blob_addr + layout.e820_ext_offset;
  }

  memcpy(blob.data(), &bp, sizeof(bp));
  memcpy(blob.data() + layout.cmdline_offset, spec.cmdline.data(), spec.cmdline.size());
  // The terminating NUL is already there: the blob started zeroed.
  return blob;
}

}  // namespace saveoops
