#include "bench/bench_lib.h"

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

}  // namespace
}  // namespace saveoops
