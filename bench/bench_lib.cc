#include "bench/bench_lib.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace saveoops {

const char* StackName(Stack stack) {
  switch (stack) {
    case Stack::kSaveoops:
      return "saveoops";
    case Stack::kKdump:
      return "kdump";
    case Stack::kSaveoopsTiny:
      return "saveoops-tiny";
  }
  return "unknown";
}

absl::StatusOr<std::vector<Stack>> ParseStackList(absl::string_view list) {
  std::vector<Stack> out;
  for (absl::string_view name : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    const Stack* found = std::find_if(std::begin(kAllStacks), std::end(kAllStacks),
                                      [&](Stack s) { return name == StackName(s); });
    if (found == std::end(kAllStacks)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown stack '", name, "' (saveoops, kdump or saveoops-tiny)"));
    }
    if (std::find(out.begin(), out.end(), *found) != out.end()) {
      return absl::InvalidArgumentError(absl::StrCat("stack '", name, "' named twice"));
    }
    out.push_back(*found);
  }
  if (out.empty()) return absl::InvalidArgumentError("no stack named");
  return out;
}

std::vector<Stack> RoundOrder(const std::vector<Stack>& stacks, int round) {
  std::vector<Stack> order = stacks;
  if (round % 2 != 0) std::reverse(order.begin(), order.end());
  return order;
}

void SerialLineSplitter::Feed(absl::string_view bytes, double t) {
  for (char c : bytes) {
    if (!in_line_) {
      in_line_ = true;
      partial_t_ = t;
    }
    if (c == '\r') continue;
    if (c == '\n') {
      lines_.push_back({partial_t_, partial_});
      partial_.clear();
      in_line_ = false;
      continue;
    }
    partial_.push_back(c);
  }
}

void SerialLineSplitter::Flush() {
  if (in_line_ && !partial_.empty()) lines_.push_back({partial_t_, partial_});
  partial_.clear();
  in_line_ = false;
}

std::optional<double> RunTimeline::Latency() const {
  if (!panic || !done) return std::nullopt;
  return *done - *panic;
}

namespace {

// The integer after "us=" in `text`, if it is one.
std::optional<int64_t> MicrosecondsField(absl::string_view text) {
  const size_t pos = text.find(" us=");
  if (pos == absl::string_view::npos) return std::nullopt;
  absl::string_view digits = text.substr(pos + 4);
  digits = digits.substr(0, digits.find(' '));
  int64_t v = 0;
  if (!absl::SimpleAtoi(digits, &v) || v < 0) return std::nullopt;
  return v;
}

void SetOnce(std::optional<double>* slot, double t) {
  if (!slot->has_value()) *slot = t;
}

}  // namespace

RunTimeline ParseRunTimeline(const std::vector<SerialLine>& lines, Stack stack) {
  RunTimeline r;
  const bool saveoops = stack != Stack::kKdump;
  const absl::string_view init_marker =
      saveoops ? "saveoops-capture: capture kernel up" : "kdump-bench: capture kernel up";
  for (const SerialLine& line : lines) {
    const absl::string_view text = line.text;
    if (absl::StrContains(text, "bench-guest: arm-sample tool=")) {
      std::optional<int64_t> us = MicrosecondsField(text);
      if (!us) continue;
      if (absl::StrContains(text, "tool=kexec-p ")) r.kexec_arm_us.push_back(*us);
      if (absl::StrContains(text, "tool=saveoops-arm ")) r.saveoops_arm_us.push_back(*us);
      continue;
    }
    if (absl::StrContains(text, "bench-guest: arm failed")) r.arm_failed = true;
    if (absl::StrContains(text, "bench-guest: armed stack=")) {
      if (std::optional<int64_t> us = MicrosecondsField(text); us && !r.armed_us) r.armed_us = us;
      continue;
    }
    if (absl::StrContains(text, "Kernel panic - not syncing")) {
      SetOnce(&r.panic, line.t);
      continue;
    }
    if (!r.panic) continue;
    if (absl::StrContains(text, "Linux version ")) SetOnce(&r.capture_kernel, line.t);
    if (absl::StrContains(text, init_marker)) SetOnce(&r.capture_init, line.t);
    const bool done = saveoops ? absl::StrContains(text, "saveoops-capture: record ") &&
                                     absl::StrContains(text, " written")
                               : absl::StrContains(text, "kdump-bench: dmesg synced");
    if (done) SetOnce(&r.done, line.t);
  }
  return r;
}

