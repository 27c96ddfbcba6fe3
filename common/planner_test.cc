#include "common/planner.h"

#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

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

// The Debian 6.1 kernel this project tests with: init_size 0x3f98000,
// kernel_alignment 2 MiB, initrd_addr_max 0x7fffffff.
CaptureSizes DebianCaptureSizes() {
  CaptureSizes sizes;
  sizes.purgatory_size = 24 * kKiB;
  sizes.boot_params_size = 4 * kKiB + 2048 + 2560;
  sizes.elfcorehdr_size = 12 * kKiB + 100;
  sizes.kernel_init_size = 0x3f98000;
  sizes.kernel_payload_size = 8226752;
  sizes.kernel_alignment = 2 * kMiB;
  sizes.initrd_size = 9 * kMiB + 12345;
  sizes.initrd_addr_max = 0x7fffffff;
  sizes.runtime_headroom = 96 * kMiB;
  return sizes;
}

bool IsAligned(uint64_t value, uint64_t align) { return (value & (align - 1)) == 0; }

// Checks every promise PlanPlacement makes for a successful plan.
void ExpectValidPlan(const CaptureRequest& request, const Range& reservation, const Plan& plan) {
  EXPECT_EQ(plan.reservation, reservation);
  struct Slot {
    const PieceRequest* piece;
    Range Plan::*placed;
  };
  const Slot all[] = {
      {&request.purgatory, &Plan::purgatory},   {&request.boot_params, &Plan::boot_params},
      {&request.elfcorehdr, &Plan::elfcorehdr}, {&request.backup, &Plan::backup},
      {&request.kernel, &Plan::kernel},         {&request.initrd, &Plan::initrd}};
  uint64_t placed = 0;
  size_t expected_pieces = 0;
  for (const Slot& slot : all) {
    const PieceRequest* piece = slot.piece;
    const Placement* p = nullptr;
    for (const Placement& q : plan.pieces) {
      if (q.name == piece->name) p = &q;
    }
    if (piece->size == 0) {
      EXPECT_EQ(p, nullptr) << piece->name;
      EXPECT_TRUE((plan.*slot.placed).empty()) << piece->name;
      continue;
    }
    ++expected_pieces;
    ASSERT_NE(p, nullptr) << piece->name;
    // The typed member and the table entry agree.
    EXPECT_EQ(plan.*slot.placed, p->range) << piece->name;
    const uint64_t align = std::max<uint64_t>(piece->align, 4096);
    EXPECT_TRUE(IsAligned(p->range.start, align)) << piece->name;
    EXPECT_TRUE(IsAligned(p->range.size, 4096)) << piece->name;
    EXPECT_GE(p->range.size, piece->size) << piece->name;
    EXPECT_LT(p->range.size - piece->size, 4096u) << piece->name;
    EXPECT_TRUE(reservation.Contains(p->range)) << piece->name;
    EXPECT_GE(p->range.start, piece->min_addr) << piece->name;
    EXPECT_LE(p->range.end(), piece->max_end) << piece->name;
    EXPECT_EQ(p->preserve, piece->preserve) << piece->name;
    placed += p->range.size;
  }
  ASSERT_EQ(plan.pieces.size(), expected_pieces);
  for (size_t i = 0; i + 1 < plan.pieces.size(); ++i) {
    EXPECT_LE(plan.pieces[i].range.end(), plan.pieces[i + 1].range.start)
        << "pieces " << plan.pieces[i].name << " and " << plan.pieces[i + 1].name
        << " overlap or are out of order\n"
        << plan.ToString();
  }
  EXPECT_EQ(plan.free_bytes, reservation.size - placed);
  EXPECT_GE(plan.free_bytes, request.runtime_headroom);
}

