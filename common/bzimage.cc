#include "common/bzimage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace saveoops {
namespace {

// Every error from this file starts with this prefix so that a caller who
// prints it in a longer message still says which artifact was wrong.
absl::Status FieldError(absl::string_view field, absl::string_view detail) {
  return absl::InvalidArgumentError(
      absl::StrCat("bzImage: setup header field '", field, "' ", detail));
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

int Log2(uint64_t power_of_two) {
  int n = 0;
  while (power_of_two > 1) {
    power_of_two >>= 1;
    ++n;
  }
  return n;
}

// The kernel_version string: boot.rst says the field holds "a pointer to a
// NUL-terminated human-readable kernel version number string, less 0x200"
// that should be below 0x200 * setup_sects. Accept it only if the whole
// string, NUL included, lies inside the setup area; anything else (zero,
// past the setup area, unterminated) yields "".
std::string ReadKernelVersion(absl::Span<const uint8_t> image, uint16_t kernel_version,
                              size_t setup_size) {
  if (kernel_version == 0) return "";
  const size_t start = size_t{kernel_version} + 0x200;
  if (start >= setup_size || setup_size > image.size()) return "";
  const uint8_t* begin = image.data() + start;
  const void* nul = memchr(begin, 0, setup_size - start);
  if (nul == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(begin),
                     static_cast<const uint8_t*>(nul) - begin);
}

}  // namespace

absl::StatusOr<BzImageInfo> ParseBzImage(absl::Span<const uint8_t> image) {
  constexpr size_t kHeaderFileEnd = kSetupHeaderOffset + sizeof(SetupHeader);
  if (image.size() < kHeaderFileEnd) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bzImage: file is %u bytes, too small to hold the setup header "
                        "(file offsets 0x1f1..0x%x, boot.rst)",
                        image.size(), kHeaderFileEnd));
  }
  // Copy out of the packed struct into plain locals: binding a reference
  // (as StrFormat does) to a misaligned packed member is undefined.
  SetupHeader hdr;
  memcpy(&hdr, image.data() + kSetupHeaderOffset, sizeof(hdr));
  const uint16_t boot_flag = hdr.boot_flag;
  const uint32_t magic = hdr.header;
  const uint16_t version = hdr.version;
  const uint16_t jump = hdr.jump;
  const uint8_t setup_sects = hdr.setup_sects;
  const uint32_t syssize = hdr.syssize;
  const uint8_t loadflags = hdr.loadflags;
  const uint8_t relocatable_kernel = hdr.relocatable_kernel;
  const uint16_t xloadflags = hdr.xloadflags;
  const uint32_t kernel_alignment = hdr.kernel_alignment;
  const uint8_t min_alignment = hdr.min_alignment;
  const uint32_t cmdline_size = hdr.cmdline_size;
  const uint32_t init_size = hdr.init_size;
  const uint64_t pref_address = hdr.pref_address;

  if (boot_flag != kBootFlagMagic) {
    return FieldError("boot_flag", absl::StrFormat("is 0x%04x, need 0x%04x (not a Linux "
                                                   "kernel image)",
                                                   boot_flag, kBootFlagMagic));
  }
  if (magic != kSetupHeaderMagic) {
    return FieldError("header", absl::StrFormat("is 0x%08x, need 0x%08x (\"HdrS\"; without it the "
                                                "image uses the pre-2.00 protocol)",
                                                magic, kSetupHeaderMagic));
  }
  if (version < kBootProtocol2_12) {
    return FieldError("version", absl::StrFormat("is 0x%04x, need >= 0x%04x (boot protocol 2.12: "
                                                 "xloadflags and the 64-bit entry)",
                                                 version, kBootProtocol2_12));
  }

  // boot.rst: the jump at 0x200 is 0xEB followed by a signed offset relative
  // to 0x202, and "can be used to determine the size of the header"; a
  // 32/64-bit loader copies exactly [0x1f1, 0x202 + offset) into boot_params.
  // The largest possible end, 0x202 + 127 = 0x281, stays inside boot_params'
  // hole (0x290) and inside the smallest setup area (5 sectors) checked below.
  const uint8_t jump_opcode = static_cast<uint8_t>(jump & 0xff);
  const int8_t jump_disp = static_cast<int8_t>(jump >> 8);
  const long header_end = static_cast<long>(kSetupHeaderJumpBase) + static_cast<long>(jump_disp);
  if (jump_opcode != kSetupHeaderJumpOpcode ||
      header_end < static_cast<long>(kSetupHeaderMinEnd2_12)) {
    return FieldError("jump", absl::StrFormat("is 0x%04x (ends the header at 0x%x), need a short "
                                              "jump (0xEB) ending it at >= 0x%x: protocol 2.12 "
                                              "headers reach through handover_offset",
                                              jump, header_end, kSetupHeaderMinEnd2_12));
  }

  BzImageInfo info;
  info.protocol_version = version;
  info.setup_sects = setup_sects == 0 ? kSetupSectsDefault : setup_sects;
  if (info.setup_sects < kSetupSectsMin || info.setup_sects > kSetupSectsMax) {
    return FieldError("setup_sects",
                      absl::StrFormat("is %u, need 0 (meaning 4) or %u..%u (the bounds "
                                      "arch/x86/boot/tools/build.c builds kernels with)",
                                      setup_sects, kSetupSectsMin, kSetupSectsMax));
  }
  info.setup_size_bytes = (size_t{info.setup_sects} + 1) * kBootSectorSize;
  if (info.setup_size_bytes > image.size()) {
    return FieldError("setup_sects",
                      absl::StrFormat("is %u, so the setup area is %u bytes, but the file "
                                      "is only %u bytes (truncated?)",
                                      setup_sects, info.setup_size_bytes, image.size()));
  }
  info.payload_offset = info.setup_size_bytes;
  info.payload_size = image.size() - info.setup_size_bytes;

  // syssize is the protected-mode size in 16-byte paragraphs (4 bytes wide
  // from 2.04). A file shorter than that has been truncated; a longer one may
  // carry an appended signature, which is fine.
  info.syssize_bytes = uint64_t{syssize} * 16;
  if (syssize == 0 || info.syssize_bytes > info.payload_size) {
    return FieldError("syssize", absl::StrFormat("says the protected-mode code is %u bytes, but %u "
                                                 "bytes follow the setup area (truncated file?)",
                                                 info.syssize_bytes, info.payload_size));
  }

  info.loadflags = loadflags;
  if ((loadflags & kLoadedHigh) == 0) {
    return FieldError("loadflags",
                      absl::StrFormat("is 0x%02x without LOADED_HIGH (bit 0): a zImage "
                                      "loaded at 0x10000, not a bzImage",
                                      loadflags));
  }
  info.relocatable = relocatable_kernel != 0;
  if (!info.relocatable) {
    return FieldError("relocatable_kernel",
                      "is 0, need nonzero: the capture kernel runs wherever "
                      "the crash reservation is");
  }
  info.xloadflags = xloadflags;
  if ((xloadflags & kXlfKernel64) == 0) {
    return FieldError("xloadflags",
                      absl::StrFormat("is 0x%04x without XLF_KERNEL_64 (bit 0): no 64-bit "
                                      "entry point at load address + 0x200",
                                      xloadflags));
  }
  info.kernel_alignment = kernel_alignment;
  if (!IsPowerOfTwo(kernel_alignment)) {
    return FieldError("kernel_alignment",
                      absl::StrFormat("is 0x%x, need a nonzero power of two", kernel_alignment));
  }
  // boot.rst: min_alignment, "if nonzero, indicates as a power of two the
  // minimum alignment required", and a loader may lower kernel_alignment to
  // 1 << min_alignment; a minimum above the preferred value is nonsense.
  info.min_alignment = min_alignment;
  if (min_alignment > Log2(kernel_alignment)) {
    return FieldError("min_alignment",
                      absl::StrFormat("is %u (2^%u), above kernel_alignment 0x%x", min_alignment,
                                      min_alignment, kernel_alignment));
  }
  info.cmdline_size = cmdline_size;
  if (cmdline_size == 0) {
    return FieldError("cmdline_size",
                      "is 0, need nonzero (protocol 2.06+ states the maximum "
                      "command line length here)");
  }
  // kexec_file's bzImage64 loader (arch/x86/kernel/kexec-bzimage64.c) copies
  // everything after the setup area into a segment of init_size bytes; the
  // copy has to fit.
  info.init_size = init_size;
  if (init_size == 0 || init_size < info.payload_size) {
    return FieldError("init_size",
                      absl::StrFormat("is 0x%x, need nonzero and >= the protected-mode "
                                      "part (0x%x bytes) that is copied to the load address",
                                      init_size, info.payload_size));
  }
  info.pref_address = pref_address;
  if (pref_address == 0 || pref_address % kernel_alignment != 0) {
    return FieldError("pref_address", absl::StrFormat("is 0x%x, need nonzero and a multiple of "
                                                      "kernel_alignment 0x%x",
                                                      pref_address, kernel_alignment));
  }
  if (pref_address > UINT64_MAX - init_size) {
    return FieldError("pref_address",
                      absl::StrFormat("is 0x%x; with init_size 0x%x the kernel's memory "
                                      "would wrap past 2^64",
                                      pref_address, init_size));
  }

  info.initrd_addr_max = hdr.initrd_addr_max;
  info.handover_offset = hdr.handover_offset;
  info.setup_header_end = static_cast<size_t>(header_end);
  info.setup_header_bytes.assign(image.begin() + kSetupHeaderOffset,
                                 image.begin() + info.setup_header_end);
  // Bytes past the header end are setup code, not header fields.
  info.header = {};
  memcpy(&info.header, info.setup_header_bytes.data(),
         std::min(sizeof(info.header), info.setup_header_bytes.size()));
  info.kernel_info_offset = info.header.kernel_info_offset;
  info.kernel_version = ReadKernelVersion(image, hdr.kernel_version, info.setup_size_bytes);
  return info;
}

