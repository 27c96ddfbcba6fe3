#include "purgatory/purgatory_image.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::vector<uint8_t> ReadRunfile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// A minimal image of this ABI: header, 32 bytes of "code", the params block.
std::vector<uint8_t> SyntheticImage() {
  PurgatoryHeader h{};
  h.magic = kPurgatoryMagic;
  h.abi_version = kPurgatoryAbiVersion;
  h.header_size = sizeof(PurgatoryHeader);
  h.entry_offset = sizeof(PurgatoryHeader);
  h.params_offset = sizeof(PurgatoryHeader) + 32;
  h.params_size = sizeof(PurgatoryParams);
  std::vector<uint8_t> image(h.params_offset + sizeof(PurgatoryParams));
  std::memcpy(image.data(), &h, sizeof(h));
  return image;
}

PurgatoryHeader HeaderOf(const std::vector<uint8_t>& image) {
  PurgatoryHeader h;
  std::memcpy(&h, image.data(), sizeof(h));
  return h;
}

void SetHeader(std::vector<uint8_t>* image, const PurgatoryHeader& h) {
  std::memcpy(image->data(), &h, sizeof(h));
}

PurgatoryImageError Parse(const std::vector<uint8_t>& image) {
  PurgatoryImage out;
  return ParsePurgatoryImage(image.data(), image.size(), &out);
}

TEST(ParsePurgatoryImage, AcceptsTheBuiltPurgatory) {
  const std::vector<uint8_t> bin = ReadRunfile("purgatory/purgatory.bin");
  PurgatoryImage image;
  ASSERT_EQ(ParsePurgatoryImage(bin.data(), bin.size(), &image), PurgatoryImageError::kOk);
  const PurgatoryHeader h = HeaderOf(bin);
  EXPECT_EQ(image.entry_offset, h.entry_offset);
  EXPECT_EQ(image.params_offset, h.params_offset);
  EXPECT_EQ(image.image_size, bin.size());
  EXPECT_EQ(image.header.magic, kPurgatoryMagic);
}

TEST(ParsePurgatoryImage, AcceptsAMinimalImage) {
  const std::vector<uint8_t> image = SyntheticImage();
  PurgatoryImage out;
  ASSERT_EQ(ParsePurgatoryImage(image.data(), image.size(), &out), PurgatoryImageError::kOk);
  EXPECT_EQ(out.entry_offset, sizeof(PurgatoryHeader));
  EXPECT_EQ(out.params_offset, sizeof(PurgatoryHeader) + 32);
}

TEST(ParsePurgatoryImage, RefusesTruncatedImages) {
  const std::vector<uint8_t> image = SyntheticImage();
  PurgatoryImage out;
  EXPECT_EQ(ParsePurgatoryImage(nullptr, 0, &out), PurgatoryImageError::kTooSmall);
  EXPECT_EQ(ParsePurgatoryImage(image.data(), sizeof(PurgatoryHeader) - 1, &out),
            PurgatoryImageError::kTooSmall);
  // The header is whole but the parameter block is cut off.
  EXPECT_EQ(ParsePurgatoryImage(image.data(), image.size() - 1, &out),
            PurgatoryImageError::kParamsOutOfBounds);
  // What was read is kept for the message.
  EXPECT_EQ(out.header.magic, kPurgatoryMagic);
}

TEST(ParsePurgatoryImage, RefusesEachBadField) {
  struct Case {
    const char* what;
    void (*edit)(PurgatoryHeader*);
    PurgatoryImageError want;
  };
  const Case cases[] = {
      {"magic", [](PurgatoryHeader* h) { h->magic ^= 1; }, PurgatoryImageError::kBadMagic},
      {"abi", [](PurgatoryHeader* h) { h->abi_version += 1; }, PurgatoryImageError::kBadAbiVersion},
      {"header size", [](PurgatoryHeader* h) { h->header_size = 16; },
       PurgatoryImageError::kBadHeaderSize},
      {"params size", [](PurgatoryHeader* h) { h->params_size -= 8; },
       PurgatoryImageError::kBadParamsSize},
      {"params over header", [](PurgatoryHeader* h) { h->params_offset = 8; },
       PurgatoryImageError::kParamsOutOfBounds},
      {"params past end", [](PurgatoryHeader* h) { h->params_offset = 0xfffffff0u; },
       PurgatoryImageError::kParamsOutOfBounds},
      {"entry in header", [](PurgatoryHeader* h) { h->entry_offset = 0; },
       PurgatoryImageError::kEntryOutOfBounds},
      {"entry past end", [](PurgatoryHeader* h) { h->entry_offset = 0xffffffffu; },
       PurgatoryImageError::kEntryOutOfBounds},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> image = SyntheticImage();
    PurgatoryHeader h = HeaderOf(image);
    c.edit(&h);
    SetHeader(&image, h);
    EXPECT_EQ(Parse(image), c.want) << c.what;
    EXPECT_STRNE(PurgatoryImageErrorName(Parse(image)), "ok") << c.what;
  }
}

}  // namespace
}  // namespace saveoops
