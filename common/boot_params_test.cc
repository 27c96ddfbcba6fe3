#include "common/boot_params.h"

#include <glob.h>
#include <string.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/bzimage.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

constexpr uint64_t kBlobAddr = 0x7f000000;

// The distro kernel (linux-image-amd64) every test machine has; its absence
// is a broken environment and fails the tests.
std::string FindBootKernel() {
  glob_t g;
  std::string path;
  if (glob("/boot/vmlinuz-*", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    path = g.gl_pathv[0];
  }
  globfree(&g);
  return path;
}

const LoadedBzImage* BootKernel() {
  static const LoadedBzImage* kernel = []() -> const LoadedBzImage* {
    const std::string path = FindBootKernel();
    if (path.empty()) return nullptr;
    absl::StatusOr<LoadedBzImage> loaded = LoadBzImage(path);
    if (!loaded.ok()) return nullptr;
    return new LoadedBzImage(*std::move(loaded));
  }();
  return kernel;
}

std::vector<BootE820Entry> MakeE820(size_t n) {
  std::vector<BootE820Entry> map;
  for (size_t i = 0; i < n; ++i) {
    BootE820Entry e;
    e.addr = 0x100000 + i * 0x200000;
    e.size = 0x1000 * (i + 1);
    e.type = i % 3 == 0 ? kE820Ram : kE820Reserved;
    map.push_back(e);
  }
  return map;
}

bool SameEntry(const BootE820Entry& a, const BootE820Entry& b) {
  return memcmp(&a, &b, sizeof(a)) == 0;
}

// What a kernel would find when reading a blob placed at `base`.
struct Decoded {
  BootParams bp;
  std::vector<BootE820Entry> e820;  // Zero page entries, then the nodes'.
  std::string cmdline;
  uint64_t cmdline_addr = 0;
  int setup_data_nodes = 0;
};

// Reads the blob the way the kernel does: the zero page, the setup_data
// chain by physical address, the command line by cmd_line_ptr. Every pointer
// must land inside the blob.
void Decode(const std::vector<uint8_t>& blob, uint64_t base, Decoded* out) {
  ASSERT_GE(blob.size(), sizeof(BootParams));
  memcpy(&out->bp, blob.data(), sizeof(BootParams));
  const BootParams& bp = out->bp;
  ASSERT_LE(bp.e820_entries, kE820MaxEntriesZeroPage);
  out->e820.assign(bp.e820_table, bp.e820_table + bp.e820_entries);

  uint64_t next = bp.hdr.setup_data;
  for (int guard = 0; next != 0; ++guard) {
    ASSERT_LT(guard, 16) << "setup_data chain loops";
    ASSERT_GE(next, base);
    const uint64_t off = next - base;
    ASSERT_LE(off + sizeof(SetupData), blob.size());
    SetupData node;
    memcpy(&node, blob.data() + off, sizeof(node));
    ASSERT_LE(off + sizeof(SetupData) + node.len, blob.size());
    ++out->setup_data_nodes;
    if (node.type == kSetupE820Ext) {
      ASSERT_EQ(node.len % sizeof(BootE820Entry), 0u);
      const size_t n = node.len / sizeof(BootE820Entry);
      for (size_t i = 0; i < n; ++i) {
        BootE820Entry e;
        memcpy(&e, blob.data() + off + sizeof(SetupData) + i * sizeof(e), sizeof(e));
        out->e820.push_back(e);
      }
    }
    next = node.next;
  }

  out->cmdline_addr = uint64_t{bp.hdr.cmd_line_ptr} | (uint64_t{bp.ext_cmd_line_ptr} << 32);
  ASSERT_GE(out->cmdline_addr, base);
  const uint64_t off = out->cmdline_addr - base;
  ASSERT_LT(off, blob.size());
  const void* nul = memchr(blob.data() + off, 0, blob.size() - off);
  ASSERT_NE(nul, nullptr) << "command line not NUL-terminated in the blob";
  out->cmdline.assign(reinterpret_cast<const char*>(blob.data() + off),
                      static_cast<const uint8_t*>(nul) - (blob.data() + off));
}

class BootParamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FindBootKernel().empty())
        << "no /boot/vmlinuz-* on this machine (package linux-image-amd64)";
    ASSERT_NE(BootKernel(), nullptr) << "cannot parse " << FindBootKernel();
    kernel_ = BootKernel()->info;
    spec_.kernel = &kernel_;
    spec_.cmdline = "console=ttyS0 elfcorehdr=0x7e000000 maxcpus=1";
    spec_.e820 = MakeE820(5);
    spec_.initrd_addr = 0x60000000;
    spec_.initrd_size = 0x1234567;
    spec_.acpi_rsdp_addr = 0xf5a30;
    spec_.blob_addr = kBlobAddr;
  }

  // Expects BuildBootParams(spec_) to fail naming `field`.
  void ExpectSpecError(absl::string_view field) {
    absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
    ASSERT_FALSE(blob.ok()) << "expected an error naming '" << field << "'";
    EXPECT_EQ(blob.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(blob.status().message(), absl::StrCat("'", field, "'")))
        << blob.status().message();
  }

  BzImageInfo kernel_;
  BootParamsSpec spec_;
};

