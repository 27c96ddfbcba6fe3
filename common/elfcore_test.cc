#include "common/elfcore.h"

#include <stdio.h>
#include <string.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

constexpr uint64_t kPageOffset = 0xffff888000000000;
constexpr uint64_t kTextVaddr = 0xffffffff81000000;

// A machine with 4 CPUs and 3 RAM ranges, shaped like a QEMU guest.
ElfCoreSpec SampleSpec() {
  ElfCoreSpec spec;
  for (uint64_t i = 0; i < 4; ++i) {
    spec.cpu_crash_notes.push_back({0x7fc1a000 + i * 0x40000, 0x1a8});
  }
  spec.vmcoreinfo_note = {0x3a4e000, 0x1000};
  spec.kernel_text = {0x1000000, 0x2c00000};
  spec.kernel_text_vaddr = kTextVaddr;
  spec.ram = {{0x1000, 0x9e000}, {0x100000, 0x5ff00000}, {0x6c000000, 0x13f00000}};
  spec.page_offset = kPageOffset;
  return spec;
}

std::vector<uint8_t> BuildOrDie(const ElfCoreSpec& spec) {
  absl::StatusOr<std::vector<uint8_t>> bytes = BuildElfCoreHeader(spec);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

template <typename T>
void Poke(std::vector<uint8_t>* bytes, size_t offset, T value) {
  ASSERT_LE(offset + sizeof(T), bytes->size());
  memcpy(bytes->data() + offset, &value, sizeof(T));
}

void ExpectParseError(const std::vector<uint8_t>& bytes, absl::string_view field) {
  absl::StatusOr<ElfCoreInfo> info = ParseElfCoreHeader(bytes);
  ASSERT_FALSE(info.ok()) << "expected an error naming '" << field << "'";
  EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(info.status().message(), absl::StrCat("'", field, "'")))
      << info.status().message();
}

void ExpectBuildError(const ElfCoreSpec& spec, absl::string_view field) {
  absl::StatusOr<std::vector<uint8_t>> bytes = BuildElfCoreHeader(spec);
  ASSERT_FALSE(bytes.ok()) << "expected an error naming '" << field << "'";
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bytes.status().message(), absl::StrCat("'", field, "'")))
      << bytes.status().message();
}

constexpr size_t PhdrAt(size_t i) { return 64 + i * 56; }

TEST(ElfCoreHeaderSizeTest, PadsToPages) {
  EXPECT_EQ(ElfCoreHeaderSize(1), 4096u);
  EXPECT_EQ(ElfCoreHeaderSize(72), 4096u);  // 64 + 72 * 56 == 4096 exactly.
  EXPECT_EQ(ElfCoreHeaderSize(73), 8192u);
  EXPECT_EQ(ElfCoreHeaderSize(306), 20480u);  // 17200 bytes used.
}

TEST(ElfCoreTest, ElfHeaderFields) {
  const std::vector<uint8_t> bytes = BuildOrDie(SampleSpec());
  ASSERT_EQ(bytes.size(), 4096u);
  Elf64Ehdr eh;
  memcpy(&eh, bytes.data(), sizeof(eh));
  EXPECT_EQ(0, memcmp(eh.e_ident,
                      "\x7f"
                      "ELF",
                      4));
  EXPECT_EQ(eh.e_ident[kEiClass], 2);
  EXPECT_EQ(eh.e_ident[kEiData], 1);
  EXPECT_EQ(eh.e_ident[kEiVersion], 1);
  for (size_t i = 7; i < 16; ++i) EXPECT_EQ(eh.e_ident[i], 0) << i;
  EXPECT_EQ(uint16_t{eh.e_type}, 4);      // ET_CORE
  EXPECT_EQ(uint16_t{eh.e_machine}, 62);  // EM_X86_64
  EXPECT_EQ(uint32_t{eh.e_version}, 1u);
  EXPECT_EQ(uint64_t{eh.e_entry}, 0u);
  EXPECT_EQ(uint64_t{eh.e_phoff}, 64u);
  EXPECT_EQ(uint64_t{eh.e_shoff}, 0u);
  EXPECT_EQ(uint16_t{eh.e_ehsize}, 64);
  EXPECT_EQ(uint16_t{eh.e_phentsize}, 56);
  EXPECT_EQ(uint16_t{eh.e_phnum}, 4 + 2 + 3);
  EXPECT_EQ(uint16_t{eh.e_shnum}, 0);
  // Padding after the table is zero.
  for (size_t i = PhdrAt(9); i < bytes.size(); ++i) {
    ASSERT_EQ(bytes[i], 0) << i;
  }
}

