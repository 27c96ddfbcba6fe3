// PrepareKernelImage on the Debian kernels of the e2e matrix: Debian 11's
// 5.10 (xz) and Debian 13's 6.12 generic, -cloud and -rt (zstd), unpacked by
// tools/setup.sh into its kernel cache (a missing cache fails the test: setup
// always creates it); and on the installed kernel with its vmlinux
// recompressed, by the libraries themselves, in every other payload format.
#include "common/kernel_image_prepare.h"

#include <bzlib.h>
#include <glob.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/bootproto.h"
#include "common/bzimage.h"
#include "common/kernel_image.h"
#include "common/kernel_image_decompress.h"
#include "common/lz4_block.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::string KernelCache() {
  const char* env = getenv("SAVEOOPS_KERNEL_CACHE");
  return env != nullptr && *env != '\0' ? env : "/var/cache/saveoops-kernels";
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

struct MatrixKernel {
  const char* name;     // tools/setup.sh MATRIX_KERNELS
  const char* payload;  // what Debian compresses it with
};

class MatrixKernelTest : public ::testing::TestWithParam<MatrixKernel> {
 protected:
  void SetUp() override {
    const std::string tree = KernelCache() + "/" + GetParam().name;
    glob_t g;
    ASSERT_EQ(glob((tree + "/boot/vmlinuz-*").c_str(), 0, nullptr, &g), 0)
        << "no " << tree << "/boot/vmlinuz-*: run tools/setup.sh";
    path_ = g.gl_pathv[0];
    globfree(&g);
    release_ = path_.substr(path_.rfind("vmlinuz-") + strlen("vmlinuz-"));
    bzimage_ = ReadFile(path_);
    ASSERT_FALSE(bzimage_.empty()) << path_;
  }
  std::string path_, release_;
  std::vector<uint8_t> bzimage_;
};

// What `pack` and `saveoops bundle create` do with --kernel-image=auto.
TEST_P(MatrixKernelTest, AutoModeStagesItPreparedAndItsImageHoldsTheRelease) {
  BundleContents bundle;
  bundle.capture_kernel = bzimage_;
  absl::StatusOr<std::string> note = AttachKernelImage(&bundle, "auto");
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_TRUE(absl::StartsWith(*note, "capture kernel: prepared")) << path_ << ": " << *note;
  absl::StatusOr<KernelImage> k = ParseKernelImage(bundle.capture_kernel_image);
  ASSERT_TRUE(k.ok()) << k.status();
  absl::StatusOr<BzImageInfo> info = ParseBzImage(bzimage_);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_LE(k->span, info->init_size);
  EXPECT_GT(k->span, 16u << 20);

  std::vector<uint8_t> image(k->image_size);
  ASSERT_EQ(Lz4DecodeBlockExact(k->lz4.data(), k->lz4.size(), image.data(), image.size()),
            Lz4Error::kOk);
  EXPECT_NE(image[k->entry_offset], 0);
  // init/version.c's linux_banner: the unpacked vmlinux is this kernel.
  const std::string banner = absl::StrCat("Linux version ", release_, " ");
  EXPECT_NE(std::search(image.begin(), image.end(), banner.begin(), banner.end()), image.end())
      << "no \"" << banner << "\" in the image of " << path_;
}

TEST_P(MatrixKernelTest, AnUnknownPayloadFallsBackToTheBzImageWithANote) {
  absl::StatusOr<BzImageInfo> info = ParseBzImage(bzimage_);
  ASSERT_TRUE(info.ok());
  uint32_t offset;
  memcpy(&offset, bzimage_.data() + kSetupHeaderOffset + offsetof(SetupHeader, payload_offset), 4);
  BundleContents bundle;
  bundle.capture_kernel = bzimage_;
  memset(bundle.capture_kernel.data() + info->payload_offset + offset, 0, 4);
  absl::StatusOr<std::string> note = AttachKernelImage(&bundle, "auto");
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_TRUE(absl::StartsWith(*note,
                               "capture kernel: staged as the bzImage (kernel: payload is "
                               "compressed in an unknown format"))
      << *note;
  EXPECT_TRUE(bundle.capture_kernel_image.empty());
  EXPECT_FALSE(AttachKernelImage(&bundle, "lz4").ok());
}

INSTANTIATE_TEST_SUITE_P(DebianKernels, MatrixKernelTest,
                         ::testing::Values(MatrixKernel{"bullseye", "xz"},
                                           MatrixKernel{"trixie", "zstd"},
                                           MatrixKernel{"trixie-cloud", "zstd"},
                                           MatrixKernel{"trixie-rt", "zstd"}),
                         [](const ::testing::TestParamInfo<MatrixKernel>& info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name + "_" + info.param.payload;
                         });

// ---- the installed kernel, its payload in every format

