#include "common/kernel_image.h"

#include <string.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/elf64.h"

namespace saveoops {
namespace {

template <typename T>
T Load(absl::Span<const uint8_t> bytes, size_t offset) {
  T v;
  memcpy(&v, bytes.data() + offset, sizeof(v));
  return v;
}

struct LoadSegment {
  uint64_t paddr, offset, filesz, memsz;
};

}  // namespace

absl::StatusOr<LaidOutKernel> LayOutKernelElf(absl::Span<const uint8_t> elf) {
  if (elf.size() < sizeof(Elf64Ehdr)) {
    return absl::InvalidArgumentError(absl::StrCat("kernel: unpacked payload is ", elf.size(),
                                                   " bytes, too small for an ELF header"));
  }
  const Elf64Ehdr eh = Load<Elf64Ehdr>(elf, 0);
  if (memcmp(eh.e_ident, kElfMagic, sizeof(kElfMagic)) != 0 ||
      eh.e_ident[kEiClass] != kElfClass64 || eh.e_ident[kEiData] != kElfData2Lsb) {
    return absl::InvalidArgumentError(
        "kernel: unpacked payload is not a 64-bit little-endian ELF file");
  }
  if (eh.e_machine != kEmX86_64 || eh.e_type != kEtExec) {
    return absl::InvalidArgumentError(
        absl::StrFormat("kernel: unpacked vmlinux has e_machine %d and e_type %d, need %d (x86-64) "
                        "and %d (executable)",
                        eh.e_machine, eh.e_type, kEmX86_64, kEtExec));
  }
  if (eh.e_phentsize != sizeof(Elf64Phdr) || eh.e_phnum == 0 || eh.e_phoff > elf.size() ||
      uint64_t{eh.e_phnum} * sizeof(Elf64Phdr) > elf.size() - eh.e_phoff) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel: vmlinux program headers (%d of %d bytes at %#x) do not fit its %d bytes",
        eh.e_phnum, eh.e_phentsize, eh.e_phoff, elf.size()));
  }
  std::vector<LoadSegment> loads;
  uint64_t file_bytes = 0;
  for (int i = 0; i < eh.e_phnum; ++i) {
    const Elf64Phdr ph = Load<Elf64Phdr>(elf, eh.e_phoff + i * sizeof(Elf64Phdr));
    if (ph.p_type != kPtLoad) continue;
    if (ph.p_filesz > ph.p_memsz || ph.p_offset > elf.size() ||
        ph.p_filesz > elf.size() - ph.p_offset || ph.p_memsz > kKernelImageMaxSpan ||
        ph.p_paddr > UINT64_MAX - kKernelImageMaxSpan) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "kernel: vmlinux segment %d (offset %#x, file %#x, memory %#x bytes) is malformed or "
          "outside the file",
          i, ph.p_offset, ph.p_filesz, ph.p_memsz));
    }
    if (!loads.empty() && ph.p_paddr < loads.back().paddr + loads.back().memsz) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "kernel: vmlinux segment %d at physical %#x overlaps or precedes the one before", i,
          ph.p_paddr));
    }
    loads.push_back({ph.p_paddr, ph.p_offset, ph.p_filesz, ph.p_memsz});
    // Segments do not share file bytes: together they fit in the file, which
    // also bounds the scan below by the input's size.
    file_bytes += ph.p_filesz;
    if (file_bytes > elf.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "kernel: vmlinux segments hold %d file bytes in all, more than its own %d", file_bytes,
          elf.size()));
    }
  }
  if (loads.empty()) return absl::InvalidArgumentError("kernel: vmlinux has no PT_LOAD segment");
  const uint64_t base = loads.front().paddr;
  const uint64_t end = loads.back().paddr + loads.back().memsz;
  if (end - base > kKernelImageMaxSpan) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel: vmlinux spans %d MiB of memory; a capture kernel spans at most %d MiB",
        (end - base) >> 20, kKernelImageMaxSpan >> 20));
  }
  if (eh.e_entry < base || eh.e_entry >= end) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel: vmlinux entry %#x lies outside its segments [%#x, %#x)", eh.e_entry, base, end));
  }
  // The image ends at the last non-zero byte the file gives a segment
  // (memory past filesz is zero, and trailing zeroes are dropped): found by
  // scanning the file's bytes, never by allocating the span first.
  uint64_t used = 0;
  for (const LoadSegment& s : loads) {
    uint64_t n = s.filesz;
    while (n > 0 && elf[s.offset + n - 1] == 0) --n;
    if (n > 0) used = s.paddr - base + n;
  }
  if (eh.e_entry - base >= used) {
    return absl::InvalidArgumentError("kernel: vmlinux entry point lies in zero-filled memory");
  }
  if (used > elf.size() + kKernelImageMaxSlack) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel: vmlinux lays out to %d bytes, more than its own %d + %d MiB: its segments leave "
        "gaps no linker makes",
        used, elf.size(), kKernelImageMaxSlack >> 20));
  }
  std::vector<uint8_t> image(used, 0);
  for (const LoadSegment& s : loads) {
    if (s.paddr - base >= used) break;
    memcpy(image.data() + (s.paddr - base), elf.data() + s.offset,
           std::min<uint64_t>(s.filesz, used - (s.paddr - base)));
  }
  LaidOutKernel out;
  out.image = std::move(image);
  out.span = end - base;
  out.entry_offset = eh.e_entry - base;
  out.load_segments = static_cast<int>(loads.size());
  return out;
}

