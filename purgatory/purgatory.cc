// The purgatory's C++ half: verify every staged segment, copy the backup
// region, and tell entry.S whether it may enter the capture kernel.
//
// Freestanding: no libc, no globals written, nothing outside the image and
// the ranges the parameter block names is touched.
#include <stddef.h>
#include <stdint.h>

#include "common/lz4_block.h"
#include "common/sha256.h"
#include "purgatory/purgatory_abi.h"

namespace saveoops {
namespace {

// A polled 8250/16550 UART: the first kernel already programmed it for its
// console, so we only write bytes. Bounded waits: a missing UART must not
// hang the purgatory before it can verify and jump.
class SerialPort {
 public:
  SerialPort(uint16_t port, bool quiet) : port_(port), quiet_(quiet) {}

  void Write(const char* s) const {
    if (quiet_) return;
    WriteAlways(s);
  }

  void WriteAlways(const char* s) const {
    for (; *s != '\0'; ++s) {
      if (*s == '\n') Put('\r');
      Put(*s);
    }
  }

  void WriteHex(uint64_t v) const {
    if (quiet_) return;
    WriteHexAlways(v);
  }

  void WriteHexAlways(uint64_t v) const {
    char buf[19];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 16; ++i) {
      buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
    }
    buf[18] = '\0';
    WriteAlways(buf);
  }

  void WriteDec(uint32_t v) const {
    if (quiet_) return;
    WriteDecAlways(v);
  }

  void WriteDecAlways(uint32_t v) const {
    char buf[11];
    int n = 10;
    buf[n] = '\0';
    do {
      buf[--n] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 && n > 0);
    WriteAlways(buf + n);
  }

 private:
  static constexpr uint16_t kLineStatus = 5;          // LSR register offset
  static constexpr uint8_t kTransmitterEmpty = 0x20;  // LSR.THRE

  void Put(char c) const {
    for (int spins = 0; spins < 100000; ++spins) {
      if (In(port_ + kLineStatus) & kTransmitterEmpty) break;
    }
    Out(port_, static_cast<uint8_t>(c));
  }
  static uint8_t In(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
  }
  static void Out(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
  }

  uint16_t port_;
  bool quiet_;
};

bool DigestEquals(const Sha256Digest& got, const uint8_t want[32]) {
  uint8_t diff = 0;
  for (size_t i = 0; i < kSha256DigestSize; ++i) diff |= got.bytes[i] ^ want[i];
  return diff == 0;
}

void CopyBytes(uint64_t dest, uint64_t source, uint64_t length) {
  auto* d = reinterpret_cast<volatile uint8_t*>(dest);
  const auto* s = reinterpret_cast<const volatile uint8_t*>(source);
  for (uint64_t i = 0; i < length; ++i) d[i] = s[i];
}

// Zeroes [dest, dest + length) with rep stosq/stosb: tens of megabytes of
// .bss on an emulated CPU, where a byte loop would cost seconds.
void ZeroBytes(uint64_t dest, uint64_t length) {
  uint64_t quads = length / 8;
  uint64_t rest = length % 8;
  __asm__ volatile("rep stosq" : "+D"(dest), "+c"(quads) : "a"(0ull) : "memory");
  __asm__ volatile("rep stosb" : "+D"(dest), "+c"(rest) : "a"(0ull) : "memory");
}

bool Overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) {
  return a < b + b_len && b < a + a_len;
}

