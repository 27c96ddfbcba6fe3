// The purgatory ABI: the one definition of purgatory.bin's header and
// parameter block, shared by the purgatory itself and every loader (the kexec
// backend's `saveoops arm`, the Syslinux and UEFI arming programs, tests).
//
// purgatory.bin is a flat, position-independent x86-64 image. A loader copies
// it to any 16-byte-aligned address A, fills the parameter block at
// A + params_offset, and makes the panicking kernel jump to A + entry_offset
// (for kexec: the segment holding it, with image->start at the entry). No
// relocation is processed by anyone: every reference inside the image is
// RIP-relative (purgatory_test fails on anything else).
//
// Freestanding: only <stddef.h>/<stdint.h>.
#ifndef SAVEOOPS_PURGATORY_PURGATORY_ABI_H_
#define SAVEOOPS_PURGATORY_PURGATORY_ABI_H_

// The assembly in entry.S uses these; the static_asserts below keep them in
// step with the structs.
#define SAVEOOPS_PURGATORY_MAGIC_LO 0x55505653
#define SAVEOOPS_PURGATORY_MAGIC_HI 0x54414752
#define SAVEOOPS_PURGATORY_ABI_VERSION 2
#define SAVEOOPS_PURGATORY_HEADER_SIZE 32
#define SAVEOOPS_PURGATORY_PARAMS_SIZE 872
#define SAVEOOPS_PURGATORY_PARAMS_ENTRY_RIP 776
#define SAVEOOPS_PURGATORY_PARAMS_ENTRY_RSI 784
#define SAVEOOPS_PURGATORY_PARAMS_ENTRY_RSP 792

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

