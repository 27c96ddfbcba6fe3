// saveoops.efi as the firmware sees it: a PE32+ x86-64 EFI application
// that imports nothing (it links no C library and no gnu-efi library; the
// firmware only gives it the system table) and carries relocations, since
// firmware loads images wherever it likes (PE/COFF specification: optional
// header magic 0x20b, Subsystem 10 = EFI_APPLICATION, data directories 1 =
// import table and 5 = base relocation table).
#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

template <typename T>
T At(const std::vector<uint8_t>& b, size_t off) {
  T v{};
  EXPECT_LE(off + sizeof(T), b.size());
  if (off + sizeof(T) <= b.size()) memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

TEST(EfiBinaryTest, IsAFreestandingPe32PlusEfiApplication) {
  const std::string path =
      std::string(getenv("TEST_SRCDIR")) + "/saveoops/backends/uefi/saveoops.efi";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  const std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(b.size(), 1024u);
  ASSERT_EQ(b[0], 'M');
  ASSERT_EQ(b[1], 'Z');
  const uint32_t pe = At<uint32_t>(b, 0x3c);
  ASSERT_EQ(memcmp(&b[pe], "PE\0\0", 4), 0);
  EXPECT_EQ(At<uint16_t>(b, pe + 4), 0x8664);  // machine
  const size_t opt = pe + 24;
  EXPECT_EQ(At<uint16_t>(b, opt), 0x20b);    // PE32+
  EXPECT_EQ(At<uint16_t>(b, opt + 68), 10);  // Subsystem: EFI application
  const uint32_t dirs = At<uint32_t>(b, opt + 108);
  ASSERT_GE(dirs, 6u);
  EXPECT_EQ(At<uint32_t>(b, opt + 112 + 8 * 1 + 4), 0u) << "saveoops.efi imports something";
  EXPECT_GT(At<uint32_t>(b, opt + 112 + 8 * 5 + 4), 0u) << "no base relocations";
  EXPECT_LT(b.size(), 256u * 1024) << "saveoops.efi grew unexpectedly";
}

}  // namespace