absl::StatusOr<std::vector<std::string>> ParseLddOutput(absl::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    const absl::string_view l = absl::StripAsciiWhitespace(line);
    if (absl::StrContains(l, "not a dynamic executable")) {
      return absl::InvalidArgumentError(absl::StrCat("ldd: '", l, "'"));
    }
    if (absl::StrContains(l, "not found")) {
      return absl::NotFoundError(absl::StrCat("ldd: a library is missing: '", l, "'"));
    }
    absl::string_view path;
    const size_t arrow = l.find(" => ");
    if (arrow != absl::string_view::npos) {
      path = l.substr(arrow + 4);
    } else {
      path = l;
    }
    path = path.substr(0, path.find(" ("));
    path = absl::StripAsciiWhitespace(path);
    // No path: the vDSO, which the kernel provides.
    if (path.empty() || path[0] != '/') continue;
    out.emplace_back(path);
  }
  return out;
}

absl::StatusOr<std::string> ParseKdumpDisk(absl::string_view disk) {
  if (!absl::StartsWith(disk, kKdumpDiskMagic)) {
    return absl::NotFoundError("the disk does not start with the kdump baseline's header");
  }
  const absl::string_view rest = disk.substr(kKdumpDiskMagic.size());
  // At most 10 digits (N < 2^31 fits), so only the first 11 bytes are
  // searched for the newline.
  const size_t nl = rest.substr(0, 11).find('\n');
  if (nl == absl::string_view::npos || nl == 0 || nl > 10) {
    return absl::InvalidArgumentError("kdump header: no length line");
  }
  const absl::string_view digits = rest.substr(0, nl);
  uint64_t n = 0;
  if (!std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &n) || n >= (1ull << 31)) {
    return absl::InvalidArgumentError(absl::StrCat("kdump header: bad length '", digits, "'"));
  }
  const absl::string_view body = rest.substr(nl + 1);
  if (body.size() < n) {
    return absl::OutOfRangeError(
        absl::StrCat("kdump header says ", n, " bytes, the disk holds ", body.size()));
  }
  return std::string(body.substr(0, n));
}

Summary Summarize(std::vector<double> samples) {
  Summary s;
  s.n = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.min = samples.front();
  s.max = samples.back();
  const size_t mid = samples.size() / 2;
  s.median = samples.size() % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
  return s;
}

absl::StatusOr<uint64_t> BisectSmallest(uint64_t lo, uint64_t hi, uint64_t step,
                                        const std::function<bool(uint64_t)>& captures,
                                        std::vector<std::pair<uint64_t, bool>>* probes) {
  if (step == 0) return absl::InvalidArgumentError("bisection step must be positive");
  if (lo > hi)
    return absl::InvalidArgumentError(
        absl::StrCat("bisection range [", lo, ", ", hi, "] is empty"));
  // Grid points below hi: lo, lo + step, ..., all < hi; index `count` stands
  // for hi itself, known to succeed.
  const uint64_t count = (hi - lo + step - 1) / step;
  auto value = [&](uint64_t k) { return k == count ? hi : lo + k * step; };
  uint64_t good = count, bad_end = 0;  // answer index in [bad_end, good]
  while (bad_end < good) {
    const uint64_t mid = bad_end + (good - bad_end) / 2;
    const bool ok = captures(value(mid));
    if (probes != nullptr) probes->push_back({value(mid), ok});
    if (ok) {
      good = mid;
    } else {
      bad_end = mid + 1;
    }
  }
  return value(good);
}

