#include "common/bzimage.h"

#include <glob.h>
#include <stdio.h>
#include <string.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

// The distro kernel every test machine has (linux-image-amd64, see
// DESIGN.md). Its absence is a broken environment, so tests fail on it.
std::string FindBootKernel() {
  glob_t g;
  std::string path;
  if (glob("/boot/vmlinuz-*", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    path = g.gl_pathv[0];
  }
  globfree(&g);
  return path;
}

// The real kernel's bytes, read once for the whole test binary.
const std::vector<uint8_t>& BootKernelBytes() {
  static const std::vector<uint8_t>* bytes = [] {
    auto* v = new std::vector<uint8_t>;
    const std::string path = FindBootKernel();
    if (path.empty()) return v;
    absl::StatusOr<LoadedBzImage> loaded = LoadBzImage(path);
    if (loaded.ok()) *v = std::move(loaded->bytes);
    return v;
  }();
  return *bytes;
}

class BootKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FindBootKernel().empty())
        << "no /boot/vmlinuz-* on this machine (package linux-image-amd64)";
    ASSERT_GT(BootKernelBytes().size(), 0x10000u) << "could not load " << FindBootKernel();
    image_ = BootKernelBytes();
  }

  template <typename T>
  void Poke(size_t offset, T value) {
    ASSERT_LE(offset + sizeof(T), image_.size());
    memcpy(image_.data() + offset, &value, sizeof(T));
  }
  template <typename T>
  T Peek(size_t offset) const {
    T v;
    memcpy(&v, image_.data() + offset, sizeof(T));
    return v;
  }
  size_t SetupSize() const { return (size_t{Peek<uint8_t>(0x1f1)} + 1) * 512; }

  // Asserts that parsing fails and the message quotes `field`.
  void ExpectFieldError(absl::string_view field) {
    absl::StatusOr<BzImageInfo> info = ParseBzImage(image_);
    ASSERT_FALSE(info.ok()) << "expected an error naming '" << field << "'";
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(info.status().message(), absl::StrCat("'", field, "'")))
        << info.status().message();
    EXPECT_TRUE(absl::StartsWith(info.status().message(), "bzImage: ")) << info.status().message();
  }

  std::vector<uint8_t> image_;
};

TEST_F(BootKernelTest, ParsesTheDistroKernel) {
  absl::StatusOr<BzImageInfo> info = ParseBzImage(image_);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GE(info->protocol_version, 0x020f);
  EXPECT_TRUE(info->relocatable);
  EXPECT_NE(info->xloadflags & kXlfKernel64, 0);
  EXPECT_NE(info->xloadflags & kXlfCanBeLoadedAbove4G, 0);
  EXPECT_NE(info->loadflags & kLoadedHigh, 0);
  EXPECT_TRUE(absl::StartsWith(info->kernel_version, "6.")) << info->kernel_version;
  EXPECT_EQ(info->setup_sects, Peek<uint8_t>(0x1f1));
  EXPECT_EQ(info->setup_size_bytes, SetupSize());
  EXPECT_EQ(info->payload_offset, info->setup_size_bytes);
  EXPECT_EQ(info->payload_offset + info->payload_size, image_.size());
  EXPECT_LE(info->syssize_bytes, info->payload_size);
  EXPECT_GE(info->init_size, info->payload_size);
  EXPECT_EQ(info->kernel_alignment, Peek<uint32_t>(0x230));
  EXPECT_EQ(info->pref_address, Peek<uint64_t>(0x258));
  EXPECT_EQ(info->pref_address % info->kernel_alignment, 0u);
  EXPECT_EQ(info->cmdline_size, Peek<uint32_t>(0x238));
  EXPECT_EQ(info->initrd_addr_max, Peek<uint32_t>(0x22c));
  EXPECT_EQ(info->handover_offset, Peek<uint32_t>(0x264));
  EXPECT_EQ(info->kernel_info_offset, Peek<uint32_t>(0x268));
  EXPECT_EQ(info->min_alignment, Peek<uint8_t>(0x235));
  // Header bytes: exactly [0x1f1, 0x202 + jump displacement).
  EXPECT_EQ(info->setup_header_end, 0x202u + Peek<uint8_t>(0x201));
  ASSERT_EQ(info->setup_header_bytes.size(), info->setup_header_end - 0x1f1);
  EXPECT_EQ(0, memcmp(info->setup_header_bytes.data(), image_.data() + 0x1f1,
                      info->setup_header_bytes.size()));
  EXPECT_EQ(uint16_t{info->header.boot_flag}, kBootFlagMagic);
  EXPECT_EQ(uint32_t{info->header.header}, kSetupHeaderMagic);
  EXPECT_EQ(uint16_t{info->header.version}, info->protocol_version);
}

