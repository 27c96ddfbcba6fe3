#include "common/kernel_image.h"
#include "common/kernel_image_prepare.h"

#include <glob.h>
#include <lzma.h>
#include <string.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/bootproto.h"
#include "common/bzimage.h"
#include "common/elf64.h"
#include "common/lz4_block.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::vector<uint8_t> DistroKernel() {
  glob_t g;
  EXPECT_EQ(glob("/boot/vmlinuz-*", 0, nullptr, &g), 0) << "linux-image-amd64 must be installed";
  std::string path = g.gl_pathc > 0 ? g.gl_pathv[g.gl_pathc - 1] : "";
  globfree(&g);
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// A minimal x86-64 vmlinux: ELF header, `phdrs` program headers, then data.
std::vector<uint8_t> MakeElf(const std::vector<Elf64Phdr>& phdrs, size_t file_size,
                             uint64_t entry) {
  std::vector<uint8_t> f(file_size, 0);
  Elf64Ehdr eh{};
  memcpy(eh.e_ident, kElfMagic, sizeof(kElfMagic));
  eh.e_ident[kEiClass] = kElfClass64;
  eh.e_ident[kEiData] = kElfData2Lsb;
  eh.e_type = kEtExec;
  eh.e_machine = kEmX86_64;
  eh.e_entry = entry;
  eh.e_phoff = sizeof(eh);
  eh.e_phentsize = sizeof(Elf64Phdr);
  eh.e_phnum = phdrs.size();
  memcpy(f.data(), &eh, sizeof(eh));
  if (!phdrs.empty()) {
    memcpy(f.data() + sizeof(eh), phdrs.data(), phdrs.size() * sizeof(Elf64Phdr));
  }
  return f;
}

Elf64Phdr Load(uint64_t paddr, uint64_t offset, uint64_t filesz, uint64_t memsz) {
  Elf64Phdr p{};
  p.p_type = kPtLoad;
  p.p_paddr = paddr;
  p.p_vaddr = 0xffffffff80000000ull + paddr;
  p.p_offset = offset;
  p.p_filesz = filesz;
  p.p_memsz = memsz;
  return p;
}

TEST(KernelImageTest, LaysOutSegmentsByPhysicalAddress) {
  std::vector<uint8_t> elf =
      MakeElf({Load(0x1000000, 0x1000, 0x100, 0x100), Load(0x1200000, 0x2000, 0x10, 0x300000)},
              0x3000, 0x1000040);
  for (int i = 0; i < 0x100; ++i) elf[0x1000 + i] = static_cast<uint8_t>(i | 1);
  for (int i = 0; i < 0x10; ++i) elf[0x2000 + i] = 0xaa;
  absl::StatusOr<LaidOutKernel> k = LayOutKernelElf(elf);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->span, 0x500000u);
  EXPECT_EQ(k->entry_offset, 0x40u);
  EXPECT_EQ(k->load_segments, 2);
  ASSERT_EQ(k->image.size(), 0x200010u);  // Trailing zero memory dropped.
  EXPECT_EQ(k->image[0x7], 0x7);
  EXPECT_EQ(k->image[0x100], 0);  // Gap between the segments is zero.
  EXPECT_EQ(k->image[0x200000], 0xaa);
}

TEST(KernelImageTest, RejectsMalformedElf) {
  const auto expect = [](const std::vector<uint8_t>& elf, const std::string& words) {
    absl::StatusOr<LaidOutKernel> k = LayOutKernelElf(elf);
    ASSERT_FALSE(k.ok());
    EXPECT_TRUE(absl::StrContains(k.status().message(), words)) << k.status();
  };
  std::vector<uint8_t> good = MakeElf({Load(0x1000000, 0x1000, 0x10, 0x10)}, 0x2000, 0x1000000);
  good[0x1000] = 1;
  ASSERT_TRUE(LayOutKernelElf(good).ok());
  expect(std::vector<uint8_t>(good.begin(), good.begin() + 10), "too small for an ELF header");
  std::vector<uint8_t> bad = good;
  bad[kEiClass] = 1;  // ELFCLASS32
  expect(bad, "not a 64-bit little-endian ELF");
  bad = good;
  bad[offsetof(Elf64Ehdr, e_machine)] = 3;  // EM_386
  expect(bad, "e_machine 3");
  expect(MakeElf({Load(0x1000000, 0x1f00, 0x200, 0x200)}, 0x2000, 0x1000000), "outside the file");
  expect(MakeElf({Load(0x1000000, 0x1000, 0x20, 0x10)}, 0x2000, 0x1000000), "malformed");
  expect(MakeElf({Load(0x1000000, 0x1000, 0x10, 0x10), Load(0x1000008, 0x1000, 0x10, 0x10)}, 0x2000,
                 0x1000000),
         "overlaps or precedes");
  expect(MakeElf({Load(0x1000000, 0x1000, 0x10, 0x10)}, 0x2000, 0x2000000), "entry");
  Elf64Phdr note = Load(0x1000000, 0x1000, 0x10, 0x10);
  note.p_type = kPtNote;
  expect(MakeElf({note}, 0x2000, 0x1000000), "no PT_LOAD");
  expect(MakeElf({}, 0x2000, 0x1000000), "program headers");
  expect(MakeElf({Load(0x1000000, 0x1000, 0, 0x10)}, 0x2000, 0x1000000), "zero-filled");
  expect(MakeElf({Load(0x1000000, 0x1000, 0x10, 0x10), Load(0x60000000, 0x1000, 0x10, 0x10)},
                 0x2000, 0x1000000),
         "spans");
  // Program headers past the end of the file.
  bad = good;
  const uint16_t many = 200;
  memcpy(bad.data() + offsetof(Elf64Ehdr, e_phnum), &many, 2);
  expect(bad, "program headers");
}