TEST(MakeCaptureRequestTest, FillsConstraints) {
  CaptureSizes sizes = DebianCaptureSizes();
  sizes.backup_size = 640 * kKiB;
  const CaptureRequest request = MakeCaptureRequest(sizes);
  EXPECT_EQ(request.kernel.name, "kernel");
  EXPECT_EQ(request.kernel.size, 0x3f98000u);  // init_size > payload.
  EXPECT_EQ(request.kernel.align, 2 * kMiB);
  EXPECT_EQ(request.initrd.max_end, 0x80000000u);
  EXPECT_EQ(request.initrd.align, 4096u);
  EXPECT_EQ(request.elfcorehdr.align, 4096u);
  EXPECT_TRUE(request.elfcorehdr.preserve);
  EXPECT_TRUE(request.backup.preserve);
  EXPECT_FALSE(request.kernel.preserve);
  EXPECT_FALSE(request.initrd.preserve);
  EXPECT_EQ(request.purgatory.max_end, UINT64_MAX);
  EXPECT_EQ(request.runtime_headroom, 96 * kMiB);

  sizes.kernel_payload_size = 0x5000000;
  sizes.initrd_above_4g_ok = true;
  const CaptureRequest big = MakeCaptureRequest(sizes);
  EXPECT_EQ(big.kernel.size, 0x5000000u);
  EXPECT_EQ(big.initrd.max_end, UINT64_MAX);

  sizes.initrd_above_4g_ok = false;
  sizes.initrd_addr_max = UINT64_MAX;
  EXPECT_EQ(MakeCaptureRequest(sizes).initrd.max_end, UINT64_MAX);
}

TEST(PlanPlacementTest, DebianKernelInTheQemuReservation) {
  absl::StatusOr<MemoryMap> map =
      ParseProcIomem(ReadTestdata("iomem_qemu_bios_1g_crashkernel_256m.txt"));
  ASSERT_TRUE(map.ok()) << map.status();
  const Range reservation = *map->CrashReservation();
  const CaptureRequest request = MakeCaptureRequest(DebianCaptureSizes());
  absl::StatusOr<Plan> plan = PlanPlacement(request, reservation);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ExpectValidPlan(request, reservation, *plan);

  // The kernel at the bottom, the rest packed at the top.
  EXPECT_EQ(plan->pieces.front().name, "kernel");
  EXPECT_EQ(plan->kernel, (Range{0x2f000000, 0x3f98000}));
  EXPECT_EQ(plan->pieces.back().range.end(), reservation.end());
  uint64_t packed = 0;
  for (const Placement& p : plan->pieces) {
    if (p.name != "kernel") packed += p.range.size;
  }
  const uint64_t lowest_packed = plan->pieces[1].range.start;
  EXPECT_EQ(reservation.end() - lowest_packed, packed);  // No gaps.
  EXPECT_EQ(plan->elfcorehdr.size, 16 * kKiB);
  EXPECT_TRUE(plan->backup.empty());

  const std::string table = plan->ToString();
  EXPECT_THAT(table, HasSubstr("reservation [0x2f000000, 0x3f000000)  256 MiB"));
  EXPECT_THAT(table, HasSubstr("kernel"));
  EXPECT_THAT(table, HasSubstr("elfcorehdr*"));
  EXPECT_THAT(table, HasSubstr("(free)"));
  EXPECT_THAT(table, HasSubstr("kept out of the capture kernel's RAM"));

  // Deterministic.
  absl::StatusOr<Plan> again = PlanPlacement(request, reservation);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToString(), table);
}

TEST(PlanPlacementTest, KernelAlignmentGapTakesWhatDoesNotFitAbove) {
  CaptureRequest request;
  request.kernel.size = 16 * kMiB;
  request.kernel.align = 64 * kMiB;
  request.initrd.size = 24 * kMiB;
  request.boot_params.size = 12 * kMiB;
  request.purgatory.size = 4096;
  // The kernel goes to 0x30000000, leaving 16 MiB below it and 32 MiB above.
  const Range reservation{0x2f000000, 64 * kMiB};
  absl::StatusOr<Plan> plan = PlanPlacement(request, reservation);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ExpectValidPlan(request, reservation, *plan);
  EXPECT_EQ(plan->kernel, (Range{0x30000000, 16 * kMiB}));
  EXPECT_EQ(plan->initrd, (Range{0x31800000, 24 * kMiB}));
  // 8 MiB remain above the kernel: too little for boot_params, which goes
  // to the top of the gap below the kernel; the purgatory still fits above.
  EXPECT_EQ(plan->boot_params, (Range{0x2f400000, 12 * kMiB}));
  EXPECT_EQ(plan->purgatory, (Range{0x317ff000, 4096}));
  EXPECT_EQ(plan->free_bytes, 12 * kMiB - 4096);
}