TEST_F(BootKernelTest, ReadBzImageFileMatchesParse) {
  absl::StatusOr<BzImageInfo> from_file = ReadBzImageFile(FindBootKernel());
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  absl::StatusOr<BzImageInfo> from_bytes = ParseBzImage(image_);
  ASSERT_TRUE(from_bytes.ok());
  EXPECT_EQ(from_file->kernel_version, from_bytes->kernel_version);
  EXPECT_EQ(from_file->payload_size, from_bytes->payload_size);
  EXPECT_EQ(from_file->setup_header_bytes, from_bytes->setup_header_bytes);
}

TEST(BzImageFileTest, MissingFileNamesThePath) {
  absl::StatusOr<BzImageInfo> info = ReadBzImageFile("/nonexistent/saveoops/vmlinuz");
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::StrContains(info.status().message(), "/nonexistent/saveoops/vmlinuz"))
      << info.status();
}

TEST(BzImageFileTest, ParseErrorNamesThePath) {
  const std::string path = ::testing::TempDir() + "/not_a_kernel";
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  fputs("hello", f);
  fclose(f);
  absl::StatusOr<BzImageInfo> info = ReadBzImageFile(path);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::StrContains(info.status().message(), path)) << info.status();
  EXPECT_TRUE(absl::StrContains(info.status().message(), "too small")) << info.status();
  remove(path.c_str());
}

// --- One test per validation rule, on corrupted copies of the real kernel.

TEST_F(BootKernelTest, TooSmallForSetupHeader) {
  image_.resize(0x26b);
  absl::StatusOr<BzImageInfo> info = ParseBzImage(image_);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::StrContains(info.status().message(), "setup header")) << info.status();
  EXPECT_TRUE(absl::StrContains(info.status().message(), "too small")) << info.status();
}

TEST_F(BootKernelTest, BadBootFlag) {
  Poke<uint16_t>(0x1fe, 0x55aa);
  ExpectFieldError("boot_flag");
}

TEST_F(BootKernelTest, BadHeaderMagic) {
  Poke<uint32_t>(0x202, 0x53726449);
  ExpectFieldError("header");
}

TEST_F(BootKernelTest, OldProtocolVersion) {
  Poke<uint16_t>(0x206, 0x020b);
  ExpectFieldError("version");
  EXPECT_TRUE(absl::StrContains(ParseBzImage(image_).status().message(), "0x020b"));
  Poke<uint16_t>(0x206, 0x020c);  // The oldest accepted version.
  EXPECT_TRUE(ParseBzImage(image_).ok());
}

TEST_F(BootKernelTest, JumpNotAShortJump) {
  Poke<uint8_t>(0x200, 0xe9);
  ExpectFieldError("jump");
}

TEST_F(BootKernelTest, JumpEndsHeaderBeforeHandoverOffset) {
  Poke<uint8_t>(0x201, 0x65);  // Ends at 0x267, one byte short.
  ExpectFieldError("jump");
  Poke<uint8_t>(0x201, 0x80);  // Negative displacement.
  ExpectFieldError("jump");
}

TEST_F(BootKernelTest, Protocol212HeaderEndsBeforeKernelInfoOffset) {
  Poke<uint8_t>(0x201, 0x66);  // Header ends at 0x268, as in protocol 2.12.
  absl::StatusOr<BzImageInfo> info = ParseBzImage(image_);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->setup_header_end, 0x268u);
  EXPECT_EQ(info->setup_header_bytes.size(), 0x268u - 0x1f1u);
  // The 4 bytes at 0x268 are code now, not kernel_info_offset.
  EXPECT_EQ(info->kernel_info_offset, 0u);
  EXPECT_EQ(uint32_t{info->header.kernel_info_offset}, 0u);
}

TEST_F(BootKernelTest, SetupSectsTooLarge) {
  Poke<uint8_t>(0x1f1, 64);
  ExpectFieldError("setup_sects");
}

TEST_F(BootKernelTest, SetupSectsTooSmall) {
  Poke<uint8_t>(0x1f1, 3);
  ExpectFieldError("setup_sects");
}

TEST_F(BootKernelTest, SetupAreaPastEndOfFile) {
  image_.resize(SetupSize() - 1);
  ExpectFieldError("setup_sects");
}

