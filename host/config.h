// /etc/saveoops/saveoops.conf: the settings `saveoops arm` and `saveoops
// collect` read (flags override them) and the kexec backend's pack writes a
// default of. common/key_value.h syntax, e.g.
//
//   # the record store: a partition, a disk, or a store file
//   store=/dev/disk/by-partlabel/saveoops
//   # record directories collect keeps in collect_dir/records (0: all)
//   retention=50
//   collect_dir=/var/lib/saveoops
//
// Keys: store (an absolute path), retention (0 ..
// kMaxRetention), collect_dir (an absolute path), capture_action (reboot,
// poweroff or halt: what the capture kernel does once the record is written;
// `arm` passes it as saveoops.action= on the capture command line, which is
// inside boot_params, a segment the purgatory verifies). Anything else is an
// error naming FILE:LINE and the keys there are.
//
// The file decides where a root `arm` lets the capture write: it is refused
// unless owned by root or the invoking user and not writable by group or
// others.
#ifndef SAVEOOPS_HOST_CONFIG_H_
#define SAVEOOPS_HOST_CONFIG_H_

#include <stdint.h>

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace saveoops {

inline constexpr char kDefaultConfigPath[] = "/etc/saveoops/saveoops.conf";

struct SaveoopsConfig {
  std::string path;  // the file the settings came from; empty: none (defaults)
  std::string store;
  std::optional<uint64_t> retention;
  std::string collect_dir;
  std::string capture_action;  // "", "reboot", "poweroff" or "halt"
};

// Parses the text of a config file; `name` (its path) prefixes errors.
absl::StatusOr<SaveoopsConfig> ParseSaveoopsConfig(std::string_view text, const std::string& name);

// Reads and parses `path`. A missing file is an error only if `required`
// (a --config given on the command line); otherwise it means defaults.
absl::StatusOr<SaveoopsConfig> LoadSaveoopsConfig(const std::string& path, bool required);

// The config file the kexec pack installs (when none is there yet): every
// key, commented where the default needs no setting.
std::string DefaultSaveoopsConfigText(const std::string& store);

}  // namespace saveoops

#endif  // SAVEOOPS_HOST_CONFIG_H_
