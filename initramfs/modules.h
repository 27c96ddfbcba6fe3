// Finding the kernel modules the capture kernel needs, and their load order,
// from the index files depmod(8) writes into /lib/modules/<release>/.
//
// modules.dep (modules.dep(5)): one line per module file,
//   kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko
//   kernel/drivers/virtio/virtio_ring.ko
// path relative to the modules directory, then every module it needs
// (transitively), the one to load first written last.
// modules.builtin: one path per line for each module compiled into the
//   kernel image ("kernel/lib/crc32.ko"); such a module needs no file.
// modules.alias: "alias <pattern> <module>" lines (fnmatch patterns).
// modules.builtin.modinfo: NUL-separated "module.key=value" records of the
//   built-in modules; its "alias" keys name aliases satisfied by the kernel.
//
// A module's name is its file name without ".ko" (or ".ko.gz", ".ko.xz",
// ".ko.zst"), with '-' read as '_': the kernel and kmod treat the two as
// the same character in module names (kernel/params.c, parameq(); kmod's
// modname_normalize()), so "nvme-core", "nvme_core" and
// kernel/drivers/nvme/host/nvme-core.ko are one module.
//
// Example:
//   ASSIGN_OR_RETURN(ModuleIndex index,
//                    LoadModuleIndex("/lib/modules/6.1.0-56-amd64"));
//   ASSIGN_OR_RETURN(std::vector<std::string> paths,
//                    ResolveModules(index, {"virtio_blk", "virtio_pci"}));
//   // paths: kernel/drivers/virtio/virtio_ring.ko, .../virtio.ko,
//   //        .../virtio_blk.ko, .../virtio_pci_modern_dev.ko,
//   //        .../virtio_pci_legacy_dev.ko, .../virtio_pci.ko
#ifndef SAVEOOPS_INITRAMFS_MODULES_H_
#define SAVEOOPS_INITRAMFS_MODULES_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace saveoops {

// One modules.dep line.
struct ModuleDep {
  // The module file, relative to the modules directory, exactly as written
  // (compressed names such as "virtio.ko.xz" are kept as they are).
  std::string path;
  // Normalized names of the modules it needs, in modules.dep order (the
  // first to load is the last one).
  std::vector<std::string> deps;
  // 1-based line number in modules.dep, for error messages.
  int line = 0;
};

// One alias: a module (or built-in module) answers to every name matching
// `pattern`.
struct ModuleAlias {
  // fnmatch(3) pattern, normalized like names outside [...] brackets.
  std::string pattern;
  // Normalized module name.
  std::string module;
};

// Everything ResolveModules() needs to know about one kernel release.
struct ModuleIndex {
  // Where the index was read from ("" if built from text); used in errors.
  std::string modules_dir;
  // Loadable modules from modules.dep, by normalized name.
  std::map<std::string, ModuleDep> modules;
  // Normalized names of built-in modules (modules.builtin).
  std::set<std::string> builtin;
  // modules.alias, then the aliases of built-in modules.
  std::vector<ModuleAlias> aliases;
};

// `name` with every '-' replaced by '_' (see the file comment).
std::string NormalizeModuleName(absl::string_view name);

// The normalized module name of a module file path, e.g.
// "kernel/drivers/nvme/host/nvme-core.ko.zst" -> "nvme_core". Fails if the
// file name does not end in .ko, .ko.gz, .ko.xz or .ko.zst or is only that.
absl::StatusOr<std::string> ModuleNameFromPath(absl::string_view path);

// True if `path` names a compressed module (.ko.gz/.ko.xz/.ko.zst), which
// must be loaded with finit_module(MODULE_INIT_COMPRESSED_FILE).
bool IsCompressedModulePath(absl::string_view path);

// Parses modules.dep text into modules by normalized name. Strict: fails,
// naming the line, on a line without ':', a path that is absolute, contains
// an empty, "." or ".." component, whitespace or a control byte, or is not a
// module file name, two lines
// for one module, or a dependency that has no line of its own or whose path
// differs from that line's. Blank lines are allowed.
absl::StatusOr<std::map<std::string, ModuleDep>> ParseModulesDep(absl::string_view text);

// Parses modules.builtin text (one module path per line; blank lines
// allowed) into normalized names.
absl::StatusOr<std::set<std::string>> ParseModulesBuiltin(absl::string_view text);

// Parses modules.alias text: "alias <pattern> <module>" lines, '#' comments
// and blank lines.
absl::StatusOr<std::vector<ModuleAlias>> ParseModulesAlias(absl::string_view text);

// Extracts the aliases of built-in modules from modules.builtin.modinfo
// (NUL-terminated "module.key=value" records; keys other than "alias" are
// skipped).
absl::StatusOr<std::vector<ModuleAlias>> ParseBuiltinModinfoAliases(absl::string_view bytes);

// Reads modules.dep (required), modules.builtin, modules.alias and
// modules.builtin.modinfo (each optional: a missing file counts as empty)
// from `modules_dir`, e.g. "/lib/modules/6.1.0-56-amd64". Without
// modules.dep (a tree unpacked by hand) the error gives the depmod command
// that writes it (DepmodCommand()); dependencies are never guessed.
absl::StatusOr<ModuleIndex> LoadModuleIndex(const std::string& modules_dir);

// The depmod(8) command that writes the index of `modules_dir`:
// "/srv/k/usr/lib/modules/6.12.1" -> "depmod -b /srv/k 6.12.1",
// "/lib/modules/6.1.0-56-amd64" -> "depmod 6.1.0-56-amd64".
std::string DepmodCommand(absl::string_view modules_dir);

// Module files to load, relative to the modules directory, in load order:
// every module after all the modules it needs, each once. Each wanted name
// is looked up as kmod's modprobe does: a module of that name; else every
// module with a matching alias; else a built-in module or built-in alias,
// which is satisfied without a file. Fails on an empty or unknown name
// (naming it) and on a dependency cycle (naming the modules on it).
absl::StatusOr<std::vector<std::string>> ResolveModules(
    const ModuleIndex& index, const std::vector<std::string>& wanted_names);

// Reads a whole host file. Errors name the path and the errno text, e.g.
// "cannot open '/nope': No such file or directory" (kNotFound for ENOENT).
// Shared with the initramfs builder.
absl::StatusOr<std::string> ReadHostFile(const std::string& path);

}  // namespace saveoops

#endif  // SAVEOOPS_INITRAMFS_MODULES_H_
