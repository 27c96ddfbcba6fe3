#include "initramfs/modules.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/files.h"

namespace saveoops {
namespace {

// Suffixes depmod gives module files; kmod picks the decompressor by them
// (libkmod-file.c), and the kernel's finit_module() accepts the compressed
// ones with MODULE_INIT_COMPRESSED_FILE (kernel/module/decompress.c).
constexpr absl::string_view kModuleSuffixes[] = {".ko", ".ko.gz", ".ko.xz", ".ko.zst"};

// Splits on '\n', numbering lines from 1; a final line without '\n' counts.
std::vector<absl::string_view> Lines(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

absl::Status LineError(absl::string_view file, size_t line, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(file, " line ", line, ": ", why));
}

// Checks a module path from modules.dep or modules.builtin: depmod writes
// paths relative to the modules directory, and the builder copies them to
// the same place in the initramfs, so they must not climb out of it.
absl::Status CheckRelativeModulePath(absl::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("empty module path");
  if (path[0] == '/') {
    return absl::InvalidArgumentError(absl::StrCat("module path '", path,
                                                   "' is absolute; need a path "
                                                   "relative to the modules "
                                                   "directory"));
  }
  // A hand-rolled split: this runs for every one of the ~25000 paths in a
  // distribution's modules.dep.
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == absl::string_view::npos) end = path.size();
    const absl::string_view component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") {
      return absl::InvalidArgumentError(absl::StrCat("module path '", path, "' has a component '",
                                                     component,
                                                     "' (empty, '.' and '..' are not allowed)"));
    }
    start = end + 1;
  }
  // Whitespace separates paths in modules.dep, so a path cannot hold any;
  // control bytes (NUL included) would only garble file names and logs.
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f') {
      return absl::InvalidArgumentError(absl::StrCat("module path '", absl::CEscape(path),
                                                     "' contains whitespace or a control byte"));
    }
  }
  return absl::OkStatus();
}

// kmod's alias_normalize(): '-' becomes '_' except inside [...] character
// classes, where a '-' is a range.
std::string NormalizeAlias(absl::string_view alias) {
  std::string out(alias);
  bool in_class = false;
  for (char& c : out) {
    if (in_class) {
      if (c == ']') in_class = false;
    } else if (c == '[') {
      in_class = true;
    } else if (c == '-') {
      c = '_';
    }
  }
  return out;
}

bool AliasMatches(const ModuleAlias& alias, const std::string& name) {
  // fnmatch() stops at a NUL; a pattern or name with an inner NUL could
  // only match by accident, so it never matches.
  if (alias.pattern.find('\0') != std::string::npos || name.find('\0') != std::string::npos) {
    return false;
  }
  return fnmatch(alias.pattern.c_str(), name.c_str(), 0) == 0;
}

std::string Where(const ModuleIndex& index) {
  return index.modules_dir.empty() ? std::string("the module index") : index.modules_dir;
}

// Depth-first walk that emits each module after everything it needs.
class LoadOrder {
 public:
  explicit LoadOrder(const ModuleIndex& index) : index_(index) {}

