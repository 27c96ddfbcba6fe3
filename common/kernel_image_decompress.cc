#include "common/kernel_image_decompress.h"

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace saveoops {
namespace {

// The output vector, grown by doubling up to the caller's bound. The first
// allocation is a few times the input (a kernel payload unpacks to 3-5 times
// its size), never more than the bound.
class BoundedOutput {
 public:
  BoundedOutput(uint64_t max_output, size_t input_size) : max_(max_output) {
    const uint64_t first = std::max<uint64_t>(64 << 10, static_cast<uint64_t>(input_size) * 4);
    buf_.resize(std::min<uint64_t>(first, max_));
  }
  uint8_t* at(size_t pos) { return buf_.data() + pos; }
  size_t size() const { return buf_.size(); }
  // Room for more output; false once the bound is reached.
  bool Grow() {
    if (buf_.size() >= max_) return false;
    buf_.resize(std::min<uint64_t>(std::max<uint64_t>(buf_.size(), 1) * 2, max_));
    return true;
  }
  std::vector<uint8_t> Take(size_t produced) {
    buf_.resize(produced);
    buf_.shrink_to_fit();
    return std::move(buf_);
  }

 private:
  uint64_t max_;
  std::vector<uint8_t> buf_;
};

// Libraries that count in unsigned int take the output in slices this big.
constexpr size_t kMaxSlice = 1u << 30;

size_t Slice(size_t n) { return std::min(n, kMaxSlice); }

absl::Status TooLarge(absl::string_view what, Compression c, uint64_t max_output) {
  return absl::ResourceExhaustedError(
      absl::StrFormat("%s: %s data unpacks to more than %u MiB, the most Saveoops accepts", what,
                      CompressionName(c), max_output >> 20));
}

absl::Status Damaged(absl::string_view what, Compression c, absl::string_view detail) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": ", CompressionName(c), " data does not unpack (", detail, ")"));
}

absl::Status Truncated(absl::string_view what, Compression c) {
  return Damaged(what, c, "it ends before the end of its stream");
}

// xz's LZMA2 dictionary is at most 1.5 GiB; the kernel uses 32 MiB and
// modules 1 MiB. Refuse a stream that wants more memory than a kernel-sized
// dictionary before liblzma allocates it.
constexpr uint64_t kLzmaMemLimit = 320ull << 20;

absl::StatusOr<std::vector<uint8_t>> UnpackLzmaFamily(Compression c, absl::Span<const uint8_t> data,
                                                      uint64_t max_output, absl::string_view what) {
  lzma_stream s = LZMA_STREAM_INIT;
  const lzma_ret init = c == Compression::kXz ? lzma_stream_decoder(&s, kLzmaMemLimit, 0)
                                              : lzma_alone_decoder(&s, kLzmaMemLimit);
  if (init != LZMA_OK) {
    return absl::InternalError(absl::StrCat(what, ": cannot start the ", CompressionName(c),
                                            " decoder (liblzma error ", init, ")"));
  }
  BoundedOutput out(max_output, data.size());
  s.next_in = data.data();
  s.avail_in = data.size();
  s.next_out = out.at(0);
  s.avail_out = out.size();
  lzma_ret ret;
  for (;;) {
    ret = lzma_code(&s, LZMA_FINISH);
    if (ret != LZMA_OK && !(ret == LZMA_BUF_ERROR && s.avail_out == 0)) break;
    if (s.avail_out == 0) {
      const size_t used = out.size();
      if (!out.Grow()) {
        lzma_end(&s);
        return TooLarge(what, c, max_output);
      }
      s.next_out = out.at(used);
      s.avail_out = out.size() - used;
    }
  }
  const size_t produced = out.size() - s.avail_out;
  lzma_end(&s);
  switch (ret) {
    case LZMA_STREAM_END:
      return out.Take(produced);
    case LZMA_MEMLIMIT_ERROR:
      return Damaged(what, c,
                     absl::StrCat("its dictionary needs more than ", kLzmaMemLimit >> 20, " MiB"));
    case LZMA_BUF_ERROR:
      return Truncated(what, c);
    default:
      return Damaged(what, c, absl::StrCat("liblzma error ", ret));
  }
}

