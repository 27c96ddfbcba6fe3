#include "common/planner.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace saveoops {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

bool IsPowerOfTwo(uint64_t value) { return value != 0 && (value & (value - 1)) == 0; }

// `value` rounded up to a multiple of `align` (a power of two), or nullopt
// if that does not fit in 64 bits.
std::optional<uint64_t> AlignUp(uint64_t value, uint64_t align) {
  const uint64_t mask = align - 1;
  if (value > UINT64_MAX - mask) return std::nullopt;
  return (value + mask) & ~mask;
}

uint64_t AlignDown(uint64_t value, uint64_t align) { return value & ~(align - 1); }

// "32 MiB", "4 KiB", "42.4 MiB", "3 bytes".
std::string HumanSize(uint64_t bytes) {
  if (bytes >= kGiB && bytes % kGiB == 0) {
    return absl::StrFormat("%d GiB", bytes / kGiB);
  }
  if (bytes >= kMiB && bytes % kMiB == 0) {
    return absl::StrFormat("%d MiB", bytes / kMiB);
  }
  if (bytes >= kMiB) {
    return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / kMiB);
  }
  if (bytes >= kKiB && bytes % kKiB == 0) {
    return absl::StrFormat("%d KiB", bytes / kKiB);
  }
  if (bytes >= kKiB) {
    return absl::StrFormat("%.1f KiB", static_cast<double>(bytes) / kKiB);
  }
  return absl::StrFormat("%d bytes", bytes);
}

// "0x2000000 bytes (32 MiB)".
std::string SizeText(uint64_t bytes) {
  return absl::StrFormat("0x%x bytes (%s)", bytes, HumanSize(bytes));
}

// A PieceRequest after validation: page-rounded size, alignment >= 4096.
struct Piece {
  std::string name;
  uint64_t size = 0;
  uint64_t align = kPlannerPageSize;
  uint64_t min_addr = 0;
  uint64_t max_end = UINT64_MAX;
  bool preserve = false;
  size_t order = 0;  // Position in the request, the last sort key.
  // Where TryPlan() records the placement in the Plan.
  Range Plan::*slot = nullptr;
};

// A validated CaptureRequest.
struct Pieces {
  std::optional<Piece> kernel;
  // Packed from the top, in this order (most constrained first).
  std::vector<Piece> top_down;
  // Sum of all piece sizes.
  uint64_t total = 0;
  uint64_t runtime_headroom = 0;
};

absl::StatusOr<Pieces> Validate(const CaptureRequest& request) {
  struct Field {
    const PieceRequest* piece;
    const char* field;
    Range Plan::*slot;
  };
  const Field fields[] = {
      {&request.purgatory, "purgatory", &Plan::purgatory},
      {&request.boot_params, "boot_params", &Plan::boot_params},
      {&request.elfcorehdr, "elfcorehdr", &Plan::elfcorehdr},
      {&request.backup, "backup", &Plan::backup},
      {&request.kernel, "kernel", &Plan::kernel},
      {&request.initrd, "initrd", &Plan::initrd},
  };
  Pieces pieces;
  pieces.runtime_headroom = request.runtime_headroom;
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); ++i) {
    const PieceRequest& in = *fields[i].piece;
    Piece piece;
    piece.name = in.name.empty() ? fields[i].field : in.name;
    if (in.size == 0) continue;
    if (!IsPowerOfTwo(in.align)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "capture piece '%s': alignment 0x%x is not a power of two", piece.name, in.align));
    }
    std::optional<uint64_t> size = AlignUp(in.size, kPlannerPageSize);
    if (!size) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "capture piece '%s': size 0x%x does not fit the address space", piece.name, in.size));
    }
    piece.size = *size;
    piece.align = std::max(in.align, kPlannerPageSize);
    piece.min_addr = in.min_addr;
    piece.max_end = in.max_end;
    piece.preserve = in.preserve;
    piece.order = i;
    piece.slot = fields[i].slot;
    if (piece.size > UINT64_MAX - pieces.total) {
      return absl::InvalidArgumentError("capture pieces: their total size does not fit in 64 bits");
    }
    pieces.total += piece.size;
    if (fields[i].piece == &request.kernel) {
      pieces.kernel = std::move(piece);
    } else {
      pieces.top_down.push_back(std::move(piece));
    }
  }
  std::sort(pieces.top_down.begin(), pieces.top_down.end(), [](const Piece& a, const Piece& b) {
    if (a.max_end != b.max_end) return a.max_end < b.max_end;
    if (a.align != b.align) return a.align > b.align;
    if (a.size != b.size) return a.size > b.size;
    return a.order < b.order;
  });
  return pieces;
}

