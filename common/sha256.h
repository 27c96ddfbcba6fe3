// SHA-256 (FIPS 180-4), freestanding: the one implementation that the
// purgatory, the capture program and the UEFI application all link.
//
// Why freestanding: the purgatory runs after the panicking kernel has given up
// the machine and the UEFI application runs under boot services; neither has a
// libc. So this file and sha256.cc include only <stddef.h>, <stdint.h> and the
// compiler's own <immintrin.h>/<cpuid.h>, call no library function, allocate
// nothing and keep no mutable global state (every call re-reads CPUID rather
// than caching it).
//
// Two engines compute the same function:
//   - kPortable: plain C++ on 32-bit integers; runs anywhere, even with
//     -mno-sse (the purgatory's flags).
//   - kShaNi: the x86 SHA extensions (SHA256RNDS2/SHA256MSG1/SHA256MSG2,
//     Intel SDM Vol. 2, "SHA Extensions"), enabled per function with
//     __attribute__((target)) so that the rest of the program may be built
//     without SSE. Only use it where Sha256ShaNiSupported() is true.
//
// Host tools that hash large files use BoringSSL instead
// (common/sha256_file.h); the tests cross-check both engines against it.
#ifndef SAVEOOPS_COMMON_SHA256_H_
#define SAVEOOPS_COMMON_SHA256_H_

#include <stddef.h>
#include <stdint.h>

namespace saveoops {

// Size of a SHA-256 digest in bytes (FIPS 180-4, section 1).
inline constexpr size_t kSha256DigestSize = 32;

// Size of one SHA-256 message block in bytes (FIPS 180-4, section 5.2.1).
inline constexpr size_t kSha256BlockSize = 64;

// A SHA-256 digest, in the byte order FIPS 180-4 prints it (big-endian words).
struct Sha256Digest {
  uint8_t bytes[kSha256DigestSize];
};
static_assert(sizeof(Sha256Digest) == kSha256DigestSize,
              "Sha256Digest is exactly the 32 digest bytes");

// Digests compare byte by byte. Not constant-time: these digests check
// integrity against accidents and corruption, not secrets.
bool operator==(const Sha256Digest& a, const Sha256Digest& b);
bool operator!=(const Sha256Digest& a, const Sha256Digest& b);

// Which code computes the compression function.
enum class Sha256Engine : uint8_t {
  kPortable,  // Plain C++; always available.
  kShaNi,     // x86 SHA extensions; needs Sha256ShaNiSupported().
};

// True if this CPU can run the kShaNi engine: CPUID.(EAX=7,ECX=0):EBX bit 29
// (SHA), CPUID.01H:ECX bit 19 (SSE4.1) and bit 9 (SSSE3), per the Intel SDM
// Vol. 2A CPUID tables. Always false on non-x86 builds. Executes CPUID on
// every call (no cached global); under a hypervisor that may cost a VM exit,
// so pick the engine once per hash, not per block.
bool Sha256ShaNiSupported();

// kShaNi if Sha256ShaNiSupported(), else kPortable.
Sha256Engine Sha256BestEngine();

// Streaming SHA-256. Feed bytes with Update() in chunks of any size (the
// result does not depend on how the input is split), then call Finish() once.
//
//   Sha256 h(Sha256BestEngine());
//   h.Update("ab", 2);
//   h.Update("c", 1);
//   Sha256Digest d = h.Finish();  // ba7816bf...f20015ad
//
// Full 64-byte blocks are hashed straight from the caller's buffer; only a
// partial block is copied into the object. The object is 112 bytes and may
// live on a small stack.
class Sha256 {
 public:
  // Starts a new hash with the initial value of FIPS 180-4 section 5.3.3.
  // Precondition: engine is kPortable or Sha256ShaNiSupported() is true (the
  // kShaNi engine executes SHA instructions unconditionally; checking here
  // would cost a CPUID per hash).
  explicit Sha256(Sha256Engine engine);

  // Appends len bytes at data to the message. data may be null if len is 0.
  // Must not be called after Finish().
  void Update(const void* data, size_t len);

  // Pads the message (FIPS 180-4 section 5.1.1) and returns its digest. Call
  // at most once; the object is spent afterwards.
  Sha256Digest Finish();

  // The engine this object was constructed with.
  Sha256Engine engine() const { return engine_; }

 private:
  // Runs the compression function over `blocks` consecutive 64-byte blocks.
  void Compress(const uint8_t* data, size_t blocks);

  uint32_t state_[8];
  uint64_t total_bytes_;  // Message length so far; FIPS allows < 2^64 bits.
  uint8_t buffer_[kSha256BlockSize];
  uint32_t buffered_;  // Bytes of buffer_ in use, always < 64.
  Sha256Engine engine_;
};

// One-shot SHA-256 of len bytes at data with the given engine (same
// precondition as the Sha256 constructor).
Sha256Digest Sha256Hash(const void* data, size_t len, Sha256Engine engine);

// Writes the digest as 64 lowercase hex digits and a terminating NUL.
void Sha256ToHex(const Sha256Digest& d, char out[65]);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_SHA256_H_