TEST(PlanPlacementTest, InitrdCapBelowAHighReservationFailsWithReason) {
  const CaptureRequest request = MakeCaptureRequest(DebianCaptureSizes());
  const Range high{0x25f000000, 512 * kMiB};
  absl::StatusOr<Plan> plan = PlanPlacement(request, high);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("capture piece 'initrd' (0x904000 bytes (9.0 MiB), "
                        "align 0x1000, end <= 0x80000000) does not fit in the "
                        "reservation [0x25f000000, 0x27f000000) after placing "
                        "kernel: the largest usable gap is 0x0 bytes"));
  EXPECT_THAT(plan.status().message(),
              HasSubstr("no reservation starting at 0x25f000000 can hold"));

  // With XLF_CAN_BE_LOADED_ABOVE_4G it fits.
  CaptureSizes sizes = DebianCaptureSizes();
  sizes.initrd_above_4g_ok = true;
  EXPECT_TRUE(PlanPlacement(MakeCaptureRequest(sizes), high).ok());
}

TEST(PlanPlacementTest, TooSmallReservationSaysWhatIsNeeded) {
  const CaptureRequest request = MakeCaptureRequest(DebianCaptureSizes());
  absl::StatusOr<Plan> plan = PlanPlacement(request, Range{0x2f000000, 32 * kMiB});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              HasSubstr("capture piece 'kernel' (0x3f98000 bytes (63.6 MiB), "
                        "align 0x200000) does not fit in the reservation "
                        "[0x2f000000, 0x31000000): the largest usable gap is "
                        "0x2000000 bytes (32 MiB), 0x1f98000 bytes "
                        "(31.6 MiB) short"));
  EXPECT_THAT(plan.status().message(), HasSubstr("a reservation of 0xa8a9000 bytes (168.7 MiB) at "
                                                 "0x2f000000 would fit (crashkernel=169M)"));
}

TEST(PlanPlacementTest, HeadroomShortfallIsReported) {
  CaptureSizes sizes = DebianCaptureSizes();
  sizes.runtime_headroom = 200 * kMiB;
  absl::StatusOr<Plan> plan =
      PlanPlacement(MakeCaptureRequest(sizes), Range{0x2f000000, 256 * kMiB});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              HasSubstr("runtime headroom: the capture kernel needs 0xc800000 "
                        "bytes (200 MiB) free, but the reservation "
                        "[0x2f000000, 0x3f000000) has only"));
  EXPECT_THAT(plan.status().message(), HasSubstr("after placing kernel, initrd,"));
  // Pieces 0x48a9000 + headroom 0xc800000.
  EXPECT_THAT(plan.status().message(),
              HasSubstr("0x10a9000 bytes (16.7 MiB) short; a reservation of "
                        "0x110a9000 bytes (272.7 MiB) at 0x2f000000 would fit "
                        "(crashkernel=273M)"));
}

TEST(PlanPlacementTest, RejectsBadAlignmentAndWrappingReservation) {
  CaptureRequest request;
  request.kernel.size = kMiB;
  request.kernel.align = 0x3000;
  EXPECT_THAT(PlanPlacement(request, Range{0, kGiB}).status().message(),
              HasSubstr("capture piece 'kernel': alignment 0x3000 is not a "
                        "power of two"));
  request.kernel.align = 0;
  EXPECT_THAT(PlanPlacement(request, Range{0, kGiB}).status().message(),
              HasSubstr("alignment 0x0 is not a power of two"));
  request.kernel.align = 4096;
  request.initrd.size = UINT64_MAX - 10;
  EXPECT_THAT(PlanPlacement(request, Range{0, kGiB}).status().message(),
              HasSubstr("'initrd': size 0xfffffffffffffff5 does not fit"));
  request.initrd.size = 0;
  EXPECT_THAT(PlanPlacement(request, Range{UINT64_MAX - 10, 20}).status().message(),
              HasSubstr("passes 2^64 - 1"));
}

TEST(PlanPlacementTest, EmptyRequestAndEmptyNames) {
  CaptureRequest request;
  absl::StatusOr<Plan> plan = PlanPlacement(request, Range{0x1000000, 0});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->pieces.empty());
  EXPECT_EQ(plan->free_bytes, 0u);
  request.initrd.name = "";
  request.initrd.size = 1;
  plan = PlanPlacement(request, Range{0x1000000, 4096});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->initrd, (Range{0x1000000, 4096}));
}