// Why TryPlan() failed.
struct Failure {
  // The piece that did not fit, or nullptr if the headroom is short.
  const Piece* piece = nullptr;
  // For a piece: the largest number of bytes available to it at a properly
  // aligned start. For headroom: the free bytes.
  uint64_t available = 0;
  // The pieces placed before the failure.
  std::vector<const Piece*> placed;
};

// Bytes available to `piece` inside `window` = [lo, hi) after aligning the
// start up; 0 if none.
uint64_t Available(const Piece& piece, uint64_t lo, uint64_t hi) {
  std::optional<uint64_t> start = AlignUp(lo, piece.align);
  if (!start || *start >= hi) return 0;
  return hi - *start;
}

// The placement algorithm (see PlanPlacement in planner.h) without error
// text, so SmallestReservationAt() can call it many times cheaply.
bool TryPlan(const Pieces& pieces, const Range& reservation, Plan* plan, Failure* failure) {
  plan->reservation = reservation;
  plan->pieces.clear();
  for (Range Plan::*slot : {&Plan::purgatory, &Plan::boot_params, &Plan::elfcorehdr, &Plan::backup,
                            &Plan::kernel, &Plan::initrd}) {
    plan->*slot = Range{};
  }
  failure->placed.clear();
  std::vector<Range> free_ranges = {reservation};
  const auto place = [&](const Piece& piece, uint64_t start) {
    const Range range{start, piece.size};
    plan->pieces.push_back({piece.name, range, piece.preserve});
    plan->*piece.slot = range;
    failure->placed.push_back(&piece);
    free_ranges = Subtract(free_ranges, range);
  };

  if (pieces.kernel) {
    // Lowest aligned start: the kernel grows upward through init_size.
    const Piece& kernel = *pieces.kernel;
    const uint64_t lo = std::max(reservation.start, kernel.min_addr);
    const uint64_t hi = std::min(reservation.end(), kernel.max_end);
    const uint64_t available = Available(kernel, lo, hi);
    if (available < kernel.size) {
      failure->piece = &kernel;
      failure->available = available;
      return false;
    }
    place(kernel, *AlignUp(lo, kernel.align));
  }

  for (const Piece& piece : pieces.top_down) {
    // Highest aligned start inside the highest free range that can hold it.
    uint64_t best_available = 0;
    bool placed = false;
    for (size_t i = free_ranges.size(); i-- > 0 && !placed;) {
      const uint64_t lo = std::max(free_ranges[i].start, piece.min_addr);
      const uint64_t hi = std::min(free_ranges[i].end(), piece.max_end);
      if (hi <= lo) continue;
      const uint64_t available = Available(piece, lo, hi);
      best_available = std::max(best_available, available);
      if (available < piece.size) continue;
      place(piece, AlignDown(hi - piece.size, piece.align));
      placed = true;
    }
    if (!placed) {
      failure->piece = &piece;
      failure->available = best_available;
      return false;
    }
  }

  std::sort(plan->pieces.begin(), plan->pieces.end(),
            [](const Placement& a, const Placement& b) { return a.range.start < b.range.start; });
  plan->free_bytes = reservation.size - pieces.total;
  if (plan->free_bytes < pieces.runtime_headroom) {
    failure->piece = nullptr;
    failure->available = plan->free_bytes;
    return false;
  }
  return true;
}

// "kernel, initrd, purgatory".
std::string PlacedNames(const Failure& failure) {
  return absl::StrJoin(failure.placed, ", ",
                       [](std::string* out, const Piece* piece) { out->append(piece->name); });
}