absl::StatusOr<std::vector<uint8_t>> UnpackGzip(absl::Span<const uint8_t> data, uint64_t max_output,
                                                absl::string_view what) {
  constexpr Compression c = Compression::kGzip;
  if (data.size() > std::numeric_limits<uInt>::max()) return Damaged(what, c, "input over 4 GiB");
  z_stream s{};
  // 16 + MAX_WBITS: a gzip header and trailer around the deflate stream.
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError(absl::StrCat(what, ": cannot start the gzip decoder"));
  }
  BoundedOutput out(max_output, data.size());
  s.next_in = const_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  size_t produced = 0;
  int ret;
  for (;;) {
    if (produced == out.size() && !out.Grow()) {
      inflateEnd(&s);
      return TooLarge(what, c, max_output);
    }
    s.next_out = out.at(produced);
    s.avail_out = static_cast<uInt>(Slice(out.size() - produced));
    const uInt offered = s.avail_out;
    ret = inflate(&s, Z_NO_FLUSH);
    produced += offered - s.avail_out;
    if (ret == Z_STREAM_END) break;
    if (ret == Z_BUF_ERROR && s.avail_out == 0) continue;
    if (ret != Z_OK) break;
    if (s.avail_in == 0 && s.avail_out != 0) {
      ret = Z_BUF_ERROR;
      break;
    }
  }
  const std::string msg = s.msg != nullptr ? s.msg : absl::StrCat("zlib error ", ret);
  inflateEnd(&s);
  if (ret == Z_STREAM_END) return out.Take(produced);
  if (ret == Z_BUF_ERROR) return Truncated(what, c);
  return Damaged(what, c, msg);
}

absl::StatusOr<std::vector<uint8_t>> UnpackZstd(absl::Span<const uint8_t> data, uint64_t max_output,
                                                absl::string_view what) {
  constexpr Compression c = Compression::kZstd;
  ZSTD_DCtx* d = ZSTD_createDCtx();
  if (d == nullptr)
    return absl::InternalError(absl::StrCat(what, ": cannot start the zstd decoder"));
  // libzstd refuses windows over 2^27 (128 MiB) unless told otherwise; the
  // kernel's `zstd -22 --ultra` uses exactly that, so the default bounds the
  // decoder's memory and still takes every kernel.
  BoundedOutput out(max_output, data.size());
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  ZSTD_outBuffer o{out.at(0), out.size(), 0};
  absl::Status status;
  for (;;) {
    const size_t r = ZSTD_decompressStream(d, &o, &in);
    if (ZSTD_isError(r)) {
      status = Damaged(what, c, ZSTD_getErrorName(r));
      break;
    }
    if (r == 0) break;  // The frame is complete.
    if (o.pos == o.size) {
      if (!out.Grow()) {
        status = TooLarge(what, c, max_output);
        break;
      }
      o.dst = out.at(0);
      o.size = out.size();
    } else if (in.pos == in.size) {
      status = Truncated(what, c);
      break;
    }
  }
  ZSTD_freeDCtx(d);
  if (!status.ok()) return status;
  return out.Take(o.pos);
}

uint32_t Le32(const uint8_t* p) {
  return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}

uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

constexpr uint32_t kLz4LegacyMagic = 0x184c2102;
// lib/decompress_unlz4.c: every legacy block but the last unpacks to exactly
// this many bytes (LZ4_DEFAULT_UNCOMPRESSED_CHUNK_SIZE).
constexpr size_t kLz4LegacyBlockSize = 8u << 20;

absl::StatusOr<std::vector<uint8_t>> UnpackLz4Legacy(absl::Span<const uint8_t> data,
                                                     uint64_t max_output, absl::string_view what) {
  constexpr Compression c = Compression::kLz4;
  if (data.size() < 4 || Le32(data.data()) != kLz4LegacyMagic) {
    return Damaged(what, c, "no LZ4 legacy frame magic");
  }
  BoundedOutput out(max_output, data.size());
  size_t pos = 4, produced = 0;
  int blocks = 0;
  // Past the last block come the 4 bytes of the kernel's size_append, or
  // nothing: no block fits in 4 bytes, so those end the frame.
  while (data.size() - pos > 4) {
    const uint32_t chunk = Le32(data.data() + pos);
    pos += 4;
    if (chunk == kLz4LegacyMagic) continue;  // A concatenated frame, as the kernel allows.
    if (chunk > data.size() - pos) {
      return Damaged(what, c,
                     absl::StrFormat("block %d of %u bytes runs past the end", blocks, chunk));
    }
    if (chunk > static_cast<uint32_t>(LZ4_compressBound(kLz4LegacyBlockSize))) {
      return Damaged(what, c,
                     absl::StrFormat("block %d of %u bytes is longer than an 8 MiB "
                                     "block compresses to",
                                     blocks, chunk));
    }
    while (out.size() - produced < kLz4LegacyBlockSize && out.Grow()) {
    }
    const size_t room = std::min(out.size() - produced, kLz4LegacyBlockSize);
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(data.data() + pos),
                                      reinterpret_cast<char*>(out.at(produced)),
                                      static_cast<int>(chunk), static_cast<int>(room));
    if (n < 0) {
      if (room < kLz4LegacyBlockSize) return TooLarge(what, c, max_output);
      return Damaged(what, c, absl::StrCat("block ", blocks, " is malformed"));
    }
    produced += static_cast<size_t>(n);
    pos += chunk;
    ++blocks;
  }
  if (blocks == 0) return Damaged(what, c, "the frame holds no block");
  return out.Take(produced);
}