// Tiny ELFs whose headers claim far more memory than their bytes: each is
// refused naming the bound, before anything proportional to the claim is
// allocated or scanned (the fuzz target checks the allocation bound).
TEST(KernelImageTest, RefusesCraftedSpansCheaplyNamingTheBound) {
  const auto refused = [](const std::vector<uint8_t>& elf) {
    absl::StatusOr<LaidOutKernel> k = LayOutKernelElf(elf);
    EXPECT_FALSE(k.ok()) << "a " << elf.size() << "-byte ELF laid out to " << k->image.size();
    return k.ok() ? std::string() : std::string(k.status().message());
  };
  // Two one-byte segments 1 GiB apart, in 397 bytes.
  std::vector<uint8_t> gib = MakeElf(
      {Load(0x1000000, 0x180, 0x8, 0x8), Load(0x1000000 + (1ull << 30) - 5, 0x188, 0x5, 0x5)}, 397,
      0x1000000);
  gib[0x180] = 0xcc;
  gib[0x18c] = 0xcc;
  EXPECT_EQ(refused(gib),
            "kernel: vmlinux spans 1024 MiB of memory; a capture kernel spans at "
            "most 256 MiB");
  // Within the span bound, but 200 MiB of zero-filled gap from 397 bytes.
  std::vector<uint8_t> gap =
      MakeElf({Load(0x1000000, 0x180, 0x8, 0x8), Load(0x1000000 + (200ull << 20), 0x188, 0x5, 0x5)},
              397, 0x1000000);
  gap[0x180] = 0xcc;
  gap[0x18c] = 0xcc;
  EXPECT_TRUE(absl::StrContains(refused(gap), "more than its own 397 + 16 MiB")) << refused(gap);
  // Many segments sharing the same file bytes.
  std::vector<Elf64Phdr> shared;
  for (int i = 0; i < 4; ++i) shared.push_back(Load(0x1000000 + i * 0x1000, 0x180, 0x100, 0x100));
  std::vector<uint8_t> same = MakeElf(shared, 0x280, 0x1000000);
  same[0x180] = 0xcc;
  EXPECT_TRUE(absl::StrContains(refused(same), "file bytes in all, more than its own"))
      << refused(same);
  // A span of exactly the bound whose image is small is fine.
  std::vector<uint8_t> ok =
      MakeElf({Load(0x1000000, 0x1000, 0x10, 256ull << 20)}, 0x2000, 0x1000000);
  ok[0x1000] = 1;
  absl::StatusOr<LaidOutKernel> k = LayOutKernelElf(ok);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->span, 256ull << 20);
  EXPECT_EQ(k->image.size(), 1u);
}

class DistroKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bzimage_ = DistroKernel();
    ASSERT_FALSE(bzimage_.empty());
  }
  std::vector<uint8_t> bzimage_;
};

TEST_F(DistroKernelTest, PreparesAnImageThePurgatoryDecoderUnpacks) {
  KernelImageSummary summary;
  absl::StatusOr<std::vector<uint8_t>> part = PrepareKernelImage(bzimage_, &summary);
  ASSERT_TRUE(part.ok()) << part.status();
  absl::StatusOr<KernelImage> k = ParseKernelImage(*part);
  ASSERT_TRUE(k.ok()) << k.status();
  absl::StatusOr<BzImageInfo> info = ParseBzImage(bzimage_);
  ASSERT_TRUE(info.ok());
  // The kernel runs in less memory than its decompressor asks for, and the
  // LZ4 image is far smaller than the memory it fills.
  EXPECT_LE(k->span, info->init_size);
  EXPECT_GT(k->span, 16u << 20);
  EXPECT_LE(k->image_size, k->span);
  EXPECT_LT(k->lz4.size(), k->image_size / 2);
  EXPECT_EQ(k->alignment % (2u << 20), 0u);
  EXPECT_EQ(summary.image_size, k->image_size);
  EXPECT_EQ(summary.lz4_size, k->lz4.size());
  EXPECT_GE(summary.load_segments, 2);

  std::vector<uint8_t> image(k->image_size);
  ASSERT_EQ(Lz4DecodeBlockExact(k->lz4.data(), k->lz4.size(), image.data(), image.size()),
            Lz4Error::kOk);
  // startup_64 of x86-64 kernels begins with "lea" or an endbr64 / jmp:
  // whatever it is, it is code, not zeroes, and the image ends non-zero.
  EXPECT_NE(image[k->entry_offset], 0);
  EXPECT_NE(image.back(), 0);
}