TEST(BootParamsLayoutTest, Sizes) {
  EXPECT_EQ(BootParamsBlobSize(0, 1), 4096u + 1);
  EXPECT_EQ(BootParamsBlobSize(10, 128), 4096u + 11);
  EXPECT_EQ(BootParamsBlobSize(10, 129), 4096u + 16 + 20 + 11);
  EXPECT_EQ(BootParamsBlobSize(100, 300), 7653u);  // The header's example.
  const BootParamsLayout l = BootParamsBlobLayout(100, 300);
  EXPECT_EQ(l.e820_ext_offset, 4096u);
  EXPECT_EQ(l.e820_ext_size, 16u + 172 * 20);
  EXPECT_EQ(l.cmdline_offset, 0x1d80u);
  const BootParamsLayout small = BootParamsBlobLayout(7, 128);
  EXPECT_EQ(small.e820_ext_size, 0u);
  EXPECT_EQ(small.cmdline_offset, 4096u);
}

TEST_F(BootParamsTest, EveryFieldOnTheDistroKernel) {
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  ASSERT_EQ(blob->size(), BootParamsBlobSize(spec_.cmdline.size(), 5));
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*blob, kBlobAddr, &d));
  const BootParams& bp = d.bp;

  EXPECT_EQ(d.cmdline, spec_.cmdline);
  EXPECT_EQ(d.cmdline_addr, kBlobAddr + 4096);
  EXPECT_EQ(uint32_t{bp.ext_cmd_line_ptr}, 0u);
  EXPECT_EQ(uint32_t{bp.hdr.ramdisk_image}, 0x60000000u);
  EXPECT_EQ(uint32_t{bp.hdr.ramdisk_size}, 0x1234567u);
  EXPECT_EQ(uint32_t{bp.ext_ramdisk_image}, 0u);
  EXPECT_EQ(uint32_t{bp.ext_ramdisk_size}, 0u);
  EXPECT_EQ(uint64_t{bp.acpi_rsdp_addr}, 0xf5a30u);
  EXPECT_EQ(bp.hdr.type_of_loader, 0xff);
  EXPECT_EQ(bp.hdr.ext_loader_type, 0);
  EXPECT_EQ(bp.hdr.ext_loader_ver, 0);
  EXPECT_EQ(bp.hdr.loadflags, kLoadedHigh);
  EXPECT_EQ(uint16_t{bp.hdr.heap_end_ptr}, 0);
  EXPECT_EQ(uint64_t{bp.hdr.setup_data}, 0u);
  EXPECT_EQ(bp.sentinel, 0);
  EXPECT_EQ(d.setup_data_nodes, 0);
  EXPECT_EQ(bp.e820_entries, 5);
  ASSERT_EQ(d.e820.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(SameEntry(d.e820[i], spec_.e820[i])) << i;
  }

  // The setup header is the image's, byte for byte, except the fields a
  // loader writes.
  std::set<size_t> written;
  auto mark = [&](size_t off, size_t len) {
    for (size_t i = 0; i < len; ++i) written.insert(off + i);
  };
  mark(0x210, 2);  // type_of_loader, loadflags
  mark(0x218, 8);  // ramdisk_image, ramdisk_size
  mark(0x224, 4);  // heap_end_ptr, ext_loader_ver, ext_loader_type
  mark(0x228, 4);  // cmd_line_ptr
  mark(0x250, 8);  // setup_data
  const std::vector<uint8_t>& image = BootKernel()->bytes;
  const size_t header_end = kernel_.setup_header_end;
  for (size_t off = 0x1f1; off < header_end; ++off) {
    if (written.count(off) != 0) continue;
    EXPECT_EQ((*blob)[off], image[off]) << "zero page byte 0x" << std::hex << off;
  }
  // boot_flag, HdrS, version and xloadflags made it across.
  EXPECT_EQ(uint16_t{bp.hdr.boot_flag}, kBootFlagMagic);
  EXPECT_EQ(uint32_t{bp.hdr.header}, kSetupHeaderMagic);
  EXPECT_EQ(uint16_t{bp.hdr.version}, kernel_.protocol_version);
  EXPECT_EQ(uint16_t{bp.hdr.xloadflags}, kernel_.xloadflags);

  // Everything else in the page is zero.
  std::set<size_t> set_outside_header;
  for (size_t i = 0x070; i < 0x078; ++i) set_outside_header.insert(i);
  for (size_t i = 0x0c0; i < 0x0cc; ++i) set_outside_header.insert(i);
  set_outside_header.insert(0x1e8);
  for (size_t i = 0x2d0; i < 0x2d0 + 5 * 20; ++i) set_outside_header.insert(i);
  for (size_t off = 0; off < 4096; ++off) {
    if (off >= 0x1f1 && off < header_end) continue;
    if (set_outside_header.count(off) != 0) continue;
    EXPECT_EQ((*blob)[off], 0) << "zero page byte 0x" << std::hex << off;
  }
  EXPECT_EQ(blob->back(), 0);  // The command line's NUL ends the blob.
}