absl::StatusOr<LoadedBzImage> LoadBzImage(absl::string_view path) {
  const std::string p(path);
  FILE* f = fopen(p.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat("bzImage '", p, "': cannot open: ", strerror(errno)));
  }
  LoadedBzImage out;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    if (out.bytes.size() + n > kMaxBzImageFileSize) {
      fclose(f);
      return absl::InvalidArgumentError(absl::StrFormat(
          "bzImage '%s': larger than %u bytes, not a kernel image", p, kMaxBzImageFileSize));
    }
    out.bytes.insert(out.bytes.end(), buf, buf + n);
  }
  const bool read_error = ferror(f) != 0;
  const int saved_errno = errno;
  fclose(f);
  if (read_error) {
    return absl::DataLossError(
        absl::StrCat("bzImage '", p, "': read error: ", strerror(saved_errno)));
  }
  absl::StatusOr<BzImageInfo> info = ParseBzImage(out.bytes);
  if (!info.ok()) {
    return absl::Status(info.status().code(), absl::StrCat("'", p, "': ", info.status().message()));
  }
  out.info = *std::move(info);
  return out;
}

absl::StatusOr<BzImageInfo> ReadBzImageFile(absl::string_view path) {
  ASSIGN_OR_RETURN(LoadedBzImage loaded, LoadBzImage(path));
  return std::move(loaded.info);
}

}  // namespace saveoops
