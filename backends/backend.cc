#include "backends/backend.h"

#include <fstream>
#include <iterator>
#include <map>
#include <utility>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace saveoops {
namespace {

std::map<std::string, std::unique_ptr<Backend>>& Registry() {
  static auto* registry = new std::map<std::string, std::unique_ptr<Backend>>();
  return *registry;
}

}  // namespace

std::string HostRoot() {
  std::ifstream in("/proc/cmdline");
  std::string line((std::istreambuf_iterator<char>(in)), {});
  for (absl::string_view w : absl::StrSplit(line, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    if (w == "--") break;
    if (absl::ConsumePrefix(&w, "root=")) return std::string(w);
  }
  return "";
}

bool RegisterBackend(std::unique_ptr<Backend> backend) {
  const std::string name = backend->name();
  return Registry().emplace(name, std::move(backend)).second;
}

std::vector<const Backend*> Backends() {
  std::vector<const Backend*> out;
  for (const auto& [name, b] : Registry()) out.push_back(b.get());
  return out;
}

const Backend* FindBackend(const std::string& name) {
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : it->second.get();
}

}  // namespace saveoops