absl::StatusOr<uint64_t> BisectSmallestRefined(uint64_t lo, uint64_t hi, uint64_t step,
                                               uint64_t fine_step,
                                               const std::function<bool(uint64_t)>& captures,
                                               std::vector<std::pair<uint64_t, bool>>* probes) {
  if (fine_step == 0 || fine_step > step) {
    return absl::InvalidArgumentError(
        absl::StrCat("fine bisection step ", fine_step, " must be in [1, ", step, "]"));
  }
  absl::StatusOr<uint64_t> coarse = BisectSmallest(lo, hi, step, captures, probes);
  if (!coarse.ok() || *coarse == lo || fine_step == step) return coarse;
  // The largest coarse grid point below the answer failed (BisectSmallest
  // only moves past a point that failed).
  const uint64_t failed = lo + (*coarse - lo - 1) / step * step;
  if (failed + fine_step >= *coarse) return coarse;
  return BisectSmallest(failed + fine_step, *coarse, fine_step, captures, probes);
}

std::function<bool(uint64_t)> RequireRepeatedSuccess(std::function<bool(uint64_t)> probe,
                                                     int times) {
  return [probe = std::move(probe), times](uint64_t v) {
    for (int i = 0; i < std::max(times, 1); ++i) {
      if (!probe(v)) return false;
    }
    return true;
  };
}

std::vector<ShaResult> ParseShaBenchOutput(absl::string_view text) {
  std::vector<ShaResult> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    if (!absl::ConsumePrefix(&line, "sha256 ")) continue;
    ShaResult r;
    bool have_best = false, have_median = false;
    for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      if (absl::ConsumePrefix(&field, "engine=")) r.engine = std::string(field);
      if (absl::ConsumePrefix(&field, "best_mbps="))
        have_best = absl::SimpleAtod(field, &r.best_mbps);
      if (absl::ConsumePrefix(&field, "median_mbps=")) {
        have_median = absl::SimpleAtod(field, &r.median_mbps);
      }
    }
    if (!r.engine.empty() && have_best && have_median) out.push_back(r);
  }
  return out;
}

std::vector<std::string> ModulesDirCandidates(absl::string_view kernel, absl::string_view release) {
  const size_t slash = kernel.rfind('/');
  absl::string_view dir = slash == absl::string_view::npos ? "" : kernel.substr(0, slash);
  if (dir != "/boot" && !absl::EndsWith(dir, "/boot")) {
    return {absl::StrCat("/lib/modules/", release)};
  }
  const absl::string_view root = dir.substr(0, dir.size() - 5);
  return {absl::StrCat(root, "/usr/lib/modules/", release),
          absl::StrCat(root, "/lib/modules/", release)};
}

std::optional<double> KernelLatencyRow::Ratio() const {
  if (!saveoops_s || !kdump_s || *kdump_s <= 0) return std::nullopt;
  return *saveoops_s / *kdump_s;
}