TEST(ElfCoreTest, ProgramHeadersFollowTheKernelsLayout) {
  const ElfCoreSpec spec = SampleSpec();
  const std::vector<uint8_t> bytes = BuildOrDie(spec);
  absl::StatusOr<ElfCoreInfo> info = ParseElfCoreHeader(bytes);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->machine, kEmX86_64);
  EXPECT_EQ(info->header_bytes, PhdrAt(9));
  EXPECT_EQ(info->note_count, 5u);
  EXPECT_EQ(info->load_count, 4u);
  ASSERT_EQ(info->phdrs.size(), 9u);

  for (size_t i = 0; i < 4; ++i) {
    const ElfCoreProgramHeader& p = info->phdrs[i];
    EXPECT_EQ(p.type, kPtNote);
    EXPECT_EQ(p.flags, 0u);
    EXPECT_EQ(p.offset, spec.cpu_crash_notes[i].start);
    EXPECT_EQ(p.paddr, spec.cpu_crash_notes[i].start);
    EXPECT_EQ(p.vaddr, 0u);
    EXPECT_EQ(p.filesz, 0x1a8u);
    EXPECT_EQ(p.memsz, 0x1a8u);
  }
  const ElfCoreProgramHeader& vmcoreinfo = info->phdrs[4];
  EXPECT_EQ(vmcoreinfo.type, kPtNote);
  EXPECT_EQ(vmcoreinfo.offset, 0x3a4e000u);
  EXPECT_EQ(vmcoreinfo.memsz, 0x1000u);

  const ElfCoreProgramHeader& text = info->phdrs[5];
  EXPECT_EQ(text.type, kPtLoad);
  EXPECT_EQ(text.flags, kPfR | kPfW | kPfX);
  EXPECT_EQ(text.vaddr, kTextVaddr);
  EXPECT_EQ(text.paddr, 0x1000000u);
  EXPECT_EQ(text.offset, 0x1000000u);
  EXPECT_EQ(text.filesz, 0x2c00000u);
  EXPECT_EQ(text.align, 0u);

  for (size_t i = 0; i < 3; ++i) {
    const ElfCoreProgramHeader& p = info->phdrs[6 + i];
    EXPECT_EQ(p.type, kPtLoad);
    EXPECT_EQ(p.flags, kPfR | kPfW | kPfX);
    EXPECT_EQ(p.paddr, spec.ram[i].start);
    EXPECT_EQ(p.offset, spec.ram[i].start);
    EXPECT_EQ(p.vaddr, kPageOffset + spec.ram[i].start);
    EXPECT_EQ(p.filesz, spec.ram[i].size);
    EXPECT_EQ(p.memsz, spec.ram[i].size);
  }

  absl::StatusOr<std::vector<ElfCoreProgramHeader>> expected = ElfCoreProgramHeaders(spec);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(info->phdrs, *expected);
}

TEST(ElfCoreTest, NoRamRangesStillValid) {
  ElfCoreSpec spec = SampleSpec();
  spec.ram.clear();
  absl::StatusOr<ElfCoreInfo> info = ParseElfCoreHeader(BuildOrDie(spec));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->phdrs.size(), 6u);
  EXPECT_EQ(info->load_count, 1u);
}

TEST(ElfCoreTest, ManyRangesSpanSeveralPages) {
  ElfCoreSpec spec = SampleSpec();
  spec.ram.clear();
  for (uint64_t i = 0; i < 300; ++i) {
    spec.ram.push_back({0x100000000 + i * 0x10000000, 0x8000000});
  }
  const std::vector<uint8_t> bytes = BuildOrDie(spec);
  EXPECT_EQ(bytes.size(), ElfCoreHeaderSize(306));
  absl::StatusOr<ElfCoreInfo> info = ParseElfCoreHeader(bytes);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->phdrs.size(), 306u);
  const uint64_t last = 0x100000000 + uint64_t{299} * 0x10000000;
  EXPECT_EQ(info->phdrs[305].paddr, last);
  EXPECT_EQ(info->phdrs[305].vaddr, kPageOffset + last);
}

