// SHA-256 per FIPS 180-4. Freestanding: see the header for the rules this file
// keeps (no libc, no allocation, no mutable globals).
#include "common/sha256.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define SAVEOOPS_SHA256_HAVE_X86 1
#include <cpuid.h>
#include <immintrin.h>
// clang's <immintrin.h> in MSVC mode (the x86_64-unknown-windows target used
// for the UEFI application) only pulls in the per-feature headers whose
// feature is enabled for the whole translation unit (e.g. -msha). We enable
// SHA/SSE4.1/SSSE3 per function instead, so include those headers ourselves;
// shaintrin.h accepts this once <immintrin.h> has been included.
#if defined(_MSC_VER) && !defined(__SHA__)
#include <smmintrin.h>  // SSE4.1; pulls in SSSE3, SSE3, SSE2, SSE.
#include <tmmintrin.h>  // SSSE3.
// After the SSE headers: shaintrin.h uses their __m128i.
#include <shaintrin.h>
#endif
#else
#define SAVEOOPS_SHA256_HAVE_X86 0
#endif

namespace saveoops {
namespace {

// FIPS 180-4 section 5.3.3: the initial hash value H(0).
constexpr uint32_t kInitialState[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

// FIPS 180-4 section 4.2.2: the 64 round constants K0..K63. 16-byte aligned
// so the SHA-NI engine can load four at a time with aligned loads.
alignas(16) constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// SHA-256 reads the message as big-endian 32-bit words (FIPS 180-4 section
// 3.1); byte loads keep this independent of alignment and host byte order.
inline uint32_t LoadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline void StoreBigEndian32(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

inline uint32_t RotateRight(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// The portable engine: FIPS 180-4 section 6.2.2, with the message schedule
// kept as a rolling window of 16 words (W[t-16..t-1]) instead of all 64, so
// the purgatory's small stack only needs 64 bytes for it.
void CompressPortable(uint32_t state[8], const uint8_t* data, size_t blocks) {
  for (; blocks > 0; --blocks, data += kSha256BlockSize) {
    uint32_t w[16];
    for (size_t t = 0; t < 16; ++t) w[t] = LoadBigEndian32(data + 4 * t);

    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; ++t) {
      if (t >= 16) {
        // W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16]; before
        // the update w[t & 15] holds W[t-16].
        const uint32_t w2 = w[(t - 2) & 15];
        const uint32_t w15 = w[(t - 15) & 15];
        const uint32_t sigma1 = RotateRight(w2, 17) ^ RotateRight(w2, 19) ^ (w2 >> 10);
        const uint32_t sigma0 = RotateRight(w15, 7) ^ RotateRight(w15, 18) ^ (w15 >> 3);
        w[t & 15] += sigma1 + w[(t - 7) & 15] + sigma0;
      }
      const uint32_t big_sigma1 = RotateRight(e, 6) ^ RotateRight(e, 11) ^ RotateRight(e, 25);
      const uint32_t ch = (e & f) ^ (~e & g);
      const uint32_t t1 = h + big_sigma1 + ch + kRoundConstants[t] + w[t & 15];
      const uint32_t big_sigma0 = RotateRight(a, 2) ^ RotateRight(a, 13) ^ RotateRight(a, 22);
      const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const uint32_t t2 = big_sigma0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

#if SAVEOOPS_SHA256_HAVE_X86

// Every function that touches XMM registers carries this attribute, so the
// translation unit itself can be compiled with -mno-sse (purgatory) and only
// this code uses the SHA extensions. Helpers share that target, so calls
// between them (and their inlining) stay within code built for SSE; vectors
// never cross into a function compiled without it. ShaNiGroup takes its
// vectors by reference and is left to the inliner: forcing it inline makes
// CompressShaNi's -O0 frame exceed a page (then needing __chkstk on the
// Windows target), while at -O1 and up each single-use instance is inlined
// anyway.
#define SAVEOOPS_SHA_NI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// Four rounds of group `kGroup` (rounds 4*kGroup .. 4*kGroup+3).
//
// SHA256RNDS2 keeps the eight working variables in two registers laid out as
// {A,B,E,F} and {C,D,G,H} (high to low lanes) and does two rounds per
// instruction using the low two lanes of its third operand as W+K (Intel SDM
// Vol. 2B, SHA256RNDS2). msg[] holds the last 16 schedule words, four per
// register, group g in msg[g % 4]. For g >= 4 the four new words
//   W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16]
// come from SHA256MSG1 (the W[t-16] + sigma0(W[t-15]) part), an add of
// W[t-7..t-4] assembled with PALIGNR from the two previous groups, and
// SHA256MSG2 (the sigma1 part, which depends on words of the same group).
template <int kGroup>
SAVEOOPS_SHA_NI_TARGET inline void ShaNiGroup(__m128i msg[4], __m128i& abef, __m128i& cdgh) {
  __m128i& current = msg[kGroup % 4];
  if constexpr (kGroup >= 4) {
    const __m128i minus1 = msg[(kGroup + 3) % 4];  // Group g-1.
    const __m128i minus2 = msg[(kGroup + 2) % 4];  // Group g-2.
    const __m128i minus3 = msg[(kGroup + 1) % 4];  // Group g-3.
    __m128i w = _mm_sha256msg1_epu32(current, minus3);
    w = _mm_add_epi32(w, _mm_alignr_epi8(minus1, minus2, 4));
    current = _mm_sha256msg2_epu32(w, minus1);
  }
  const __m128i k =
      _mm_load_si128(reinterpret_cast<const __m128i*>(&kRoundConstants[size_t{4} * kGroup]));
  const __m128i wk = _mm_add_epi32(current, k);
  cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
  // The next two rounds take W+K from the high half.
  abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

// Loads 16 message bytes and byte-swaps each 32-bit word: SHA-256 words are
// big-endian (FIPS 180-4 section 3.1), x86 lanes are little-endian.
SAVEOOPS_SHA_NI_TARGET __attribute__((always_inline)) inline __m128i ShaNiLoadWords(
    const uint8_t* p) {
  const __m128i swap_words = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), swap_words);
}

// The SHA-NI engine. Processes all blocks with the state held in registers,
// reading the input in place (unaligned loads), so long inputs are not copied.
SAVEOOPS_SHA_NI_TARGET void CompressShaNi(uint32_t state[8], const uint8_t* data, size_t blocks) {
  // state[] is {A,B,C,D,E,F,G,H}; rearrange to the {A,B,E,F}/{C,D,G,H}
  // register layout SHA256RNDS2 expects (A in the highest lane).
  __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[0]));
  __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[4]));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

  for (; blocks > 0; --blocks, data += kSha256BlockSize) {
    const __m128i abef_in = abef;
    const __m128i cdgh_in = cdgh;
    __m128i msg[4] = {ShaNiLoadWords(data), ShaNiLoadWords(data + 16), ShaNiLoadWords(data + 32),
                      ShaNiLoadWords(data + 48)};
    ShaNiGroup<0>(msg, abef, cdgh);
    ShaNiGroup<1>(msg, abef, cdgh);
    ShaNiGroup<2>(msg, abef, cdgh);
    ShaNiGroup<3>(msg, abef, cdgh);
    ShaNiGroup<4>(msg, abef, cdgh);
    ShaNiGroup<5>(msg, abef, cdgh);
    ShaNiGroup<6>(msg, abef, cdgh);
    ShaNiGroup<7>(msg, abef, cdgh);
    ShaNiGroup<8>(msg, abef, cdgh);
    ShaNiGroup<9>(msg, abef, cdgh);
    ShaNiGroup<10>(msg, abef, cdgh);
    ShaNiGroup<11>(msg, abef, cdgh);
    ShaNiGroup<12>(msg, abef, cdgh);
    ShaNiGroup<13>(msg, abef, cdgh);
    ShaNiGroup<14>(msg, abef, cdgh);
    ShaNiGroup<15>(msg, abef, cdgh);
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }

  // Back from {A,B,E,F}/{C,D,G,H} to {D,C,B,A}/{H,G,F,E} lane order.
  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  dcba = _mm_blend_epi16(feba, dchg, 0xF0);
  hgfe = _mm_alignr_epi8(dchg, feba, 8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[0]), dcba);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[4]), hgfe);
}