std::vector<uint8_t> InstalledKernel() {
  glob_t g;
  EXPECT_EQ(glob("/boot/vmlinuz-*", 0, nullptr, &g), 0) << "linux-image-amd64 must be installed";
  std::string path = g.gl_pathc > 0 ? g.gl_pathv[g.gl_pathc - 1] : "";
  globfree(&g);
  return ReadFile(path);
}

void PutLe32(std::vector<uint8_t>* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PutBe32(std::vector<uint8_t>* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Fast settings throughout: the format is under test, not the ratio.
std::vector<uint8_t> Compress(Compression c, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out;
  switch (c) {
    case Compression::kGzip: {
      z_stream z{};
      EXPECT_EQ(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
      out.resize(deflateBound(&z, in.size()));
      z.next_in = const_cast<Bytef*>(in.data());
      z.avail_in = in.size();
      z.next_out = out.data();
      z.avail_out = out.size();
      EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
      out.resize(z.total_out);
      deflateEnd(&z);
      break;
    }
    case Compression::kXz:
    case Compression::kLzma: {
      lzma_stream z = LZMA_STREAM_INIT;
      lzma_options_lzma opt;
      lzma_lzma_preset(&opt, 0);
      EXPECT_EQ(c == Compression::kXz ? lzma_easy_encoder(&z, 0, LZMA_CHECK_CRC32)
                                      : lzma_alone_encoder(&z, &opt),
                LZMA_OK);
      out.resize(in.size() + (1 << 20));
      z.next_in = in.data();
      z.avail_in = in.size();
      z.next_out = out.data();
      z.avail_out = out.size();
      EXPECT_EQ(lzma_code(&z, LZMA_FINISH), LZMA_STREAM_END);
      out.resize(z.total_out);
      lzma_end(&z);
      break;
    }
    case Compression::kZstd: {
      out.resize(ZSTD_compressBound(in.size()));
      const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 1);
      EXPECT_FALSE(ZSTD_isError(n));
      out.resize(n);
      break;
    }
    case Compression::kLz4: {
      // The legacy frame: magic, then {LE32 size, block} per 8 MiB.
      PutLe32(&out, 0x184c2102);
      constexpr size_t kBlock = 8u << 20;
      std::vector<char> block(LZ4_compressBound(kBlock));
      for (size_t at = 0; at < in.size(); at += kBlock) {
        const int n =
            LZ4_compress_default(reinterpret_cast<const char*>(in.data() + at), block.data(),
                                 std::min(kBlock, in.size() - at), block.size());
        EXPECT_GT(n, 0);
        PutLe32(&out, n);
        out.insert(out.end(), block.begin(), block.begin() + n);
      }
      break;
    }
    case Compression::kBzip2: {
      unsigned n = in.size() + in.size() / 100 + 600;
      out.resize(n);
      EXPECT_EQ(
          BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &n,
                                   const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                   in.size(), 9, 0, 0),
          BZ_OK);
      out.resize(n);
      break;
    }
    case Compression::kLzo: {
      // An lzop file as `lzop` writes it, without checksums (flags 0).
      EXPECT_EQ(lzo_init(), LZO_E_OK);
      out = {0x89, 'L',  'Z',  'O',  0x00, 0x0d, 0x0a, 0x1a,
             0x0a, 0x10, 0x40, 0x20, 0xa0, 0x09, 0x40,  // version, lib version, needed
             1,    5};                                  // method LZO1X-1, level
      PutBe32(&out, 0);                                 // flags
      PutBe32(&out, 0644);                              // mode
      PutBe32(&out, 0);                                 // mtime low
      PutBe32(&out, 0);                                 // mtime high
      out.push_back(0);                                 // no name
      PutBe32(&out, 0);                                 // header checksum (not checked)
      constexpr size_t kBlock = 256u << 10;
      std::vector<uint8_t> wrk(LZO1X_1_MEM_COMPRESS), block(kBlock + kBlock / 16 + 64 + 3);
      for (size_t at = 0; at < in.size(); at += kBlock) {
        const size_t len = std::min(kBlock, in.size() - at);
        lzo_uint n = 0;
        EXPECT_EQ(lzo1x_1_compress(in.data() + at, len, block.data(), &n, wrk.data()), LZO_E_OK);
        PutBe32(&out, len);
        if (n < len) {
          PutBe32(&out, n);
          out.insert(out.end(), block.begin(), block.begin() + n);
        } else {
          PutBe32(&out, len);
          out.insert(out.end(), in.begin() + at, in.begin() + at + len);
        }
      }
      PutBe32(&out, 0);
      break;
    }
    case Compression::kUnknown:
      break;
  }
  return out;
}

struct Field {
  size_t offset;
  uint32_t Get(const std::vector<uint8_t>& b) const {
    uint32_t v;
    memcpy(&v, b.data() + offset, 4);
    return v;
  }
  void Set(std::vector<uint8_t>* b, uint32_t v) const { memcpy(b->data() + offset, &v, 4); }
};
constexpr Field kPayloadOffset{kSetupHeaderOffset + offsetof(SetupHeader, payload_offset)};
constexpr Field kPayloadLength{kSetupHeaderOffset + offsetof(SetupHeader, payload_length)};
constexpr Field kInitSize{kSetupHeaderOffset + offsetof(SetupHeader, init_size)};

// `bzimage` with `payload` as its payload instead: appended to the
// protected-mode code, which the setup header then points into.
std::vector<uint8_t> WithPayload(const std::vector<uint8_t>& bzimage, const BzImageInfo& info,
                                 const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out = bzimage;
  kPayloadOffset.Set(&out, out.size() - info.payload_offset);
  kPayloadLength.Set(&out, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
  PutLe32(&out, 0);  // the size the kernel build appends (size_append)
  // The decompressor's init_size covers its whole image; so must this one's.
  const uint64_t pm = out.size() - info.payload_offset;
  if (kInitSize.Get(out) < pm) kInitSize.Set(&out, (pm + 0xfff) & ~uint64_t{0xfff});
  return out;
}

class EveryPayloadFormatTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bzimage_ = new std::vector<uint8_t>(InstalledKernel());
    absl::StatusOr<BzImageInfo> info = ParseBzImage(*bzimage_);
    ASSERT_TRUE(info.ok()) << info.status();
    info_ = new BzImageInfo(*info);
    const absl::Span<const uint8_t> xz = absl::MakeConstSpan(*bzimage_).subspan(
        info->payload_offset + kPayloadOffset.Get(*bzimage_), kPayloadLength.Get(*bzimage_));
    absl::StatusOr<std::vector<uint8_t>> vmlinux =
        Decompress(Compression::kXz, xz, kMaxUnpackedKernelBytes, "kernel");
    ASSERT_TRUE(vmlinux.ok()) << vmlinux.status();
    vmlinux_ = new std::vector<uint8_t>(*std::move(vmlinux));
    absl::StatusOr<std::vector<uint8_t>> part = PrepareKernelImage(*bzimage_);
    ASSERT_TRUE(part.ok()) << part.status();
    reference_ = new std::vector<uint8_t>(*std::move(part));
  }
  static std::vector<uint8_t>* bzimage_;
  static BzImageInfo* info_;
  static std::vector<uint8_t>* vmlinux_;
  static std::vector<uint8_t>* reference_;  // the part prepared from the xz original
};