TEST_F(DistroKernelTest, NamesAPayloadFormatItCannotUnpack) {
  absl::StatusOr<BzImageInfo> info = ParseBzImage(bzimage_);
  ASSERT_TRUE(info.ok());
  uint32_t offset;
  memcpy(&offset, bzimage_.data() + kSetupHeaderOffset + offsetof(SetupHeader, payload_offset), 4);
  std::vector<uint8_t> unknown = bzimage_;
  unknown[info->payload_offset + offset] = 0x00;
  unknown[info->payload_offset + offset + 1] = 0x00;
  absl::StatusOr<std::vector<uint8_t>> part = PrepareKernelImage(unknown);
  ASSERT_FALSE(part.ok());
  EXPECT_EQ(part.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(absl::StrContains(part.status().message(), "compressed in an unknown format"))
      << part.status();

  // A gzip magic in front of xz data: the gzip decoder is tried, and fails.
  std::vector<uint8_t> gzip = bzimage_;
  gzip[info->payload_offset + offset] = 0x1f;
  gzip[info->payload_offset + offset + 1] = 0x8b;
  part = PrepareKernelImage(gzip);
  ASSERT_FALSE(part.ok());
  EXPECT_TRUE(absl::StrContains(part.status().message(), "gzip data does not unpack"))
      << part.status();

  // A damaged xz stream is an error, not a short image.
  std::vector<uint8_t> damaged = bzimage_;
  for (int i = 0; i < 64; ++i) damaged[info->payload_offset + offset + 4096 + i] ^= 0x5a;
  part = PrepareKernelImage(damaged);
  ASSERT_FALSE(part.ok());
  EXPECT_TRUE(absl::StrContains(part.status().message(), "does not unpack")) << part.status();
}

TEST(KernelImageTest, ParseChecksEveryHeaderField) {
  KernelImageHeader h{};
  memcpy(h.magic, kKernelImageMagic, 8);
  h.version = kKernelImageVersion;
  h.header_size = sizeof(h);
  h.entry_offset = 0x200;
  h.image_size = 0x1000;
  h.span = 0x4000;
  h.alignment = 2 << 20;
  h.lz4_size = 5;
  const auto part = [](const KernelImageHeader& hh) {
    std::vector<uint8_t> p(sizeof(hh) + 5, 0x11);
    memcpy(p.data(), &hh, sizeof(hh));
    return p;
  };
  const std::vector<uint8_t> good_part = part(h);
  absl::StatusOr<KernelImage> k = ParseKernelImage(good_part);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->lz4.size(), 5u);
  EXPECT_EQ(k->span, 0x4000u);

  struct Case {
    void (*mutate)(KernelImageHeader&);
    const char* words;
  };
  const Case cases[] = {
      {[](KernelImageHeader& x) { x.magic[0] = 'X'; }, "bad magic"},
      {[](KernelImageHeader& x) { x.version = 2; }, "version 2"},
      {[](KernelImageHeader& x) { x.header_size = 32; }, "header size 32"},
      {[](KernelImageHeader& x) { x.reserved = 1; }, "reserved 0x1"},
      {[](KernelImageHeader& x) { x.lz4_size = 6; }, "6 LZ4 bytes"},
      {[](KernelImageHeader& x) { x.image_size = 0; }, "image size 0"},
      {[](KernelImageHeader& x) { x.image_size = 0x5000; }, "<= span"},
      {[](KernelImageHeader& x) {
         x.span = 2ull << 30;
         x.image_size = 0x1000;
       },
       "<= span"},
      {[](KernelImageHeader& x) { x.entry_offset = 0x1000; }, "entry offset"},
      {[](KernelImageHeader& x) { x.alignment = 3 << 20; }, "alignment"},
      {[](KernelImageHeader& x) { x.alignment = 512; }, "alignment"},
  };
  for (const Case& c : cases) {
    KernelImageHeader bad = h;
    c.mutate(bad);
    absl::StatusOr<KernelImage> r = ParseKernelImage(part(bad));
    ASSERT_FALSE(r.ok()) << c.words;
    EXPECT_TRUE(absl::StrContains(r.status().message(), c.words)) << r.status();
  }
  for (size_t n = 0; n < good_part.size(); ++n) {
    EXPECT_FALSE(ParseKernelImage(absl::MakeConstSpan(good_part.data(), n)).ok()) << n;
  }
}

}  // namespace
}  // namespace saveoops