// binutils' readelf is an independent reader of the same bytes.
TEST(ElfCoreTest, ReadelfAgrees) {
  const std::vector<uint8_t> bytes = BuildOrDie(SampleSpec());
  const std::string path = ::testing::TempDir() + "/elfcorehdr.bin";
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  ASSERT_EQ(fclose(f), 0);

  const std::string cmd = "/usr/bin/readelf -h -l -W " + path + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  remove(path.c_str());
  ASSERT_EQ(rc, 0) << out;

  EXPECT_TRUE(absl::StrContains(out, "CORE (Core file)")) << out;
  EXPECT_TRUE(absl::StrContains(out, "Advanced Micro Devices X86-64")) << out;
  EXPECT_TRUE(absl::StrContains(out, "ELF64")) << out;
  EXPECT_TRUE(absl::StrContains(out, "little endian")) << out;
  EXPECT_TRUE(absl::StrContains(out, "Number of program headers:         9")) << out;
  // The second RAM range: offset/paddr 0x100000, vaddr page_offset+0x100000,
  // size 0x5ff00000, in readelf -W's 64-bit columns.
  EXPECT_TRUE(absl::StrContains(out,
                                "LOAD           0x100000 0xffff888000100000 0x0000000000100000 "
                                "0x5ff00000 0x5ff00000 RWE 0"))
      << out;
  // The kernel text mapping.
  EXPECT_TRUE(absl::StrContains(out,
                                "LOAD           0x1000000 0xffffffff81000000 0x0000000001000000 "
                                "0x2c00000 0x2c00000 RWE 0"))
      << out;
  // One NOTE line per CPU plus VMCOREINFO.
  size_t notes = 0;
  for (size_t pos = 0; (pos = out.find("\n  NOTE ", pos)) != std::string::npos; ++pos) {
    ++notes;
  }
  EXPECT_EQ(notes, 5u) << out;
}

// --- Builder errors.

TEST(ElfCoreBuildTest, NoCpuNotes) {
  ElfCoreSpec spec = SampleSpec();
  spec.cpu_crash_notes.clear();
  ExpectBuildError(spec, "cpu_crash_notes");
}

TEST(ElfCoreBuildTest, EmptyCpuNote) {
  ElfCoreSpec spec = SampleSpec();
  spec.cpu_crash_notes[1].size = 0;
  ExpectBuildError(spec, "cpu_crash_notes[1]");
}

TEST(ElfCoreBuildTest, CpuNoteWraps) {
  ElfCoreSpec spec = SampleSpec();
  spec.cpu_crash_notes[2].start = ~uint64_t{0} - 0x10;
  ExpectBuildError(spec, "cpu_crash_notes[2]");
}

TEST(ElfCoreBuildTest, EmptyVmcoreinfo) {
  ElfCoreSpec spec = SampleSpec();
  spec.vmcoreinfo_note.size = 0;
  ExpectBuildError(spec, "vmcoreinfo_note");
}

TEST(ElfCoreBuildTest, EmptyKernelText) {
  ElfCoreSpec spec = SampleSpec();
  spec.kernel_text.size = 0;
  ExpectBuildError(spec, "kernel_text");
}

TEST(ElfCoreBuildTest, KernelTextVaddrWraps) {
  ElfCoreSpec spec = SampleSpec();
  spec.kernel_text_vaddr = ~uint64_t{0} - 0x1000;
  ExpectBuildError(spec, "kernel_text_vaddr");
}

TEST(ElfCoreBuildTest, EmptyRamRange) {
  ElfCoreSpec spec = SampleSpec();
  spec.ram[2].size = 0;
  ExpectBuildError(spec, "ram[2]");
}

TEST(ElfCoreBuildTest, RamRangeWrapsPhysically) {
  ElfCoreSpec spec = SampleSpec();
  spec.ram[0] = {~uint64_t{0} - 0xfff, 0x2000};
  ExpectBuildError(spec, "ram[0]");
}

TEST(ElfCoreBuildTest, RamRangeWrapsVirtually) {
  ElfCoreSpec spec = SampleSpec();
  spec.ram[1] = {0x0000800000000000, 0x1000};  // 128 TiB + page_offset.
  ExpectBuildError(spec, "ram[1]");
}

TEST(ElfCoreBuildTest, TooManyProgramHeaders) {
  ElfCoreSpec spec = SampleSpec();
  // 4 CPU notes + VMCOREINFO + kernel text + RAM ranges.
  spec.ram.assign(0xfffe - 6, PhysRange{0x100000, 0x1000});
  EXPECT_TRUE(BuildElfCoreHeader(spec).ok());  // Exactly 0xfffe headers.
  spec.ram.push_back({0x100000, 0x1000});
  ExpectBuildError(spec, "ram");
}

// --- Parser errors on corrupted copies.

class ElfCoreParseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = BuildOrDie(SampleSpec());
    ASSERT_TRUE(ParseElfCoreHeader(bytes_).ok());
  }
  std::vector<uint8_t> bytes_;
};