std::vector<uint8_t>* EveryPayloadFormatTest::bzimage_;
BzImageInfo* EveryPayloadFormatTest::info_;
std::vector<uint8_t>* EveryPayloadFormatTest::vmlinux_;
std::vector<uint8_t>* EveryPayloadFormatTest::reference_;

// The same vmlinux in any format prepares to the same part, byte for byte.
TEST_F(EveryPayloadFormatTest, EachFormatPreparesTheSameImage) {
  ASSERT_NE(reference_, nullptr);
  for (Compression c : kAllCompressions) {
    const std::vector<uint8_t> payload = Compress(c, *vmlinux_);
    ASSERT_EQ(DetectCompression(payload), c) << CompressionName(c);
    const std::vector<uint8_t> bzimage = WithPayload(*bzimage_, *info_, payload);
    ASSERT_TRUE(ParseBzImage(bzimage).ok()) << CompressionName(c);
    KernelImageSummary summary;
    absl::StatusOr<std::vector<uint8_t>> part = PrepareKernelImage(bzimage, &summary);
    ASSERT_TRUE(part.ok()) << CompressionName(c) << ": " << part.status();
    EXPECT_EQ(summary.unpacked_bytes, vmlinux_->size()) << CompressionName(c);
    EXPECT_TRUE(*part == *reference_) << CompressionName(c) << " prepares another image";
  }
  // CONFIG_KERNEL_UNCOMPRESSED: the payload is the vmlinux itself.
  absl::StatusOr<std::vector<uint8_t>> part =
      PrepareKernelImage(WithPayload(*bzimage_, *info_, *vmlinux_));
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_TRUE(*part == *reference_);
}

TEST_F(EveryPayloadFormatTest, APayloadOverTheBoundIsRefusedSayingSo) {
  ASSERT_NE(reference_, nullptr);
  // 300 MiB of zeroes: a few hundred KiB of zstd, more than any kernel.
  const std::vector<uint8_t> zeroes(300u << 20, 0);
  absl::StatusOr<std::vector<uint8_t>> part =
      PrepareKernelImage(WithPayload(*bzimage_, *info_, Compress(Compression::kZstd, zeroes)));
  ASSERT_FALSE(part.ok());
  EXPECT_TRUE(absl::StrContains(part.status().message(),
                                "zstd payload unpacks to more than 256 MiB; a capture kernel is "
                                "at most 256 MiB unpacked"))
      << part.status();
}

}  // namespace
}  // namespace saveoops