  // Appends `root` and its dependencies not yet emitted.
  absl::Status Add(const std::string& root) {
    if (state_[root] == kDone) return absl::OkStatus();
    // An explicit stack: modules.dep from a fuzzer (or a bad depmod) can
    // chain thousands of modules, too deep for recursion.
    std::vector<Frame> stack;
    absl::Status status = Push(root, &stack);
    if (!status.ok()) return status;
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next == 0) {
        order_.push_back(top.dep->path);
        state_[*top.name] = kDone;
        stack.pop_back();
        continue;
      }
      // modules.dep lists the module to load first last; kmod walks the
      // list from the end (libkmod-module.c builds it by prepending).
      const std::string& needed = top.dep->deps[--top.next];
      switch (state_[needed]) {
        case kDone:
          break;
        case kOnStack:
          return CycleError(stack, needed);
        default:
          status = Push(needed, &stack);
          if (!status.ok()) return status;
      }
    }
    return absl::OkStatus();
  }

  std::vector<std::string> Take() { return std::move(order_); }

 private:
  enum State { kNew = 0, kOnStack, kDone };
  struct Frame {
    const std::string* name;
    const ModuleDep* dep;
    size_t next;  // deps[0, next) are still to visit
  };

  absl::Status Push(const std::string& name, std::vector<Frame>* stack) {
    auto it = index_.modules.find(name);
    if (it == index_.modules.end()) {
      // ParseModulesDep() rules this out; a hand-built index may not.
      return absl::NotFoundError(
          absl::StrCat("module '", stack->empty() ? name : *stack->back().name, "' needs '", name,
                       "', which is not in ", Where(index_), "/modules.dep"));
    }
    state_[name] = kOnStack;
    stack->push_back(Frame{&it->first, &it->second, it->second.deps.size()});
    return absl::OkStatus();
  }

  absl::Status CycleError(const std::vector<Frame>& stack, const std::string& again) {
    std::vector<std::string> names;
    std::vector<std::string> lines;
    bool on_cycle = false;
    for (const Frame& f : stack) {
      if (*f.name == again) on_cycle = true;
      if (!on_cycle) continue;
      names.push_back(*f.name);
      lines.push_back(absl::StrCat(f.dep->line));
    }
    names.push_back(again);
    return absl::InvalidArgumentError(
        absl::StrCat("module dependency cycle: ", absl::StrJoin(names, " -> "),
                     " (modules.dep lines ", absl::StrJoin(lines, ", "), ")"));
  }

  const ModuleIndex& index_;
  std::map<std::string, State> state_;
  std::vector<std::string> order_;
};

// Reads `dir`/`name` (a missing optional file reads as empty) and parses
// it; parse errors, which name the file by its base name, get `dir/` in
// front.
template <typename T>
absl::StatusOr<T> LoadIndexFile(const std::string& dir, absl::string_view name, bool required,
                                absl::StatusOr<T> (*parse)(absl::string_view)) {
  absl::StatusOr<std::string> text = ReadHostFile(absl::StrCat(dir, "/", name));
  if (!required && absl::IsNotFound(text.status())) text = std::string();
  if (!text.ok()) return text.status();
  absl::StatusOr<T> parsed = parse(*text);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(), absl::StrCat(dir, "/", parsed.status().message()));
  }
  return parsed;
}

}  // namespace

std::string DepmodCommand(absl::string_view modules_dir) {
  absl::string_view dir = modules_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  const size_t slash = dir.rfind('/');
  const absl::string_view release = slash == absl::string_view::npos ? dir : dir.substr(slash + 1);
  absl::string_view parent =
      slash == absl::string_view::npos ? absl::string_view() : dir.substr(0, slash);
  // depmod -b ROOT reads ROOT/lib/modules/RELEASE; a /usr/lib/modules tree
  // (Debian 13) is the same place on a merged-/usr root.
  for (absl::string_view suffix : {"/usr/lib/modules", "/lib/modules"}) {
    if (absl::EndsWith(parent, suffix)) {
      parent.remove_suffix(suffix.size());
      return parent.empty() ? absl::StrCat("depmod ", release)
                            : absl::StrCat("depmod -b ", parent, " ", release);
    }
  }
  return absl::StrCat("depmod -b ROOT ", release, " (ROOT holding lib/modules/", release, ")");
}