TEST_F(BootParamsTest, ExtendedLoaderType) {
  spec_.type_of_loader = kLoaderTypeExtended | 0x4;
  spec_.ext_loader_type = 0x05;
  spec_.ext_loader_ver = 0x23;
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ((*blob)[0x210], 0xe4);
  EXPECT_EQ((*blob)[0x227], 0x05);
  EXPECT_EQ((*blob)[0x226], 0x23);
}

TEST_F(BootParamsTest, LoaderFlagsAreClearedExceptLoadedHigh) {
  std::vector<uint8_t> hdr = kernel_.setup_header_bytes;
  hdr[0x211 - 0x1f1] = kLoadedHigh | kKaslrFlag | kQuietFlag | kKeepSegments | kCanUseHeap;
  kernel_.setup_header_bytes = hdr;
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ((*blob)[0x211], kLoadedHigh);
}

TEST_F(BootParamsTest, Exactly128EntriesFitTheZeroPage) {
  spec_.e820 = MakeE820(128);
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(blob->size(), 4096 + spec_.cmdline.size() + 1);
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*blob, kBlobAddr, &d));
  EXPECT_EQ(d.bp.e820_entries, 128);
  EXPECT_EQ(uint64_t{d.bp.hdr.setup_data}, 0u);
  EXPECT_EQ(d.setup_data_nodes, 0);
  ASSERT_EQ(d.e820.size(), 128u);
  for (size_t i = 0; i < 128; ++i) {
    EXPECT_TRUE(SameEntry(d.e820[i], spec_.e820[i])) << i;
  }
}

