#include "common/memmap.h"

#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kMax = UINT64_MAX;

// Reads common/testdata/<name>, under Bazel from the runfiles tree.
std::string ReadTestdata(const std::string& name) {
  std::string path = "common/testdata/" + name;
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && workspace != nullptr) {
    path = std::string(srcdir) + "/" + workspace + "/" + path;
  }
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::Span<const uint8_t> Bytes(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

BootE820Entry E820(uint64_t addr, uint64_t size, uint32_t type) {
  BootE820Entry entry;
  entry.addr = addr;
  entry.size = size;
  entry.type = type;
  return entry;
}

// An e820 table from inclusive [first, last] pairs, as dmesg prints them.
struct Inclusive {
  uint64_t first;
  uint64_t last;
  uint32_t type;
};
std::vector<BootE820Entry> E820Table(const std::vector<Inclusive>& rows) {
  std::vector<BootE820Entry> table;
  for (const Inclusive& row : rows) {
    table.push_back(E820(row.first, row.last - row.first + 1, row.type));
  }
  return table;
}

std::string TableText(const std::vector<BootE820Entry>& table) {
  std::string text;
  for (const BootE820Entry& e : table) {
    const uint64_t addr = e.addr, size = e.size;
    text += Range{addr, size}.ToString() + " type " +
            std::to_string(static_cast<uint32_t>(e.type)) + "\n";
  }
  return text;
}

void ExpectTable(const std::vector<BootE820Entry>& actual,
                 const std::vector<BootE820Entry>& expected) {
  EXPECT_EQ(TableText(actual), TableText(expected));
}

// --- Range -------------------------------------------------------------

TEST(RangeTest, ValidEnforcesTheOverflowRule) {
  EXPECT_TRUE(Range::Valid(0, kMax));
  EXPECT_FALSE(Range::Valid(1, kMax));
  EXPECT_TRUE(Range::Valid(kMax, 0));
  EXPECT_FALSE(Range::Valid(kMax, 1));
  EXPECT_TRUE(Range::Valid(kMax - 4096, 4096));
  EXPECT_FALSE(Range::Valid(kMax - 4095, 4097));
}

TEST(RangeTest, FromStartEndAndEnd) {
  EXPECT_EQ(Range::FromStartEnd(0x1000, 0x3000), (Range{0x1000, 0x2000}));
  EXPECT_EQ(Range::FromStartEnd(0x3000, 0x1000), (Range{0x3000, 0}));
  EXPECT_EQ((Range{0x1000, 0x2000}).end(), 0x3000u);
  EXPECT_EQ((Range{0, kMax}).end(), kMax);
  EXPECT_TRUE((Range{5, 0}).empty());
  EXPECT_FALSE((Range{5, 1}).empty());
}

TEST(RangeTest, ContainsAddress) {
  const Range r{0x1000, 0x1000};
  EXPECT_FALSE(r.Contains(0xfff));
  EXPECT_TRUE(r.Contains(0x1000));
  EXPECT_TRUE(r.Contains(0x1fff));
  EXPECT_FALSE(r.Contains(0x2000));
  EXPECT_FALSE((Range{0x1000, 0}).Contains(0x1000));
  const Range top{kMax - 4096, 4096};
  EXPECT_TRUE(top.Contains(kMax - 1));
  EXPECT_FALSE(top.Contains(kMax));
  EXPECT_TRUE((Range{0, kMax}).Contains(0));
}

TEST(RangeTest, ContainsRange) {
  const Range r{0x1000, 0x2000};
  EXPECT_TRUE(r.Contains(r));
  EXPECT_TRUE(r.Contains(Range{0x1800, 0x800}));
  EXPECT_FALSE(r.Contains(Range{0x1800, 0x1801}));
  EXPECT_FALSE(r.Contains(Range{0xfff, 2}));
  EXPECT_FALSE(r.Contains(Range{0x3000, 0x1000}));  // Touching above.
  EXPECT_TRUE(r.Contains(Range{0x3000, 0}));        // Empty at the end.
  EXPECT_TRUE(r.Contains(Range{0x1000, 0}));
  EXPECT_FALSE(r.Contains(Range{0x3001, 0}));
  EXPECT_TRUE((Range{0, kMax}).Contains(Range{kMax - 1, 1}));
}

TEST(RangeTest, Overlaps) {
  const Range r{0x1000, 0x1000};
  EXPECT_TRUE(r.Overlaps(r));
  EXPECT_FALSE(r.Overlaps(Range{0x2000, 0x1000}));  // Touching above.
  EXPECT_FALSE((Range{0x2000, 0x1000}).Overlaps(r));
  EXPECT_FALSE(r.Overlaps(Range{0, 0x1000}));  // Touching below.
  EXPECT_TRUE(r.Overlaps(Range{0x1fff, 1}));
  EXPECT_TRUE(r.Overlaps(Range{0, 0x1001}));
  EXPECT_FALSE(r.Overlaps(Range{0x1800, 0}));  // Empty inside.
  EXPECT_FALSE((Range{0x1800, 0}).Overlaps(r));
  EXPECT_TRUE((Range{0, kMax}).Overlaps(Range{kMax - 1, 1}));
}

TEST(RangeTest, Intersect) {
  const Range r{0x1000, 0x2000};
  EXPECT_EQ(r.Intersect(Range{0x2000, 0x4000}), (Range{0x2000, 0x1000}));
  EXPECT_EQ(r.Intersect(Range{0, 0x1800}), (Range{0x1000, 0x800}));
  EXPECT_EQ(r.Intersect(Range{0x1100, 0x10}), (Range{0x1100, 0x10}));
  EXPECT_EQ(r.Intersect(Range{0x3000, 0x1000}), std::nullopt);
  EXPECT_EQ(r.Intersect(Range{0x1800, 0}), std::nullopt);
  EXPECT_EQ((Range{0, kMax}).Intersect(Range{kMax - 5, 5}), (Range{kMax - 5, 5}));
}

TEST(RangeTest, Minus) {
  const Range r{0x1000, 0x3000};
  EXPECT_THAT(r.Minus(Range{0x2000, 0x1000}),
              ElementsAre(Range{0x1000, 0x1000}, Range{0x3000, 0x1000}));
  EXPECT_THAT(r.Minus(Range{0, 0x2000}), ElementsAre(Range{0x2000, 0x2000}));
  EXPECT_THAT(r.Minus(Range{0x3000, 0x5000}), ElementsAre(Range{0x1000, 0x2000}));
  EXPECT_THAT(r.Minus(r), ElementsAre());
  EXPECT_THAT(r.Minus(Range{0, 0x10000}), ElementsAre());
  EXPECT_THAT(r.Minus(Range{0x4000, 0x1000}), ElementsAre(r));  // Touching.
  EXPECT_THAT(r.Minus(Range{0x2000, 0}), ElementsAre(r));       // Empty hole.
  EXPECT_THAT((Range{0x2000, 0}).Minus(r), ElementsAre());
  EXPECT_THAT((Range{0x2000, 0}).Minus(Range{0x9000, 1}), ElementsAre());
  EXPECT_THAT((Range{0, kMax}).Minus(Range{1, kMax - 2}),
              ElementsAre(Range{0, 1}, Range{kMax - 1, 1}));
}

TEST(RangeTest, SubtractAndCoalesce) {
  const std::vector<Range> ranges = {{0, 0x1000}, {0x2000, 0x2000}};
  EXPECT_THAT(Subtract(ranges, Range{0x800, 0x2000}),
              ElementsAre(Range{0, 0x800}, Range{0x2800, 0x1800}));
  EXPECT_THAT(Coalesce({{40, 10}, {0, 10}, {5, 15}, {20, 10}, {60, 0}}),
              ElementsAre(Range{0, 30}, Range{40, 10}));
  EXPECT_THAT(Coalesce({{0, 100}, {10, 5}}), ElementsAre(Range{0, 100}));
  EXPECT_THAT(Coalesce({}), ElementsAre());
}

TEST(RangeTest, ToString) {
  EXPECT_EQ((Range{0x1000, 0x1000}).ToString(), "[0x1000, 0x2000)");
  EXPECT_EQ((Range{0, 0}).ToString(), "[0x0, 0x0)");
}

// --- MemoryType / MemoryMap ------------------------------------------------

TEST(MemoryTypeTest, NamesAndE820Types) {
  EXPECT_STREQ(MemoryTypeName(MemoryType::kRam), "System RAM");
  EXPECT_STREQ(MemoryTypeName(MemoryType::kCrashKernel), "Crash kernel");
  EXPECT_STREQ(MemoryTypeName(MemoryType::kNvs), "ACPI Non-volatile Storage");
  EXPECT_EQ(ToE820Type(MemoryType::kRam), kE820Ram);
  EXPECT_EQ(ToE820Type(MemoryType::kCrashKernel), kE820Ram);
  EXPECT_EQ(ToE820Type(MemoryType::kKernelCode), kE820Ram);
  EXPECT_EQ(ToE820Type(MemoryType::kKernelData), kE820Ram);
  EXPECT_EQ(ToE820Type(MemoryType::kKernelBss), kE820Ram);
  EXPECT_EQ(ToE820Type(MemoryType::kReserved), kE820Reserved);
  EXPECT_EQ(ToE820Type(MemoryType::kAcpi), kE820Acpi);
  EXPECT_EQ(ToE820Type(MemoryType::kNvs), kE820Nvs);
  EXPECT_EQ(ToE820Type(MemoryType::kUnusable), kE820Unusable);
  EXPECT_EQ(ToE820Type(MemoryType::kPersistent), kE820Pmem);
  EXPECT_EQ(ToE820Type(MemoryType::kOther), kE820Reserved);
}

TEST(MemoryMapTest, AddKeepsRegionsSortedParentsFirst) {
  MemoryMap map;
  map.Add(Range{0x5000, 0x1000}, MemoryType::kCrashKernel);
  map.Add(Range{0x1000, 0x9000}, MemoryType::kRam);
  map.Add(Range{0x1000, 0x1000}, MemoryType::kKernelCode);
  map.Add(Range{0x0, 0x1000}, MemoryType::kReserved, "firmware");
  map.Add(Range{0x8000, 0}, MemoryType::kAcpi);  // Empty: ignored.
  ASSERT_EQ(map.regions().size(), 4u);
  EXPECT_EQ(map.regions()[0], (MemoryRegion{{0, 0x1000}, MemoryType::kReserved, "firmware"}));
  EXPECT_EQ(map.regions()[1], (MemoryRegion{{0x1000, 0x9000}, MemoryType::kRam, "System RAM"}));
  EXPECT_EQ(map.regions()[2].type, MemoryType::kKernelCode);
  EXPECT_EQ(map.regions()[3].name, "Crash kernel");
  EXPECT_EQ(map.ToString(),
            "[0x0, 0x1000) firmware\n[0x1000, 0xa000) System RAM\n"
            "[0x1000, 0x2000) Kernel code\n[0x5000, 0x6000) Crash kernel\n");
}

TEST(MemoryMapTest, RangesOfCoalesces) {
  MemoryMap map;
  map.Add(Range{0x3000, 0x1000}, MemoryType::kRam);
  map.Add(Range{0x1000, 0x2000}, MemoryType::kRam);
  map.Add(Range{0x8000, 0x1000}, MemoryType::kRam);
  map.Add(Range{0x4000, 0x1000}, MemoryType::kAcpi);
  EXPECT_THAT(map.RangesOf(MemoryType::kRam),
              ElementsAre(Range{0x1000, 0x3000}, Range{0x8000, 0x1000}));
  EXPECT_THAT(map.RangesOf(MemoryType::kAcpi), ElementsAre(Range{0x4000, 0x1000}));
  EXPECT_THAT(map.RangesOf(MemoryType::kNvs), ElementsAre());
}

TEST(MemoryMapTest, CrashReservationMissingSaysHowToFixIt) {
  MemoryMap map;
  map.Add(Range{0x100000, 0x1000000}, MemoryType::kRam);
  absl::StatusOr<Range> crash = map.CrashReservation();
  ASSERT_FALSE(crash.ok());
  EXPECT_EQ(crash.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(crash.status().message(),
              HasSubstr("no 'Crash kernel' range in the memory map: boot with "
                        "crashkernel=..."));
}

TEST(MemoryMapTest, CrashReservationPicksTheHighestRange) {
  MemoryMap map;
  map.Add(Range{0x100000000, 0x20000000}, MemoryType::kCrashKernel);
  map.Add(Range{0x6000000, 0x1000000}, MemoryType::kCrashKernel);
  EXPECT_THAT(map.CrashReservations(),
              ElementsAre(Range{0x6000000, 0x1000000}, Range{0x100000000, 0x20000000}));
  EXPECT_EQ(*map.CrashReservation(), (Range{0x100000000, 0x20000000}));
}

TEST(MemoryMapTest, ToE820MergesNestedRamTypes) {
  MemoryMap map;
  map.Add(Range{0x100000, 0x3ff00000}, MemoryType::kRam);
  map.Add(Range{0x1000000, 0x800000}, MemoryType::kKernelCode);
  map.Add(Range{0x2f000000, 0x10000000}, MemoryType::kCrashKernel);
  ExpectTable(map.ToE820(), {E820(0x100000, 0x3ff00000, kE820Ram)});
}

TEST(MemoryMapTest, ToE820LargerTypeWinsAndTouchingSameTypeMerges) {
  MemoryMap map;
  map.Add(Range{0x0, 0x10000}, MemoryType::kRam);
  map.Add(Range{0x4000, 0x1000}, MemoryType::kReserved);  // Hole in RAM.
  map.Add(Range{0x4800, 0x1000}, MemoryType::kNvs);       // Beats reserved.
  map.Add(Range{0x10000, 0x1000}, MemoryType::kRam);      // Touches: merge.
  map.Add(Range{0x20000, 0x1000}, MemoryType::kOther);
  map.Add(Range{0x21000, 0x1000}, MemoryType::kReserved);  // Same e820 type.
  ExpectTable(map.ToE820(), {E820(0x0, 0x4000, kE820Ram), E820(0x4000, 0x800, kE820Reserved),
                             E820(0x4800, 0x1000, kE820Nvs), E820(0x5800, 0xb800, kE820Ram),
                             E820(0x20000, 0x2000, kE820Reserved)});
  EXPECT_TRUE(ValidateE820Table(map.ToE820()).ok());
}

TEST(MemoryMapTest, ToE820OfEmptyMapAndTopOfAddressSpace) {
  EXPECT_TRUE(MemoryMap().ToE820().empty());
  MemoryMap map;
  map.Add(Range{kMax - 0x2000, 0x2000}, MemoryType::kReserved);
  map.Add(Range{kMax - 0x1000, 0x1000}, MemoryType::kRam);
  ExpectTable(map.ToE820(), {E820(kMax - 0x2000, 0x2000, kE820Reserved)});
}

TEST(ValidateE820TableTest, NamesTheBadEntry) {
  EXPECT_TRUE(ValidateE820Table({}).ok());
  EXPECT_THAT(ValidateE820Table({E820(0, 0x1000, 1), E820(0x1000, 0, 2)}).message(),
              HasSubstr("e820 entry 1 at 0x1000 is empty"));
  EXPECT_THAT(ValidateE820Table({E820(kMax, 1, 1)}).message(), HasSubstr("passes 2^64 - 1"));
  EXPECT_THAT(ValidateE820Table({E820(0x2000, 0x1000, 1), E820(0x1000, 0x1, 2)}).message(),
              HasSubstr("not sorted"));
  EXPECT_THAT(ValidateE820Table({E820(0x1000, 0x2000, 1), E820(0x2000, 0x1, 2)}).message(),
              HasSubstr("overlaps entry 0"));
  EXPECT_THAT(ValidateE820Table({E820(0x1000, 0x1000, 2), E820(0x2000, 0x1, 2)}).message(),
              HasSubstr("not merged"));
  EXPECT_TRUE(ValidateE820Table({E820(0x1000, 0x1000, 1), E820(0x2000, 0x1, 2)}).ok());
}

// --- /proc/iomem -------------------------------------------------------

TEST(ParseProcIomemTest, QemuBios1GiBWithCrashkernel256M) {
  absl::StatusOr<MemoryMap> map =
      ParseProcIomem(ReadTestdata("iomem_qemu_bios_1g_crashkernel_256m.txt"));
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(*map->CrashReservation(), (Range{0x2f000000, 0x10000000}));
  EXPECT_THAT(map->RangesOf(MemoryType::kRam),
              ElementsAre(Range{0x1000, 0x9ec00}, Range{0x100000, 0x3fedf000}));
  EXPECT_THAT(map->RangesOf(MemoryType::kKernelCode),
              ElementsAre(Range::FromStartEnd(0x0e400000, 0x0f201d32)));
  // "Kernel rodata" and "Kernel data" are both kKernelData.
  EXPECT_THAT(map->RangesOf(MemoryType::kKernelData),
              ElementsAre(Range::FromStartEnd(0x0f400000, 0x0fceb000),
                          Range::FromStartEnd(0x0fe00000, 0x10048980)));
  // The "Reserved" nested under "PCI MMCONFIG" is kept; devices are not.
  EXPECT_THAT(map->RangesOf(MemoryType::kReserved),
              testing::Contains(Range{0xb0000000, 0x10000000}));
  for (const MemoryRegion& region : map->regions()) {
    EXPECT_NE(region.type, MemoryType::kOther) << region.name;
    EXPECT_THAT(region.name, testing::Not(HasSubstr("PCI")));
    EXPECT_THAT(region.name, testing::Not(HasSubstr("ROM")));
  }
  ExpectTable(map->ToE820(), E820Table({{0x0, 0xfff, kE820Reserved},
                                        {0x1000, 0x9fbff, kE820Ram},
                                        {0x9fc00, 0x9ffff, kE820Reserved},
                                        {0xf0000, 0xfffff, kE820Reserved},
                                        {0x100000, 0x3ffdefff, kE820Ram},
                                        {0x3ffdf000, 0x3fffffff, kE820Reserved},
                                        {0xb0000000, 0xbfffffff, kE820Reserved},
                                        {0xfed1c000, 0xfed1ffff, kE820Reserved},
                                        {0xfffc0000, 0xffffffff, kE820Reserved},
                                        {0xfd00000000, 0xffffffffff, kE820Reserved}}));
}

TEST(ParseProcIomemTest, QemuUefi8GiBWithHighAndLowCrashRanges) {
  absl::StatusOr<MemoryMap> map =
      ParseProcIomem(ReadTestdata("iomem_qemu_uefi_8g_crashkernel_512m_high.txt"));
  ASSERT_TRUE(map.ok()) << map.status();
  // crashkernel=512M,high: 512 MiB high plus the 256 MiB low DMA range.
  EXPECT_THAT(map->CrashReservations(),
              ElementsAre(Range{0x6b000000, 0x10000000}, Range{0x25f000000, 0x20000000}));
  EXPECT_EQ(*map->CrashReservation(), (Range{0x25f000000, 0x20000000}));
  EXPECT_THAT(map->RangesOf(MemoryType::kAcpi),
              ElementsAre(Range::FromStartEnd(0x7f76c000, 0x7f77e000)));
  EXPECT_THAT(
      map->RangesOf(MemoryType::kNvs),
      ElementsAre(Range::FromStartEnd(0x806000, 0x808000), Range::FromStartEnd(0x810000, 0x900000),
                  Range::FromStartEnd(0x7f77e000, 0x7f7fe000),
                  Range::FromStartEnd(0x7ff70000, 0x80000000)));
  // memmap=256M!0x200000000 made legacy persistent memory.
  EXPECT_THAT(map->RangesOf(MemoryType::kPersistent), ElementsAre(Range{0x200000000, 0x10000000}));
  // The kernel split System RAM at setup_data (0x7da91018, ...): unaligned,
  // touching lines that coalesce into one range.
  EXPECT_THAT(
      map->RangesOf(MemoryType::kRam),
      ElementsAre(
          Range::FromStartEnd(0x1000, 0xa0000), Range::FromStartEnd(0x100000, 0x806000),
          Range::FromStartEnd(0x808000, 0x810000), Range::FromStartEnd(0x900000, 0x7dc56000),
          Range::FromStartEnd(0x7dc5f000, 0x7ea8a000), Range::FromStartEnd(0x7eb8c000, 0x7f4ec000),
          Range::FromStartEnd(0x7f7fe000, 0x7feec000),
          Range::FromStartEnd(0x100000000, 0x120000000),
          Range::FromStartEnd(0x124000000, 0x200000000),
          Range::FromStartEnd(0x210000000, 0x280000000)));
  const std::vector<BootE820Entry> table = map->ToE820();
  EXPECT_TRUE(ValidateE820Table(table).ok());
  bool found_legacy_pmem = false;
  for (const MemoryRegion& region : map->regions()) {
    found_legacy_pmem |= region.name == "Persistent Memory (legacy)";
  }
  EXPECT_TRUE(found_legacy_pmem);
}

TEST(ParseProcIomemTest, BigServerWithManyRanges) {
  const std::string text = ReadTestdata("iomem_server_2socket_384g.txt");
  absl::StatusOr<MemoryMap> map = ParseProcIomem(text);
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(*map->CrashReservation(), (Range{0x4a000000, 0x10000000}));
  const std::vector<Range> ram = map->RangesOf(MemoryType::kRam);
  // The two sockets' System RAM lines touch at 0x3080000000: one range.
  EXPECT_THAT(ram, ElementsAre(Range::FromStartEnd(0x1000, 0xa0000),
                               Range::FromStartEnd(0x100000, 0x5b80f000),
                               Range::FromStartEnd(0x6c1ff000, 0x6c200000),
                               Range::FromStartEnd(0x100000000, 0x6080000000)));
  uint64_t ram_bytes = 0;
  for (const Range& r : ram) ram_bytes += r.size;
  EXPECT_EQ(ram_bytes, 0x9f000ull + 0x5b70f000ull + 0x1000ull + 0x5f80000000ull);
  EXPECT_THAT(map->RangesOf(MemoryType::kAcpi),
              ElementsAre(Range::FromStartEnd(0x6bc8f000, 0x6c1ff000)));
  EXPECT_THAT(map->RangesOf(MemoryType::kNvs),
              ElementsAre(Range::FromStartEnd(0x6280f000, 0x6bc8f000)));
  EXPECT_THAT(map->RangesOf(MemoryType::kUnusable), ElementsAre(Range{0x60c0000000, 0x1000000}));
  EXPECT_THAT(map->RangesOf(MemoryType::kPersistent), ElementsAre(Range{0x6080000000, 0x40000000}));
  // "Soft Reserved" and the "Reserved" three levels down under the local
  // APIC are reserved.
  EXPECT_THAT(map->RangesOf(MemoryType::kReserved),
              testing::IsSupersetOf({Range{0x60c1000000, 0x3000000}, Range{0xfee00000, 0x1000}}));
  // 468 lines, of which these 22 are memory: the rest are devices.
  EXPECT_EQ(map->regions().size(), 22u);
  const std::vector<BootE820Entry> table = map->ToE820();
  EXPECT_TRUE(ValidateE820Table(table).ok());
  EXPECT_GT(table.size(), 10u);
}

TEST(ParseProcIomemTest, AllZeroAddressesMeanNotRoot) {
  absl::StatusOr<MemoryMap> map = ParseProcIomem(ReadTestdata("iomem_nonroot_zeroed.txt"));
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(map.status().message(), HasSubstr("CAP_SYS_ADMIN"));
  EXPECT_THAT(map.status().message(), HasSubstr("run as root"));
  EXPECT_THAT(map.status().message(), HasSubstr("all 36 ranges"));
}

TEST(ParseProcIomemTest, AcceptsUppercaseHexAndNoTrailingNewline) {
  absl::StatusOr<MemoryMap> map =
      ParseProcIomem("00100000-3FFDEFFF : System RAM\n  2F000000-3EFFFFFF : Crash kernel");
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(*map->CrashReservation(), (Range{0x2f000000, 0x10000000}));
}

struct BadIomem {
  const char* text;
  const char* error;
};

TEST(ParseProcIomemTest, RejectsMalformedLinesNamingLineAndText) {
  const BadIomem cases[] = {
      {"00001000-0009ffff System RAM\n", "line 1: no ' : ' between"},
      {"00001000 : System RAM\n", "line 1: no '-' between"},
      {"0000100g-0009ffff : System RAM\n", "line 1: start address '0000100g' is not hexadecimal"},
      {"00001000-0009fffx : System RAM\n", "line 1: end address '0009fffx' is not hexadecimal"},
      {"-0009ffff : System RAM\n", "line 1: start address is empty"},
      {"12345678901234567-1 : X\n", "has more than 16 hex digits"},
      {"00002000-00001000 : System RAM\n", "line 1: end 0x1000 is below start 0x2000"},
      {"00000000-ffffffffffffffff : X\n", "2^64"},
      {"00000000-00000fff : A\n   00000000-00000010 : B\n",
       "line 2: indentation of 3 spaces is not a multiple of 2"},
      {"00000000-00000fff : A\n    00000000-00000010 : B\n",
       "line 2: nested 2 levels deep, but the line above is only 1 deep"},
      {"  00000000-00000fff : A\n", "line 1: nested 1 levels deep"},
      {"00001000-00001fff : A\n  00000000-00001000 : B\n",
       "line 2: 0x0-0x1000 lies outside its parent 0x1000-0x1fff on line 1"},
      {"00000000-00000fff : A\n\n0000zz\n", "line 3:"},
      {"", "no resources"},
      {"\n  \n", "no resources"},
  };
  for (const BadIomem& c : cases) {
    absl::StatusOr<MemoryMap> map = ParseProcIomem(c.text);
    ASSERT_FALSE(map.ok()) << c.text;
    EXPECT_THAT(map.status().message(), HasSubstr(c.error)) << c.text;
  }
}

TEST(ParseProcIomemTest, ErrorQuotesTheLineWithBinaryEscaped) {
  absl::StatusOr<MemoryMap> map = ParseProcIomem(std::string("00000000-00000fff \x01 RAM\n", 24));
  ASSERT_FALSE(map.ok());
  EXPECT_THAT(map.status().message(), HasSubstr("no ' : ' between the range and name: "
                                                "'00000000-00000fff \\x01 RAM'"));
}

// --- e820 ---------------------------------------------------------------

// What the kernel printed as BIOS-e820 when booted by OVMF with 8 GiB: the
// table its EFI stub built from the UEFI memory map in
// uefi_memmap_ovmf_8g.bin, which is also the zero page in
// zeropage_e820_ovmf_8g.bin.
std::vector<BootE820Entry> Ovmf8GiBE820() {
  return E820Table({{0x0000000000000000, 0x000000000009ffff, kE820Ram},
                    {0x0000000000100000, 0x0000000000805fff, kE820Ram},
                    {0x0000000000806000, 0x0000000000807fff, kE820Nvs},
                    {0x0000000000808000, 0x000000000080ffff, kE820Ram},
                    {0x0000000000810000, 0x00000000008fffff, kE820Nvs},
                    {0x0000000000900000, 0x000000007ea89fff, kE820Ram},
                    {0x000000007ea8a000, 0x000000007eb8bfff, kE820Reserved},
                    {0x000000007eb8c000, 0x000000007f4ebfff, kE820Ram},
                    {0x000000007f4ec000, 0x000000007f76bfff, kE820Reserved},
                    {0x000000007f76c000, 0x000000007f77dfff, kE820Acpi},
                    {0x000000007f77e000, 0x000000007f7fdfff, kE820Nvs},
                    {0x000000007f7fe000, 0x000000007feebfff, kE820Ram},
                    {0x000000007feec000, 0x000000007ff6ffff, kE820Reserved},
                    {0x000000007ff70000, 0x000000007fffffff, kE820Nvs},
                    {0x00000000b0000000, 0x00000000bfffffff, kE820Reserved},
                    {0x00000000ffc00000, 0x00000000ffffffff, kE820Reserved},
                    {0x0000000100000000, 0x000000027fffffff, kE820Ram}});
}

TEST(ParseE820TableTest, RealZeroPageTable) {
  const std::string bytes = ReadTestdata("zeropage_e820_ovmf_8g.bin");
  ASSERT_EQ(bytes.size(), 17u * 20);
  absl::StatusOr<MemoryMap> map = ParseE820Table(Bytes(bytes));
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->regions().size(), 17u);
  // The raw table lists 0xb0000000 after 0x100000000; ToE820 sorts.
  ExpectTable(map->ToE820(), Ovmf8GiBE820());
}

TEST(ParseE820TableTest, RejectsPartialEntries) {
  const std::string bytes(21, '\0');
  absl::StatusOr<MemoryMap> map = ParseE820Table(Bytes(bytes));
  ASSERT_FALSE(map.ok());
  EXPECT_THAT(map.status().message(),
              HasSubstr("21 bytes is not a whole number of 20-byte entries"));
  EXPECT_TRUE(ParseE820Table({}).ok());
}

TEST(ParseE820EntriesTest, TypesNamesEmptyAndWrappingEntries) {
  absl::StatusOr<MemoryMap> map = ParseE820Entries(
      {E820(0x0, 0x1000, 1), E820(0x1000, 0, 1), E820(0x2000, 0x1000, 12), E820(0x3000, 0x1000, 13),
       E820(0x4000, 0x1000, 0xefffffff), E820(0x5000, 0x1000, 5), E820(0x6000, 0x1000, 7)});
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->regions().size(), 6u);  // The empty entry is skipped.
  EXPECT_EQ(
      map->regions()[1],
      (MemoryRegion{{0x2000, 0x1000}, MemoryType::kPersistent, "Persistent Memory (legacy)"}));
  EXPECT_EQ(map->regions()[2],
            (MemoryRegion{{0x3000, 0x1000}, MemoryType::kOther, "e820 type 13"}));
  EXPECT_EQ(map->regions()[3],
            (MemoryRegion{{0x4000, 0x1000}, MemoryType::kReserved, "Soft Reserved"}));
  EXPECT_EQ(map->regions()[4].type, MemoryType::kUnusable);
  EXPECT_EQ(map->regions()[5].name, "Persistent Memory");

  absl::StatusOr<MemoryMap> wrapping =
      ParseE820Entries({E820(0, 0x1000, 1), E820(kMax - 10, 11, 2)});
  ASSERT_FALSE(wrapping.ok());
  EXPECT_THAT(wrapping.status().message(),
              HasSubstr("e820 entry 1: addr 0xfffffffffffffff5 + size 0xb "
                        "passes 2^64 - 1"));
}