TEST(SmallestReservationTest, ExactForAnUnconstrainedRequest) {
  CaptureRequest request;
  request.kernel.size = 40 * kMiB + 1;  // Rounds to 40 MiB + 4 KiB.
  request.kernel.align = 2 * kMiB;
  request.boot_params.size = 100;
  request.runtime_headroom = 10 * kMiB;
  absl::StatusOr<uint64_t> size = SmallestReservation(request);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 50 * kMiB + 8192);
  EXPECT_EQ(CrashkernelArgument(*size), "crashkernel=51M");
}

TEST(SmallestReservationTest, AlignmentBeyondTheStartAlignmentCountsTheGap) {
  CaptureRequest request;
  request.kernel.size = 4 * kMiB;
  request.kernel.align = 64 * kMiB;
  // At start 16 MiB the kernel must skip to 64 MiB: a 48 MiB gap.
  EXPECT_EQ(*SmallestReservation(request), 52 * kMiB);
  EXPECT_EQ(*SmallestReservationAt(request, 64 * kMiB), 4 * kMiB);
}

TEST(SmallestReservationTest, ErrorsNameTheProblem) {
  CaptureRequest request;
  request.kernel.size = kMiB;
  EXPECT_THAT(SmallestReservation(request, 3000).status().message(),
              HasSubstr("start alignment 0xbb8: need a power of two"));
  EXPECT_THAT(SmallestReservation(request, 2048).status().message(),
              HasSubstr("need a power of two >= 0x1000"));
  request.initrd.size = kMiB;
  request.initrd.max_end = 8 * kMiB;  // Ends below the reservation start.
  absl::StatusOr<uint64_t> size = SmallestReservation(request);
  ASSERT_FALSE(size.ok());
  EXPECT_THAT(size.status().message(),
              HasSubstr("no reservation starting at 0x1000000 can hold the "
                        "capture pieces: capture piece 'initrd'"));
  EXPECT_EQ(*SmallestReservation(CaptureRequest()), 0u);
}

TEST(CrashkernelArgumentTest, RoundsUpToWholeMiB) {
  EXPECT_EQ(CrashkernelArgument(0), "crashkernel=0M");
  EXPECT_EQ(CrashkernelArgument(1), "crashkernel=1M");
  EXPECT_EQ(CrashkernelArgument(72 * kMiB), "crashkernel=72M");
  EXPECT_EQ(CrashkernelArgument(72 * kMiB + 1), "crashkernel=73M");
  EXPECT_EQ(CrashkernelArgument(4 * kGiB), "crashkernel=4096M");
}

// --- Property tests -------------------------------------------------------

uint64_t Pow2(std::mt19937_64& rng, int lo_log2, int hi_log2) {
  return 1ull << std::uniform_int_distribution<int>(lo_log2, hi_log2)(rng);
}

uint64_t Uniform(std::mt19937_64& rng, uint64_t lo, uint64_t hi) {
  return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
}

bool Chance(std::mt19937_64& rng, double p) { return std::bernoulli_distribution(p)(rng); }

// A request shaped like a real one: sizes of every magnitude, some optional
// pieces absent, the initrd sometimes capped below 2 or 4 GiB.
CaptureRequest RealisticRequest(std::mt19937_64& rng) {
  CaptureSizes sizes;
  sizes.purgatory_size = Uniform(rng, 1, 64 * kKiB);
  sizes.boot_params_size = Uniform(rng, 4096, 20 * kKiB);
  sizes.elfcorehdr_size = Uniform(rng, 1, 256 * kKiB);
  sizes.backup_size = Chance(rng, 0.3) ? 640 * kKiB : 0;
  sizes.kernel_init_size = Uniform(rng, 1, 96 * kMiB);
  sizes.kernel_payload_size = Uniform(rng, 1, 32 * kMiB);
  sizes.kernel_alignment = Pow2(rng, 12, 24);
  sizes.initrd_size = Chance(rng, 0.2) ? 0 : Uniform(rng, 1, 64 * kMiB);
  sizes.initrd_addr_max = Chance(rng, 0.5) ? 0x7fffffff : 0xffffffff;
  sizes.initrd_above_4g_ok = Chance(rng, 0.3);
  sizes.runtime_headroom = Uniform(rng, 0, 256 * kMiB);
  return MakeCaptureRequest(sizes);
}

