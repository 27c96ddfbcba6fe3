#include "bench/bench_lib.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(SerialLineSplitterTest, StampsEachLineWithItsFirstByte) {
  SerialLineSplitter s;
  s.Feed("one\r\ntw", 1.0);
  s.Feed("o\r\n", 2.0);
  s.Feed("three", 3.0);
  ASSERT_EQ(s.lines().size(), 2u);
  EXPECT_EQ(s.lines()[0].text, "one");
  EXPECT_EQ(s.lines()[0].t, 1.0);
  EXPECT_EQ(s.lines()[1].text, "two");
  EXPECT_EQ(s.lines()[1].t, 1.0);
  s.Flush();
  ASSERT_EQ(s.lines().size(), 3u);
  EXPECT_EQ(s.lines()[2].text, "three");
  EXPECT_EQ(s.lines()[2].t, 3.0);
}

std::vector<SerialLine> Lines(const std::vector<std::pair<double, std::string>>& v) {
  std::vector<SerialLine> out;
  for (const auto& [t, text] : v) out.push_back({t, text});
  return out;
}

TEST(ParseRunTimelineTest, SaveoopsMarkers) {
  const auto lines = Lines({
      {0.5, "[    0.000000] Linux version 6.1.0-56-amd64 (first kernel)"},
      {1.0, "bench-guest: arm-sample tool=kexec-p us=120000"},
      {1.5, "bench-guest: arm-sample tool=saveoops-arm us=90000"},
      {2.0, "saveoops-capture: record 9 written too early"},
      {3.0, "[    3.1] Kernel panic - not syncing: sysrq triggered crash"},
      {3.5, "[    3.2] Kernel panic - not syncing: again"},
      {4.0, "[    0.000000] Linux version 6.1.0-56-amd64"},
      {6.0, "saveoops-capture: capture kernel up; saving the dead kernel's log"},
      {7.0, "saveoops-capture: record 1 written to /dev/vda at offset 8192"},
  });
  const RunTimeline t = ParseRunTimeline(lines, Stack::kSaveoops);
  ASSERT_TRUE(t.panic && t.capture_kernel && t.capture_init && t.done);
  EXPECT_EQ(*t.panic, 3.0);
  EXPECT_EQ(*t.capture_kernel, 4.0);
  EXPECT_EQ(*t.capture_init, 6.0);
  EXPECT_EQ(*t.done, 7.0);
  EXPECT_DOUBLE_EQ(*t.Latency(), 4.0);
  EXPECT_EQ(t.kexec_arm_us, std::vector<int64_t>{120000});
  EXPECT_EQ(t.saveoops_arm_us, std::vector<int64_t>{90000});
  EXPECT_FALSE(t.arm_failed);
}

TEST(ParseRunTimelineTest, KdumpMarkersAndTheOtherStacksAreIgnored) {
  const auto lines = Lines({
      {3.0, "Kernel panic - not syncing: sysrq triggered crash"},
      {6.0, "saveoops-capture: record 1 written"},
      {6.5, "kdump-bench: capture kernel up; makedumpfile --dump-dmesg"},
      {8.0, "kdump-bench: dmesg synced: 30000 bytes to /dev/vda"},
  });
  const RunTimeline t = ParseRunTimeline(lines, Stack::kKdump);
  ASSERT_TRUE(t.done.has_value());
  EXPECT_EQ(*t.done, 8.0);
  EXPECT_EQ(*t.capture_init, 6.5);
  EXPECT_FALSE(t.capture_kernel.has_value());
}

TEST(ParseRunTimelineTest, NoPanicMeansNoLatencyAndArmFailureIsSeen) {
  const auto lines = Lines({{1.0, "bench-guest: arm failed stack=kdump rc=1"},
                            {1.1, "bench-guest: arm-sample tool=kexec-p us=-5"},
                            {1.2, "bench-guest: arm-sample tool=kexec-p us=12x"}});
  const RunTimeline t = ParseRunTimeline(lines, Stack::kKdump);
  EXPECT_TRUE(t.arm_failed);
  EXPECT_FALSE(t.Latency().has_value());
  EXPECT_TRUE(t.kexec_arm_us.empty());
}

