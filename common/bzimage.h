// Reading and validating a Linux/x86 bzImage for 64-bit entry.
//
// A bzImage file is the real-mode "setup" area ((setup_sects + 1) * 512
// bytes: boot sector + setup code, with struct setup_header at 0x1f1)
// followed by the protected-mode kernel (Documentation/arch/x86/boot.rst,
// "Loading The Rest of The Kernel"). Saveoops copies the protected-mode part
// to a kernel_alignment-aligned address and enters it at +0x200 in 64-bit
// mode (boot.rst, "64-bit Boot Protocol"), so it only accepts kernels that
// advertise that entry: protocol 2.12 or newer with XLF_KERNEL_64, a
// relocatable kernel, loaded high.
//
// Example:
//   ASSIGN_OR_RETURN(BzImageInfo info, ReadBzImageFile("/boot/vmlinuz"));
//   // info.payload_offset / info.payload_size: the bytes to stage;
//   // info.init_size: how much memory they need from the load address.
#ifndef SAVEOOPS_COMMON_BZIMAGE_H_
#define SAVEOOPS_COMMON_BZIMAGE_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/bootproto.h"

namespace saveoops {

// What a boot loader needs to know about a validated bzImage. All values are
// decoded from the setup header; file offsets and sizes are in bytes.
struct BzImageInfo {
  // Boot protocol version, (major << 8) | minor; >= 0x020c.
  uint16_t protocol_version = 0;
  // setup_sects after boot.rst's "0 means 4" rule; 4..63.
  uint8_t setup_sects = 0;
  // Size of the real-mode part: (setup_sects + 1) * 512.
  size_t setup_size_bytes = 0;
  // File offset of the protected-mode kernel (== setup_size_bytes). Not to
  // be confused with the header field payload_offset (header.payload_offset),
  // which locates the compressed payload inside the protected-mode code.
  size_t payload_offset = 0;
  // Size of the protected-mode part: file size - setup_size_bytes. This is
  // what a loader copies (it may include an appended signature, so it can
  // exceed syssize_bytes).
  size_t payload_size = 0;
  // syssize * 16: the protected-mode code proper (boot.rst, "syssize").
  uint64_t syssize_bytes = 0;
  // loadflags and xloadflags as found in the image (kLoadedHigh, kXlf*).
  uint8_t loadflags = 0;
  uint16_t xloadflags = 0;
  // relocatable_kernel != 0 (always true for an accepted image).
  bool relocatable = false;
  // Preferred physical alignment of the load address; a power of two.
  uint32_t kernel_alignment = 0;
  // log2 of the minimum alignment, 0 if the kernel states none (2.10+).
  uint8_t min_alignment = 0;
  // Preferred load address; nonzero and kernel_alignment-aligned.
  uint64_t pref_address = 0;
  // Linear memory the kernel needs from its load address before it can
  // examine its memory map; >= payload_size.
  uint32_t init_size = 0;
  // Maximum command line length without the terminating NUL.
  uint32_t cmdline_size = 0;
  // Highest address an initrd byte may occupy, unless
  // kXlfCanBeLoadedAbove4G is set.
  uint32_t initrd_addr_max = 0;
  // EFI handover entry offset (not used by Saveoops, reported for tools).
  uint32_t handover_offset = 0;
  // Offset of kernel_info in the protected-mode code; 0 before 2.15.
  uint32_t kernel_info_offset = 0;
  // The NUL-terminated version string kernel_version points to, if it lies
  // entirely inside the setup area; otherwise empty.
  std::string kernel_version;
  // File offset one past the setup header: 0x202 + the jump's displacement
  // (boot.rst, "64-bit Boot Protocol"); within [0x268, 0x290].
  size_t setup_header_end = 0;
  // The image's bytes [0x1f1, setup_header_end): exactly what boot.rst says a
  // 32/64-bit loader copies into boot_params.hdr.
  std::vector<uint8_t> setup_header_bytes;
  // The image's setup header decoded into the struct. Bytes at or past
  // setup_header_end (e.g. kernel_info_offset of a 2.12 kernel) belong to
  // setup code rather than the header and are zero here.
  SetupHeader header = {};
};

// Parses and validates a bzImage held in memory. Never reads outside
// `image`. On error the message names the offending field and value, e.g.
//   bzImage: setup header field 'version' is 0x020a, need >= 0x020c (boot
//   protocol 2.12: xloadflags and the 64-bit entry)
// Checks, in order: the file holds the setup header; boot_flag; header
// magic; version >= 2.12; jump (header end); setup_sects 4..63 and the setup
// area inside the file; syssize nonzero and not past the end of the file;
// LOADED_HIGH; relocatable_kernel; XLF_KERNEL_64; kernel_alignment a nonzero
// power of two; min_alignment <= log2(kernel_alignment); cmdline_size
// nonzero; init_size nonzero and >= payload size; pref_address nonzero,
// kernel_alignment-aligned and pref_address + init_size without overflow.
absl::StatusOr<BzImageInfo> ParseBzImage(absl::Span<const uint8_t> image);

// A bzImage read from a file: its bytes and what ParseBzImage found in them.
struct LoadedBzImage {
  // The whole file.
  std::vector<uint8_t> bytes;
  // ParseBzImage(bytes).
  BzImageInfo info;
};

// Largest file LoadBzImage/ReadBzImageFile will read. init_size is a 32-bit
// field that must cover the protected-mode part, so no valid bzImage comes
// near this; the cap keeps a wrong path (a disk image, say) from being read
// into memory whole.
inline constexpr uint64_t kMaxBzImageFileSize = uint64_t{1} << 32;

// Reads `path` and parses it with ParseBzImage. Errors name the path.
absl::StatusOr<LoadedBzImage> LoadBzImage(absl::string_view path);

// Like LoadBzImage but keeps only the parsed information.
absl::StatusOr<BzImageInfo> ReadBzImageFile(absl::string_view path);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_BZIMAGE_H_