std::string NormalizeModuleName(absl::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

absl::StatusOr<std::string> ModuleNameFromPath(absl::string_view path) {
  absl::string_view base = path;
  const size_t slash = base.rfind('/');
  if (slash != absl::string_view::npos) base.remove_prefix(slash + 1);
  for (absl::string_view suffix : kModuleSuffixes) {
    if (absl::EndsWith(base, suffix) && base.size() > suffix.size()) {
      base.remove_suffix(suffix.size());
      return NormalizeModuleName(base);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", path,
                   "' is not a module file name (need NAME.ko, .ko.gz, .ko.xz "
                   "or .ko.zst)"));
}

bool IsCompressedModulePath(absl::string_view path) {
  return absl::EndsWith(path, ".ko.gz") || absl::EndsWith(path, ".ko.xz") ||
         absl::EndsWith(path, ".ko.zst");
}

absl::StatusOr<std::map<std::string, ModuleDep>> ParseModulesDep(absl::string_view text) {
  constexpr absl::string_view kFile = "modules.dep";
  std::map<std::string, ModuleDep> modules;
  // Dependencies as written, checked once every line is known.
  struct Pending {
    size_t line;
    absl::string_view path;   // points into `text`
    const std::string* name;  // the entry in the dependent's deps
  };
  std::vector<Pending> pending;
  const std::vector<absl::string_view> lines = Lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line = i + 1;
    const absl::string_view l = lines[i];
    if (absl::StripAsciiWhitespace(l).empty()) continue;
    const size_t colon = l.find(':');
    if (colon == absl::string_view::npos) {
      return LineError(kFile, line, "no ':' after the module path");
    }
    const absl::string_view path = l.substr(0, colon);
    absl::Status status = CheckRelativeModulePath(path);
    if (!status.ok()) return LineError(kFile, line, status.message());
    absl::StatusOr<std::string> name = ModuleNameFromPath(path);
    if (!name.ok()) return LineError(kFile, line, name.status().message());

    ModuleDep dep;
    dep.path = std::string(path);
    dep.line = static_cast<int>(line);
    for (absl::string_view needed :
         absl::StrSplit(l.substr(colon + 1), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      status = CheckRelativeModulePath(needed);
      if (!status.ok()) return LineError(kFile, line, status.message());
      absl::StatusOr<std::string> needed_name = ModuleNameFromPath(needed);
      if (!needed_name.ok()) {
        return LineError(kFile, line, needed_name.status().message());
      }
      dep.deps.push_back(*std::move(needed_name));
    }
    auto [it, inserted] = modules.emplace(*name, std::move(dep));
    if (!inserted) {
      return LineError(kFile, line,
                       absl::StrCat("module '", *name, "' (", path, ") already has line ",
                                    it->second.line, " (", it->second.path, ")"));
    }
    // std::map never moves its elements, so these pointers stay valid.
    size_t k = 0;
    for (absl::string_view needed :
         absl::StrSplit(l.substr(colon + 1), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      pending.push_back(Pending{line, needed, &it->second.deps[k++]});
    }
  }
  for (const Pending& p : pending) {
    const std::string& name = *p.name;
    auto it = modules.find(name);
    if (it == modules.end()) {
      return LineError(kFile, p.line,
                       absl::StrCat("dependency '", p.path, "' has no line of its own"));
    }
    if (it->second.path != p.path) {
      return LineError(kFile, p.line,
                       absl::StrCat("dependency '", p.path, "' is module '", name, "', whose line ",
                                    it->second.line, " says it is '", it->second.path, "'"));
    }
  }
  return modules;
}

absl::StatusOr<std::set<std::string>> ParseModulesBuiltin(absl::string_view text) {
  std::set<std::string> builtin;
  const std::vector<absl::string_view> lines = Lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const absl::string_view path = absl::StripAsciiWhitespace(lines[i]);
    if (path.empty()) continue;
    absl::StatusOr<std::string> name = ModuleNameFromPath(path);
    if (!name.ok()) {
      return LineError("modules.builtin", i + 1, name.status().message());
    }
    builtin.insert(*std::move(name));
  }
  return builtin;
}

absl::StatusOr<std::vector<ModuleAlias>> ParseModulesAlias(absl::string_view text) {
  std::vector<ModuleAlias> aliases;
  const std::vector<absl::string_view> lines = Lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const absl::string_view l = absl::StripAsciiWhitespace(lines[i]);
    if (l.empty() || l[0] == '#') continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(l, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() != 3 || words[0] != "alias") {
      return LineError("modules.alias", i + 1,
                       absl::StrCat("'", l, "' is not 'alias PATTERN MODULE'"));
    }
    aliases.push_back(ModuleAlias{NormalizeAlias(words[1]), NormalizeModuleName(words[2])});
  }
  return aliases;
}

absl::StatusOr<std::vector<ModuleAlias>> ParseBuiltinModinfoAliases(absl::string_view bytes) {
  std::vector<ModuleAlias> aliases;
  size_t offset = 0;
  while (offset < bytes.size()) {
    const size_t nul = bytes.find('\0', offset);
    if (nul == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("modules.builtin.modinfo offset ", offset,
                                                     ": last record is not NUL-terminated"));
    }
    const absl::string_view record = bytes.substr(offset, nul - offset);
    const size_t dot = record.find('.');
    const size_t equals = record.find('=');
    if (dot == absl::string_view::npos || equals == absl::string_view::npos || dot == 0 ||
        dot > equals) {
      return absl::InvalidArgumentError(absl::StrCat("modules.builtin.modinfo offset ", offset,
                                                     ": record '", record,
                                                     "' is not 'module.key=value'"));
    }
    if (record.substr(dot + 1, equals - dot - 1) == "alias") {
      aliases.push_back(ModuleAlias{NormalizeAlias(record.substr(equals + 1)),
                                    NormalizeModuleName(record.substr(0, dot))});
    }
    offset = nul + 1;
  }
  return aliases;
}