TEST_F(BootKernelTest, SetupSectsZeroMeansFour) {
  Poke<uint8_t>(0x1f1, 0);
  absl::StatusOr<BzImageInfo> info = ParseBzImage(image_);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->setup_sects, 4);
  EXPECT_EQ(info->setup_size_bytes, 5u * 512);
  EXPECT_EQ(info->payload_offset, 5u * 512);
  EXPECT_EQ(info->payload_size, image_.size() - 5 * 512);
  // The real version string lies beyond a 5-sector setup area.
  EXPECT_EQ(info->kernel_version, "");
}

TEST_F(BootKernelTest, SyssizeZero) {
  Poke<uint32_t>(0x1f4, 0);
  ExpectFieldError("syssize");
}

TEST_F(BootKernelTest, SyssizePastEndOfFile) {
  const size_t payload = image_.size() - SetupSize();
  Poke<uint32_t>(0x1f4, static_cast<uint32_t>(payload / 16 + 1));
  ExpectFieldError("syssize");
}

TEST_F(BootKernelTest, NotLoadedHigh) {
  Poke<uint8_t>(0x211, Peek<uint8_t>(0x211) & ~kLoadedHigh);
  ExpectFieldError("loadflags");
}

TEST_F(BootKernelTest, NotRelocatable) {
  Poke<uint8_t>(0x234, 0);
  ExpectFieldError("relocatable_kernel");
}

TEST_F(BootKernelTest, No64BitEntry) {
  Poke<uint16_t>(0x236, Peek<uint16_t>(0x236) & ~kXlfKernel64);
  ExpectFieldError("xloadflags");
}

TEST_F(BootKernelTest, KernelAlignmentZero) {
  Poke<uint32_t>(0x230, 0);
  ExpectFieldError("kernel_alignment");
}

TEST_F(BootKernelTest, KernelAlignmentNotPowerOfTwo) {
  Poke<uint32_t>(0x230, 0x300000);
  ExpectFieldError("kernel_alignment");
}

TEST_F(BootKernelTest, MinAlignmentAboveKernelAlignment) {
  Poke<uint32_t>(0x230, 0x200000);  // 2^21
  Poke<uint8_t>(0x235, 22);
  ExpectFieldError("min_alignment");
  Poke<uint8_t>(0x235, 21);
  EXPECT_TRUE(ParseBzImage(image_).ok());
  Poke<uint8_t>(0x235, 0);  // "if nonzero": 0 states no minimum.
  EXPECT_TRUE(ParseBzImage(image_).ok());
}

TEST_F(BootKernelTest, CmdlineSizeZero) {
  Poke<uint32_t>(0x238, 0);
  ExpectFieldError("cmdline_size");
}

TEST_F(BootKernelTest, InitSizeZero) {
  Poke<uint32_t>(0x260, 0);
  ExpectFieldError("init_size");
}

TEST_F(BootKernelTest, InitSizeSmallerThanPayload) {
  const size_t payload = image_.size() - SetupSize();
  Poke<uint32_t>(0x260, static_cast<uint32_t>(payload - 1));
  ExpectFieldError("init_size");
  Poke<uint32_t>(0x260, static_cast<uint32_t>(payload));
  EXPECT_TRUE(ParseBzImage(image_).ok());
}

TEST_F(BootKernelTest, PrefAddressZero) {
  Poke<uint64_t>(0x258, 0);
  ExpectFieldError("pref_address");
}

TEST_F(BootKernelTest, PrefAddressUnaligned) {
  Poke<uint64_t>(0x258, Peek<uint64_t>(0x258) + 0x1000);
  ExpectFieldError("pref_address");
}

TEST_F(BootKernelTest, PrefAddressPlusInitSizeOverflows) {
  const uint32_t align = Peek<uint32_t>(0x230);
  Poke<uint64_t>(0x258, ~uint64_t{0} - align + 1);  // Highest aligned value.
  ExpectFieldError("pref_address");
  EXPECT_TRUE(absl::StrContains(ParseBzImage(image_).status().message(), "2^64"));
}

// --- kernel_version is optional and must stay inside the setup area.

TEST_F(BootKernelTest, KernelVersionZeroPointer) {
  Poke<uint16_t>(0x20e, 0);
  absl::StatusOr<BzImageInfo> info = ParseBzImage(image_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kernel_version, "");
}

TEST_F(BootKernelTest, KernelVersionPastSetupArea) {
  Poke<uint16_t>(0x20e, static_cast<uint16_t>(SetupSize() - 0x200));
  absl::StatusOr<BzImageInfo> info = ParseBzImage(image_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kernel_version, "");
}