TEST(ParseE820EntriesTest, RoundTripsThroughToE820) {
  const std::string bytes = ReadTestdata("zeropage_e820_ovmf_8g.bin");
  const std::vector<BootE820Entry> table = ParseE820Table(Bytes(bytes))->ToE820();
  absl::StatusOr<MemoryMap> again = ParseE820Entries(table);
  ASSERT_TRUE(again.ok());
  ExpectTable(again->ToE820(), table);
}

// --- UEFI memory map ---------------------------------------------------------

std::string Descriptor(uint32_t type, uint64_t start, uint64_t pages, uint64_t attribute,
                       size_t stride = 40, char padding = '\0') {
  EfiMemoryDescriptor d;
  d.type = type;
  d.pad = 0;
  d.physical_start = start;
  d.virtual_start = 0;
  d.number_of_pages = pages;
  d.attribute = attribute;
  std::string bytes(stride, padding);
  memcpy(&bytes[0], &d, sizeof(d));
  return bytes;
}

TEST(ParseUefiMemoryMapTest, RealOvmfMapGivesTheStubsE820) {
  const std::string bytes = ReadTestdata("uefi_memmap_ovmf_8g.bin");
  ASSERT_EQ(bytes.size(), 139u * 48);
  absl::StatusOr<MemoryMap> map = ParseUefiMemoryMap(Bytes(bytes), 48, 1);
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->regions().size(), 139u);
  EXPECT_EQ(map->regions()[0].name, "EfiBootServicesCode");
  ExpectTable(map->ToE820(), Ovmf8GiBE820());
}