TEST(ParseLddOutputTest, ListsLibrariesAndLoaderSkipsVdso) {
  const char* text =
      "\tlinux-vdso.so.1 (0x00007ffd1b7f1000)\n"
      "\tliblzo2.so.2 => /lib/x86_64-linux-gnu/liblzo2.so.2 (0x00007f0551 6ea000)\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0551426000)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f055178e000)\n";
  absl::StatusOr<std::vector<std::string>> libs = ParseLddOutput(text);
  ASSERT_TRUE(libs.ok()) << libs.status();
  EXPECT_EQ(*libs, (std::vector<std::string>{"/lib/x86_64-linux-gnu/liblzo2.so.2",
                                             "/lib/x86_64-linux-gnu/libc.so.6",
                                             "/lib64/ld-linux-x86-64.so.2"}));
}

TEST(ParseLddOutputTest, MissingLibraryAndStaticBinaryFail) {
  EXPECT_EQ(ParseLddOutput("\tlibfoo.so.1 => not found\n").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ParseLddOutput("\tnot a dynamic executable\n").ok());
}

TEST(ParseKdumpDiskTest, ReadsTheTextBack) {
  std::string disk = "saveoops-bench-kdump-dmesg 5\nhello";
  disk.append(100, '\0');
  absl::StatusOr<std::string> text = ParseKdumpDisk(disk);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "hello");
}

TEST(ParseKdumpDiskTest, RejectsBadHeaders) {
  EXPECT_FALSE(ParseKdumpDisk(std::string(64, '\0')).ok());
  EXPECT_FALSE(ParseKdumpDisk("saveoops-bench-kdump-dmesg 6\nhello").ok());
  EXPECT_FALSE(ParseKdumpDisk("saveoops-bench-kdump-dmesg -5\nhello").ok());
  EXPECT_FALSE(ParseKdumpDisk("saveoops-bench-kdump-dmesg 99999999999\nhello").ok());
  EXPECT_FALSE(ParseKdumpDisk("saveoops-bench-kdump-dmesg 5hello").ok());
  EXPECT_FALSE(ParseKdumpDisk("saveoops-bench-kdump-dmesg \nhello").ok());
}

TEST(SummarizeTest, MedianOfOddAndEvenCounts) {
  Summary s = Summarize({3, 1, 2});
  EXPECT_EQ(s.n, 3u);
  EXPECT_EQ(s.median, 2);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 3);
  EXPECT_EQ(Summarize({4, 1, 3, 2}).median, 2.5);
  EXPECT_EQ(Summarize({}).n, 0u);
}

TEST(BisectSmallestTest, FindsTheThresholdWithFewProbes) {
  for (uint64_t threshold : {32, 33, 34, 70, 98, 255, 256}) {
    std::vector<std::pair<uint64_t, bool>> probes;
    absl::StatusOr<uint64_t> got = BisectSmallest(
        32, 256, 2, [&](uint64_t v) { return v >= threshold; }, &probes);
    ASSERT_TRUE(got.ok());
    // The smallest grid point (or hi) at or above the threshold.
    const uint64_t want =
        threshold <= 32 ? 32 : std::min<uint64_t>(256, 32 + (threshold - 32 + 1) / 2 * 2);
    EXPECT_EQ(*got, want) << "threshold " << threshold;
    EXPECT_LE(probes.size(), 7u);
    for (const auto& [v, ok] : probes) {
      EXPECT_LT(v, 256u) << "hi is known good and never probed";
      EXPECT_EQ(ok, v >= threshold);
    }
  }
}

