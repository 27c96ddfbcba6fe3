#include "backends/backend.h"

#include <map>
#include <utility>

namespace saveoops {
namespace {

std::map<std::string, std::unique_ptr<Backend>>& Registry() {
  static auto* registry = new std::map<std::string, std::unique_ptr<Backend>>();
  return *registry;
}

}  // namespace

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