TEST_F(BootParamsTest, Entry129GoesToASetupE820ExtNode) {
  spec_.e820 = MakeE820(129);
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(blob->size(), 4096 + 16 + 20 + spec_.cmdline.size() + 1);
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*blob, kBlobAddr, &d));
  EXPECT_EQ(d.bp.e820_entries, 128);
  EXPECT_EQ(uint64_t{d.bp.hdr.setup_data}, kBlobAddr + 4096);
  SetupData node;
  memcpy(&node, blob->data() + 4096, sizeof(node));
  EXPECT_EQ(uint64_t{node.next}, 0u);
  EXPECT_EQ(uint32_t{node.type}, kSetupE820Ext);
  EXPECT_EQ(uint32_t{node.len}, 20u);
  EXPECT_EQ(d.setup_data_nodes, 1);
  ASSERT_EQ(d.e820.size(), 129u);
  for (size_t i = 0; i < 129; ++i) {
    EXPECT_TRUE(SameEntry(d.e820[i], spec_.e820[i])) << i;
  }
  EXPECT_EQ(d.cmdline, spec_.cmdline);
  EXPECT_EQ(d.cmdline_addr, kBlobAddr + 4096 + 16 + 20);
}

TEST_F(BootParamsTest, ThreeHundredEntries) {
  spec_.e820 = MakeE820(300);
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(blob->size(), BootParamsBlobSize(spec_.cmdline.size(), 300));
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*blob, kBlobAddr, &d));
  EXPECT_EQ(d.bp.e820_entries, 128);
  SetupData node;
  memcpy(&node, blob->data() + 4096, sizeof(node));
  EXPECT_EQ(uint32_t{node.len}, 172u * 20);
  ASSERT_EQ(d.e820.size(), 300u);
  for (size_t i = 0; i < 300; ++i) {
    EXPECT_TRUE(SameEntry(d.e820[i], spec_.e820[i])) << i;
  }
  EXPECT_EQ(d.cmdline, spec_.cmdline);
}

TEST_F(BootParamsTest, BlobAndInitrdAbove4GiBSplitIntoExtFields) {
  ASSERT_NE(kernel_.xloadflags & kXlfCanBeLoadedAbove4G, 0);
  spec_.blob_addr = 0x1234567000;
  spec_.initrd_addr = 0x2345678000;
  spec_.initrd_size = 0x1'8000'0000;  // 6 GiB: the size has a high half too.
  spec_.e820 = MakeE820(130);
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*blob, spec_.blob_addr, &d));
  const uint64_t cmdline_addr = 0x1234567000 + 4096 + 16 + 2 * 20;
  EXPECT_EQ(uint32_t{d.bp.hdr.cmd_line_ptr}, cmdline_addr & 0xffffffff);
  EXPECT_EQ(uint32_t{d.bp.ext_cmd_line_ptr}, cmdline_addr >> 32);
  EXPECT_EQ(uint32_t{d.bp.hdr.ramdisk_image}, 0x45678000u);
  EXPECT_EQ(uint32_t{d.bp.ext_ramdisk_image}, 0x23u);
  EXPECT_EQ(uint32_t{d.bp.hdr.ramdisk_size}, 0x80000000u);
  EXPECT_EQ(uint32_t{d.bp.ext_ramdisk_size}, 1u);
  EXPECT_EQ(uint64_t{d.bp.hdr.setup_data}, 0x1234567000u + 4096);
  EXPECT_EQ(d.cmdline, spec_.cmdline);
  EXPECT_EQ(d.e820.size(), 130u);
}