// Any request: random alignments up to 64 MiB, random min/max windows.
CaptureRequest WildRequest(std::mt19937_64& rng, const Range& around) {
  CaptureRequest request = RealisticRequest(rng);
  PieceRequest* all[] = {&request.purgatory, &request.boot_params, &request.elfcorehdr,
                         &request.backup,    &request.kernel,      &request.initrd};
  for (PieceRequest* piece : all) {
    if (Chance(rng, 0.3)) piece->align = Pow2(rng, 0, 26);
    if (Chance(rng, 0.15)) {
      piece->min_addr = around.start + Uniform(rng, 0, around.size);
    }
    if (Chance(rng, 0.15)) {
      piece->max_end = around.start + Uniform(rng, 0, around.size + 64 * kMiB);
    }
  }
  return request;
}

Range RandomReservation(std::mt19937_64& rng) {
  const uint64_t align = Pow2(rng, 12, 28);
  const uint64_t start = Uniform(rng, 1, (64 * kGiB) / align) * align;
  const uint64_t size =
      Uniform(rng, 0, 512 * kMiB / 4096) * 4096 + (Chance(rng, 0.1) ? Uniform(rng, 1, 4095) : 0);
  return Range{start, size};
}

TEST(PlannerPropertyTest, PlansHonorEveryConstraint) {
  std::mt19937_64 rng(20240501);
  int ok = 0, failed = 0;
  for (int i = 0; i < 2500; ++i) {
    const Range reservation = RandomReservation(rng);
    const CaptureRequest request =
        Chance(rng, 0.5) ? RealisticRequest(rng) : WildRequest(rng, reservation);
    absl::StatusOr<Plan> plan = PlanPlacement(request, reservation);
    if (plan.ok()) {
      ++ok;
      ExpectValidPlan(request, reservation, *plan);
    } else {
      ++failed;
      EXPECT_EQ(plan.status().code(), absl::StatusCode::kResourceExhausted) << plan.status();
      const std::string message(plan.status().message());
      EXPECT_TRUE(message.find("capture piece '") != std::string::npos ||
                  message.find("runtime headroom") != std::string::npos)
          << message;
      EXPECT_TRUE(message.find("would fit (crashkernel=") != std::string::npos ||
                  message.find("no reservation starting at") != std::string::npos)
          << message;
    }
    if (HasFailure()) break;
  }
  EXPECT_GT(ok, 500);
  EXPECT_GT(failed, 500);
}

TEST(PlannerPropertyTest, SmallestReservationIsTightForRealisticRequests) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const CaptureRequest request = RealisticRequest(rng);
    absl::StatusOr<uint64_t> size = SmallestReservation(request);
    ASSERT_TRUE(size.ok()) << size.status();
    ASSERT_EQ(*size % 4096, 0u);
    const uint64_t start = kCrashKernelAlignment;
    absl::StatusOr<Plan> plan = PlanPlacement(request, Range{start, *size});
    ASSERT_TRUE(plan.ok()) << plan.status();
    ExpectValidPlan(request, Range{start, *size}, *plan);
    ASSERT_GE(*size, 4096u);
    EXPECT_FALSE(PlanPlacement(request, Range{start, *size - 4096}).ok()) << "S=" << *size;
    // Monotone: every larger size works too (spot checks).
    for (int k = 0; k < 3; ++k) {
      const uint64_t bigger = *size + Uniform(rng, 1, 8192) * 4096;
      EXPECT_TRUE(PlanPlacement(request, Range{start, bigger}).ok())
          << "S=" << *size << " bigger=" << bigger;
    }
    // The same size works at other multiples of the alignment below 2 GiB
    // (the initrd cap), since every piece alignment divides 16 MiB.
    const uint64_t other_start = Uniform(rng, 1, 64) * kCrashKernelAlignment;
    if (other_start + *size <= 0x80000000) {
      EXPECT_TRUE(PlanPlacement(request, Range{other_start, *size}).ok());
    }
    if (HasFailure()) break;
  }
}

TEST(PlannerPropertyTest, SmallestReservationAtIsTightForAnyRequest) {
  std::mt19937_64 rng(99);
  int found = 0;
  for (int i = 0; i < 2000; ++i) {
    const Range around = RandomReservation(rng);
    const CaptureRequest request = WildRequest(rng, around);
    absl::StatusOr<uint64_t> size = SmallestReservationAt(request, around.start);
    if (!size.ok()) {
      EXPECT_THAT(size.status().message(), HasSubstr("no reservation starting at"));
      continue;
    }
    ++found;
    const Range at{around.start, *size};
    absl::StatusOr<Plan> plan = PlanPlacement(request, at);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ExpectValidPlan(request, at, *plan);
    if (*size >= 4096) {
      EXPECT_FALSE(PlanPlacement(request, Range{around.start, *size - 4096}).ok());
    }
    if (HasFailure()) break;
  }
  EXPECT_GT(found, 500);
}

