#include "initramfs/builder.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/kernel_image_decompress.h"
#include "initramfs/cpio.h"
#include "initramfs/modules.h"

namespace saveoops {
namespace {

constexpr absl::string_view kModulesRoot = "/lib/modules";
// Debian 13 installs modules here (and /lib is a link to /usr/lib).
constexpr absl::string_view kUsrModulesRoot = "/usr/lib/modules";

// Documentation/admin-guide/devices.txt: character major 5, minor 1 is
// /dev/console.
constexpr uint32_t kConsoleMajor = 5;
constexpr uint32_t kConsoleMinor = 1;

// The first bytes of every ELF file (ELF spec, e_ident[EI_MAG0..EI_MAG3]);
// the kernel can only exec /init if it is one (we carry no interpreter for
// "#!" scripts).
constexpr absl::string_view kElfMagic =
    "\x7f"
    "ELF";

absl::Status Prefixed(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("capture initramfs: ", status.message()));
}

absl::Span<const uint8_t> AsBytes(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Compares release names the way `sort -V` would for kernel versions:
// runs of digits by numeric value, everything else byte by byte.
bool VersionLess(absl::string_view a, absl::string_view b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (absl::ascii_isdigit(a[i]) && absl::ascii_isdigit(b[j])) {
      size_t ei = i;
      size_t ej = j;
      while (ei < a.size() && absl::ascii_isdigit(a[ei])) ++ei;
      while (ej < b.size() && absl::ascii_isdigit(b[ej])) ++ej;
      absl::string_view na = a.substr(i, ei - i);
      absl::string_view nb = b.substr(j, ej - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

bool HasModulesDep(const std::string& dir) {
  struct stat st;
  return stat((dir + "/modules.dep").c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The release name a modules directory stands for: its last component.
absl::StatusOr<std::string> ReleaseOf(const std::string& modules_dir) {
  absl::string_view dir = modules_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  const size_t slash = dir.rfind('/');
  const absl::string_view release = slash == absl::string_view::npos ? dir : dir.substr(slash + 1);
  if (release.empty() || release == "." || release == ".." || release == "/") {
    return absl::InvalidArgumentError(
        absl::StrCat("modules directory '", modules_dir,
                     "' does not end in a release name (e.g. /lib/modules/6.1.0-56-amd64)"));
  }
  return std::string(release);
}

absl::Status AddHostFile(CpioWriter& writer, absl::string_view archive_path,
                         const std::string& host_path, uint32_t mode) {
  absl::StatusOr<std::string> bytes = ReadHostFile(host_path);
  if (!bytes.ok()) return bytes.status();
  return writer.AddFile(archive_path, AsBytes(*bytes), mode);
}

bool IsDefaultCaptureModule(absl::string_view name) {
  const std::string normalized = NormalizeModuleName(name);
  for (absl::string_view m : kDefaultCaptureModules) {
    if (NormalizeModuleName(m) == normalized) return true;
  }
  return false;
}

// `wanted` without the members of the default set that `index` cannot
// resolve (appended to `skipped`): the default set spans kernel flavours,
// and a kernel without SAS HBA drivers simply has no such disk to reach.
absl::StatusOr<std::vector<std::string>> AvailableModules(const ModuleIndex& index,
                                                          const std::vector<std::string>& wanted,
                                                          std::vector<std::string>* skipped) {
  std::vector<std::string> kept;
  for (const std::string& name : wanted) {
    if (IsDefaultCaptureModule(name) && absl::IsNotFound(ResolveModules(index, {name}).status())) {
      skipped->push_back(name);
      continue;
    }
    kept.push_back(name);
  }
  return kept;
}

// A module file's bytes unpacked (the format is checked against the magic,
// not only the file name).
absl::StatusOr<std::string> UnpackModule(const std::string& relative, const std::string& bytes) {
  const absl::Span<const uint8_t> in = AsBytes(bytes);
  const Compression c = DetectCompression(in);
  const std::string what = absl::StrCat("module ", relative);
  if (c == Compression::kUnknown) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": its name says compressed, its bytes are in no known format"));
  }
  absl::StatusOr<std::vector<uint8_t>> plain = Decompress(c, in, kMaxUnpackedModuleBytes, what);
  if (!plain.ok()) return plain.status();
  if (!absl::StartsWith(
          absl::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()),
          kElfMagic)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": unpacks to no ELF object"));
  }
  return std::string(plain->begin(), plain->end());
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> BuildCaptureInitramfs(const CaptureInitramfsSpec& spec,
                                                           CaptureInitramfsSummary* summary) {
  CaptureInitramfsSummary facts;

  absl::StatusOr<std::string> init = ReadHostFile(spec.capture_binary_path);
  if (!init.ok()) return Prefixed(init.status());
  if (!absl::StartsWith(*init, kElfMagic)) {
    return Prefixed(absl::InvalidArgumentError(
        absl::StrCat("capture binary '", spec.capture_binary_path,
                     "' is not an ELF executable (no \\x7fELF magic); the kernel could "
                     "not run it as /init")));
  }
  facts.init_bytes = init->size();

  // A kernel with every driver built in (Saveoops' own) has no modules
  // directory: no modules asked for and none named, nothing to resolve.
  std::vector<std::string> modules;
  if (!spec.modules_dir.empty() || !spec.modules.empty()) {
    absl::StatusOr<std::string> release = ReleaseOf(spec.modules_dir);
    if (!release.ok()) return Prefixed(release.status());
    facts.release = *release;
    absl::StatusOr<ModuleIndex> index = LoadModuleIndex(spec.modules_dir);
    if (!index.ok()) return Prefixed(index.status());
    absl::StatusOr<std::vector<std::string>> wanted =
        AvailableModules(*index, spec.modules, &facts.skipped_modules);
    if (!wanted.ok()) return Prefixed(wanted.status());
    absl::StatusOr<std::vector<std::string>> resolved = ResolveModules(*index, *wanted);
    if (!resolved.ok()) return Prefixed(resolved.status());
    modules = *std::move(resolved);
  }

  CpioWriter writer;
  // The kernel unpacks members in order, so directories come first.
  for (const absl::Status& status : {
           writer.AddDirectory("/dev", 0755),
           writer.AddCharDevice("/dev/console", 0600, kConsoleMajor, kConsoleMinor),
           writer.AddDirectory("/proc", 0555),
           writer.AddDirectory("/sys", 0555),
           writer.AddDirectory("/tmp", 01777),
           writer.AddFile("/init", AsBytes(*init), 0755),
       }) {
    if (!status.ok()) return Prefixed(status);
  }

  std::string module_list;
  for (const std::string& relative : modules) {
    absl::StatusOr<std::string> bytes = ReadHostFile(absl::StrCat(spec.modules_dir, "/", relative));
    if (!bytes.ok()) return Prefixed(bytes.status());
    std::string plain_relative = relative;
    if (IsCompressedModulePath(relative)) {
      absl::StatusOr<std::string> plain = UnpackModule(relative, *bytes);
      if (!plain.ok()) return Prefixed(plain.status());
      *bytes = *std::move(plain);
      plain_relative = relative.substr(0, relative.rfind(".ko") + 3);
      ++facts.unpacked_modules;
    }
    const std::string archive_path =
        absl::StrCat(kModulesRoot, "/", facts.release, "/", plain_relative);
    absl::Status status = writer.AddFile(archive_path, AsBytes(*bytes), 0644);
    if (!status.ok()) return Prefixed(status);
    facts.module_bytes += bytes->size();
    facts.module_paths.push_back(archive_path);
    absl::StrAppend(&module_list, archive_path, "\n");
  }
  absl::Status status = writer.AddFile(kCaptureModuleListPath, module_list, 0644);
  if (!status.ok()) return Prefixed(status);

  for (const auto& [archive_path, host_path] : spec.extra_files) {
    struct stat st;
    if (stat(host_path.c_str(), &st) != 0) {
      return Prefixed(absl::ErrnoToStatus(errno, absl::StrCat("extra file '", host_path, "'")));
    }
    // Normalize the mode so the archive does not depend on the host umask.
    const uint32_t mode = (st.st_mode & 0111) ? 0755 : 0644;
    status = AddHostFile(writer, archive_path, host_path, mode);
    if (!status.ok()) {
      return Prefixed(absl::Status(
          status.code(), absl::StrCat("extra file '", archive_path, "': ", status.message())));
    }
  }

  std::vector<uint8_t> archive = writer.Finish();
  facts.total_bytes = archive.size();
  if (summary != nullptr) *summary = std::move(facts);
  return archive;
}

absl::StatusOr<std::string> DefaultModulesDirUnder(const std::string& root,
                                                   const std::string& release) {
  if (!release.empty()) {
    if (release == "." || release == ".." || release.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("kernel release '", release, "' is not a name"));
    }
    const std::string dir = absl::StrCat(root, "/", release);
    if (!HasModulesDep(dir)) {
      return absl::NotFoundError(absl::StrCat("no ", dir, "/modules.dep: modules of kernel '",
                                              release,
                                              "' are not installed (or depmod has not run)"));
    }
    return dir;
  }
  DIR* d = opendir(root.c_str());
  if (d == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot list '", root, "'"));
  }
  std::string best;
  while (const struct dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (!HasModulesDep(absl::StrCat(root, "/", name))) continue;
    if (best.empty() || VersionLess(best, name)) best = name;
  }
  closedir(d);
  if (best.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no kernel modules under ", root,
                     " (no <release>/modules.dep); install the capture kernel's modules "
                     "or give the modules directory"));
  }
  return absl::StrCat(root, "/", best);
}

absl::StatusOr<std::string> DefaultModulesDir(const std::string& release) {
  absl::StatusOr<std::string> dir = DefaultModulesDirUnder(std::string(kModulesRoot), release);
  if (dir.ok() || !absl::IsNotFound(dir.status())) return dir;
  absl::StatusOr<std::string> usr = DefaultModulesDirUnder(std::string(kUsrModulesRoot), release);
  return usr.ok() ? usr : dir;
}

}  // namespace saveoops