#undef SAVEOOPS_SHA_NI_TARGET

#endif  // SAVEOOPS_SHA256_HAVE_X86

}  // namespace

bool operator==(const Sha256Digest& a, const Sha256Digest& b) {
  for (size_t i = 0; i < kSha256DigestSize; ++i) {
    if (a.bytes[i] != b.bytes[i]) return false;
  }
  return true;
}

bool operator!=(const Sha256Digest& a, const Sha256Digest& b) { return !(a == b); }

bool Sha256ShaNiSupported() {
#if SAVEOOPS_SHA256_HAVE_X86
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  // CPUID.01H:ECX: bit 9 SSSE3 (PSHUFB, PALIGNR), bit 19 SSE4.1 (PBLENDW).
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool ssse3 = (ecx & bit_SSSE3) != 0;
  const bool sse41 = (ecx & bit_SSE4_1) != 0;
  // CPUID.(EAX=07H,ECX=0):EBX bit 29: SHA extensions. __get_cpuid_count
  // checks the maximum basic leaf first, so old CPUs without leaf 7 say no.
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool sha = (ebx & bit_SHA) != 0;
  return ssse3 && sse41 && sha;
#else
  return false;
#endif
}

Sha256Engine Sha256BestEngine() {
  return Sha256ShaNiSupported() ? Sha256Engine::kShaNi : Sha256Engine::kPortable;
}

