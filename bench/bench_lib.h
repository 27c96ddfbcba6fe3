// The pure parts of the kdump comparison benchmark (bench/vs_kdump.cc):
// reading timestamped serial logs, ldd output and the baseline's disk
// layout, statistics, and the crash-reservation bisection. Kept apart from
// the QEMU driver so that they are unit tested and fuzzed.
#ifndef SAVEOOPS_BENCH_BENCH_LIB_H_
#define SAVEOOPS_BENCH_BENCH_LIB_H_

#include <stdint.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace saveoops {

// The two capture stacks under comparison.
enum class Stack { kSaveoops, kKdump };

// "saveoops" or "kdump" (also the value of bench.stack= in the guest).
const char* StackName(Stack stack);

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

}  // namespace saveoops

#endif  // SAVEOOPS_BENCH_BENCH_LIB_H_