TEST(BisectSmallestTest, HiOffTheGridAndBadArguments) {
  absl::StatusOr<uint64_t> got = BisectSmallest(10, 15, 4, [](uint64_t v) { return v >= 15; });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 15u);
  EXPECT_FALSE(BisectSmallest(10, 15, 0, [](uint64_t) { return true; }).ok());
  EXPECT_FALSE(BisectSmallest(16, 15, 1, [](uint64_t) { return true; }).ok());
}

TEST(ParseShaBenchOutputTest, ReadsResultLinesOnly) {
  const std::vector<ShaResult> r = ParseShaBenchOutput(
      "sha_bench: noise\n"
      "sha256 engine=sha-ni best_mbps=1800.5 median_mbps=1750.0\n"
      "sha256 engine=portable best_mbps=x median_mbps=1\n"
      "sha256 engine=boringssl best_mbps=2000 median_mbps=1990.5\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].engine, "sha-ni");
  EXPECT_DOUBLE_EQ(r[0].best_mbps, 1800.5);
  EXPECT_EQ(r[1].engine, "boringssl");
  EXPECT_DOUBLE_EQ(r[1].median_mbps, 1990.5);
}

TEST(ModulesDirCandidatesTest, InstalledAndUnpackedTrees) {
  EXPECT_EQ(
      ModulesDirCandidates("/boot/vmlinuz-6.1.0-57-amd64", "6.1.0-57-amd64"),
      (std::vector<std::string>{"/usr/lib/modules/6.1.0-57-amd64", "/lib/modules/6.1.0-57-amd64"}));
  EXPECT_EQ(ModulesDirCandidates("/var/cache/k/trixie/boot/vmlinuz-6.12.117+deb13-amd64",
                                 "6.12.117+deb13-amd64"),
            (std::vector<std::string>{"/var/cache/k/trixie/usr/lib/modules/6.12.117+deb13-amd64",
                                      "/var/cache/k/trixie/lib/modules/6.12.117+deb13-amd64"}));
  EXPECT_EQ(ModulesDirCandidates("/tmp/vmlinuz-9.9", "9.9"),
            (std::vector<std::string>{"/lib/modules/9.9"}));
  EXPECT_EQ(ModulesDirCandidates("vmlinuz-9.9", "9.9"),
            (std::vector<std::string>{"/lib/modules/9.9"}));
}

TEST(KernelRowsTest, JsonHasEveryFieldAndNullForMissingFigures) {
  std::vector<KernelLatencyRow> rows(2);
  rows[0].release = "6.1.0-57-amd64";
  rows[0].saveoops_s = 2.5;
  rows[0].kdump_s = 5.0;
  rows[0].runs = 7;
  rows[1].release = "6.12.117+deb13-amd64";
  rows[1].saveoops_s = 3.0;
  rows[1].runs = 3;
  EXPECT_EQ(KernelRowsJson(rows),
            "  \"kernels\": [\n"
            "    {\"release\": \"6.1.0-57-amd64\", \"saveoops_latency_s\": 2.500, "
            "\"kdump_latency_s\": 5.000, \"latency_ratio\": 0.500, \"runs\": 7},\n"
            "    {\"release\": \"6.12.117+deb13-amd64\", \"saveoops_latency_s\": 3.000, "
            "\"kdump_latency_s\": null, \"latency_ratio\": null, \"runs\": 3}\n"
            "  ]");
  EXPECT_EQ(KernelRowsJson({}), "  \"kernels\": []");
  KernelLatencyRow odd;
  odd.release = "a\"b\\c\n";
  EXPECT_NE(KernelRowsJson({odd}).find("\"a\\\"b\\\\c\\u000a\""), std::string::npos);
}

TEST(KernelRowsTest, MarkdownRowPerKernel) {
  std::vector<KernelLatencyRow> rows(2);
  rows[0].release = "6.1.0-57-amd64";
  rows[0].saveoops_s = 2.84;
  rows[0].kdump_s = 5.87;
  rows[0].runs = 7;
  rows[1].release = "6.12.117+deb13-amd64";
  rows[1].kdump_s = 0;
  rows[1].runs = 3;
  EXPECT_EQ(KernelRowsMarkdown(rows),
            "| kernel (first and capture) | Saveoops, s | kdump, s | ratio | runs per stack |\n"
            "|---|---|---|---|---|\n"
            "| 6.1.0-57-amd64 | 2.84 | 5.87 | 0.48× | 7 |\n"
            "| 6.12.117+deb13-amd64 | n/a | 0.00 | n/a | 3 |\n");
}

TEST(StackTest, NamesAndLists) {
  EXPECT_STREQ(StackName(Stack::kSaveoopsTiny), "saveoops-tiny");
  absl::StatusOr<std::vector<Stack>> all = ParseStackList("saveoops,kdump,saveoops-tiny");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, (std::vector<Stack>{Stack::kSaveoops, Stack::kKdump, Stack::kSaveoopsTiny}));
  absl::StatusOr<std::vector<Stack>> one = ParseStackList("saveoops-tiny,");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, std::vector<Stack>{Stack::kSaveoopsTiny});
  EXPECT_NE(ParseStackList("saveoops,tiny").status().message().find("'tiny'"), std::string::npos);
  EXPECT_NE(ParseStackList("kdump,kdump").status().message().find("twice"), std::string::npos);
  EXPECT_FALSE(ParseStackList("").ok());
  EXPECT_FALSE(ParseStackList(",").ok());
}

