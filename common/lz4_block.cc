#include "common/lz4_block.h"

namespace saveoops {
namespace {

// Reads a length continuation: bytes are added until one is not 255.
// Returns false if the input ends first or the sum would overflow.
bool ReadLengthExtension(const uint8_t*& in, const uint8_t* end, size_t* length) {
  for (;;) {
    if (in == end) return false;
    const uint8_t b = *in++;
    if (*length > SIZE_MAX - b) return false;
    *length += b;
    if (b != 255) return true;
  }
}

// Copies `n` bytes forward, eight at a time where possible (safe when the
// source does not overlap or lies at least 8 bytes behind the destination): the
// purgatory runs this over tens of megabytes on emulated CPUs, where a byte
// loop costs a visible fraction of a second.
void CopyForward(uint8_t* d, const uint8_t* s, size_t n) {
  while (n >= 8) {
    uint64_t v;
    __builtin_memcpy(&v, s, 8);
    __builtin_memcpy(d, &v, 8);
    d += 8;
    s += 8;
    n -= 8;
  }
  while (n-- != 0) *d++ = *s++;
}

// Copies a match of `n` bytes starting `offset` bytes back. When the source
// overlaps the destination (offset < n) the copy must repeat the pattern.
// From 8 bytes back on, CopyForward's 8-byte chunks only read bytes already
// written; closer than that, byte by byte.
void CopyMatch(uint8_t* d, size_t offset, size_t n) {
  const uint8_t* s = d - offset;
  if (offset >= 8) {
    CopyForward(d, s, n);
    return;
  }
  while (n-- != 0) *d++ = *s++;
}

}  // namespace

Lz4Error Lz4DecodeBlock(const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_capacity,
                        size_t* dst_size) {
  const uint8_t* in = src;
  const uint8_t* const in_end = src + src_size;
  size_t out = 0;
  *dst_size = 0;
  if (src_size == 0) return Lz4Error::kTruncated;
  for (;;) {
    if (in == in_end) return Lz4Error::kTruncated;
    const uint8_t token = *in++;

    size_t literals = token >> 4;
    if (literals == 15 && !ReadLengthExtension(in, in_end, &literals)) {
      return Lz4Error::kTruncated;
    }
    if (literals > static_cast<size_t>(in_end - in)) return Lz4Error::kTruncated;
    if (literals > dst_capacity - out) return Lz4Error::kOutputOverrun;
    CopyForward(dst + out, in, literals);
    in += literals;
    out += literals;

    // The last record ends the block right after its literals.
    if (in == in_end) {
      *dst_size = out;
      return Lz4Error::kOk;
    }

    if (in_end - in < 2) return Lz4Error::kTruncated;
    const size_t offset = static_cast<size_t>(in[0]) | static_cast<size_t>(in[1]) << 8;
    in += 2;
    if (offset == 0 || offset > out) return Lz4Error::kBadOffset;

    size_t match = token & 15;
    if (match == 15 && !ReadLengthExtension(in, in_end, &match)) {
      return Lz4Error::kTruncated;
    }
    if (match > SIZE_MAX - 4) return Lz4Error::kOutputOverrun;
    match += 4;
    if (match > dst_capacity - out) return Lz4Error::kOutputOverrun;
    CopyMatch(dst + out, offset, match);
    out += match;
  }
}

Lz4Error Lz4DecodeBlockExact(const uint8_t* src, size_t src_size, uint8_t* dst,
                             size_t expected_size) {
  size_t produced = 0;
  const Lz4Error error = Lz4DecodeBlock(src, src_size, dst, expected_size, &produced);
  if (error != Lz4Error::kOk) return error;
  return produced == expected_size ? Lz4Error::kOk : Lz4Error::kSizeMismatch;
}

const char* Lz4ErrorName(Lz4Error error) {
  switch (error) {
    case Lz4Error::kOk:
      return "ok";
    case Lz4Error::kTruncated:
      return "LZ4 block is truncated";
    case Lz4Error::kOutputOverrun:
      return "LZ4 block decodes to more bytes than expected";
    case Lz4Error::kBadOffset:
      return "LZ4 match offset points outside the output";
    case Lz4Error::kSizeMismatch:
      return "LZ4 block decodes to fewer bytes than expected";
  }
  return "unknown LZ4 error";
}

}  // namespace saveoops