absl::StatusOr<std::vector<uint8_t>> UnpackBzip2(absl::Span<const uint8_t> data,
                                                 uint64_t max_output, absl::string_view what) {
  constexpr Compression c = Compression::kBzip2;
  if (data.size() > std::numeric_limits<unsigned>::max())
    return Damaged(what, c, "input over 4 GiB");
  bz_stream s{};
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) {
    return absl::InternalError(absl::StrCat(what, ": cannot start the bzip2 decoder"));
  }
  BoundedOutput out(max_output, data.size());
  s.next_in = const_cast<char*>(reinterpret_cast<const char*>(data.data()));
  s.avail_in = static_cast<unsigned>(data.size());
  size_t produced = 0;
  int ret;
  for (;;) {
    if (produced == out.size() && !out.Grow()) {
      BZ2_bzDecompressEnd(&s);
      return TooLarge(what, c, max_output);
    }
    s.next_out = reinterpret_cast<char*>(out.at(produced));
    s.avail_out = static_cast<unsigned>(Slice(out.size() - produced));
    const unsigned offered = s.avail_out;
    ret = BZ2_bzDecompress(&s);
    produced += offered - s.avail_out;
    if (ret != BZ_OK) break;
    if (s.avail_in == 0 && s.avail_out != 0) {
      ret = BZ_UNEXPECTED_EOF;
      break;
    }
  }
  BZ2_bzDecompressEnd(&s);
  if (ret == BZ_STREAM_END) return out.Take(produced);
  if (ret == BZ_UNEXPECTED_EOF) return Truncated(what, c);
  return Damaged(what, c, absl::StrCat("libbz2 error ", ret));
}

// The lzop container (lzop's src/lzop.c, read the same way by the kernel's
// lib/decompress_unlzo.c): a header, then blocks of {unpacked size,
// packed size, checksums, data} ending with an unpacked size of 0.
constexpr uint8_t kLzopMagic[9] = {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
constexpr uint32_t kLzopAdler32D = 0x1, kLzopAdler32C = 0x2, kLzopExtraField = 0x40,
                   kLzopCrc32D = 0x100, kLzopCrc32C = 0x200, kLzopFilter = 0x800;
// lzop writes blocks of 256 KiB; its decoder refuses blocks over 64 MiB.
constexpr uint32_t kLzopMaxBlock = 64u << 20;

class ByteReader {
 public:
  explicit ByteReader(absl::Span<const uint8_t> d) : d_(d) {}
  bool Skip(size_t n) {
    if (n > d_.size() - pos_) return false;
    pos_ += n;
    return true;
  }
  bool U8(uint8_t* v) {
    if (pos_ >= d_.size()) return false;
    *v = d_[pos_++];
    return true;
  }
  bool Be16(uint16_t* v) {
    if (d_.size() - pos_ < 2) return false;
    *v = static_cast<uint16_t>(d_[pos_] << 8 | d_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool Be32(uint32_t* v) {
    if (d_.size() - pos_ < 4) return false;
    *v = saveoops::Be32(d_.data() + pos_);
    pos_ += 4;
    return true;
  }
  const uint8_t* here() const { return d_.data() + pos_; }

 private:
  absl::Span<const uint8_t> d_;
  size_t pos_ = 0;
};

absl::StatusOr<std::vector<uint8_t>> UnpackLzo(absl::Span<const uint8_t> data, uint64_t max_output,
                                               absl::string_view what) {
  constexpr Compression c = Compression::kLzo;
  if (lzo_init() != LZO_E_OK) return absl::InternalError(absl::StrCat(what, ": liblzo2 init"));
  ByteReader r(data);
  if (data.size() < sizeof(kLzopMagic) || memcmp(data.data(), kLzopMagic, 9) != 0) {
    return Damaged(what, c, "no lzop magic");
  }
  r.Skip(sizeof(kLzopMagic));
  uint16_t version, lib_version, needed;
  uint8_t method, level, name_len;
  uint32_t flags, word;
  bool ok = r.Be16(&version) && r.Be16(&lib_version);
  if (ok && version >= 0x0940) ok = r.Be16(&needed);
  ok = ok && r.U8(&method);
  if (ok && version >= 0x0940) ok = r.U8(&level);
  ok = ok && r.Be32(&flags);
  if (ok && (flags & kLzopFilter)) ok = r.Be32(&word);
  ok = ok && r.Be32(&word) && r.Be32(&word);                        // mode, mtime (low)
  if (ok && version >= 0x0940) ok = r.Be32(&word);                  // mtime (high)
  ok = ok && r.U8(&name_len) && r.Skip(name_len) && r.Be32(&word);  // name, header checksum
  if (ok && (flags & kLzopExtraField)) {
    uint32_t extra_len;
    ok = r.Be32(&extra_len) && r.Skip(extra_len) && r.Be32(&word);
  }
  if (!ok) return Truncated(what, c);
  // Methods 1-3 are LZO1X-1, LZO1X-1(15) and LZO1X-999: one decoder.
  if (method < 1 || method > 3) return Damaged(what, c, absl::StrCat("method ", method));

  std::vector<uint8_t> out;
  for (int block = 0;; ++block) {
    uint32_t dst_len, src_len, d_adler = 0, d_crc = 0;
    if (!r.Be32(&dst_len)) return Truncated(what, c);
    if (dst_len == 0) break;
    if (!r.Be32(&src_len)) return Truncated(what, c);
    if (dst_len > kLzopMaxBlock || src_len > dst_len) {
      return Damaged(what, c,
                     absl::StrFormat("block %d: %u bytes packed into %u", block, dst_len, src_len));
    }
    if (dst_len > max_output - out.size()) return TooLarge(what, c, max_output);
    ok = true;
    if (flags & kLzopAdler32D) ok = r.Be32(&d_adler);
    if (ok && (flags & kLzopCrc32D)) ok = r.Be32(&d_crc);
    if (ok && src_len < dst_len && (flags & kLzopAdler32C)) ok = r.Be32(&word);
    if (ok && src_len < dst_len && (flags & kLzopCrc32C)) ok = r.Be32(&word);
    const uint8_t* src = r.here();
    if (!ok || !r.Skip(src_len)) return Truncated(what, c);
    const size_t at = out.size();
    out.resize(at + dst_len);
    if (src_len == dst_len) {
      memcpy(out.data() + at, src, dst_len);  // Stored: it did not compress.
    } else {
      lzo_uint n = dst_len;
      const int e = lzo1x_decompress_safe(src, src_len, out.data() + at, &n, nullptr);
      if (e != LZO_E_OK || n != dst_len) {
        return Damaged(what, c, absl::StrFormat("block %d: liblzo2 error %d", block, e));
      }
    }
    if ((flags & kLzopAdler32D) && lzo_adler32(1, out.data() + at, dst_len) != d_adler) {
      return Damaged(what, c, absl::StrFormat("block %d: Adler-32 mismatch", block));
    }
    if ((flags & kLzopCrc32D) && lzo_crc32(0, out.data() + at, dst_len) != d_crc) {
      return Damaged(what, c, absl::StrFormat("block %d: CRC-32 mismatch", block));
    }
  }
  return out;
}

}  // namespace

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kXz:
      return "xz";
    case Compression::kLzma:
      return "lzma";
    case Compression::kZstd:
      return "zstd";
    case Compression::kLz4:
      return "lz4";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kLzo:
      return "lzo";
    case Compression::kUnknown:
      break;
  }
  return "an unknown format";
}