namespace {

std::string JsonNumber(std::optional<double> v) {
  return v ? absl::StrFormat("%.3f", *v) : std::string("null");
}

// A release is [A-Za-z0-9.+_-]; anything else is escaped anyway.
std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string KernelRowsJson(const std::vector<KernelLatencyRow>& rows) {
  std::vector<std::string> items;
  for (const KernelLatencyRow& r : rows) {
    items.push_back(absl::StrCat("    {\"release\": ", JsonString(r.release),
                                 ", \"saveoops_latency_s\": ", JsonNumber(r.saveoops_s),
                                 ", \"kdump_latency_s\": ", JsonNumber(r.kdump_s),
                                 ", \"latency_ratio\": ", JsonNumber(r.Ratio()),
                                 ", \"runs\": ", r.runs, "}"));
  }
  if (items.empty()) return "  \"kernels\": []";
  return absl::StrCat("  \"kernels\": [\n", absl::StrJoin(items, ",\n"), "\n  ]");
}

std::string KernelRowsMarkdown(const std::vector<KernelLatencyRow>& rows) {
  auto seconds = [](std::optional<double> v) {
    return v ? absl::StrFormat("%.2f", *v) : std::string("n/a");
  };
  std::string md =
      "| kernel (first and capture) | Saveoops, s | kdump, s | ratio | runs per stack |\n"
      "|---|---|---|---|---|\n";
  for (const KernelLatencyRow& r : rows) {
    const std::optional<double> ratio = r.Ratio();
    absl::StrAppend(&md, "| ", r.release, " | ", seconds(r.saveoops_s), " | ", seconds(r.kdump_s),
                    " | ", ratio ? absl::StrFormat("%.2f×", *ratio) : std::string("n/a"), " | ",
                    r.runs, " |\n");
  }
  return md;
}

bool PlanCheckRow::WithinStepAtOrAbove() const {
  return measured_mib && predicted_mib && *predicted_mib >= *measured_mib &&
         *predicted_mib - *measured_mib <= step_mib;
}

bool PlanCheckRow::Below() const {
  return measured_mib && predicted_mib && *predicted_mib < *measured_mib;
}

std::optional<HeadroomRange> HeadroomWithinStepForAll(const std::vector<PlanCheckRow>& rows) {
  std::vector<const PlanCheckRow*> measured;
  for (const PlanCheckRow& r : rows) {
    if (r.measured_mib) measured.push_back(&r);
  }
  if (measured.empty()) return std::nullopt;
  // Candidate headrooms: those the first measured row tried (the others
  // must have tried them too).
  std::optional<HeadroomRange> range;
  for (const auto& [h, unused] : measured[0]->prediction_by_headroom) {
    bool all = true;
    for (const PlanCheckRow* r : measured) {
      const auto it = r->prediction_by_headroom.find(h);
      if (it == r->prediction_by_headroom.end() || it->second < *r->measured_mib ||
          it->second - *r->measured_mib > r->step_mib) {
        all = false;
        break;
      }
    }
    if (all && !range) {
      range = HeadroomRange{h, h};
    } else if (all && range && h == range->hi + 1) {
      range->hi = h;
    } else if (range) {
      break;
    }
  }
  return range;
}

namespace {

std::string JsonMib(std::optional<uint64_t> v) { return v ? absl::StrCat(*v) : "null"; }

}  // namespace

std::string PlanChecksJson(const std::vector<PlanCheckRow>& rows) {
  std::vector<std::string> items;
  for (const PlanCheckRow& r : rows) {
    const bool known = r.measured_mib && r.predicted_mib;
    items.push_back(
        absl::StrCat("    {\"release\": ", JsonString(r.release), ", \"measured_mib\": ",
                     JsonMib(r.measured_mib), ", \"predicted_mib\": ", JsonMib(r.predicted_mib),
                     ", \"headroom_mib\": ", r.headroom_mib, ", \"within_step_at_or_above\": ",
                     known ? (r.WithinStepAtOrAbove() ? "true" : "false") : "null", "}"));
  }
  if (items.empty()) return "  \"plan_checks\": []";
  return absl::StrCat("  \"plan_checks\": [\n", absl::StrJoin(items, ",\n"), "\n  ]");
}

std::string PlanChecksMarkdown(const std::vector<PlanCheckRow>& rows) {
  std::string md =
      "| capture kernel | bisected smallest | `saveoops plan` predicts (headroom) | plan − "
      "measured | within one step, at or above |\n"
      "|---|---|---|---|---|\n";
  for (const PlanCheckRow& r : rows) {
    const std::string measured =
        r.measured_mib ? absl::StrCat(*r.measured_mib, " MiB") : std::string("n/a");
    const std::string predicted =
        r.predicted_mib ? absl::StrCat(*r.predicted_mib, " MiB (", r.headroom_mib, " MiB)")
                        : std::string("n/a");
    std::string diff = "n/a", verdict = "n/a";
    if (r.measured_mib && r.predicted_mib) {
      const int64_t d =
          static_cast<int64_t>(*r.predicted_mib) - static_cast<int64_t>(*r.measured_mib);
      diff = absl::StrCat(d > 0 ? "+" : "", d, " MiB");
      verdict = r.WithinStepAtOrAbove() ? "yes"
                : r.Below()             ? "**no** (below: would not capture)"
                                        : "**no** (more than one step above)";
    }
    absl::StrAppend(&md, "| ", r.release, " | ", measured, " | ", predicted, " | ", diff, " | ",
                    verdict, " |\n");
  }
  return md;
}

std::string TargetMet(std::optional<double> value, double limit, bool at_most) {
  if (!value) return "n/a";
  return (at_most ? *value <= limit : *value >= limit) ? "yes" : "**no**";
}

}  // namespace saveoops