TEST(ParseUefiMemoryMapTest, MapsEveryTypeLikeTheEfiStub) {
  const struct {
    uint32_t efi_type;
    uint64_t attribute;
    MemoryType type;
    const char* name;
  } cases[] = {
      {0, 0, MemoryType::kReserved, "EfiReservedMemoryType"},
      {1, 0, MemoryType::kRam, "EfiLoaderCode"},
      {2, 0, MemoryType::kRam, "EfiLoaderData"},
      {3, 0, MemoryType::kRam, "EfiBootServicesCode"},
      {4, 0, MemoryType::kRam, "EfiBootServicesData"},
      {5, 1ull << 63, MemoryType::kReserved, "EfiRuntimeServicesCode"},
      {6, 1ull << 63, MemoryType::kReserved, "EfiRuntimeServicesData"},
      {7, 0xf, MemoryType::kRam, "EfiConventionalMemory"},
      {8, 0, MemoryType::kUnusable, "EfiUnusableMemory"},
      {9, 0, MemoryType::kAcpi, "EfiACPIReclaimMemory"},
      {10, 0, MemoryType::kNvs, "EfiACPIMemoryNVS"},
      {11, 0, MemoryType::kReserved, "EfiMemoryMappedIO"},
      {12, 0, MemoryType::kReserved, "EfiMemoryMappedIOPortSpace"},
      {13, 0, MemoryType::kReserved, "EfiPalCode"},
      {14, 0, MemoryType::kPersistent, "EfiPersistentMemory"},
      {15, 0, MemoryType::kReserved, "EfiUnacceptedMemoryType"},
      {0x70000001, 0, MemoryType::kReserved, "EFI type 0x70000001"},
      {7, kEfiMemorySp, MemoryType::kReserved, "EfiConventionalMemory (specific purpose)"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<MemoryMap> map =
        ParseUefiMemoryMap(Bytes(Descriptor(c.efi_type, 0x100000, 16, c.attribute)), 40, 1);
    ASSERT_TRUE(map.ok()) << map.status();
    ASSERT_EQ(map->regions().size(), 1u);
    EXPECT_EQ(map->regions()[0], (MemoryRegion{{0x100000, 0x10000}, c.type, c.name}));
  }
}

TEST(ParseUefiMemoryMapTest, StepsByDescriptorSizeIgnoringTheTail) {
  const std::string bytes = Descriptor(kEfiConventionalMemory, 0x0, 0xa0, 0xf, 56, '\xff') +
                            Descriptor(kEfiAcpiMemoryNvs, 0x100000, 1, 0xf, 56, '\xff') +
                            Descriptor(kEfiConventionalMemory, 0x200000, 0, 0xf, 56, '\xff');
  absl::StatusOr<MemoryMap> map = ParseUefiMemoryMap(Bytes(bytes), 56, 1);
  ASSERT_TRUE(map.ok()) << map.status();
  ExpectTable(map->ToE820(), {E820(0, 0xa0000, kE820Ram), E820(0x100000, 0x1000, kE820Nvs)});
}

TEST(ParseUefiMemoryMapTest, RejectsBadGeometryAndRanges) {
  const std::string one = Descriptor(kEfiConventionalMemory, 0x1000, 1, 0);
  EXPECT_THAT(ParseUefiMemoryMap(Bytes(one), 39, 1).status().message(),
              HasSubstr("descriptor size 39 is smaller than "
                        "EFI_MEMORY_DESCRIPTOR (40 bytes)"));
  EXPECT_THAT(ParseUefiMemoryMap(Bytes(one), 40, 2).status().message(),
              HasSubstr("descriptor version 2"));
  EXPECT_THAT(ParseUefiMemoryMap(Bytes(one + "xyz"), 40, 1).status().message(),
              HasSubstr("43 bytes is not a whole number of 40-byte "
                        "descriptors (3 left over)"));
  EXPECT_THAT(ParseUefiMemoryMap(Bytes(one), 48, 1).status().message(),
              HasSubstr("40 bytes is not a whole number of 48-byte"));
  EXPECT_THAT(
      ParseUefiMemoryMap(Bytes(one + Descriptor(7, 0x1800, 1, 0)), 40, 1).status().message(),
      HasSubstr("descriptor 1: PhysicalStart 0x1800 is not 4 KiB aligned"));
  EXPECT_THAT(ParseUefiMemoryMap(Bytes(Descriptor(7, 0, 1ull << 52, 0)), 40, 1).status().message(),
              HasSubstr("descriptor 0: NumberOfPages 0x10000000000000 overflows"));
  EXPECT_THAT(
      ParseUefiMemoryMap(Bytes(Descriptor(7, 0xfffffffffffff000, 1, 0)), 40, 1).status().message(),
      HasSubstr("descriptor 0: PhysicalStart 0xfffffffffffff000 + 0x1 pages "
                "passes 2^64 - 1"));
  // The largest representable descriptor is fine.
  EXPECT_TRUE(ParseUefiMemoryMap(Bytes(Descriptor(7, 0xffffffffffffe000, 1, 0)), 40, 1).ok());
  EXPECT_TRUE(ParseUefiMemoryMap({}, 40, 1).ok());
}

}  // namespace
}  // namespace saveoops