TEST_F(BootKernelTest, KernelVersionUnterminated) {
  const size_t setup = SetupSize();
  memset(image_.data() + setup - 8, 'A', 8);
  Poke<uint16_t>(0x20e, static_cast<uint16_t>(setup - 8 - 0x200));
  absl::StatusOr<BzImageInfo> info = ParseBzImage(image_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kernel_version, "");
  // Terminated on the setup area's last byte: accepted.
  image_[setup - 1] = 0;
  info = ParseBzImage(image_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kernel_version, "AAAAAAA");
}

// --- Truncation sweep: every prefix of the real image either parses (only
// once the whole syssize-long protected-mode code is present) or fails with
// the error belonging to the part that is missing.
TEST_F(BootKernelTest, TruncationSweep) {
  const size_t setup = SetupSize();
  const size_t code_end = setup + size_t{Peek<uint32_t>(0x1f4)} * 16;
  ASSERT_LE(code_end, image_.size());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= setup + 4096; ++n) lengths.push_back(n);
  for (size_t n = setup; n < image_.size(); n += 4099) lengths.push_back(n);
  for (size_t n : {code_end - 1, code_end, code_end + 1, image_.size() - 1, image_.size()}) {
    lengths.push_back(n);
  }
  for (size_t n : lengths) {
    absl::StatusOr<BzImageInfo> info = ParseBzImage(absl::MakeConstSpan(image_).subspan(0, n));
    if (n < 0x26c) {
      ASSERT_FALSE(info.ok()) << n;
      ASSERT_TRUE(absl::StrContains(info.status().message(), "too small"))
          << n << ": " << info.status();
    } else if (n < setup) {
      ASSERT_FALSE(info.ok()) << n;
      ASSERT_TRUE(absl::StrContains(info.status().message(), "'setup_sects'"))
          << n << ": " << info.status();
    } else if (n < code_end) {
      ASSERT_FALSE(info.ok()) << n;
      ASSERT_TRUE(absl::StrContains(info.status().message(), "'syssize'"))
          << n << ": " << info.status();
    } else {
      ASSERT_TRUE(info.ok()) << n << ": " << info.status();
      ASSERT_EQ(info->payload_size, n - setup);
    }
  }
}

// --- Property: random corruption of the header region never crashes and
// anything accepted satisfies the documented guarantees.
TEST_F(BootKernelTest, RandomHeaderCorruptionKeepsInvariants) {
  std::mt19937_64 rng(0x5a7e0095);
  // Work on the setup area plus 64K of payload so each parse is cheap, with
  // syssize shrunk to match.
  const size_t window = SetupSize() + 64 * 1024;
  Poke<uint32_t>(0x1f4, 64 * 1024 / 16);
  const std::vector<uint8_t> pristine(image_.begin(), image_.begin() + window);
  std::vector<uint8_t> img = pristine;
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    // Undo the previous iteration's flips (all inside the header region).
    memcpy(img.data() + 0x1f1, pristine.data() + 0x1f1, 0x290 - 0x1f1);
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const size_t off = 0x1f1 + rng() % (0x290 - 0x1f1);
      img[off] = static_cast<uint8_t>(rng());
    }
    const size_t len = rng() % 8 == 0 ? rng() % window : window;
    absl::StatusOr<BzImageInfo> info = ParseBzImage(absl::MakeConstSpan(img).subspan(0, len));
    if (!info.ok()) {
      ASSERT_TRUE(absl::StartsWith(info.status().message(), "bzImage: "));
      continue;
    }
    ++accepted;
    ASSERT_GE(info->protocol_version, kBootProtocol2_12);
    ASSERT_GE(info->setup_sects, 4);
    ASSERT_LE(info->setup_sects, kSetupSectsMax);
    ASSERT_EQ(info->payload_offset + info->payload_size, len);
    ASSERT_LE(info->syssize_bytes, info->payload_size);
    ASSERT_GE(uint64_t{info->init_size}, info->payload_size);
    ASSERT_NE(info->kernel_alignment, 0u);
    ASSERT_EQ(info->kernel_alignment & (info->kernel_alignment - 1), 0u);
    ASSERT_EQ(info->pref_address % info->kernel_alignment, 0u);
    ASSERT_GE(info->setup_header_end, kSetupHeaderMinEnd2_12);
    ASSERT_LE(info->setup_header_end, kSetupHeaderMaxEnd);
    ASSERT_LT(info->kernel_version.size(), info->setup_size_bytes);
  }
  // Most corruptions hit fields without rules or are benign; many parse.
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace saveoops