TEST(RoundOrderTest, ThreeStacksRotateAbcCba) {
  const std::vector<Stack> abc = {Stack::kSaveoops, Stack::kKdump, Stack::kSaveoopsTiny};
  std::vector<Stack> seen;
  for (int round = 0; round < 4; ++round) {
    for (Stack s : RoundOrder(abc, round)) seen.push_back(s);
  }
  const Stack a = Stack::kSaveoops, b = Stack::kKdump, c = Stack::kSaveoopsTiny;
  EXPECT_EQ(seen, (std::vector<Stack>{a, b, c, c, b, a, a, b, c, c, b, a}));
  // Over every pair of rounds each stack's positions add up to the same sum.
  for (Stack s : abc) {
    int sum = 0;
    for (int round = 0; round < 2; ++round) {
      const std::vector<Stack> order = RoundOrder(abc, round);
      sum += static_cast<int>(std::find(order.begin(), order.end(), s) - order.begin());
    }
    EXPECT_EQ(sum, 2) << StackName(s);
  }
  EXPECT_EQ(RoundOrder({a, b}, 1), (std::vector<Stack>{b, a}));
}

TEST(ParseRunTimelineTest, TinyStackUsesSaveoopsMarkersAndFinalArmTime) {
  const auto lines = Lines({
      {1.0, "bench-guest: armed stack=saveoops-tiny us=81234"},
      {1.1, "bench-guest: armed stack=saveoops-tiny us=99"},
      {3.0, "Kernel panic - not syncing: sysrq triggered crash"},
      {3.6, "[    0.000000] Linux version 6.1.158-saveoops (root@x) #1"},
      {4.0, "saveoops-capture: capture kernel up; saving the dead kernel's log"},
      {4.5, "kdump-bench: dmesg synced"},
      {4.7, "saveoops-capture: record 1 written to /dev/vda"},
  });
  const RunTimeline t = ParseRunTimeline(lines, Stack::kSaveoopsTiny);
  ASSERT_TRUE(t.done && t.capture_init && t.capture_kernel);
  EXPECT_DOUBLE_EQ(*t.Latency(), 1.7);
  EXPECT_EQ(*t.capture_kernel, 3.6);
  EXPECT_EQ(*t.capture_init, 4.0);
  ASSERT_TRUE(t.armed_us.has_value());
  EXPECT_EQ(*t.armed_us, 81234);
  EXPECT_FALSE(
      ParseRunTimeline(Lines({{1.0, "bench-guest: armed stack=kdump us=x"}}), Stack::kKdump)
          .armed_us.has_value());
}