namespace saveoops {

// "SVPURGAT" read as a little-endian u64.
inline constexpr uint64_t kPurgatoryMagic = 0x5441475255505653ull;
inline constexpr uint32_t kPurgatoryAbiVersion = 2;
inline constexpr uint32_t kPurgatoryMaxRegions = 16;
// The conventional PC COM1 port; used when serial_port is 0.
inline constexpr uint16_t kPurgatoryDefaultSerialPort = 0x3f8;
// Where the image must be placed: the header holds 16-byte aligned data.
inline constexpr uint64_t kPurgatoryLoadAlignment = 16;

// At offset 0 of purgatory.bin. Written by purgatory/entry.S.
struct __attribute__((packed)) PurgatoryHeader {
  uint64_t magic;          // kPurgatoryMagic
  uint32_t abi_version;    // kPurgatoryAbiVersion
  uint32_t header_size;    // sizeof(PurgatoryHeader)
  uint32_t entry_offset;   // where the kernel jumps, from the image start
  uint32_t params_offset;  // PurgatoryParams, from the image start
  uint32_t params_size;    // sizeof(PurgatoryParams) the image was built with
  uint32_t reserved;       // 0
};
static_assert(sizeof(PurgatoryHeader) == 32, "purgatory header is 32 bytes");
static_assert(offsetof(PurgatoryHeader, magic) == 0, "magic");
static_assert(offsetof(PurgatoryHeader, abi_version) == 8, "abi_version");
static_assert(offsetof(PurgatoryHeader, header_size) == 12, "header_size");
static_assert(offsetof(PurgatoryHeader, entry_offset) == 16, "entry_offset");
static_assert(offsetof(PurgatoryHeader, params_offset) == 20, "params_offset");
static_assert(offsetof(PurgatoryHeader, params_size) == 24, "params_size");
static_assert(offsetof(PurgatoryHeader, reserved) == 28, "reserved");

// One staged segment: the physical range and the SHA-256 it must have.
struct __attribute__((packed)) PurgatoryRegion {
  uint64_t start;
  uint64_t length;
  uint8_t sha256[32];
};
static_assert(sizeof(PurgatoryRegion) == 48, "region is 48 bytes");
static_assert(offsetof(PurgatoryRegion, start) == 0, "start");
static_assert(offsetof(PurgatoryRegion, length) == 8, "length");
static_assert(offsetof(PurgatoryRegion, sha256) == 16, "sha256");

// PurgatoryParams.flags bits.
// Print one line per verified region (otherwise only a start and end line).
inline constexpr uint32_t kPurgatoryFlagVerbose = 1u << 0;
// Never use the SHA-NI engine even if CPUID offers it (tests, old CPUs).
inline constexpr uint32_t kPurgatoryFlagPortableSha = 1u << 1;
// Print nothing at all on the serial port except a refusal.
inline constexpr uint32_t kPurgatoryFlagQuiet = 1u << 2;

// Filled by the loader before the image is staged.
struct __attribute__((packed)) PurgatoryParams {
  uint32_t region_count;  // <= kPurgatoryMaxRegions
  uint32_t flags;         // kPurgatoryFlag*
  PurgatoryRegion regions[kPurgatoryMaxRegions];
  // Registers for the capture kernel's 64-bit entry (Documentation/arch/x86/
  // boot.rst, "64-bit Boot Protocol"): rip = load address + 0x200 for a
  // bzImage, or startup_64 of a prepared image; rsi = the boot_params
  // address. rsp = 0 means "the purgatory's own stack".
  uint64_t entry_rip;
  uint64_t entry_rsi;
  uint64_t entry_rsp;
  // Copy backup_length bytes from backup_source to backup_dest before entry
  // (the first kernel's low memory, preserved for the dump). 0 = none.
  uint64_t backup_source;
  uint64_t backup_dest;
  uint64_t backup_length;
  uint16_t serial_port;  // 0 = kPurgatoryDefaultSerialPort
  uint16_t reserved0;
  uint32_t reserved1;
  // ABI 2: a prepared capture kernel (common/kernel_image.h). After every
  // region verified, decode the LZ4 block [unpack_source, +source_length)
  // into exactly unpack_dest_length bytes at unpack_dest, then zero
  // zero_length bytes after them (the kernel's .bss and .brk, and the space
  // the block itself occupied). source_length 0 = nothing to unpack (the
  // capture kernel is a bzImage that decompresses itself).
  uint64_t unpack_source;
  uint64_t unpack_source_length;
  uint64_t unpack_dest;
  uint64_t unpack_dest_length;
  uint64_t zero_length;
};
static_assert(sizeof(PurgatoryParams) == 8 + 16 * 48 + 6 * 8 + 8 + 5 * 8, "params block size");
static_assert(offsetof(PurgatoryParams, region_count) == 0, "region_count");
static_assert(offsetof(PurgatoryParams, flags) == 4, "flags");
static_assert(offsetof(PurgatoryParams, regions) == 8, "regions");
static_assert(offsetof(PurgatoryParams, entry_rip) == 776, "entry_rip");
static_assert(offsetof(PurgatoryParams, entry_rsi) == 784, "entry_rsi");
static_assert(offsetof(PurgatoryParams, entry_rsp) == 792, "entry_rsp");
static_assert(offsetof(PurgatoryParams, backup_source) == 800, "backup_source");
static_assert(offsetof(PurgatoryParams, backup_dest) == 808, "backup_dest");
static_assert(offsetof(PurgatoryParams, backup_length) == 816, "backup_length");
static_assert(offsetof(PurgatoryParams, serial_port) == 824, "serial_port");
static_assert(offsetof(PurgatoryParams, reserved0) == 826, "reserved0");
static_assert(offsetof(PurgatoryParams, reserved1) == 828, "reserved1");
static_assert(offsetof(PurgatoryParams, unpack_source) == 832, "unpack_source");
static_assert(offsetof(PurgatoryParams, zero_length) == 864, "zero_length");

static_assert(((uint64_t)SAVEOOPS_PURGATORY_MAGIC_HI << 32 | SAVEOOPS_PURGATORY_MAGIC_LO) ==
                  kPurgatoryMagic,
              "");
static_assert(SAVEOOPS_PURGATORY_ABI_VERSION == kPurgatoryAbiVersion, "");
static_assert(SAVEOOPS_PURGATORY_HEADER_SIZE == sizeof(PurgatoryHeader), "");
static_assert(SAVEOOPS_PURGATORY_PARAMS_SIZE == sizeof(PurgatoryParams), "");
static_assert(SAVEOOPS_PURGATORY_PARAMS_ENTRY_RIP == offsetof(PurgatoryParams, entry_rip), "");
static_assert(SAVEOOPS_PURGATORY_PARAMS_ENTRY_RSI == offsetof(PurgatoryParams, entry_rsi), "");
static_assert(SAVEOOPS_PURGATORY_PARAMS_ENTRY_RSP == offsetof(PurgatoryParams, entry_rsp), "");

}  // namespace saveoops

#endif  // __ASSEMBLER__

#endif  // SAVEOOPS_PURGATORY_PURGATORY_ABI_H_
