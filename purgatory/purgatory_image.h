// Reading purgatory.bin's header (purgatory_abi.h) as a loader must before it
// fills the parameter block and stages the image: the one parser of that
// header, shared by every loader.
//
// The image comes from a bundle, i.e. from outside: every offset the header
// gives is checked against the image's size before anyone writes through it.
//
// Freestanding (no libc, no absl), like purgatory_abi.h, so that the UEFI
// application can use it too.
//
// Example:
//   PurgatoryImage image;
//   PurgatoryImageError e = ParsePurgatoryImage(bytes, size, &image);
//   if (e != PurgatoryImageError::kOk) return PurgatoryImageErrorName(e);
//   memcpy(bytes + image.params_offset, &params, sizeof(params));
//   entry = load_address + image.entry_offset;
#ifndef SAVEOOPS_PURGATORY_PURGATORY_IMAGE_H_
#define SAVEOOPS_PURGATORY_PURGATORY_IMAGE_H_

#include <stddef.h>
#include <stdint.h>

#include "purgatory/purgatory_abi.h"

namespace saveoops {

enum class PurgatoryImageError {
  kOk,
  // Fewer bytes than a PurgatoryHeader.
  kTooSmall,
  // magic is not kPurgatoryMagic: not a Saveoops purgatory at all.
  kBadMagic,
  // Built for another ABI version than this loader's.
  kBadAbiVersion,
  // header_size is not sizeof(PurgatoryHeader).
  kBadHeaderSize,
  // params_size is not sizeof(PurgatoryParams): the block would be filled
  // with a layout the image does not expect.
  kBadParamsSize,
  // The parameter block overlaps the header or runs past the image's end.
  kParamsOutOfBounds,
  // The entry point is inside the header or at or past the image's end.
  kEntryOutOfBounds,
};

// A short English description, e.g. "the parameter block runs past the
// image's end or overlaps its header".
const char* PurgatoryImageErrorName(PurgatoryImageError error);

// The header of a purgatory image that passed every check.
struct PurgatoryImage {
  // A copy of the header as read (for messages).
  PurgatoryHeader header;
  size_t image_size = 0;
  // sizeof(PurgatoryHeader) <= entry_offset < image_size.
  uint32_t entry_offset = 0;
  // [params_offset, params_offset + sizeof(PurgatoryParams)) lies inside
  // the image, after the header.
  uint32_t params_offset = 0;
};

// Checks `data` (`size` bytes) as purgatory.bin of this ABI. On kOk fills
// *out; on error leaves out->header holding whatever header bytes there were
// (zero if fewer than a header), so a caller can print them.
PurgatoryImageError ParsePurgatoryImage(const uint8_t* data, size_t size, PurgatoryImage* out);

}  // namespace saveoops

#endif  // SAVEOOPS_PURGATORY_PURGATORY_IMAGE_H_