TEST_F(BootParamsTest, CopiesOnlyUpToTheHeaderEndTheJumpGives) {
  // Make the image a protocol-2.12-shaped header (ending at 0x268) whose
  // next 4 bytes are non-zero setup code: they must not reach boot_params.
  std::vector<uint8_t> image = BootKernel()->bytes;
  image[0x201] = 0x66;
  const uint8_t code[4] = {0x90, 0x90, 0xeb, 0xfe};
  memcpy(image.data() + 0x268, code, sizeof(code));
  absl::StatusOr<BzImageInfo> info = ParseBzImage(image);
  ASSERT_TRUE(info.ok()) << info.status();
  kernel_ = *info;
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  for (size_t off = 0x268; off < 0x290; ++off) {
    EXPECT_EQ((*blob)[off], 0) << std::hex << off;
  }
  EXPECT_EQ((*blob)[0x267], image[0x267]);
}

TEST_F(BootParamsTest, CmdlineAtTheLimit) {
  spec_.cmdline = std::string(kernel_.cmdline_size, 'x');
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*blob, kBlobAddr, &d));
  EXPECT_EQ(d.cmdline, spec_.cmdline);
}

TEST_F(BootParamsTest, EmptyCmdline) {
  spec_.cmdline.clear();
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*blob, kBlobAddr, &d));
  EXPECT_EQ(d.cmdline, "");
  // cmd_line_ptr is never 0: the kernel would take 0 for "pre-2.02 loader".
  EXPECT_NE(uint32_t{d.bp.hdr.cmd_line_ptr}, 0u);
}

TEST_F(BootParamsTest, NoInitrd) {
  spec_.initrd_addr = 0;
  spec_.initrd_size = 0;
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
  ASSERT_TRUE(blob.ok()) << blob.status();
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*blob, kBlobAddr, &d));
  EXPECT_EQ(uint32_t{d.bp.hdr.ramdisk_image}, 0u);
  EXPECT_EQ(uint32_t{d.bp.hdr.ramdisk_size}, 0u);
}

// --- Errors, one per rule.

TEST_F(BootParamsTest, NullKernel) {
  spec_.kernel = nullptr;
  ExpectSpecError("kernel");
}

TEST_F(BootParamsTest, MalformedHeaderCopy) {
  kernel_.setup_header_bytes.resize(0x40);
  ExpectSpecError("kernel");
}

TEST_F(BootParamsTest, CmdlineTooLong) {
  spec_.cmdline = std::string(kernel_.cmdline_size + 1, 'x');
  ExpectSpecError("cmdline");
}

TEST_F(BootParamsTest, CmdlineWithNul) {
  spec_.cmdline = std::string("console=ttyS0\0 quiet", 20);
  ExpectSpecError("cmdline");
  EXPECT_TRUE(absl::StrContains(BuildBootParams(spec_).status().message(), "offset 13"));
}

TEST_F(BootParamsTest, EmptyE820) {
  spec_.e820.clear();
  ExpectSpecError("e820");
}

TEST_F(BootParamsTest, E820EntryWraps) {
  spec_.e820[3].addr = ~uint64_t{0} - 0xfff;
  spec_.e820[3].size = 0x2000;
  ExpectSpecError("e820[3]");
}

TEST_F(BootParamsTest, InitrdAboveInitrdAddrMaxWithoutXlf) {
  kernel_.xloadflags &= ~kXlfCanBeLoadedAbove4G;
  spec_.initrd_addr = uint64_t{kernel_.initrd_addr_max} + 1 - 0x1000;
  spec_.initrd_size = 0x1000;  // Last byte == initrd_addr_max: fine.
  ASSERT_TRUE(BuildBootParams(spec_).ok());
  spec_.initrd_size = 0x1001;  // One byte over.
  ExpectSpecError("initrd");
  EXPECT_TRUE(absl::StrContains(BuildBootParams(spec_).status().message(), "initrd_addr_max"));
  // With the flag the same placement is fine.
  kernel_.xloadflags |= kXlfCanBeLoadedAbove4G;
  EXPECT_TRUE(BuildBootParams(spec_).ok());
}

TEST_F(BootParamsTest, InitrdHalfSpecified) {
  spec_.initrd_size = 0;
  ExpectSpecError("initrd");
  spec_.initrd_size = 0x1000;
  spec_.initrd_addr = 0;
  ExpectSpecError("initrd");
}

