// saveoops.conf. Rules: host/config.h.
#include "host/config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"
#include "common/key_value.h"
#include "store/collect.h"

namespace saveoops {
namespace {

absl::Status AbsolutePath(const KeyValue& kv, const std::string& name) {
  if (kv.value.empty() || kv.value[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s:%d: %s=%s: not an absolute path", name, kv.line, kv.key, kv.value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SaveoopsConfig> ParseSaveoopsConfig(std::string_view text, const std::string& name) {
  StatusOr<std::vector<KeyValue>> kvs = ParseKeyValues(text, name);
  if (!kvs.ok()) return kvs.status();
  SaveoopsConfig config;
  config.path = name;
  for (const KeyValue& kv : *kvs) {
    if (kv.key == "store") {
      if (absl::Status s = AbsolutePath(kv, name); !s.ok()) return s;
      config.store = kv.value;
    } else if (kv.key == "collect_dir") {
      if (absl::Status s = AbsolutePath(kv, name); !s.ok()) return s;
      config.collect_dir = kv.value;
    } else if (kv.key == "retention") {
      StatusOr<uint64_t> n = KeyValueNumber(kv, name, kMaxRetention);
      if (!n.ok()) return n.status();
      config.retention = *n;
    } else if (kv.key == "capture_action") {
      if (kv.value != "reboot" && kv.value != "poweroff" && kv.value != "halt") {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s:%d: capture_action=%s: want reboot, poweroff or halt", name, kv.line, kv.value));
      }
      config.capture_action = kv.value;
    } else {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: unknown key '%s' (known: store, retention, collect_dir, "
                          "capture_action)",
                          name, kv.line, kv.key));
    }
  }
  return config;
}

absl::StatusOr<SaveoopsConfig> LoadSaveoopsConfig(const std::string& path, bool required) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT && !required) return SaveoopsConfig{};
    return absl::NotFoundError(absl::StrFormat("config %s: %s", path, strerror(errno)));
  }
  if (S_ISREG(st.st_mode) && st.st_uid != 0 && st.st_uid != geteuid()) {
    return absl::PermissionDeniedError(
        absl::StrFormat("config %s is owned by uid %u, neither root nor the invoking user: "
                        "refusing to use it",
                        path, st.st_uid));
  }
  if (S_ISREG(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::PermissionDeniedError(
        absl::StrFormat("config %s is writable by group or others (mode 0%o): refusing to use it",
                        path, st.st_mode & 07777));
  }
  StatusOr<std::string> text = ReadTextFileBounded(path, kMaxKeyValueBytes, "config");
  if (!text.ok()) return text.status();
  return ParseSaveoopsConfig(*text, path);
}

std::string DefaultSaveoopsConfigText(const std::string& store) {
  return absl::StrCat(
      "# Saveoops settings, read by `saveoops arm` and `saveoops collect` (their flags\n"
      "# override them). KEY=VALUE, one a line; '#' starts a comment line.\n"
      "#\n"
      "# The record store the capture writes and collect reads: a partition, a whole\n"
      "# disk, or a store file (`saveoops store format --store=PATH`).\n",
      store.empty() ? "#store=/dev/disk/by-partlabel/saveoops\n"
                    : absl::StrCat("store=", store, "\n"),
      "#\n"
      "# How many records collect keeps in collect_dir/records (the newest; 0 keeps all).\n"
      "retention=",
      kDefaultRetention,
      "\n"
      "#\n"
      "# Where collect puts records (records/<UTC time>-<seq>/dmesg.txt, record.json).\n"
      "collect_dir=",
      kDefaultCollectDir,
      "\n"
      "#\n"
      "# What the capture kernel does once the record is on disk: reboot, poweroff or\n"
      "# halt (arm puts saveoops.action= on the capture command line, which the\n"
      "# purgatory verifies with the rest of boot_params).\n"
      "#capture_action=reboot\n");
}

}  // namespace saveoops