// A random first-kernel map: disjoint top-level regions of every type, the
// crash reservation nested in a large RAM region, maybe a low crash range.
struct RandomMachine {
  MemoryMap map;
  Range reservation;
  std::vector<Range> other_crash;
};

RandomMachine MakeRandomMachine(std::mt19937_64& rng) {
  RandomMachine machine;
  const MemoryType kinds[] = {MemoryType::kReserved, MemoryType::kAcpi,       MemoryType::kNvs,
                              MemoryType::kUnusable, MemoryType::kPersistent, MemoryType::kOther};
  // Low memory: RAM from 0 or 4 KiB to somewhere under 640 KiB, then a
  // reserved hole up to 1 MiB.
  uint64_t cursor = Chance(rng, 0.5) ? 0 : 4096;
  if (cursor != 0) machine.map.Add(Range{0, 4096}, MemoryType::kReserved);
  const uint64_t low_end = Uniform(rng, 0x90000, 0xa0000) & ~0x3ffull;
  machine.map.Add(Range::FromStartEnd(cursor, low_end), MemoryType::kRam);
  machine.map.Add(Range::FromStartEnd(low_end, 0x100000), MemoryType::kReserved);
  cursor = 0x100000;
  const int regions = static_cast<int>(Uniform(rng, 2, 30));
  const int crash_at = static_cast<int>(Uniform(rng, 0, regions - 1));
  for (int i = 0; i < regions; ++i) {
    cursor += Uniform(rng, 0, 16) * 4096;  // Maybe a hole.
    if (i == crash_at) {
      const uint64_t ram_start = cursor;
      const uint64_t crash_start =
          (ram_start / kCrashKernelAlignment + 1 + Uniform(rng, 0, 8)) * kCrashKernelAlignment;
      const uint64_t crash_size = Uniform(rng, 64, 512) * kMiB;
      const uint64_t ram_end = crash_start + crash_size + Uniform(rng, 0, 4096) * 4096;
      machine.map.Add(Range::FromStartEnd(ram_start, ram_end), MemoryType::kRam);
      machine.reservation = Range{crash_start, crash_size};
      machine.map.Add(machine.reservation, MemoryType::kCrashKernel);
      machine.map.Add(Range{ram_start, 4 * kMiB}, MemoryType::kKernelCode);
      cursor = ram_end;
      continue;
    }
    const uint64_t size = Uniform(rng, 1, 0x4000) * 4096;
    const MemoryType type = Chance(rng, 0.5) ? MemoryType::kRam : kinds[Uniform(rng, 0, 5)];
    machine.map.Add(Range{cursor, size}, type);
    if (type == MemoryType::kRam && Chance(rng, 0.2) && size >= 2 * kMiB) {
      // A second crash range (crashkernel=X,high's low part).
      const Range low{cursor + kMiB, kMiB};
      machine.map.Add(low, MemoryType::kCrashKernel);
      machine.other_crash.push_back(low);
    }
    cursor += size;
  }
  return machine;
}

// The e820 type covering every byte of `range` in `table`, or 0 if the
// bytes are not all covered by one type.
uint32_t CoveringType(const std::vector<BootE820Entry>& table, const Range& range) {
  uint32_t type = 0;
  std::vector<Range> uncovered = {range};
  for (const BootE820Entry& e : table) {
    const Range r{e.addr, e.size};
    if (!r.Overlaps(range)) continue;
    if (type != 0 && type != e.type) return 0;
    type = e.type;
    uncovered = Subtract(uncovered, r);
  }
  return uncovered.empty() ? type : 0;
}