TEST_F(BootParamsTest, InitrdWraps) {
  spec_.initrd_addr = ~uint64_t{0} - 0xfff;
  spec_.initrd_size = 0x2000;
  ExpectSpecError("initrd");
}

TEST_F(BootParamsTest, BlobAddrUnaligned) {
  spec_.blob_addr = kBlobAddr + 0x800;
  ExpectSpecError("blob_addr");
}

TEST_F(BootParamsTest, BlobAddrZero) {
  spec_.blob_addr = 0;
  ExpectSpecError("blob_addr");
}

TEST_F(BootParamsTest, BlobAddrWraps) {
  spec_.blob_addr = ~uint64_t{0} - 0xfff;  // Aligned, but 4 KiB + cmdline.
  ExpectSpecError("blob_addr");
}

TEST_F(BootParamsTest, BlobAbove4GiBWithoutXlf) {
  kernel_.xloadflags &= ~kXlfCanBeLoadedAbove4G;
  // The page fits below 4 GiB but the command line after it does not.
  spec_.blob_addr = 0x100000000 - 0x1000;
  ExpectSpecError("blob_addr");
  spec_.blob_addr = 0x100000000 - 0x2000;
  EXPECT_TRUE(BuildBootParams(spec_).ok());
  spec_.blob_addr = 0x100000000;
  ExpectSpecError("blob_addr");
}

TEST_F(BootParamsTest, TypeOfLoaderZero) {
  spec_.type_of_loader = 0;
  ExpectSpecError("type_of_loader");
}

// --- Property: random specs round-trip through the kernel's view.
TEST_F(BootParamsTest, RandomSpecsRoundTrip) {
  std::mt19937_64 rng(0xb007);
  for (int iter = 0; iter < 400; ++iter) {
    const size_t n = 1 + rng() % 400;
    spec_.e820.clear();
    for (size_t i = 0; i < n; ++i) {
      BootE820Entry e;
      e.addr = rng() >> 1;
      e.size = rng() >> 2;
      e.type = static_cast<uint32_t>(rng() % 13);
      spec_.e820.push_back(e);
    }
    spec_.cmdline.assign(rng() % (kernel_.cmdline_size + 1), 'a');
    for (char& c : spec_.cmdline) c = static_cast<char>(' ' + rng() % 95);
    spec_.blob_addr = (1 + rng() % 0xffffff) << 12;  // Up to 64 GiB.
    spec_.initrd_addr = rng() % 2 == 0 ? 0 : (1 + rng() % 0xfffff) << 12;
    spec_.initrd_size = spec_.initrd_addr == 0 ? 0 : 1 + rng() % (1u << 30);
    spec_.acpi_rsdp_addr = rng();
    absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec_);
    ASSERT_TRUE(blob.ok()) << blob.status();
    ASSERT_EQ(blob->size(), BootParamsBlobSize(spec_.cmdline.size(), n));
    Decoded d;
    ASSERT_NO_FATAL_FAILURE(Decode(*blob, spec_.blob_addr, &d));
    ASSERT_EQ(d.cmdline, spec_.cmdline);
    ASSERT_EQ(d.e820.size(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(SameEntry(d.e820[i], spec_.e820[i])) << i;
    }
    ASSERT_EQ(d.setup_data_nodes, n > 128 ? 1 : 0);
    ASSERT_EQ(uint64_t{d.bp.hdr.ramdisk_image} | (uint64_t{d.bp.ext_ramdisk_image} << 32),
              spec_.initrd_addr);
    ASSERT_EQ(uint64_t{d.bp.hdr.ramdisk_size} | (uint64_t{d.bp.ext_ramdisk_size} << 32),
              spec_.initrd_size);
    ASSERT_EQ(uint64_t{d.bp.acpi_rsdp_addr}, spec_.acpi_rsdp_addr);
  }
}

}  // namespace
}  // namespace saveoops