TEST_F(ElfCoreParseTest, TooSmall) {
  bytes_.resize(63);
  absl::StatusOr<ElfCoreInfo> info = ParseElfCoreHeader(bytes_);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::StrContains(info.status().message(), "too small"));
}

TEST_F(ElfCoreParseTest, BadMagic) {
  bytes_[1] = 'e';
  ExpectParseError(bytes_, "e_ident");
}

TEST_F(ElfCoreParseTest, Class32) {
  bytes_[kEiClass] = 1;
  ExpectParseError(bytes_, "EI_CLASS");
}

TEST_F(ElfCoreParseTest, BigEndian) {
  bytes_[kEiData] = 2;
  ExpectParseError(bytes_, "EI_DATA");
}

TEST_F(ElfCoreParseTest, IdentVersion) {
  bytes_[kEiVersion] = 0;
  ExpectParseError(bytes_, "EI_VERSION");
}

TEST_F(ElfCoreParseTest, NotACore) {
  Poke<uint16_t>(&bytes_, 16, 2);  // ET_EXEC
  ExpectParseError(bytes_, "e_type");
}

TEST_F(ElfCoreParseTest, WrongMachine) {
  Poke<uint16_t>(&bytes_, 18, 3);  // EM_386
  ExpectParseError(bytes_, "e_machine");
}

TEST_F(ElfCoreParseTest, WrongVersion) {
  Poke<uint32_t>(&bytes_, 20, 2);
  ExpectParseError(bytes_, "e_version");
}

TEST_F(ElfCoreParseTest, WrongEhsize) {
  Poke<uint16_t>(&bytes_, 52, 52);
  ExpectParseError(bytes_, "e_ehsize");
}

TEST_F(ElfCoreParseTest, WrongPhentsize) {
  Poke<uint16_t>(&bytes_, 54, 32);
  ExpectParseError(bytes_, "e_phentsize");
}

TEST_F(ElfCoreParseTest, PhoffOutOfBounds) {
  Poke<uint64_t>(&bytes_, 32, uint64_t{1} << 40);
  ExpectParseError(bytes_, "e_phoff");
  Poke<uint64_t>(&bytes_, 32, ~uint64_t{0});
  ExpectParseError(bytes_, "e_phoff");
}

TEST_F(ElfCoreParseTest, PhoffNotRightAfterHeader) {
  // In bounds, but vmcore.c would read the table at 64 anyway.
  Poke<uint64_t>(&bytes_, 32, 128);
  ExpectParseError(bytes_, "e_phoff");
}

TEST_F(ElfCoreParseTest, PhnumZero) {
  Poke<uint16_t>(&bytes_, 56, 0);
  ExpectParseError(bytes_, "e_phnum");
}

TEST_F(ElfCoreParseTest, PhnumXnum) {
  Poke<uint16_t>(&bytes_, 56, 0xffff);
  ExpectParseError(bytes_, "e_phnum");
}

TEST_F(ElfCoreParseTest, PhnumOverflowsBuffer) {
  Poke<uint16_t>(&bytes_, 56, 73);  // 64 + 73 * 56 > 4096.
  ExpectParseError(bytes_, "e_phnum");
  Poke<uint16_t>(&bytes_, 56, 0xfffe);
  ExpectParseError(bytes_, "e_phnum");
}

TEST_F(ElfCoreParseTest, TruncatedTable) {
  bytes_.resize(PhdrAt(9) - 1);
  ExpectParseError(bytes_, "e_phnum");
  // Exactly the table, without padding: accepted.
  std::vector<uint8_t> exact = BuildOrDie(SampleSpec());
  exact.resize(PhdrAt(9));
  EXPECT_TRUE(ParseElfCoreHeader(exact).ok());
}

TEST_F(ElfCoreParseTest, UnknownProgramHeaderType) {
  Poke<uint32_t>(&bytes_, PhdrAt(3), 6);  // PT_PHDR
  ExpectParseError(bytes_, "phdr[3].p_type");
}

TEST_F(ElfCoreParseTest, ZeroMemsz) {
  Poke<uint64_t>(&bytes_, PhdrAt(7) + 32, 0);
  Poke<uint64_t>(&bytes_, PhdrAt(7) + 40, 0);
  ExpectParseError(bytes_, "phdr[7].p_memsz");
}

TEST_F(ElfCoreParseTest, FileszDiffersFromMemsz) {
  Poke<uint64_t>(&bytes_, PhdrAt(6) + 32, 0x1000);
  ExpectParseError(bytes_, "phdr[6].p_filesz");
}