Compression DetectCompression(absl::Span<const uint8_t> p) {
  auto starts = [&p](std::initializer_list<uint8_t> magic) {
    return p.size() >= magic.size() && std::equal(magic.begin(), magic.end(), p.begin());
  };
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return Compression::kXz;
  if (starts({0x28, 0xb5, 0x2f, 0xfd})) return Compression::kZstd;
  if (starts({0x1f, 0x8b})) return Compression::kGzip;
  if (starts({0x02, 0x21, 0x4c, 0x18})) return Compression::kLz4;
  if (starts({'B', 'Z', 'h'})) return Compression::kBzip2;
  if (starts({0x89, 'L', 'Z', 'O'})) return Compression::kLzo;
  // lib/decompress.c: a .lzma header starts with the properties byte of
  // lc=3 lp=0 pb=2 and the low bytes of a power-of-two dictionary size.
  if (starts({0x5d, 0x00, 0x00})) return Compression::kLzma;
  return Compression::kUnknown;
}

absl::StatusOr<std::vector<uint8_t>> Decompress(Compression c, absl::Span<const uint8_t> data,
                                                uint64_t max_output, absl::string_view what) {
  switch (c) {
    case Compression::kXz:
    case Compression::kLzma:
      return UnpackLzmaFamily(c, data, max_output, what);
    case Compression::kGzip:
      return UnpackGzip(data, max_output, what);
    case Compression::kZstd:
      return UnpackZstd(data, max_output, what);
    case Compression::kLz4:
      return UnpackLz4Legacy(data, max_output, what);
    case Compression::kBzip2:
      return UnpackBzip2(data, max_output, what);
    case Compression::kLzo:
      return UnpackLzo(data, max_output, what);
    case Compression::kUnknown:
      break;
  }
  return absl::UnimplementedError(absl::StrCat(what, ": data is in an unknown format"));
}

}  // namespace saveoops