Sha256::Sha256(Sha256Engine engine) : total_bytes_(0), buffered_(0), engine_(engine) {
  for (int i = 0; i < 8; ++i) state_[i] = kInitialState[i];
  // buffer_ is left uninitialized: only its first buffered_ bytes are ever
  // read, and not clearing it keeps short hashes cheap.
}

void Sha256::Compress(const uint8_t* data, size_t blocks) {
#if SAVEOOPS_SHA256_HAVE_X86
  if (engine_ == Sha256Engine::kShaNi) {
    CompressShaNi(state_, data, blocks);
    return;
  }
#endif
  CompressPortable(state_, data, blocks);
}

void Sha256::Update(const void* data, size_t len) {
  if (len == 0) return;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  total_bytes_ += len;

  if (buffered_ > 0) {
    const size_t room = kSha256BlockSize - buffered_;
    const size_t take = len < room ? len : room;
    for (size_t i = 0; i < take; ++i) buffer_[buffered_ + i] = p[i];
    buffered_ += static_cast<uint32_t>(take);
    p += take;
    len -= take;
    if (buffered_ < kSha256BlockSize) return;
    Compress(buffer_, 1);
    buffered_ = 0;
  }

  const size_t blocks = len / kSha256BlockSize;
  if (blocks > 0) {
    Compress(p, blocks);
    p += blocks * kSha256BlockSize;
    len -= blocks * kSha256BlockSize;
  }

  for (size_t i = 0; i < len; ++i) buffer_[i] = p[i];
  buffered_ = static_cast<uint32_t>(len);
}

Sha256Digest Sha256::Finish() {
  // FIPS 180-4 section 5.1.1: append a 1 bit, zeros up to 56 mod 64 bytes,
  // then the message length in bits as a 64-bit big-endian integer.
  const uint64_t bit_length = total_bytes_ * 8;
  buffer_[buffered_++] = 0x80;
  if (buffered_ > kSha256BlockSize - 8) {
    while (buffered_ < kSha256BlockSize) buffer_[buffered_++] = 0;
    Compress(buffer_, 1);
    buffered_ = 0;
  }
  while (buffered_ < kSha256BlockSize - 8) buffer_[buffered_++] = 0;
  StoreBigEndian32(static_cast<uint32_t>(bit_length >> 32), &buffer_[56]);
  StoreBigEndian32(static_cast<uint32_t>(bit_length), &buffer_[60]);
  Compress(buffer_, 1);
  buffered_ = 0;

  Sha256Digest digest;
  for (size_t i = 0; i < 8; ++i) {
    StoreBigEndian32(state_[i], &digest.bytes[4 * i]);
  }
  return digest;
}

Sha256Digest Sha256Hash(const void* data, size_t len, Sha256Engine engine) {
  Sha256 hash(engine);
  hash.Update(data, len);
  return hash.Finish();
}

void Sha256ToHex(const Sha256Digest& d, char out[65]) {
  constexpr char kHexDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < kSha256DigestSize; ++i) {
    out[2 * i] = kHexDigits[d.bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[d.bytes[i] & 0xF];
  }
  out[64] = '\0';
}

}  // namespace saveoops
