// The pure parts of the kdump comparison benchmark (bench/vs_kdump.cc):
// reading timestamped serial logs, ldd output and the baseline's disk
// layout, statistics, and the crash-reservation bisection. Kept apart from
// the QEMU driver so that they are unit tested and fuzzed.
#ifndef SAVEOOPS_BENCH_BENCH_LIB_H_
#define SAVEOOPS_BENCH_BENCH_LIB_H_

#include <stdint.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace saveoops {

// The capture stacks under comparison: Saveoops with the distribution's
// kernel as capture kernel, the kdump baseline (same kernel), and Saveoops
// with its own small capture kernel (kernel/capture.config,
// tools/build_capture_kernel.sh). The values index per-stack arrays.
enum class Stack { kSaveoops = 0, kKdump = 1, kSaveoopsTiny = 2 };
inline constexpr int kStackCount = 3;
inline constexpr Stack kAllStacks[kStackCount] = {Stack::kSaveoops, Stack::kKdump,
                                                  Stack::kSaveoopsTiny};

// "saveoops", "kdump" or "saveoops-tiny" (also the value of bench.stack= in
// the guest).
const char* StackName(Stack stack);

// The stacks a ','-separated list of StackName()s names (vs_kdump --stacks),
// in the order given. Fails on an empty list, an unknown name or one named
// twice, naming it.
absl::StatusOr<std::vector<Stack>> ParseStackList(absl::string_view list);

// The boot order of latency round `round` (0-based) over `stacks`: as given
// on even rounds, reversed on odd ones, so three stacks A, B, C run
// ABC CBA ABC ... (the ABBA rotation generalised). Each stack's mean
// position over two rounds is the same, so a steady drift in the shared
// machine's speed hits all stacks alike.
std::vector<Stack> RoundOrder(const std::vector<Stack>& stacks, int round);

// One line of a guest's serial console, as the host received it.
struct SerialLine {
  // Seconds since QEMU was started (host CLOCK_MONOTONIC) when the line's
  // first byte arrived.
  double t = 0;
  // The line without its "\r\n".
  std::string text;
};

// Splits serial bytes into lines as they arrive, stamping each line with the
// time its first byte was fed. "\r" is dropped; a line ends at "\n".
class SerialLineSplitter {
 public:
  // Appends `bytes` that arrived at time `t`; completed lines go to lines().
  void Feed(absl::string_view bytes, double t);
  // Ends the last, unterminated line (if any).
  void Flush();
  const std::vector<SerialLine>& lines() const { return lines_; }

 private:
  std::vector<SerialLine> lines_;
  std::string partial_;
  double partial_t_ = 0;
  bool in_line_ = false;
};

// The serial markers of one benchmark boot.
//   panic          first "Kernel panic - not syncing" (the first kernel's)
//   capture_kernel first "Linux version" after `panic` (the capture kernel's
//                  banner)
//   capture_init   the capture program's first line: "saveoops-capture:
//                  capture kernel up" or "kdump-bench: capture kernel up"
//   done           the record is durably on disk: "saveoops-capture: record
//                  N written" or "kdump-bench: dmesg synced"
// Both Saveoops stacks run saveoops-capture and share its markers.
struct RunTimeline {
  std::optional<double> panic;
  std::optional<double> capture_kernel;
  std::optional<double> capture_init;
  std::optional<double> done;
  // "bench-guest: arm-sample tool=kexec-p us=N" values, in microseconds.
  std::vector<int64_t> kexec_arm_us;
  // "bench-guest: arm-sample tool=saveoops-arm us=N" values.
  std::vector<int64_t> saveoops_arm_us;
  // "bench-guest: arm failed" seen: the stack refused to arm.
  bool arm_failed = false;
  // "bench-guest: armed stack=S us=N": the final arm before the panic, in
  // microseconds (the stack's own tool, its own capture kernel).
  std::optional<int64_t> armed_us;

  // done - panic, if both were seen.
  std::optional<double> Latency() const;
};

