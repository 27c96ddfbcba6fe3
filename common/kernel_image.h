// A capture kernel prepared at pack time: the bzImage's payload unpacked
// once on the host, laid out as the flat memory image the kernel's own
// decompressor would have produced, and stored as one LZ4 block.
//
// Why: after a panic the bzImage's xz decompressor costs the capture path
// about 2.5 s on an emulated CPU (and a large part of it on real ones); LZ4
// unpacks at memory speed. The purgatory verifies the LZ4 bytes' SHA-256,
// unpacks them at the kernel's load address, zeroes the rest of the image
// and enters the kernel at startup_64 (arch/x86/kernel/head_64.S, entered in
// 64-bit mode with identity-mapped memory and %rsi = boot_params; x86-64
// kernels relocate physically by themselves, so no relocation records are
// applied as long as the virtual base stays the linked one, which the
// decompressor alone would change for KASLR).
//
// Bundle part kBundlePartCaptureKernelImage holds a KernelImageHeader
// followed by the LZ4 block; kernel_image_prepare.h builds it (host tools
// only: it links liblzma and liblz4, which the arming programs need not). The bzImage stays in the
// bundle: its setup header feeds boot_params, and kexec_file_load (lockdown) needs it signed.
#ifndef SAVEOOPS_COMMON_KERNEL_IMAGE_H_
#define SAVEOOPS_COMMON_KERNEL_IMAGE_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace saveoops {

inline constexpr uint8_t kKernelImageMagic[8] = {'S', 'V', 'K', 'I', 'M', 'A', 'G', 'E'};
inline constexpr uint32_t kKernelImageVersion = 1;

// Upper bound on a capture kernel's memory span (first PT_LOAD to the end
// of the last): the kernel runs inside a crash reservation of a few hundred
// MiB at most, and Debian's 6.1 vmlinux spans 58 MiB. Checked before
// anything is allocated, so a crafted ELF claiming a larger span costs
// nothing; small enough that sums of spans and addresses cannot wrap.
inline constexpr uint64_t kKernelImageMaxSpan = 256ull << 20;

// How much larger than its ELF file a laid-out vmlinux may be: the gaps
// between segments a linker leaves in memory but not in the file, less than
// one segment alignment (x86-64 CONFIG_PHYSICAL_ALIGN is at most 16 MiB).
inline constexpr uint64_t kKernelImageMaxSlack = 16ull << 20;

struct __attribute__((packed)) KernelImageHeader {
  uint8_t magic[8];       // kKernelImageMagic.
  uint32_t version;       // kKernelImageVersion.
  uint32_t header_size;   // sizeof(KernelImageHeader).
  uint64_t entry_offset;  // startup_64, from the load address.
  uint64_t image_size;    // Bytes the LZ4 block decodes to.
  uint64_t span;          // Memory from the load address to the end of .brk.
  uint64_t alignment;     // Load address alignment; a power of two.
  uint64_t lz4_size;      // Bytes of the LZ4 block after this header.
  uint64_t reserved;      // 0.
};
static_assert(sizeof(KernelImageHeader) == 64, "kernel image header is 64 bytes");

// A parsed, checked kernel image part. `lz4` points into the part's bytes.
struct KernelImage {
  uint64_t entry_offset = 0;
  uint64_t image_size = 0;
  uint64_t span = 0;
  uint64_t alignment = 0;
  absl::Span<const uint8_t> lz4;
};

// The PT_LOAD segments of an x86-64 vmlinux laid out as memory from the
// first one's physical address, trailing zeroes dropped.
struct LaidOutKernel {
  std::vector<uint8_t> image;
  uint64_t span = 0;          // First segment start to last segment end.
  uint64_t entry_offset = 0;  // e_entry - first segment's physical address.
  int load_segments = 0;
};

// Lays out `elf` (bytes from outside: checked, never read out of bounds):
// 64-bit little-endian x86-64 ET_EXEC, segments inside the file, in address
// order without overlap, span <= kKernelImageMaxSpan, entry inside the
// non-zero part of the image, segments sharing no file bytes, and the
// laid-out image (zero-filled gaps between segments included) at most
// kKernelImageMaxSlack larger than `elf` itself: a linker lays segments out
// in the file nearly as in memory (Debian's 6.1 vmlinux: 58 MiB of image
// from 63 MiB of file), so only a crafted ELF needs more. Memory used is
// bounded by elf.size() + kKernelImageMaxSlack, whatever the headers claim.
absl::StatusOr<LaidOutKernel> LayOutKernelElf(absl::Span<const uint8_t> elf);

// Parses and checks a kernel image part: magic, version, header size, zero
// reserved field, lz4_size == the bytes after the header, 0 < image_size <=
// span <= kKernelImageMaxSpan, entry_offset < image_size, alignment a power
// of two >= 4096. Never reads outside `part`. Does not decode the block.
absl::StatusOr<KernelImage> ParseKernelImage(absl::Span<const uint8_t> part);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_KERNEL_IMAGE_H_
