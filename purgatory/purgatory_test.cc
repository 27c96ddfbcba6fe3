// purgatory.bin executed under Unicorn at several load addresses: it must
// reach the capture kernel's entry with the right registers when every
// digest matches, and halt without reaching it when a single byte differs.
// Plus: the linked ELF has no relocation a loader would need to apply.
#include <lz4hc.h>
#include <unicorn/unicorn.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "gtest/gtest.h"
#include "purgatory/purgatory_abi.h"

namespace saveoops {
namespace {

std::vector<uint8_t> ReadRunfile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

template <typename T>
T Load(const std::vector<uint8_t>& b, uint64_t off) {
  T v{};
  EXPECT_LE(off + sizeof(T), b.size()) << "read past end at " << off;
  if (off + sizeof(T) <= b.size()) std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

TEST(PurgatoryImage, HeaderDescribesImage) {
  const auto bin = ReadRunfile("purgatory/purgatory.bin");
  ASSERT_GE(bin.size(), sizeof(PurgatoryHeader));
  PurgatoryHeader h;
  std::memcpy(&h, bin.data(), sizeof(h));
  EXPECT_EQ(h.magic, kPurgatoryMagic);
  EXPECT_EQ(h.abi_version, kPurgatoryAbiVersion);
  EXPECT_EQ(h.header_size, sizeof(PurgatoryHeader));
  EXPECT_EQ(h.params_size, sizeof(PurgatoryParams));
  EXPECT_EQ(h.params_offset % 8, 0u);
  EXPECT_LE(uint64_t{h.params_offset} + h.params_size, bin.size());
  EXPECT_LT(h.entry_offset, bin.size());
  EXPECT_GE(h.entry_offset, h.params_offset + h.params_size);
  // Small enough to stage cheaply: code + 16 KiB stack.
  EXPECT_LT(bin.size(), 64u * 1024);
}

// ELF64 constants (System V gABI) used below.
constexpr uint32_t kShtRela = 4, kShtRel = 9, kShtDynamic = 6;
constexpr uint32_t kPtDynamic = 2, kPtInterp = 3;
constexpr uint32_t kRX8664Pc32 = 2, kRX8664Plt32 = 4, kRX8664Pc64 = 24;

TEST(PurgatoryImage, OnlyPcRelativeRelocations) {
  const auto elf = ReadRunfile("purgatory/purgatory.elf");
  ASSERT_GE(elf.size(), 64u);
  ASSERT_EQ(std::memcmp(elf.data(),
                        "\x7f"
                        "ELF",
                        4),
            0);
  const uint64_t shoff = Load<uint64_t>(elf, 0x28);
  const uint16_t shentsize = Load<uint16_t>(elf, 0x3a);
  const uint16_t shnum = Load<uint16_t>(elf, 0x3c);
  const uint64_t phoff = Load<uint64_t>(elf, 0x20);
  const uint16_t phentsize = Load<uint16_t>(elf, 0x36);
  const uint16_t phnum = Load<uint16_t>(elf, 0x38);
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint32_t type = Load<uint32_t>(elf, phoff + i * phentsize);
    EXPECT_NE(type, kPtDynamic) << "PT_DYNAMIC: the image would need a loader";
    EXPECT_NE(type, kPtInterp);
  }
  int rela_sections = 0, relocs = 0;
  for (uint16_t i = 0; i < shnum; ++i) {
    const uint64_t sh = shoff + uint64_t{i} * shentsize;
    const uint32_t type = Load<uint32_t>(elf, sh + 4);
    EXPECT_NE(type, kShtDynamic);
    EXPECT_NE(type, kShtRel) << "REL section: expected RELA only";
    if (type != kShtRela) continue;
    ++rela_sections;
    const uint64_t off = Load<uint64_t>(elf, sh + 0x18);
    const uint64_t size = Load<uint64_t>(elf, sh + 0x20);
    for (uint64_t r = off; r + 24 <= off + size; r += 24) {
      const uint32_t rtype = static_cast<uint32_t>(Load<uint64_t>(elf, r + 8));
      ++relocs;
      EXPECT_TRUE(rtype == kRX8664Pc32 || rtype == kRX8664Plt32 || rtype == kRX8664Pc64)
          << "relocation type " << rtype << " at image offset 0x" << std::hex
          << Load<uint64_t>(elf, r) << " is not PC-relative";
    }
  }
  // --emit-relocs must have kept them, or this test would prove nothing.
  EXPECT_EQ(rela_sections, 1);
  EXPECT_GT(relocs, 10);
}

constexpr uint64_t kMemSize = 64ull << 20;
constexpr uint64_t kSentinel = 0x3000000;  // stands in for the kernel entry
constexpr uint64_t kBootParams = 0x1234000;
constexpr uint64_t kKernelStack = 0x3100000;

struct Emulation {
  std::string serial;
  uint64_t rip = 0, rsi = 0, rsp = 0;
  uc_err err = UC_ERR_OK;
};

struct Region {
  uint64_t start;
  std::vector<uint8_t> bytes;
};

void OnOut(uc_engine*, uint32_t port, int size, uint32_t value, void* user) {
  auto* e = static_cast<Emulation*>(user);
  if (port == kPurgatoryDefaultSerialPort && size == 1) {
    e->serial.push_back(static_cast<char>(value));
  }
}

uint32_t OnIn(uc_engine*, uint32_t port, int, void*) {
  // Line status register: transmitter always empty.
  return port == kPurgatoryDefaultSerialPort + 5 ? 0x20 : 0;
}

// What to unpack (PurgatoryParams' ABI 2 fields) and memory to fill before
// the run that no digest covers.
struct UnpackSetup {
  uint64_t source = 0, source_length = 0, dest = 0, dest_length = 0, zero_length = 0;
  std::vector<Region> unverified;
};

// Loads the image at `load`, stages `regions` with digests (corrupting one
// byte of region `corrupt` after computing digests, if >= 0), runs it.
Emulation RunPurgatory(uint64_t load, const std::vector<Region>& regions, int corrupt,
                       uint32_t flags, uint64_t backup_src = 0, uint64_t backup_dst = 0,
                       uint64_t backup_len = 0, uc_engine** keep = nullptr,
                       const UnpackSetup& unpack = UnpackSetup()) {
  const auto bin = ReadRunfile("purgatory/purgatory.bin");
  PurgatoryHeader h;
  std::memcpy(&h, bin.data(), sizeof(h));

  PurgatoryParams p{};
  p.region_count = static_cast<uint32_t>(regions.size());
  p.flags = flags;
  for (size_t i = 0; i < regions.size(); ++i) {
    p.regions[i].start = regions[i].start;
    p.regions[i].length = regions[i].bytes.size();
    const Sha256Digest d =
        Sha256Hash(regions[i].bytes.data(), regions[i].bytes.size(), Sha256Engine::kPortable);
    std::memcpy(p.regions[i].sha256, d.bytes, 32);
  }
  p.entry_rip = kSentinel;
  p.entry_rsi = kBootParams;
  p.entry_rsp = kKernelStack;
  p.backup_source = backup_src;
  p.backup_dest = backup_dst;
  p.backup_length = backup_len;
  p.unpack_source = unpack.source;
  p.unpack_source_length = unpack.source_length;
  p.unpack_dest = unpack.dest;
  p.unpack_dest_length = unpack.dest_length;
  p.zero_length = unpack.zero_length;

  Emulation e;
  uc_engine* uc = nullptr;
  EXPECT_EQ(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK);
  EXPECT_EQ(uc_mem_map(uc, 0, kMemSize, UC_PROT_ALL), UC_ERR_OK);
  EXPECT_EQ(uc_mem_write(uc, load, bin.data(), bin.size()), UC_ERR_OK);
  EXPECT_EQ(uc_mem_write(uc, load + h.params_offset, &p, sizeof(p)), UC_ERR_OK);
  for (size_t i = 0; i < regions.size(); ++i) {
    std::vector<uint8_t> bytes = regions[i].bytes;
    if (static_cast<int>(i) == corrupt) bytes[bytes.size() / 3] ^= 0x01;
    EXPECT_EQ(uc_mem_write(uc, regions[i].start, bytes.data(), bytes.size()), UC_ERR_OK);
  }
  for (const Region& r : unpack.unverified) {
    EXPECT_EQ(uc_mem_write(uc, r.start, r.bytes.data(), r.bytes.size()), UC_ERR_OK);
  }
  const uint8_t hlt = 0xf4;
  EXPECT_EQ(uc_mem_write(uc, kSentinel, &hlt, 1), UC_ERR_OK);
  // Garbage in every register the purgatory must not rely on.
  const uint64_t junk = 0xdeadbeefdeadbeefull;
  for (int reg : {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI,
                  UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_RSP}) {
    uc_reg_write(uc, reg, &junk);
  }
  uc_hook out_hook, in_hook;
  uc_hook_add(uc, &out_hook, UC_HOOK_INSN, reinterpret_cast<void*>(OnOut), &e, 1, 0,
              UC_X86_INS_OUT);
  uc_hook_add(uc, &in_hook, UC_HOOK_INSN, reinterpret_cast<void*>(OnIn), &e, 1, 0, UC_X86_INS_IN);
  // Stops at the sentinel (success) or at the purgatory's hlt (refusal);
  // the timeout (µs) catches a runaway loop.
  e.err = uc_emu_start(uc, load + h.entry_offset, kSentinel, 20 * 1000 * 1000, 0);
  uc_reg_read(uc, UC_X86_REG_RIP, &e.rip);
  uc_reg_read(uc, UC_X86_REG_RSI, &e.rsi);
  uc_reg_read(uc, UC_X86_REG_RSP, &e.rsp);
  if (keep != nullptr) {
    *keep = uc;
  } else {
    uc_close(uc);
  }
  return e;
}

std::vector<Region> RandomRegions(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Region> regions;
  const uint64_t starts[] = {0x2000000, 0x2100123, 0x2400000};
  const size_t sizes[] = {4096, 3 * 4096 + 17, 65};
  for (int i = 0; i < 3; ++i) {
    Region r{starts[i], std::vector<uint8_t>(sizes[i])};
    for (auto& b : r.bytes) b = static_cast<uint8_t>(rng());
    regions.push_back(std::move(r));
  }
  return regions;
}

class PurgatoryRun : public ::testing::TestWithParam<uint64_t> {};

TEST_P(PurgatoryRun, EntersCaptureKernelWhenDigestsMatch) {
  const uint64_t load = GetParam();
  const Emulation e = RunPurgatory(load, RandomRegions(load), -1, kPurgatoryFlagVerbose);
  EXPECT_EQ(e.rip, kSentinel) << "serial: " << e.serial << " err " << e.err;
  EXPECT_EQ(e.rsi, kBootParams);
  EXPECT_EQ(e.rsp, kKernelStack);
  EXPECT_NE(e.serial.find("verifying 3 segments"), std::string::npos) << e.serial;
  EXPECT_NE(e.serial.find("segment 2 ok"), std::string::npos) << e.serial;
  EXPECT_NE(e.serial.find("entering capture kernel at 0x0000000003000000"), std::string::npos)
      << e.serial;
}

TEST_P(PurgatoryRun, HaltsOnSingleFlippedByte) {
  const uint64_t load = GetParam();
  for (int corrupt = 0; corrupt < 3; ++corrupt) {
    const Emulation e = RunPurgatory(load, RandomRegions(load), corrupt, 0);
    EXPECT_NE(e.rip, kSentinel) << "entered unverified code, region " << corrupt;
    EXPECT_NE(e.serial.find("REFUSING capture kernel: segment " + std::to_string(corrupt)),
              std::string::npos)
        << e.serial;
    EXPECT_NE(e.serial.find("SHA-256 mismatch"), std::string::npos) << e.serial;
    EXPECT_EQ(e.serial.find("entering capture kernel"), std::string::npos);
  }
}

TEST_P(PurgatoryRun, CopiesBackupRegion) {
  const uint64_t load = GetParam();
  uc_engine* uc = nullptr;
  std::vector<uint8_t> low(8192);
  std::mt19937_64 rng(7);
  for (auto& b : low) b = static_cast<uint8_t>(rng());
  // Written after RunPurgatory() maps memory would be too late; use region 0's area
  // as the backup source by staging it as a verified region too.
  std::vector<Region> regions = RandomRegions(load);
  regions[0].bytes = low;
  const Emulation e = RunPurgatory(load, regions, -1, kPurgatoryFlagQuiet, regions[0].start,
                                   0x2800000, low.size(), &uc);
  ASSERT_EQ(e.rip, kSentinel) << e.serial;
  EXPECT_EQ(e.serial, "") << "quiet flag must silence progress lines";
  std::vector<uint8_t> copied(low.size());
  ASSERT_EQ(uc_mem_read(uc, 0x2800000, copied.data(), copied.size()), UC_ERR_OK);
  EXPECT_EQ(copied, low);
  uc_close(uc);
}

std::vector<uint8_t> Lz4(const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(LZ4_compressBound(static_cast<int>(in.size())));
  const int n = LZ4_compress_HC(reinterpret_cast<const char*>(in.data()),
                                reinterpret_cast<char*>(out.data()), in.size(), out.size(), 9);
  EXPECT_GT(n, 0);
  out.resize(n);
  return out;
}

// A kernel-like image: code-ish random bytes, a run of zeroes, a table.
std::vector<uint8_t> FakeKernelImage() {
  std::mt19937_64 rng(11);
  std::vector<uint8_t> image(200000);
  for (size_t i = 0; i < image.size(); ++i) {
    image[i] = i % 5000 < 3000 ? static_cast<uint8_t>(rng() % 16) : static_cast<uint8_t>(i / 7);
  }
  image.back() = 0x90;
  return image;
}

constexpr uint64_t kImageDest = 0x2200000;
constexpr uint64_t kBlockAt = 0x2400000;
constexpr uint64_t kZeroLength = 0x40000;

TEST_P(PurgatoryRun, UnpacksAPreparedKernelAndZeroesItsTail) {
  const uint64_t load = GetParam();
  const std::vector<uint8_t> image = FakeKernelImage();
  std::vector<Region> regions = RandomRegions(load);
  regions.resize(2);  // Region 2 of RandomRegions sits where the block goes.
  regions.push_back({kBlockAt, Lz4(image)});
  UnpackSetup unpack{kBlockAt, regions.back().bytes.size(), kImageDest, image.size(), kZeroLength,
                     {}};
  // Garbage where the image and its zeroed tail go.
  unpack.unverified.push_back({kImageDest, std::vector<uint8_t>(image.size() + kZeroLength, 0xcc)});
  uc_engine* uc = nullptr;
  const Emulation e = RunPurgatory(load, regions, -1, 0, 0, 0, 0, &uc, unpack);
  ASSERT_EQ(e.rip, kSentinel) << e.serial;
  EXPECT_NE(e.serial.find("unpacked kernel image, 0x0000000000030d40 bytes at 0x0000000002200000"),
            std::string::npos)
      << e.serial;
  std::vector<uint8_t> got(image.size());
  ASSERT_EQ(uc_mem_read(uc, kImageDest, got.data(), got.size()), UC_ERR_OK);
  EXPECT_TRUE(got == image);
  std::vector<uint8_t> tail(kZeroLength + 16);
  ASSERT_EQ(uc_mem_read(uc, kImageDest + image.size(), tail.data(), tail.size()), UC_ERR_OK);
  for (size_t i = 0; i < kZeroLength; ++i) ASSERT_EQ(tail[i], 0) << "tail byte " << i;
  EXPECT_EQ(tail[kZeroLength], 0) << "the block's own bytes after the tail are untouched";
  uc_close(uc);
}

TEST_P(PurgatoryRun, RefusesAVerifiedBlockThatDoesNotUnpack) {
  const uint64_t load = GetParam();
  const std::vector<uint8_t> image = FakeKernelImage();
  std::vector<uint8_t> block = Lz4(image);
  block.resize(block.size() - 3);  // Its digest is taken after truncating.
  std::vector<Region> regions = {{kBlockAt, block}};
  for (uint64_t dest_length : {uint64_t{image.size()}, uint64_t{image.size() - 1}}) {
    const UnpackSetup unpack{kBlockAt, block.size(), kImageDest, dest_length, 4096, {}};
    const Emulation e = RunPurgatory(load, regions, -1, 0, 0, 0, 0, nullptr, unpack);
    EXPECT_NE(e.rip, kSentinel);
    EXPECT_NE(e.serial.find("REFUSING capture kernel: kernel image does not unpack: LZ4"),
              std::string::npos)
        << e.serial;
  }
  // Source overlapping the destination is refused before decoding.
  const UnpackSetup overlap{kBlockAt, block.size(), kBlockAt - 4096, image.size(), 0, {}};
  const Emulation e = RunPurgatory(load, regions, -1, 0, 0, 0, 0, nullptr, overlap);
  EXPECT_NE(e.rip, kSentinel);
  EXPECT_NE(e.serial.find("unpack ranges overlap"), std::string::npos) << e.serial;
}

TEST(PurgatoryRun, RefusesTooManyRegions) {
  std::vector<Region> regions = RandomRegions(1);
  const auto bin = ReadRunfile("purgatory/purgatory.bin");
  // RunPurgatory() fills region_count from the vector; build a bad count by hand.
  uc_engine* uc = nullptr;
  Emulation e = RunPurgatory(0x100000, regions, -1, 0, 0, 0, 0, &uc);
  ASSERT_EQ(e.rip, kSentinel);
  uc_close(uc);
  // Now patch region_count = 17 in a fresh run via the params block.
  PurgatoryHeader h;
  std::memcpy(&h, bin.data(), sizeof(h));
  Emulation bad;
  ASSERT_EQ(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK);
  ASSERT_EQ(uc_mem_map(uc, 0, kMemSize, UC_PROT_ALL), UC_ERR_OK);
  ASSERT_EQ(uc_mem_write(uc, 0x100000, bin.data(), bin.size()), UC_ERR_OK);
  PurgatoryParams p{};
  p.region_count = 17;
  p.entry_rip = kSentinel;
  ASSERT_EQ(uc_mem_write(uc, 0x100000 + h.params_offset, &p, sizeof(p)), UC_ERR_OK);
  uc_hook out_hook, in_hook;
  uc_hook_add(uc, &out_hook, UC_HOOK_INSN, reinterpret_cast<void*>(OnOut), &bad, 1, 0,
              UC_X86_INS_OUT);
  uc_hook_add(uc, &in_hook, UC_HOOK_INSN, reinterpret_cast<void*>(OnIn), &bad, 1, 0, UC_X86_INS_IN);
  uc_emu_start(uc, 0x100000 + h.entry_offset, kSentinel, 20 * 1000 * 1000, 0);
  uint64_t rip = 0;
  uc_reg_read(uc, UC_X86_REG_RIP, &rip);
  uc_close(uc);
  EXPECT_NE(rip, kSentinel);
  EXPECT_NE(bad.serial.find("region count 17 exceeds 16"), std::string::npos) << bad.serial;
}

// Three load addresses: low, an odd 16-byte-aligned one, and above 16 MiB.
INSTANTIATE_TEST_SUITE_P(LoadAddresses, PurgatoryRun,
                         ::testing::Values(0x100000, 0x1ff0010, 0x3a45000));

}  // namespace
}  // namespace saveoops