// Unpacks a prepared capture kernel (PurgatoryParams, ABI 2). Returns false
// after printing why when the block does not decode to exactly the expected
// size (its bytes were verified, so this means a packaging bug) or the
// ranges are unusable.
bool UnpackKernel(const PurgatoryParams& params, const SerialPort& serial) {
  if (params.unpack_source_length == 0) return true;
  const uint64_t dest_end = params.unpack_dest + params.unpack_dest_length;
  if (dest_end < params.unpack_dest || dest_end + params.zero_length < dest_end ||
      params.unpack_source + params.unpack_source_length < params.unpack_source ||
      Overlaps(params.unpack_source, params.unpack_source_length, params.unpack_dest,
               params.unpack_dest_length)) {
    serial.WriteAlways(
        "saveoops purgatory: REFUSING capture kernel: unpack ranges overlap or wrap; halting\n");
    return false;
  }
  const Lz4Error error = Lz4DecodeBlockExact(reinterpret_cast<const uint8_t*>(params.unpack_source),
                                             static_cast<size_t>(params.unpack_source_length),
                                             reinterpret_cast<uint8_t*>(params.unpack_dest),
                                             static_cast<size_t>(params.unpack_dest_length));
  if (error != Lz4Error::kOk) {
    serial.WriteAlways(
        "saveoops purgatory: REFUSING capture kernel: kernel image does not unpack: ");
    serial.WriteAlways(Lz4ErrorName(error));
    serial.WriteAlways("; halting\n");
    return false;
  }
  ZeroBytes(dest_end, params.zero_length);
  serial.Write("saveoops purgatory: unpacked kernel image, ");
  serial.WriteHex(params.unpack_dest_length);
  serial.Write(" bytes at ");
  serial.WriteHex(params.unpack_dest);
  serial.Write("\n");
  return true;
}

// Returns 0 when every region matches its digest, else the failing region's
// index + 1 (after printing why).
uint32_t VerifyRegions(const PurgatoryParams& params, const SerialPort& serial,
                       Sha256Engine engine) {
  if (params.region_count > kPurgatoryMaxRegions) {
    serial.WriteAlways("saveoops purgatory: REFUSING capture kernel: region count ");
    serial.WriteDecAlways(params.region_count);
    serial.WriteAlways(" exceeds 16\n");
    return kPurgatoryMaxRegions + 1;
  }
  const bool verbose = (params.flags & kPurgatoryFlagVerbose) != 0;
  for (uint32_t i = 0; i < params.region_count; ++i) {
    const PurgatoryRegion& r = params.regions[i];
    const Sha256Digest got =
        Sha256Hash(reinterpret_cast<const void*>(r.start), static_cast<size_t>(r.length), engine);
    if (!DigestEquals(got, r.sha256)) {
      char hex[65];
      Sha256ToHex(got, hex);
      serial.WriteAlways("saveoops purgatory: REFUSING capture kernel: segment ");
      serial.WriteDecAlways(i);
      serial.WriteAlways(" at ");
      serial.WriteHexAlways(r.start);
      serial.WriteAlways(" length ");
      serial.WriteHexAlways(r.length);
      serial.WriteAlways(" SHA-256 mismatch (got ");
      serial.WriteAlways(hex);
      serial.WriteAlways("); halting\n");
      return i + 1;
    }
    if (verbose) {
      serial.Write("saveoops purgatory: segment ");
      serial.WriteDec(i);
      serial.Write(" ok\n");
    }
  }
  return 0;
}

}  // namespace
}  // namespace saveoops

// Called by entry.S on the purgatory's own stack. Returns 0 to enter the
// capture kernel, nonzero to halt.
extern "C" uint32_t purgatory_main(saveoops::PurgatoryParams* params) {
  using namespace saveoops;
  const uint16_t port =
      params->serial_port != 0 ? params->serial_port : kPurgatoryDefaultSerialPort;
  const SerialPort serial(port, (params->flags & kPurgatoryFlagQuiet) != 0);
  const Sha256Engine engine = (params->flags & kPurgatoryFlagPortableSha) != 0
                                  ? Sha256Engine::kPortable
                                  : Sha256BestEngine();

  serial.Write("saveoops purgatory: verifying ");
  serial.WriteDec(params->region_count);
  serial.Write(engine == Sha256Engine::kShaNi ? " segments (SHA-NI)\n" : " segments\n");
  if (const uint32_t failed = VerifyRegions(*params, serial, engine); failed != 0) {
    return failed;
  }
  if (!UnpackKernel(*params, serial)) return kPurgatoryMaxRegions + 2;
  if (params->backup_length != 0) {
    CopyBytes(params->backup_dest, params->backup_source, params->backup_length);
  }
  serial.Write("saveoops purgatory: verified, entering capture kernel at ");
  serial.WriteHex(params->entry_rip);
  serial.Write("\n");
  return 0;
}