// The first half of an error message: what did not fit and by how much.
std::string DescribeFailure(const Failure& failure, const Pieces& pieces,
                            const Range& reservation) {
  if (failure.piece == nullptr) {
    return absl::StrFormat(
        "runtime headroom: the capture kernel needs %s free, but the "
        "reservation %s has only %s left after placing %s, %s short",
        SizeText(pieces.runtime_headroom), reservation.ToString(), SizeText(failure.available),
        PlacedNames(failure), SizeText(pieces.runtime_headroom - failure.available));
  }
  const Piece& piece = *failure.piece;
  std::string constraints = absl::StrFormat("align 0x%x", piece.align);
  if (piece.min_addr != 0) {
    absl::StrAppendFormat(&constraints, ", start >= 0x%x", piece.min_addr);
  }
  if (piece.max_end != UINT64_MAX) {
    absl::StrAppendFormat(&constraints, ", end <= 0x%x", piece.max_end);
  }
  std::string after;
  if (!failure.placed.empty()) {
    after = absl::StrCat(" after placing ", PlacedNames(failure));
  }
  return absl::StrFormat(
      "capture piece '%s' (%s, %s) does not fit in the reservation %s%s: the "
      "largest usable gap is %s, %s short",
      piece.name, SizeText(piece.size), constraints, reservation.ToString(), after,
      SizeText(failure.available), SizeText(piece.size - failure.available));
}

absl::StatusOr<uint64_t> SmallestSize(const Pieces& pieces, uint64_t start) {
  Plan plan;
  Failure failure;
  const uint64_t max_size = AlignDown(UINT64_MAX - start, kPlannerPageSize);
  const auto fits = [&](uint64_t size) {
    return TryPlan(pieces, Range{start, size}, &plan, &failure);
  };
  const auto nothing_fits = [&]() {
    fits(max_size);
    return absl::ResourceExhaustedError(
        absl::StrFormat("no reservation starting at 0x%x can hold the capture pieces: %s", start,
                        DescribeFailure(failure, pieces, Range{start, max_size})));
  };
  // Below the pieces plus the headroom nothing can work, so `lo` starts as
  // a size known to fail (or 0 when nothing is requested).
  if (pieces.runtime_headroom > UINT64_MAX - pieces.total) {
    return nothing_fits();
  }
  std::optional<uint64_t> lower = AlignUp(pieces.total + pieces.runtime_headroom, kPlannerPageSize);
  if (!lower || *lower > max_size) return nothing_fits();
  if (fits(*lower)) return *lower;

  // Invariant from here on: `lo` fails, `hi` fits.
  uint64_t lo = *lower;
  uint64_t hi = lo;
  while (true) {
    hi = hi <= max_size / 2 ? std::max<uint64_t>(hi * 2, kPlannerPageSize) : max_size;
    if (fits(hi)) break;
    if (hi == max_size) return nothing_fits();
    lo = hi;
  }
  while (hi - lo > kPlannerPageSize) {
    const uint64_t mid = lo + AlignDown((hi - lo) / 2, kPlannerPageSize);
    if (fits(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

}  // namespace

CaptureRequest MakeCaptureRequest(const CaptureSizes& sizes) {
  CaptureRequest request;
  request.purgatory.size = sizes.purgatory_size;
  request.boot_params.size = sizes.boot_params_size;
  request.elfcorehdr.size = sizes.elfcorehdr_size;
  request.elfcorehdr.preserve = true;
  request.backup.size = sizes.backup_size;
  request.backup.preserve = true;
  request.kernel.size = std::max(sizes.kernel_init_size, sizes.kernel_payload_size);
  request.kernel.align = sizes.kernel_alignment;
  request.initrd.size = sizes.initrd_size;
  if (!sizes.initrd_above_4g_ok) {
    // initrd_addr_max is the last byte the initrd may occupy.
    request.initrd.max_end =
        sizes.initrd_addr_max == UINT64_MAX ? UINT64_MAX : sizes.initrd_addr_max + 1;
  }
  request.runtime_headroom = sizes.runtime_headroom;
  return request;
}

std::string Plan::ToString() const {
  std::string text =
      absl::StrFormat("reservation %s  %s\n", reservation.ToString(), HumanSize(reservation.size));
  uint64_t cursor = reservation.start;
  const auto line = [&](std::string_view name, const Range& range) {
    absl::StrAppendFormat(&text, "  %-12s %-36s %s\n", name, range.ToString(),
                          HumanSize(range.size));
  };
  for (const Placement& piece : pieces) {
    if (piece.range.start > cursor) {
      line("(free)", Range::FromStartEnd(cursor, piece.range.start));
    }
    line(piece.preserve ? absl::StrCat(piece.name, "*") : piece.name, piece.range);
    cursor = std::max(cursor, piece.range.end());
  }
  if (reservation.end() > cursor) {
    line("(free)", Range::FromStartEnd(cursor, reservation.end()));
  }
  absl::StrAppendFormat(&text, "free %s (0x%x bytes)", HumanSize(free_bytes), free_bytes);
  bool any_preserved = false;
  for (const Placement& piece : pieces) any_preserved |= piece.preserve;
  if (any_preserved) text += "; * = kept out of the capture kernel's RAM";
  text += "\n";
  return text;
}

absl::StatusOr<Plan> PlanPlacement(const CaptureRequest& request, Range reservation) {
  if (!Range::Valid(reservation.start, reservation.size)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "reservation at 0x%x of 0x%x bytes passes 2^64 - 1", reservation.start, reservation.size));
  }
  absl::StatusOr<Pieces> pieces = Validate(request);
  if (!pieces.ok()) return pieces.status();
  Plan plan;
  Failure failure;
  if (TryPlan(*pieces, reservation, &plan, &failure)) return plan;

  std::string message = DescribeFailure(failure, *pieces, reservation);
  absl::StatusOr<uint64_t> needed = SmallestSize(*pieces, reservation.start);
  if (needed.ok()) {
    absl::StrAppendFormat(&message, "; a reservation of %s at 0x%x would fit (%s)",
                          SizeText(*needed), reservation.start, CrashkernelArgument(*needed));
  } else {
    absl::StrAppend(&message, "; ", needed.status().message());
  }
  return absl::ResourceExhaustedError(message);
}

absl::StatusOr<uint64_t> SmallestReservationAt(const CaptureRequest& request, uint64_t start) {
  absl::StatusOr<Pieces> pieces = Validate(request);
  if (!pieces.ok()) return pieces.status();
  return SmallestSize(*pieces, start);
}

absl::StatusOr<uint64_t> SmallestReservation(const CaptureRequest& request,
                                             uint64_t start_alignment) {
  if (!IsPowerOfTwo(start_alignment) || start_alignment < kPlannerPageSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "reservation start alignment 0x%x: need a power of two >= 0x1000", start_alignment));
  }
  return SmallestReservationAt(request, start_alignment);
}

