// The initrd saveoops.efi hands the first kernel: the distro's initrd as it
// is, then a small newc archive of ours holding the arming program and the
// bundle saveoops.efi has just verified:
//
//   [distro initrd][zeros to a 4-byte boundary]
//   [newc: saveoops/ (dir), saveoops/arm (0755), saveoops/saveoops.bundle,
//    saveoops/efivarfs.ko if the kernel needs it]
//
// The kernel unpacks back-to-back archives, compressed or not, skipping zero
// padding between them; an uncompressed archive must start at a 4-byte
// aligned offset (Documentation/driver-api/early-userspace/buffer-format.rst
// and init/initramfs.c, unpack_to_rootfs(): `*buf == '0' && !(this_header &
// 3)`). So the distro initrd stays byte-identical and its /init still runs,
// after the arming program (rdinit=/saveoops/arm) has armed and exec'd it.
//
// Freestanding (used inside saveoops.efi): the archive is described as a
// list of pieces pointing at the caller's buffers, so the multi-megabyte
// bundle is never copied until the kernel asks for the initrd (LoadFile2).
#ifndef SAVEOOPS_BACKENDS_UEFI_ARMING_INITRD_H_
#define SAVEOOPS_BACKENDS_UEFI_ARMING_INITRD_H_

#include <stddef.h>
#include <stdint.h>

namespace saveoops {

// One stretch of the served initrd: `size` bytes from `data`, or zeros if
// `data` is null.
struct InitrdPiece {
  const uint8_t* data;
  uint64_t size;
};

inline constexpr size_t kMaxInitrdPieces = 16;
// Room for the archive's headers, names, their padding and the trailer.
inline constexpr size_t kArmingHeaderBytes = 1024;

// The served initrd. Pieces may point into `headers`, so an ArmingInitrd
// must stay where BuildArmingInitrd() filled it (never copy one).
struct ArmingInitrd {
  InitrdPiece pieces[kMaxInitrdPieces];
  size_t piece_count;
  uint64_t total_size;
  uint8_t headers[kArmingHeaderBytes];
};

// A file of the arming archive; `name` has no leading '/' and lies in
// "saveoops/" (the archive's one directory).
struct ArmingFile {
  const char* name;
  const uint8_t* data;
  uint64_t size;
  uint32_t mode;  // permission bits
};

inline constexpr size_t kMaxArmingFiles = 3;

// Lays out the initrd above. `distro` may be null with size 0 (no distro
// initrd). With file_count 0 only the distro initrd is served (an unarmed
// boot). Returns false if there are more than kMaxArmingFiles files, a file
// is 4 GiB or larger (newc's c_filesize is 32 bits), or the total would
// overflow.
bool BuildArmingInitrd(const uint8_t* distro, uint64_t distro_size, const ArmingFile* files,
                       size_t file_count, ArmingInitrd* out);

// Writes the whole initrd (total_size bytes) to `out` with the caller's
// copy(dst, src, n) and zero(dst, n) (boot services CopyMem/SetMem in the
// UEFI application, memcpy/memset on the host).
template <typename CopyFn, typename ZeroFn>
void CopyArmingInitrd(const ArmingInitrd& initrd, uint8_t* out, CopyFn copy, ZeroFn zero) {
  uint64_t offset = 0;
  for (size_t i = 0; i < initrd.piece_count; ++i) {
    const InitrdPiece& p = initrd.pieces[i];
    if (p.data != nullptr) {
      copy(out + offset, p.data, p.size);
    } else {
      zero(out + offset, p.size);
    }
    offset += p.size;
  }
}

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_ARMING_INITRD_H_