TEST_F(ElfCoreParseTest, OffsetDiffersFromPaddr) {
  Poke<uint64_t>(&bytes_, PhdrAt(0) + 8, 0x1234);
  ExpectParseError(bytes_, "phdr[0].p_offset");
}

TEST_F(ElfCoreParseTest, PaddrWraps) {
  const uint64_t near_top = ~uint64_t{0} - 0x10;
  Poke<uint64_t>(&bytes_, PhdrAt(8) + 8, near_top);
  Poke<uint64_t>(&bytes_, PhdrAt(8) + 24, near_top);
  ExpectParseError(bytes_, "phdr[8].p_paddr");
}

TEST_F(ElfCoreParseTest, VaddrWraps) {
  Poke<uint64_t>(&bytes_, PhdrAt(5) + 16, ~uint64_t{0} - 0x10);
  ExpectParseError(bytes_, "phdr[5].p_vaddr");
}

// --- Properties.

TEST(ElfCorePropertyTest, RandomSpecsRoundTrip) {
  std::mt19937_64 rng(0xe1fc0de);
  for (int iter = 0; iter < 1000; ++iter) {
    ElfCoreSpec spec;
    const size_t cpus = 1 + rng() % 64;
    for (size_t i = 0; i < cpus; ++i) {
      spec.cpu_crash_notes.push_back({rng() >> 8, 1 + rng() % 0x1000});
    }
    spec.vmcoreinfo_note = {rng() >> 8, 1 + rng() % 0x2000};
    spec.kernel_text = {rng() >> 8, 1 + (rng() >> 20)};
    spec.kernel_text_vaddr = rng() >> 1;
    spec.page_offset = rng() >> 1;
    const size_t ranges = rng() % 200;
    for (size_t i = 0; i < ranges; ++i) {
      spec.ram.push_back({rng() >> 3, 1 + (rng() >> 3)});
    }
    absl::StatusOr<std::vector<uint8_t>> bytes = BuildElfCoreHeader(spec);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_EQ(bytes->size() % kElfCoreHeaderAlign, 0u);
    ASSERT_EQ(bytes->size(), ElfCoreHeaderSize(cpus + 2 + ranges));
    absl::StatusOr<ElfCoreInfo> info = ParseElfCoreHeader(*bytes);
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_EQ(info->note_count, cpus + 1);
    ASSERT_EQ(info->load_count, ranges + 1);
    absl::StatusOr<std::vector<ElfCoreProgramHeader>> expected = ElfCoreProgramHeaders(spec);
    ASSERT_TRUE(expected.ok());
    ASSERT_EQ(info->phdrs, *expected);
    for (size_t i = 0; i < ranges; ++i) {
      const ElfCoreProgramHeader& p = info->phdrs[cpus + 2 + i];
      ASSERT_EQ(p.paddr, spec.ram[i].start);
      ASSERT_EQ(p.vaddr, spec.page_offset + spec.ram[i].start);
      ASSERT_EQ(p.memsz, spec.ram[i].size);
    }
  }
}

TEST(ElfCorePropertyTest, RandomCorruptionNeverCrashes) {
  std::mt19937_64 rng(0xbadc0de);
  const std::vector<uint8_t> pristine = BuildOrDie(SampleSpec());
  std::vector<uint8_t> bytes = pristine;
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    // Undo the previous iteration's flips (all inside the table).
    memcpy(bytes.data(), pristine.data(), PhdrAt(9));
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      bytes[rng() % PhdrAt(9)] = static_cast<uint8_t>(rng());
    }
    const size_t len = rng() % 4 == 0 ? rng() % bytes.size() : bytes.size();
    absl::StatusOr<ElfCoreInfo> info =
        ParseElfCoreHeader(absl::MakeConstSpan(bytes).subspan(0, len));
    if (!info.ok()) {
      ASSERT_TRUE(absl::StartsWith(info.status().message(), "ELF core header")) << info.status();
      continue;
    }
    ++accepted;
    ASSERT_LE(info->header_bytes, len);
    ASSERT_EQ(info->phdrs.size(), info->note_count + info->load_count);
    for (const ElfCoreProgramHeader& p : info->phdrs) {
      ASSERT_TRUE(p.type == kPtNote || p.type == kPtLoad);
      ASSERT_EQ(p.offset, p.paddr);
      ASSERT_EQ(p.filesz, p.memsz);
      ASSERT_NE(p.memsz, 0u);
      ASSERT_LE(p.paddr, ~uint64_t{0} - p.memsz);
    }
  }
  EXPECT_GT(accepted, 100);
}

}  // namespace
}  // namespace saveoops