absl::StatusOr<KernelImage> ParseKernelImage(absl::Span<const uint8_t> part) {
  if (part.size() < sizeof(KernelImageHeader)) {
    return absl::InvalidArgumentError(absl::StrCat("kernel image: ", part.size(),
                                                   " bytes, shorter than its ",
                                                   sizeof(KernelImageHeader), "-byte header"));
  }
  const KernelImageHeader h = Load<KernelImageHeader>(part, 0);
  if (memcmp(h.magic, kKernelImageMagic, sizeof(h.magic)) != 0) {
    return absl::InvalidArgumentError("kernel image: bad magic (not SVKIMAGE)");
  }
  if (h.version != kKernelImageVersion || h.header_size != sizeof(KernelImageHeader) ||
      h.reserved != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel image: version %d, header size %d, reserved %#x; need version %d, header size %d, "
        "reserved 0",
        h.version, h.header_size, h.reserved, kKernelImageVersion, sizeof(KernelImageHeader)));
  }
  if (h.lz4_size != part.size() - sizeof(KernelImageHeader) || h.lz4_size == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("kernel image: header says %d LZ4 bytes, the part holds %d", h.lz4_size,
                        part.size() - sizeof(KernelImageHeader)));
  }
  if (h.image_size == 0 || h.image_size > h.span || h.span > kKernelImageMaxSpan) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel image: image size %#x and span %#x, need 0 < image size <= span <= %#x",
        h.image_size, h.span, kKernelImageMaxSpan));
  }
  if (h.entry_offset >= h.image_size) {
    return absl::InvalidArgumentError(
        absl::StrFormat("kernel image: entry offset %#x is not inside the %#x-byte image",
                        h.entry_offset, h.image_size));
  }
  if (h.alignment < 4096 || (h.alignment & (h.alignment - 1)) != 0 ||
      h.alignment > kKernelImageMaxSpan) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kernel image: alignment %#x is not a power of two between 4 KiB and %d MiB", h.alignment,
        kKernelImageMaxSpan >> 20));
  }
  KernelImage out;
  out.entry_offset = h.entry_offset;
  out.image_size = h.image_size;
  out.span = h.span;
  out.alignment = h.alignment;
  out.lz4 = part.subspan(sizeof(KernelImageHeader));
  return out;
}

}  // namespace saveoops