// Finds the markers of `stack` in `lines` (see RunTimeline). Lines that do
// not parse are ignored; a marker seen twice keeps its first time.
RunTimeline ParseRunTimeline(const std::vector<SerialLine>& lines, Stack stack);

// Shared libraries `ldd` lists for a dynamic executable, including the
// dynamic loader, as absolute host paths in the order listed. Lines
//   "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)"
//   "\t/lib64/ld-linux-x86-64.so.2 (0x...)"
// give a path; "linux-vdso.so.1 (0x...)" (no file) is skipped. Fails on
// "not found" (a library the guest would lack) and on "not a dynamic
// executable", naming the line.
absl::StatusOr<std::vector<std::string>> ParseLddOutput(absl::string_view text);

// The header kdump_init writes at offset 0 of the disk before the dmesg
// text: "saveoops-bench-kdump-dmesg <N>\n".
inline constexpr absl::string_view kKdumpDiskMagic = "saveoops-bench-kdump-dmesg ";

// The dmesg text kdump_init wrote at the start of `disk`. Fails if the magic
// is missing, N is not a decimal number below 2^31, or N bytes do not follow.
absl::StatusOr<std::string> ParseKdumpDisk(absl::string_view disk);

// Median and spread of a set of samples.
struct Summary {
  size_t n = 0;
  double median = 0;
  double min = 0;
  double max = 0;
};

// Summary of `samples` (all zero if empty). The median of an even count is
// the mean of the two middle values.
Summary Summarize(std::vector<double> samples);

// Smallest value v = lo + k * step (k >= 0, v <= hi) for which `captures(v)`
// is true, assuming success is monotone in v and `captures(hi)` is true
// (the caller has seen it succeed). Probes by bisection on that grid, so it
// calls `captures` about log2((hi - lo) / step) times, each probe once.
// `probes`, if given, receives every (value, result) in probing order.
// Fails if step is 0 or lo > hi.
absl::StatusOr<uint64_t> BisectSmallest(uint64_t lo, uint64_t hi, uint64_t step,
                                        const std::function<bool(uint64_t)>& captures,
                                        std::vector<std::pair<uint64_t, bool>>* probes = nullptr);

// BisectSmallest on the `step` grid, then on the finer `fine_step` grid
// just below its answer v: when v is above lo, the coarse grid point below v
// (v - step on the grid) is known to fail, so the answer lies in
// (v - step, v] and is bisected there with fine_step (at most
// log2(step / fine_step) + 1 more probes). A coarse answer of lo is final
// (nothing below lo is probed). Fails if a step is 0 or fine_step > step,
// or as BisectSmallest does. `probes` receives the probes of both passes.
// Example: lo 32, hi 256, step 2, fine 1, success from 85 up: the coarse pass
// answers 86 (84 failed), the fine pass probes 85: answer 85.
absl::StatusOr<uint64_t> BisectSmallestRefined(
    uint64_t lo, uint64_t hi, uint64_t step, uint64_t fine_step,
    const std::function<bool(uint64_t)>& captures,
    std::vector<std::pair<uint64_t, bool>>* probes = nullptr);

// A probe that counts as success only when `probe` succeeds `times` times
// in a row for the value; it stops at the first failure, so a failing value
// costs one call and a succeeding one `times` calls. A reservation that only
// sometimes captures (the edge moves with boot timing) is then a failure,
// which keeps the bisected minimum stable between runs. `times` < 1 is
// taken as 1.
std::function<bool(uint64_t)> RequireRepeatedSuccess(std::function<bool(uint64_t)> probe,
                                                     int times);

// One line of bench/sha_bench's output:
//   "sha256 engine=<name> best_mbps=<x> median_mbps=<y>"
struct ShaResult {
  std::string engine;
  double best_mbps = 0;
  double median_mbps = 0;
};

// Every well-formed result line of `text`; other lines are ignored.
std::vector<ShaResult> ParseShaBenchOutput(absl::string_view text);