std::string CrashkernelArgument(uint64_t bytes) {
  const uint64_t mib = bytes / kMiB + (bytes % kMiB != 0 ? 1 : 0);
  return absl::StrFormat("crashkernel=%dM", mib);
}

MemoryMap CaptureKernelMemoryMap(const MemoryMap& first_kernel, Range reservation, const Plan& plan,
                                 bool include_low_640k) {
  MemoryMap capture;
  for (const MemoryRegion& region : first_kernel.regions()) {
    if (ToE820Type(region.type) != kE820Ram) capture.Add(region);
  }

  std::vector<Range> usable = {reservation};
  for (const Placement& piece : plan.pieces) {
    if (piece.preserve) usable = Subtract(usable, piece.range);
  }
  for (const Range& range : usable) capture.Add(range, MemoryType::kRam);

  for (const Range& other : first_kernel.CrashReservations()) {
    for (const Range& range : other.Minus(reservation)) {
      capture.Add(range, MemoryType::kRam);
    }
  }

  if (include_low_640k) {
    const Range low{0, kLowMemoryEnd};
    for (const Range& ram : first_kernel.RangesOf(MemoryType::kRam)) {
      if (std::optional<Range> part = ram.Intersect(low)) {
        capture.Add(*part, MemoryType::kRam);
      }
    }
  }
  return capture;
}

}  // namespace saveoops
