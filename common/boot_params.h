// Building the capture kernel's boot parameters: the zero page (struct
// boot_params) plus everything it points to, as ONE contiguous blob that the
// loader places at a single physical address P.
//
// Blob layout (offsets from P):
//   [0, 4096)            struct boot_params (the zero page)
//   [4096, 4096 + X)     only with more than 128 e820 entries: one
//                        SETUP_E820_EXT setup_data node (16-byte header +
//                        20 bytes per entry past the first 128), reached
//                        through hdr.setup_data = P + 4096
//   [4096 + X, end)      the NUL-terminated kernel command line, reached
//                        through hdr.cmd_line_ptr / ext_cmd_line_ptr
// Keeping everything in one blob means one segment to place, hash and
// identity-map (boot.rst, "64-bit Boot Protocol": the zero page and the
// command line buffer must be identity-mapped at entry).
//
// Example: 300 e820 entries and a 100-byte command line at P = 0x7f000000:
//   node at P + 4096, 16 + 172 * 20 = 3456 bytes; command line at
//   P + 4096 + 3456 = P + 0x1d80; BootParamsBlobSize(100, 300) = 7653.
#ifndef SAVEOOPS_COMMON_BOOT_PARAMS_H_
#define SAVEOOPS_COMMON_BOOT_PARAMS_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bootproto.h"
#include "common/bzimage.h"
#include "common/e820.h"

namespace saveoops {

// Offset of the SETUP_E820_EXT node inside the blob (right after the page).
inline constexpr size_t kBootParamsE820ExtOffset = sizeof(BootParams);

// Where each part of a boot params blob lives, as offsets from its start.
struct BootParamsLayout {
  // Offset and total size (header + entries) of the SETUP_E820_EXT node;
  // size 0 when all entries fit the zero page.
  size_t e820_ext_offset = 0;
  size_t e820_ext_size = 0;
  // Offset of the command line; it occupies cmdline_len + 1 bytes.
  size_t cmdline_offset = 0;
  // Size of the whole blob.
  size_t total_size = 0;
};

// The layout for a command line of `cmdline_len` characters (without NUL)
// and `e820_count` entries. Pure arithmetic; meaningful for any inputs
// BuildBootParams accepts (which keep every sum far from overflowing).
BootParamsLayout BootParamsBlobLayout(size_t cmdline_len, size_t e820_count);

// BootParamsBlobLayout(cmdline_len, e820_count).total_size.
size_t BootParamsBlobSize(size_t cmdline_len, size_t e820_count);

// Everything the zero page says to the capture kernel.
struct BootParamsSpec {
  // The capture kernel, as ParseBzImage returned it. Its setup header bytes
  // are copied verbatim; its cmdline_size, initrd_addr_max and xloadflags
  // limit the rest of the spec. Must not be null.
  const BzImageInfo* kernel = nullptr;
  // The command line, without a NUL; at most kernel->cmdline_size bytes.
  std::string cmdline;
  // The memory map, in the order given (the kernel sanitizes it itself).
  // The first 128 entries go to e820_table, the rest to a SETUP_E820_EXT
  // node. Must not be empty.
  std::vector<BootE820Entry> e820;
  // Physical address and size of the initramfs; both 0 for none.
  uint64_t initrd_addr = 0;
  uint64_t initrd_size = 0;
  // Physical address of the ACPI RSDP (boot_params.acpi_rsdp_addr), 0 to let
  // the kernel search for it. A capture kernel booted without EFI runtime
  // services may not find the RSDP on its own, so loaders should pass the
  // first kernel's value.
  uint64_t acpi_rsdp_addr = 0;
  // type_of_loader. Saveoops has no boot loader ID assigned, so boot.rst says
  // to write 0xFF ("undefined"); the kernel only requires it to be nonzero
  // (arch/x86/kernel/setup.c ignores the initrd when it is 0). For a
  // 0xE<v> value, ext_loader_type/ext_loader_ver extend it as boot.rst says.
  uint8_t type_of_loader = kLoaderTypeUndefined;
  uint8_t ext_loader_type = 0;
  uint8_t ext_loader_ver = 0;
  // Physical address P where the blob will be placed; 4 KiB aligned and
  // nonzero. If the kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G the whole blob
  // must lie below 4 GiB (cmd_line_ptr is then a 32-bit pointer).
  uint64_t blob_addr = 0;
};

// Builds the blob described above. What is written, following boot.rst:
//   - the zero page starts all zero ("allocated and initialized to all
//     zero", "64-bit Boot Protocol"); the sentinel stays 0;
//   - the image's setup header, bytes [0x1f1, 0x202 + jump displacement),
//     is copied to offset 0x1f1 unchanged, then the loader-written fields
//     are set: type_of_loader, ext_loader_type, ext_loader_ver; loadflags
//     keeps only LOADED_HIGH (QUIET_FLAG and CAN_USE_HEAP are loader choices
//     we do not make, KASLR_FLAG is the kernel's own, KEEP_SEGMENTS is
//     obsolete); heap_end_ptr = 0 (it only serves the real-mode setup code,
//     which the 64-bit entry skips); cmd_line_ptr/ext_cmd_line_ptr;
//     ramdisk_image/ramdisk_size with the ext_* high halves; setup_data.
//     vid_mode, root_flags, root_dev and code32_start keep the image's
//     values: nothing before the 64-bit entry reads them;
//   - e820_entries/e820_table, acpi_rsdp_addr, and the setup_data node.
// Errors (InvalidArgument, naming the field): null kernel or a malformed
// setup header copy; blob_addr zero, unaligned, wrapping past 2^64 or (without
// XLF_CAN_BE_LOADED_ABOVE_4G) ending above 4 GiB; cmdline longer than
// cmdline_size or containing NUL; e820 empty, too long for a setup_data node
// or with an entry wrapping past 2^64; initrd with only one of address/size
// zero, wrapping past 2^64, or (without XLF_CAN_BE_LOADED_ABOVE_4G) reaching
// above initrd_addr_max; type_of_loader 0.
absl::StatusOr<std::vector<uint8_t>> BuildBootParams(const BootParamsSpec& spec);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_BOOT_PARAMS_H_