TEST(BisectSmallestRefinedTest, CoarseThenFineNearTheEdge) {
  for (uint64_t threshold : {32, 33, 84, 85, 86, 87, 255, 256}) {
    std::vector<std::pair<uint64_t, bool>> probes;
    absl::StatusOr<uint64_t> got = BisectSmallestRefined(
        32, 256, 2, 1, [&](uint64_t v) { return v >= threshold; }, &probes);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, threshold);
    EXPECT_LE(probes.size(), 8u) << "threshold " << threshold;
    for (const auto& [v, ok] : probes) EXPECT_EQ(ok, v >= threshold);
  }
  // Coarse step 8, fine step 1: the answer to the MiB, a few more probes.
  std::vector<std::pair<uint64_t, bool>> probes;
  absl::StatusOr<uint64_t> got = BisectSmallestRefined(
      8, 64, 8, 1, [](uint64_t v) { return v >= 21; }, &probes);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 21u);
  EXPECT_LE(probes.size(), 3u + 3u);
  // Success at lo: nothing below lo is probed.
  probes.clear();
  got = BisectSmallestRefined(
      32, 256, 2, 1, [](uint64_t) { return true; }, &probes);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 32u);
  for (const auto& [v, ok] : probes) EXPECT_GE(v, 32u);
  EXPECT_FALSE(BisectSmallestRefined(32, 256, 2, 0, [](uint64_t) { return true; }).ok());
  EXPECT_FALSE(BisectSmallestRefined(32, 256, 2, 3, [](uint64_t) { return true; }).ok());
}

TEST(RequireRepeatedSuccessTest, AFlakyValueCountsAsFailure) {
  // 84 captures every other boot, 86 always, 82 never.
  std::map<uint64_t, int> calls;
  auto boot = [&](uint64_t v) {
    const int n = calls[v]++;
    return v >= 86 || (v == 84 && n % 2 == 0);
  };
  const std::function<bool(uint64_t)> twice = RequireRepeatedSuccess(boot, 2);
  EXPECT_TRUE(twice(86));
  EXPECT_EQ(calls[86], 2);
  EXPECT_FALSE(twice(84));
  EXPECT_EQ(calls[84], 2);
  EXPECT_FALSE(twice(82));
  EXPECT_EQ(calls[82], 1) << "a failure is not tried again";
  absl::StatusOr<uint64_t> edge = BisectSmallestRefined(32, 256, 2, 1, twice);
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(*edge, 86u);
  EXPECT_TRUE(RequireRepeatedSuccess(boot, 0)(90));
}

PlanCheckRow Check(uint64_t measured, uint64_t predicted, std::map<uint64_t, uint64_t> by_h) {
  PlanCheckRow r;
  r.release = "6.1.0-57-amd64";
  r.measured_mib = measured;
  r.predicted_mib = predicted;
  r.headroom_mib = 25;
  r.prediction_by_headroom = std::move(by_h);
  return r;
}

TEST(PlanCheckTest, WithinOneStepAtOrAbove) {
  EXPECT_TRUE(Check(88, 88, {}).WithinStepAtOrAbove());
  EXPECT_TRUE(Check(88, 90, {}).WithinStepAtOrAbove());
  EXPECT_FALSE(Check(88, 91, {}).WithinStepAtOrAbove());
  EXPECT_FALSE(Check(88, 91, {}).Below());
  EXPECT_FALSE(Check(88, 86, {}).WithinStepAtOrAbove());
  EXPECT_TRUE(Check(88, 86, {}).Below());
  PlanCheckRow unknown;
  unknown.predicted_mib = 40;
  EXPECT_FALSE(unknown.WithinStepAtOrAbove());
  EXPECT_FALSE(unknown.Below());
}

