// Fuzzes the benchmark's readers of outside bytes (bench/bench_lib.h): the
// guest's serial console (line splitting and marker parsing), the kdump
// baseline's disk header, ldd output, sha_bench output and a --stacks
// list. They must never read out of bounds, whatever the bytes; a parsed
// kdump disk must hold exactly what its header promised.
#include <stddef.h>
#include <stdint.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "bench/bench_lib.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);

  saveoops::SerialLineSplitter splitter;
  // Feed in uneven chunks so lines straddle reads.
  for (size_t at = 0, chunk = 1; at < bytes.size(); at += chunk, chunk = chunk % 7 + 1) {
    splitter.Feed(bytes.substr(at, chunk), static_cast<double>(at));
  }
  splitter.Flush();
  for (saveoops::Stack stack : saveoops::kAllStacks) {
    const saveoops::RunTimeline t = saveoops::ParseRunTimeline(splitter.lines(), stack);
    if (t.Latency() && *t.Latency() < 0) std::abort();  // done is only taken after panic
  }

  absl::StatusOr<std::string> dmesg = saveoops::ParseKdumpDisk(bytes);
  if (dmesg.ok() && dmesg->size() > bytes.size()) std::abort();

  absl::StatusOr<std::vector<std::string>> libs = saveoops::ParseLddOutput(bytes);
  if (libs.ok()) {
    for (const std::string& lib : *libs) {
      if (lib.empty() || lib[0] != '/') std::abort();
    }
  }
  (void)saveoops::ParseShaBenchOutput(bytes);
  // vs_kdump --stacks: every stack listed is a known one, each once.
  absl::StatusOr<std::vector<saveoops::Stack>> stacks = saveoops::ParseStackList(bytes);
  if (stacks.ok() && (stacks->empty() || stacks->size() > saveoops::kStackCount)) std::abort();
  return 0;
}