TEST(CaptureKernelMemoryMapTest, QemuGuestLayout) {
  absl::StatusOr<MemoryMap> map =
      ParseProcIomem(ReadTestdata("iomem_qemu_bios_1g_crashkernel_256m.txt"));
  ASSERT_TRUE(map.ok());
  const Range reservation = *map->CrashReservation();
  absl::StatusOr<Plan> plan = PlanPlacement(MakeCaptureRequest(DebianCaptureSizes()), reservation);
  ASSERT_TRUE(plan.ok());
  const Range elfcorehdr = plan->elfcorehdr;
  const std::vector<BootE820Entry> table =
      CaptureKernelMemoryMap(*map, reservation, *plan, true).ToE820();
  ASSERT_TRUE(ValidateE820Table(table).ok());
  std::vector<Range> ram;
  for (const BootE820Entry& e : table) {
    if (e.type == kE820Ram) ram.push_back(Range{e.addr, e.size});
  }
  EXPECT_THAT(ram, testing::ElementsAre(Range{0x1000, 0x9ec00},
                                        Range::FromStartEnd(reservation.start, elfcorehdr.start),
                                        Range::FromStartEnd(elfcorehdr.end(), reservation.end())));
  EXPECT_EQ(CoveringType(table, Range{0x3ffdf000, 0x21000}), kE820Reserved);

  const std::vector<BootE820Entry> without_low =
      CaptureKernelMemoryMap(*map, reservation, *plan, false).ToE820();
  for (const BootE820Entry& e : without_low) {
    EXPECT_FALSE(e.type == kE820Ram && e.addr < kLowMemoryEnd);
  }
}

TEST(CaptureKernelMemoryMapTest, PropertiesOverRandomMachines) {
  std::mt19937_64 rng(31337);
  for (int i = 0; i < 2000; ++i) {
    RandomMachine machine = MakeRandomMachine(rng);
    CaptureSizes sizes;
    sizes.purgatory_size = Uniform(rng, 1, 64 * kKiB);
    sizes.boot_params_size = 3 * 4096;
    sizes.elfcorehdr_size = Uniform(rng, 1, 64 * kKiB);
    sizes.backup_size = Chance(rng, 0.5) ? 640 * kKiB : 0;
    sizes.kernel_init_size = Uniform(rng, 1, 40 * kMiB);
    sizes.initrd_size = Uniform(rng, 0, 16 * kMiB);
    sizes.initrd_above_4g_ok = true;
    absl::StatusOr<Plan> plan = PlanPlacement(MakeCaptureRequest(sizes), machine.reservation);
    ASSERT_TRUE(plan.ok()) << plan.status();
    const bool low = Chance(rng, 0.5);
    const std::vector<BootE820Entry> table =
        CaptureKernelMemoryMap(machine.map, machine.reservation, *plan, low).ToE820();
    ASSERT_TRUE(ValidateE820Table(table).ok()) << machine.map.ToString();

    // Where RAM may appear: the reservation minus preserved pieces, other
    // crash ranges, and (if asked) first-kernel RAM below 640 KiB.
    std::vector<Range> allowed = {machine.reservation};
    std::vector<Range> preserved;
    for (const Placement& p : plan->pieces) {
      if (p.preserve) {
        allowed = Subtract(allowed, p.range);
        preserved.push_back(p.range);
      }
    }
    const std::vector<Range> must_be_ram = allowed;
    for (const Range& r : machine.other_crash) allowed.push_back(r);
    if (low) {
      for (const Range& r : machine.map.RangesOf(MemoryType::kRam)) {
        if (auto part = r.Intersect(Range{0, kLowMemoryEnd})) {
          allowed.push_back(*part);
        }
      }
    }
    for (const BootE820Entry& e : table) {
      if (e.type != kE820Ram) continue;
      std::vector<Range> outside = {Range{e.addr, e.size}};
      for (const Range& a : allowed) outside = Subtract(outside, a);
      EXPECT_TRUE(outside.empty()) << "first-kernel RAM leaked: " << outside.front().ToString();
    }
    for (const Range& r : must_be_ram) {
      EXPECT_EQ(CoveringType(table, r), kE820Ram) << r.ToString();
    }
    for (const Range& r : preserved) {
      for (const BootE820Entry& e : table) {
        EXPECT_FALSE(r.Overlaps(Range{e.addr, e.size}))
            << "preserved piece " << r.ToString() << " appears in the map";
      }
    }
    for (const MemoryRegion& region : machine.map.regions()) {
      if (ToE820Type(region.type) == kE820Ram) continue;
      EXPECT_EQ(CoveringType(table, region.range), ToE820Type(region.type))
          << region.name << " " << region.range.ToString();
    }
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace saveoops
