#include "initramfs/device_modules.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace saveoops {
namespace {

// realpath(3) as a string; "" (errno set) on failure.
std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return "";
  return buf;
}

// The last component of a symlink's target, or "" if `link` is no symlink.
std::string LinkBaseName(const std::string& link) {
  char buf[PATH_MAX];
  const ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  const absl::string_view target(buf, static_cast<size_t>(n));
  const size_t slash = target.rfind('/');
  return std::string(slash == absl::string_view::npos ? target : target.substr(slash + 1));
}

std::string Parent(const std::string& dir) {
  const size_t slash = dir.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::vector<DeviceDriver>> DriversOfBlockDevice(const std::string& sys_root,
                                                               const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a block device name"));
  }
  const std::string entry = absl::StrCat(sys_root, "/class/block/", name);
  const std::string node = RealPath(entry);
  if (node.empty()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("block device '", name, "': no ", entry));
  }
  const std::string devices = RealPath(sys_root + "/devices");
  std::vector<DeviceDriver> drivers;
  // Stop at the root of the device tree: everything above it is not a
  // device.
  for (std::string dir = node; !devices.empty() && absl::StartsWith(dir, devices + "/");
       dir = Parent(dir)) {
    DeviceDriver d;
    d.driver = LinkBaseName(dir + "/driver");
    if (d.driver.empty()) continue;
    d.device = dir.substr(dir.rfind('/') + 1);
    d.module = NormalizeModuleName(LinkBaseName(dir + "/driver/module"));
    drivers.push_back(std::move(d));
  }
  if (drivers.empty()) {
    return absl::NotFoundError(
        absl::StrCat("block device '", name, "' (", node,
                     ") has no driver on its device path: a virtual device (device "
                     "mapper, md, loop)? Name the modules of the disks under it"));
  }
  return drivers;
}

std::vector<std::string> ModulesForDrivers(const ModuleIndex& index,
                                           const std::vector<DeviceDriver>& drivers) {
  std::vector<std::string> wanted;
  std::set<std::string> seen;
  for (const DeviceDriver& d : drivers) {
    std::string module = d.module;
    if (module.empty()) {
      module = NormalizeModuleName(d.driver);
      if (!index.modules.count(module)) continue;
    }
    if (seen.insert(module).second) wanted.push_back(module);
  }
  return wanted;
}

absl::StatusOr<std::string> BlockDeviceName(const std::string& path) {
  if (path.find('/') == std::string::npos) return path;
  const std::string real = RealPath(path);
  if (real.empty()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("block device '", path, "'"));
  }
  return real.substr(real.rfind('/') + 1);
}

}  // namespace saveoops
