// Fuzzes the purgatory's LZ4 block decoder on arbitrary blocks: it must
// never read or write out of bounds (ASan watches the exact-size buffers),
// and whatever it accepts must decode the same again into a buffer of
// exactly the reported size.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <memory>
#include <vector>

#include "common/lz4_block.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  if (size < 2) return 0;
  // The first two bytes choose the output capacity (0..65535), the rest is
  // the block; the block is copied so ASan sees its exact end.
  const size_t capacity = data[0] | size_t{data[1]} << 8;
  std::vector<uint8_t> block(data + 2, data + size);
  std::unique_ptr<uint8_t[]> out(new uint8_t[capacity + 1]);
  size_t produced = 0;
  const Lz4Error error = Lz4DecodeBlock(block.data(), block.size(), out.get(), capacity, &produced);
  Check(Lz4ErrorName(error) != nullptr);
  if (error != Lz4Error::kOk) {
    Check(produced == 0);
    return 0;
  }
  Check(produced <= capacity);
  std::unique_ptr<uint8_t[]> again(new uint8_t[produced + 1]);
  Check(Lz4DecodeBlockExact(block.data(), block.size(), again.get(), produced) == Lz4Error::kOk);
  Check(memcmp(out.get(), again.get(), produced) == 0);
  if (produced > 0) {
    Check(Lz4DecodeBlockExact(block.data(), block.size(), again.get(), produced - 1) !=
          Lz4Error::kOk);
  }
  return 0;
}
