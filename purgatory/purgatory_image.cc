#include "purgatory/purgatory_image.h"

namespace saveoops {

const char* PurgatoryImageErrorName(PurgatoryImageError error) {
  switch (error) {
    case PurgatoryImageError::kOk:
      return "ok";
    case PurgatoryImageError::kTooSmall:
      return "the image is smaller than its header";
    case PurgatoryImageError::kBadMagic:
      return "the magic is not a Saveoops purgatory's";
    case PurgatoryImageError::kBadAbiVersion:
      return "the ABI version is not this loader's";
    case PurgatoryImageError::kBadHeaderSize:
      return "the header size is not this ABI's";
    case PurgatoryImageError::kBadParamsSize:
      return "the parameter block size is not this ABI's";
    case PurgatoryImageError::kParamsOutOfBounds:
      return "the parameter block runs past the image's end or overlaps its header";
    case PurgatoryImageError::kEntryOutOfBounds:
      return "the entry point is outside the image's code";
  }
  return "unknown error";
}

PurgatoryImageError ParsePurgatoryImage(const uint8_t* data, size_t size, PurgatoryImage* out) {
  *out = PurgatoryImage{};
  out->header = PurgatoryHeader{};
  out->image_size = size;
  if (data == nullptr || size < sizeof(PurgatoryHeader)) {
    if (data != nullptr) __builtin_memcpy(&out->header, data, size);
    return PurgatoryImageError::kTooSmall;
  }
  // Copied out: the packed struct may sit at any alignment in the bundle.
  PurgatoryHeader h;
  __builtin_memcpy(&h, data, sizeof(h));
  out->header = h;
  if (h.magic != kPurgatoryMagic) return PurgatoryImageError::kBadMagic;
  if (h.abi_version != kPurgatoryAbiVersion) return PurgatoryImageError::kBadAbiVersion;
  if (h.header_size != sizeof(PurgatoryHeader)) return PurgatoryImageError::kBadHeaderSize;
  if (h.params_size != sizeof(PurgatoryParams)) return PurgatoryImageError::kBadParamsSize;
  // 64-bit sums: the 32-bit fields cannot overflow them.
  if (h.params_offset < sizeof(PurgatoryHeader) ||
      uint64_t{h.params_offset} + h.params_size > size) {
    return PurgatoryImageError::kParamsOutOfBounds;
  }
  if (h.entry_offset < sizeof(PurgatoryHeader) || h.entry_offset >= size) {
    return PurgatoryImageError::kEntryOutOfBounds;
  }
  out->entry_offset = h.entry_offset;
  out->params_offset = h.params_offset;
  return PurgatoryImageError::kOk;
}

}  // namespace saveoops