absl::StatusOr<ModuleIndex> LoadModuleIndex(const std::string& modules_dir) {
  ModuleIndex index;
  index.modules_dir = modules_dir;
  absl::StatusOr<std::map<std::string, ModuleDep>> modules =
      LoadIndexFile(modules_dir, "modules.dep", /*required=*/true, &ParseModulesDep);
  if (absl::IsNotFound(modules.status())) {
    // A tree unpacked with `dpkg -x` (or copied from another machine) has
    // the modules but not the index depmod writes when a kernel is
    // installed: say how to make it rather than guess the dependencies.
    return absl::NotFoundError(
        absl::StrCat("no ", modules_dir, "/modules.dep: run `", DepmodCommand(modules_dir),
                     "` to write the module index (depmod(8) -b ROOT RELEASE)"));
  }
  if (!modules.ok()) return modules.status();
  index.modules = *std::move(modules);
  absl::StatusOr<std::set<std::string>> builtin =
      LoadIndexFile(modules_dir, "modules.builtin", /*required=*/false, &ParseModulesBuiltin);
  if (!builtin.ok()) return builtin.status();
  index.builtin = *std::move(builtin);
  absl::StatusOr<std::vector<ModuleAlias>> aliases =
      LoadIndexFile(modules_dir, "modules.alias", /*required=*/false, &ParseModulesAlias);
  if (!aliases.ok()) return aliases.status();
  index.aliases = *std::move(aliases);
  absl::StatusOr<std::vector<ModuleAlias>> builtin_aliases =
      LoadIndexFile(modules_dir, "modules.builtin.modinfo",
                    /*required=*/false, &ParseBuiltinModinfoAliases);
  if (!builtin_aliases.ok()) return builtin_aliases.status();
  index.aliases.insert(index.aliases.end(), builtin_aliases->begin(), builtin_aliases->end());
  return index;
}

absl::StatusOr<std::vector<std::string>> ResolveModules(
    const ModuleIndex& index, const std::vector<std::string>& wanted_names) {
  LoadOrder order(index);
  for (const std::string& wanted : wanted_names) {
    if (wanted.empty()) {
      return absl::InvalidArgumentError("empty module name requested");
    }
    const std::string name = NormalizeModuleName(wanted);
    if (index.modules.count(name)) {
      absl::Status status = order.Add(name);
      if (!status.ok()) return status;
      continue;
    }
    // kmod's lookup order (kmod_module_new_from_lookup): module name, then
    // aliases, then built-in modules.
    const std::string alias = NormalizeAlias(wanted);
    bool matched = false;
    for (const ModuleAlias& a : index.aliases) {
      if (!AliasMatches(a, alias)) continue;
      matched = true;
      if (index.modules.count(a.module)) {
        absl::Status status = order.Add(a.module);
        if (!status.ok()) return status;
      } else if (!index.builtin.count(a.module)) {
        return absl::NotFoundError(absl::StrCat("module '", wanted, "' is an alias of '", a.module,
                                                "', which is neither in ", Where(index),
                                                "/modules.dep nor built in"));
      }
    }
    if (matched || index.builtin.count(name)) continue;
    return absl::NotFoundError(absl::StrCat("module '", wanted,
                                            "' is unknown: no such module, alias or built-in "
                                            "module in ",
                                            Where(index)));
  }
  return order.Take();
}

absl::StatusOr<std::string> ReadHostFile(const std::string& path) {
  // Bounded, and a directory, FIFO or device is refused (common/files.h).
  StatusOr<std::string> bytes = ReadTextFileBounded(path, 512ull << 20, "file");
  if (!bytes.ok()) return absl::Status(bytes.status());
  return *std::move(bytes);
}

}  // namespace saveoops
