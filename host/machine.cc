#include "host/machine.h"

#include <fstream>
#include <iterator>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace saveoops {

std::string HostRoot() {
  std::ifstream in("/proc/cmdline");
  std::string line((std::istreambuf_iterator<char>(in)), {});
  for (absl::string_view w : absl::StrSplit(line, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    if (w == "--") break;
    if (absl::ConsumePrefix(&w, "root=")) return std::string(w);
  }
  return "";
}

}  // namespace saveoops