TEST(PlanCheckTest, HeadroomRangeForEveryKernel) {
  // Kernel A captures at 86 and predicts headroom + 61; kernel B at 100,
  // predicting headroom + 72. A wants h in [25, 27], B h in [28, 30]: none.
  std::map<uint64_t, uint64_t> a, b, c;
  for (uint64_t h = 20; h <= 32; ++h) {
    a[h] = h + 61;
    b[h] = h + 72;
    c[h] = h + 73;
  }
  EXPECT_FALSE(HeadroomWithinStepForAll({Check(86, 86, a), Check(100, 97, b)}).has_value());
  // With kernel C (needs h in [27, 29]) instead of B: h 27 only.
  std::optional<HeadroomRange> r = HeadroomWithinStepForAll({Check(86, 86, a), Check(100, 97, c)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->lo, 27u);
  EXPECT_EQ(r->hi, 27u);
  r = HeadroomWithinStepForAll({Check(86, 86, a)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->lo, 25u);
  EXPECT_EQ(r->hi, 27u);
  // A row without a measurement does not count; no measured row: nothing.
  PlanCheckRow unmeasured;
  unmeasured.prediction_by_headroom = {{1, 1}};
  r = HeadroomWithinStepForAll({unmeasured, Check(86, 86, a)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->lo, 25u);
  EXPECT_FALSE(HeadroomWithinStepForAll({unmeasured}).has_value());
  // A headroom one row did not try breaks the range.
  std::map<uint64_t, uint64_t> gap = a;
  gap.erase(26);
  r = HeadroomWithinStepForAll({Check(86, 86, a), Check(86, 86, gap)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->hi, 25u);
}

TEST(PlanCheckTest, JsonAndMarkdown) {
  PlanCheckRow tiny;
  tiny.release = "6.1.158-saveoops";
  tiny.measured_mib = 21;
  tiny.predicted_mib = 22;
  tiny.headroom_mib = 6;
  PlanCheckRow below = Check(88, 86, {});
  PlanCheckRow unmeasured;
  unmeasured.release = "5.10.0-32-amd64";
  unmeasured.predicted_mib = 80;
  unmeasured.headroom_mib = 25;
  const std::vector<PlanCheckRow> rows = {tiny, below, unmeasured};
  EXPECT_EQ(PlanChecksJson(rows),
            "  \"plan_checks\": [\n"
            "    {\"release\": \"6.1.158-saveoops\", \"measured_mib\": 21, \"predicted_mib\": 22, "
            "\"headroom_mib\": 6, \"within_step_at_or_above\": true},\n"
            "    {\"release\": \"6.1.0-57-amd64\", \"measured_mib\": 88, \"predicted_mib\": 86, "
            "\"headroom_mib\": 25, \"within_step_at_or_above\": false},\n"
            "    {\"release\": \"5.10.0-32-amd64\", \"measured_mib\": null, \"predicted_mib\": 80, "
            "\"headroom_mib\": 25, \"within_step_at_or_above\": null}\n"
            "  ]");
  EXPECT_EQ(PlanChecksJson({}), "  \"plan_checks\": []");
  const std::string md = PlanChecksMarkdown(rows);
  EXPECT_NE(md.find("| 6.1.158-saveoops | 21 MiB | 22 MiB (6 MiB) | +1 MiB | yes |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 6.1.0-57-amd64 | 88 MiB | 86 MiB (25 MiB) | -2 MiB | **no** (below"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 5.10.0-32-amd64 | n/a | 80 MiB (25 MiB) | n/a | n/a |"), std::string::npos)
      << md;
}

TEST(TargetMetTest, AtMostAtLeastAndUnknown) {
  EXPECT_EQ(TargetMet(0.25, 0.25, true), "yes");
  EXPECT_EQ(TargetMet(0.26, 0.25, true), "**no**");
  EXPECT_EQ(TargetMet(0.8, 0.8, false), "yes");
  EXPECT_EQ(TargetMet(0.7, 0.8, false), "**no**");
  EXPECT_EQ(TargetMet(std::nullopt, 1, true), "n/a");
}

}  // namespace
}  // namespace saveoops
