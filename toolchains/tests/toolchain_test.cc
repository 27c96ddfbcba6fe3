// Checks that every declared toolchain is the one that built our code: the
// host compiler by its predefined macros and resolved path, the freestanding
// and UEFI toolchains by the headers and embedded version string of what
// they produced.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

constexpr char kPinnedVersion[] = "14.0.6";

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string Probe(const std::vector<uint8_t>& bytes) {
  static const char kTag[] = "saveoops-toolchain-probe:";
  const std::string haystack(bytes.begin(), bytes.end());
  size_t at = haystack.find(kTag);
  if (at == std::string::npos) return "";
  return std::string(haystack.c_str() + at);
}

template <typename T>
T Load(const std::vector<uint8_t>& b, size_t off) {
  T v{};
  if (off + sizeof(T) <= b.size()) std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

TEST(HostToolchain, IsPinnedClang) {
#if !defined(__clang__) || defined(__GNUC__) && !defined(__clang__)
  FAIL() << "host code must be compiled by clang";
#endif
  EXPECT_EQ(__clang_major__, 14);
  EXPECT_EQ(std::string(__clang_version__).find(kPinnedVersion), 0u) << __clang_version__;
  EXPECT_EQ(__cplusplus, 201703L) << "host code is C++17";
}

std::string Text(const std::string& path) {
  const std::vector<uint8_t> b = ReadFile(path);
  return std::string(b.begin(), b.end());
}

// Toolchain resolution must pick our declared toolchain, with its pinned
// absolute tool paths, for each of the three platforms.
TEST(Resolution, PicksDeclaredToolchainPerPlatform) {
  EXPECT_EQ(Text("toolchains/tests/resolved.txt"),
            "compiler=/usr/lib/llvm-14/bin/clang++\n"
            "target=x86_64-linux-gnu\n"
            "linker=/usr/lib/llvm-14/bin/ld.lld\n");
  EXPECT_EQ(Text("toolchains/tests/resolved_freestanding.txt"),
            "compiler=/usr/lib/llvm-14/bin/clang++\n"
            "target=x86_64-unknown-none-elf\n"
            "linker=/usr/lib/llvm-14/bin/ld.lld\n");
  EXPECT_EQ(Text("toolchains/tests/resolved_uefi.txt"),
            "compiler=/usr/lib/llvm-14/bin/clang++\n"
            "target=x86_64-unknown-windows\n"
            "linker=/usr/lib/llvm-14/bin/lld-link\n");
}

TEST(FreestandingToolchain, BuildsStaticX8664Elf) {
  const auto elf = ReadFile("toolchains/tests/freestanding_probe.elf");
  ASSERT_GE(elf.size(), 64u);
  EXPECT_EQ(std::memcmp(elf.data(),
                        "\x7f"
                        "ELF",
                        4),
            0);
  EXPECT_EQ(elf[4], 2) << "ELFCLASS64";
  EXPECT_EQ(elf[5], 1) << "little endian";
  EXPECT_EQ(Load<uint16_t>(elf, 18), 62) << "e_machine must be EM_X86_64";
  const std::string probe = Probe(elf);
  EXPECT_EQ(probe.rfind("saveoops-toolchain-probe:freestanding:clang 14.0.6", 0), 0u) << probe;
  // No program interpreter: a freestanding image has no dynamic loader.
  const uint64_t phoff = Load<uint64_t>(elf, 32);
  const uint16_t phentsize = Load<uint16_t>(elf, 54);
  const uint16_t phnum = Load<uint16_t>(elf, 56);
  for (uint16_t i = 0; i < phnum; ++i) {
    EXPECT_NE(Load<uint32_t>(elf, phoff + i * phentsize), 3u) << "PT_INTERP present";
  }
}

TEST(UefiToolchain, BuildsPe32PlusEfiApplication) {
  const auto pe = ReadFile("toolchains/tests/uefi_probe.efi");
  ASSERT_GE(pe.size(), 0x200u);
  EXPECT_EQ(pe[0], 'M');
  EXPECT_EQ(pe[1], 'Z');
  const uint32_t pe_off = Load<uint32_t>(pe, 0x3c);
  EXPECT_EQ(std::memcmp(pe.data() + pe_off, "PE\0\0", 4), 0);
  EXPECT_EQ(Load<uint16_t>(pe, pe_off + 4), 0x8664) << "IMAGE_FILE_MACHINE_AMD64";
  const size_t opt = pe_off + 24;
  EXPECT_EQ(Load<uint16_t>(pe, opt), 0x20b) << "PE32+ optional header magic";
  EXPECT_EQ(Load<uint16_t>(pe, opt + 68), 10) << "IMAGE_SUBSYSTEM_EFI_APPLICATION";
  const std::string probe = Probe(pe);
  EXPECT_EQ(probe.rfind("saveoops-toolchain-probe:uefi:clang 14.0.6", 0), 0u) << probe;
}

}  // namespace
