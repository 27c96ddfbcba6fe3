#include "backends/syslinux/early_arm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "arming/sysinfo.h"
#include "backends/syslinux/staging.h"
#include "common/bzimage.h"
#include "common/cmdline.h"
#include "common/planner.h"
#include "host/runfiles.h"

namespace saveoops {
namespace {

std::string Under(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") return path;
  return absl::StrCat(absl::StripSuffix(root, "/"), path);
}

// Reads a whole file with plain read(2)s (sysfs binary attributes report
// size 0 in stat, so the size is only known at EOF), refusing more than
// `limit` bytes.
absl::StatusOr<std::vector<uint8_t>> ReadWhole(const std::string& path, uint64_t limit) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return absl::InternalError(absl::StrCat("cannot read ", path, ": ", strerror(err)));
    }
    if (n == 0) break;
    if (out.size() + n > limit) {
      close(fd);
      return absl::ResourceExhaustedError(
          absl::StrCat(path, " holds more than ", limit >> 20, " MiB; not a Saveoops bundle"));
    }
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  close(fd);
  return out;
}

std::string TypeText(uint32_t type) { return absl::StrFormat("0x%x", type); }

}  // namespace

EarlyArmOptions ParseEarlyArmOptions(absl::string_view cmdline) {
  EarlyArmOptions o;
  // The kernel's words only: what follows "--" is init's argv.
  for (const KernelParam& p : KernelParams(std::string_view(cmdline.data(), cmdline.size()))) {
    const std::string_view value = p.value.value_or("");
    const absl::string_view word(value.data(), value.size());
    if (p.text == kStagingFailedArgument) {
      o.staging_failed = true;
    } else if (!p.value) {
      continue;
    } else if (p.name == "saveoops.init") {
      if (!word.empty() && word[0] == '/') {
        o.next_init = std::string(word);
      } else {
        o.ignored.push_back(absl::StrCat("saveoops.init=", word, " (not an absolute path)"));
      }
    } else if (p.name == "saveoops.early_arm") {
      if (word == "0" || word == "off" || word == "no") {
        o.enabled = false;
      } else if (word == "1" || word == "on" || word == "yes") {
        o.enabled = true;
      } else {
        o.ignored.push_back(absl::StrCat("saveoops.early_arm=", word, " (want 0 or 1)"));
      }
    } else if (p.name == "saveoops.arm_timeout") {
      int s = 0;
      if (absl::SimpleAtoi(word, &s) && s > 0 && s <= 3600) {
        o.timeout_seconds = s;
      } else {
        o.ignored.push_back(absl::StrCat("saveoops.arm_timeout=", word, " (want 1..3600 seconds)"));
      }
    }
  }
  return o;
}

absl::StatusOr<uint32_t> ParseSetupDataType(absl::string_view text) {
  absl::string_view t = text;
  absl::ConsumeSuffix(&t, "\n");
  if (!absl::ConsumePrefix(&t, "0x") || t.empty() || t.size() > 8) {
    return absl::InvalidArgumentError(absl::StrCat("setup_data type '", absl::CEscape(text),
                                                   "' is not 0x followed by 1-8 hex digits"));
  }
  uint32_t v = 0;
  for (char c : t) {
    if (!absl::ascii_isxdigit(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("setup_data type '", absl::CEscape(text), "' has a non-hex digit"));
    }
    v = v * 16 + (absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10);
  }
  return v;
}

std::string SetupDataDir(const std::string& root) {
  return Under(root, "/sys/kernel/boot_params/setup_data");
}

absl::StatusOr<StagedBundle> ReadStagedBundle(const std::string& root) {
  const std::string dir = SetupDataDir(root);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no Saveoops bundle: ", dir, " is missing (", strerror(errno),
                     "): the boot loader passed no setup_data at all; was the kernel booted by the "
                     "syslinux.cfg pack wrote (blob.",
                     kBundleSetupDataType, "=", kFatBundleName, ")?"));
  }
  std::vector<int> nodes;
  while (dirent* e = readdir(d)) {
    int n = 0;
    if (absl::SimpleAtoi(e->d_name, &n) && n >= 0 && absl::StrCat(n) == e->d_name)
      nodes.push_back(n);
  }
  closedir(d);
  std::sort(nodes.begin(), nodes.end());
  std::vector<std::string> seen;
  for (int n : nodes) {
    const std::string node_dir = absl::StrCat(dir, "/", n);
    absl::StatusOr<std::vector<uint8_t>> type_text = ReadWhole(node_dir + "/type", 64);
    if (!type_text.ok()) {
      seen.push_back(absl::StrCat(n, " (unreadable type)"));
      continue;
    }
    absl::StatusOr<uint32_t> type = ParseSetupDataType(
        absl::string_view(reinterpret_cast<const char*>(type_text->data()), type_text->size()));
    if (!type.ok()) {
      seen.push_back(absl::StrCat(n, " (", type.status().message(), ")"));
      continue;
    }
    if (*type != kBundleSetupDataType) {
      seen.push_back(absl::StrCat(n, " (type ", TypeText(*type), ")"));
      continue;
    }
    absl::StatusOr<std::vector<uint8_t>> data =
        ReadWhole(node_dir + "/data", kMaxStagedBundleBytes);
    if (!data.ok()) {
      return absl::Status(data.status().code(),
                          absl::StrCat("setup_data node ", n, " (type ", TypeText(*type),
                                       "): ", data.status().message()));
    }
    return StagedBundle{n, *std::move(data)};
  }
  return absl::NotFoundError(absl::StrCat(
      "no Saveoops bundle: no setup_data node of type ", TypeText(kBundleSetupDataType), " in ",
      dir,
      seen.empty() ? " (it is empty)" : absl::StrCat(" (nodes: ", absl::StrJoin(seen, ", "), ")"),
      "; the boot entry lacks blob.", kBundleSetupDataType, "=", kFatBundleName));
}

absl::StatusOr<BundleContents> VerifyStagedBundle(const StagedBundle& staged) {
  absl::StatusOr<BundleContents> b = ParseBundle(staged.bytes);
  if (!b.ok()) {
    return absl::Status(
        b.status().code(),
        absl::StrFormat("the bundle in setup_data node %d (%.1f MiB) is damaged: %s", staged.node,
                        staged.bytes.size() / 1048576.0, b.status().message()));
  }
  return b;
}

absl::StatusOr<ArmOutcome> ArmStagedBundle(const BundleContents& bundle, const std::string& root,
                                           bool dry_run,
                                           const std::function<void(const std::string&)>& say) {
  ArmRequest request;
  request.root = root;
  request.dry_run = dry_run;
  request.say = say;
  return ArmBundle(bundle, request);
}

}  // namespace saveoops
