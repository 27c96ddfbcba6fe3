// Fuzzes the depmod index parsers (initramfs/modules.h) on arbitrary text
// and, when modules.dep parses, resolves every module it declares: the
// result must list each module once, after every module it needs, or fail
// only because of a dependency cycle.
#include <stddef.h>
#include <stdint.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "initramfs/modules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::set<std::string>> builtin = saveoops::ParseModulesBuiltin(text);
  absl::StatusOr<std::vector<saveoops::ModuleAlias>> aliases = saveoops::ParseModulesAlias(text);
  absl::StatusOr<std::vector<saveoops::ModuleAlias>> modinfo =
      saveoops::ParseBuiltinModinfoAliases(text);
  absl::StatusOr<std::map<std::string, saveoops::ModuleDep>> modules =
      saveoops::ParseModulesDep(text);
  if (!modules.ok()) return 0;

  saveoops::ModuleIndex index;
  index.modules = *modules;
  if (builtin.ok()) index.builtin = *builtin;
  if (aliases.ok()) index.aliases = *aliases;
  if (modinfo.ok()) {
    index.aliases.insert(index.aliases.end(), modinfo->begin(), modinfo->end());
  }

  std::vector<std::string> wanted;
  for (const auto& [name, dep] : index.modules) {
    // Keys are the normalized names of their own paths.
    absl::StatusOr<std::string> from_path = saveoops::ModuleNameFromPath(dep.path);
    if (!from_path.ok() || *from_path != name) __builtin_trap();
    wanted.push_back(name);
  }
  absl::StatusOr<std::vector<std::string>> order = saveoops::ResolveModules(index, wanted);
  if (!order.ok()) {
    if (!absl::StrContains(order.status().message(), "cycle")) {
      __builtin_trap();
    }
  } else {
    if (order->size() != index.modules.size()) __builtin_trap();
    std::map<std::string, size_t> position;
    for (size_t i = 0; i < order->size(); ++i) {
      absl::StatusOr<std::string> name = saveoops::ModuleNameFromPath((*order)[i]);
      if (!name.ok() || !position.emplace(*name, i).second) __builtin_trap();
    }
    for (const auto& [name, dep] : index.modules) {
      for (const std::string& needed : dep.deps) {
        if (position.at(needed) >= position.at(name)) __builtin_trap();
      }
    }
  }

  // Lookups by alias and with arbitrary names must fail cleanly or succeed.
  std::vector<std::string> words =
      absl::StrSplit(text.substr(0, 256), absl::ByAnyChar(" \n:"), absl::SkipEmpty());
  if (words.size() > 4) words.resize(4);
  (void)saveoops::ResolveModules(index, words);
  return 0;
}
