// Decoder for one LZ4 block (the raw block format, no frame): how the
// purgatory unpacks a capture kernel that `pack` staged as LZ4 (see
// common/kernel_image.h). LZ4 decodes at memory speed even on an emulated
// CPU, where the kernel's own xz decompressor costs seconds after a panic.
//
// Freestanding: <stddef.h> and <stdint.h> only, so the purgatory, the host
// tools and the fuzz target build the same code.
//
// Block format: a sequence of (token, literals, match) records. The token's
// high nibble is the literal count and its low nibble the match length - 4;
// a nibble of 15 continues in the following bytes (each added, 255 means
// "more"). A match is a 2-byte little-endian offset back into the output.
// The last record has literals only.
#ifndef SAVEOOPS_COMMON_LZ4_BLOCK_H_
#define SAVEOOPS_COMMON_LZ4_BLOCK_H_

#include <stddef.h>
#include <stdint.h>

namespace saveoops {

enum class Lz4Error : uint8_t {
  kOk = 0,
  kTruncated,      // The input ends inside a record.
  kOutputOverrun,  // A record would write past the output capacity.
  kBadOffset,      // A match offset is 0 or reaches before the output start.
  kSizeMismatch,   // Decoded size differs from the size the caller expects.
};

// Decodes the block `src[0, src_size)` into `dst[0, dst_capacity)`. On kOk,
// *dst_size is the number of bytes produced. Never reads outside `src` nor
// writes outside `dst`; `src` and `dst` must not overlap.
Lz4Error Lz4DecodeBlock(const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_capacity,
                        size_t* dst_size);

// Lz4DecodeBlock() that also demands exactly `expected_size` output bytes.
Lz4Error Lz4DecodeBlockExact(const uint8_t* src, size_t src_size, uint8_t* dst,
                             size_t expected_size);

const char* Lz4ErrorName(Lz4Error error);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_LZ4_BLOCK_H_
