// ParsePurgatoryImage on arbitrary bytes: it must never read past the image
// (ASan watches an exact-size copy), and whatever it accepts must leave room
// for the whole parameter block and an entry point inside the image, so a
// loader can write the block and jump without further checks.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vector>

#include "purgatory/purgatory_image.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  std::vector<uint8_t> bytes(data, data + size);
  PurgatoryImage image;
  const PurgatoryImageError e = ParsePurgatoryImage(bytes.data(), bytes.size(), &image);
  Check(PurgatoryImageErrorName(e) != nullptr);
  if (e != PurgatoryImageError::kOk) return 0;
  Check(image.image_size == size);
  Check(image.params_offset >= sizeof(PurgatoryHeader));
  Check(uint64_t{image.params_offset} + sizeof(PurgatoryParams) <= size);
  Check(image.entry_offset >= sizeof(PurgatoryHeader) && image.entry_offset < size);
  // What a loader does next: fill the block in place.
  PurgatoryParams params{};
  memcpy(bytes.data() + image.params_offset, &params, sizeof(params));
  return 0;
}