// Where the modules of kernel `release` may be, for a kernel image at
// `kernel` (a path ending in "/boot/vmlinuz-RELEASE"): under the tree the
// image sits in, <root>/usr/lib/modules/RELEASE (Debian 13) then
// <root>/lib/modules/RELEASE; <root> is "" for /boot/vmlinuz-RELEASE and
// e.g. /var/cache/saveoops-kernels/trixie for an unpacked package. A kernel
// not under a boot/ directory gets /lib/modules/RELEASE only.
std::vector<std::string> ModulesDirCandidates(absl::string_view kernel, absl::string_view release);

// The panic -> on disk figure of one kernel (first and capture alike).
struct KernelLatencyRow {
  std::string release;
  // Median seconds per stack; nullopt when no run captured.
  std::optional<double> saveoops_s, kdump_s;
  // Latency boots per stack.
  int runs = 0;
  // saveoops_s / kdump_s, nullopt unless both are known and kdump_s > 0.
  std::optional<double> Ratio() const;
};

// `"kernels": [{...}, ...]` (no trailing comma or newline) for
// results.json: release, saveoops_latency_s, kdump_latency_s,
// latency_ratio, runs per row; a missing figure is null.
std::string KernelRowsJson(const std::vector<KernelLatencyRow>& rows);

// The markdown table "panic -> on disk per kernel", one row per kernel.
std::string KernelRowsMarkdown(const std::vector<KernelLatencyRow>& rows);

// `saveoops plan`'s prediction for one capture kernel against the
// bisected smallest crashkernel= (the reservation and kernel-plans figures).
struct PlanCheckRow {
  // The capture kernel's release ("6.1.0-57-amd64", "6.1.158-saveoops").
  std::string release;
  // Bisected smallest crashkernel= (MiB) that captured; nullopt if not
  // measured.
  std::optional<uint64_t> measured_mib;
  // `saveoops plan --print=crashkernel-mib` with plan's default headroom for
  // this kernel, and the headroom it used (MiB).
  std::optional<uint64_t> predicted_mib;
  uint64_t headroom_mib = 0;
  // The bisection's coarse step (MiB): "within one step".
  uint64_t step_mib = 2;
  // `saveoops plan` with headroom h (MiB) -> crashkernel MiB, for the
  // headrooms the benchmark tried (calibration).
  std::map<uint64_t, uint64_t> prediction_by_headroom;

  // measured <= predicted <= measured + step: plan never asks for less than
  // what captured, and at most one step more.
  bool WithinStepAtOrAbove() const;
  // predicted < measured: a machine set up as plan says would not capture.
  bool Below() const;
};

// The headroom values (MiB) of PlanCheckRow::prediction_by_headroom under
// which every row is within one step at or above its measurement: [lo, hi]
// of the contiguous range starting at the smallest such headroom, nullopt
// if no tried headroom satisfies all rows (or no row was measured). Rows
// without a measurement are ignored; a headroom some measured row did not
// try does not count.
struct HeadroomRange {
  uint64_t lo = 0, hi = 0;
};
std::optional<HeadroomRange> HeadroomWithinStepForAll(const std::vector<PlanCheckRow>& rows);

// `"plan_checks": [{...}, ...]` (no trailing comma or newline) for
// results.json: release, measured_mib, predicted_mib, headroom_mib,
// within_step_at_or_above per row; a missing figure is null.
std::string PlanChecksJson(const std::vector<PlanCheckRow>& rows);

// The markdown table "plan vs bisection", one row per capture kernel.
std::string PlanChecksMarkdown(const std::vector<PlanCheckRow>& rows);

// "yes" when `value` is at most (at_most) / at least `limit`, "**no**"
// when not, "n/a" without a value: the "met" cells of RESULTS.md.
std::string TargetMet(std::optional<double> value, double limit, bool at_most);

}  // namespace saveoops

#endif  // SAVEOOPS_BENCH_BENCH_LIB_H_
