// saveoops-capture: /init of the capture initramfs.
//
// Runs in the capture kernel after a panic: loads the store disk's drivers,
// reads the dead kernel's log out of /proc/vmcore, writes one record to the
// Saveoops store, syncs, and reboots. Every step reports on the console;
// failing steps are reported and skipped where the rest can still help (no
// log text still yields a record saying why).
//
// Kernel command line options:
//   saveoops.store=/dev/XXX    the store (default: scan block devices)
//   saveoops.action=reboot|poweroff|halt   after writing (default reboot)
//   saveoops.wait=SECONDS      how long to wait for the store disk (10; 0..3600,
//                              anything else is said and clamped)
//   saveoops.boot_id=UUID      the panicked boot's id, which `saveoops arm`
//                              puts here (8-4-4-4-12 lowercase hex)
//
// The store map (store/store_map.h, at kStoreMapPath in this initramfs,
// verified by the purgatory with the rest of the initrd): `saveoops arm
// --store` puts the armed store's UUID there, and only a store whose
// superblock carries it receives the record; any other, even a valid
// store, is refused. A map that does not parse means nothing is written.
// Without a map (armed without a store) the first store found is used and
// the console says it is unverified. A map with a disk and extents is a
// file store (store/file_store.h): the disk is found by its partition
// table's identity (and serial), never by name, and the record is written
// only inside the extents (store/extent_store.h); a map that no longer
// matches (the file replaced after arming, another disk) means nothing is
// written and the console says why.
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "capture/printk.h"
#include "capture/vmcore.h"
#include "capture/vmcoreinfo.h"
#include "common/cmdline.h"
#include "common/format.h"
#include "common/status.h"
#include "initramfs/init_util.h"
#include "store/extent_store.h"
#include "store/locate.h"
#include "store/ring.h"
#include "store/store_map.h"

namespace saveoops {
namespace {

constexpr char kModuleListPath[] = "/etc/saveoops/modules";

void Say(const std::string& s) { ConsoleSay(STDERR_FILENO, "saveoops-capture: ", s); }

// saveoops.wait= is clamped to this: an hour is longer than any disk takes
// to appear, and a negative wait would never look for the store at all.
constexpr long long kMaxWaitSeconds = 3600;

struct Options {
  std::string store;
  std::string action = "reboot";
  int wait_seconds = 10;
  Uuid boot_id{};  // the panicked boot's (saveoops.boot_id=), zero if unknown
};

// "8-4-4-4-12" lowercase hex, as /proc/sys/kernel/random/boot_id reads.
bool ParseBootId(const std::string& text, Uuid* out) {
  if (text.size() != 36) return false;
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return false;
    }
    (*out)[n / 2] = static_cast<uint8_t>(n % 2 == 0 ? v << 4 : ((*out)[n / 2] | v));
    ++n;
  }
  return n == 32;
}

Options ParseOptions(const std::string& cmdline) {
  Options o;
  o.store = CmdlineValue(cmdline, "saveoops.store").value_or(o.store);
  o.action = CmdlineValue(cmdline, "saveoops.action").value_or(o.action);
  const CmdlineInteger wait =
      CmdlineIntegerInRange(cmdline, "saveoops.wait", o.wait_seconds, 0, kMaxWaitSeconds);
  if (!wait.note.empty()) Say(wait.note);
  o.wait_seconds = static_cast<int>(wait.value);
  if (std::optional<std::string> id = CmdlineValue(cmdline, "saveoops.boot_id")) {
    Uuid parsed{};
    if (ParseBootId(*id, &parsed)) {
      o.boot_id = parsed;
    } else {
      Say("saveoops.boot_id= is not a boot id; the record's boot is unknown");
    }
  }
  return o;
}

void MountPseudoFilesystems(PseudoMounts& mounts) {
  for (const PseudoFs& fs : {kProcFs, kSysFs, kDevTmpFs}) {
    if (const int err = mounts.Mount(fs); err != 0) {
      Say(Concat("mount ", fs.target, ": ", strerror(err)));
    }
  }
  UseConsole();
}

// Loads the modules listed (in modules.dep order) by the initramfs builder.
void LoadModules() {
  const std::string list = ReadFileOrEmpty(kModuleListPath);
  int loaded = 0, failed = 0;
  for (std::string_view path : Split(list, '\n')) {
    if (path.find_first_not_of(" \t\r\v\f") == std::string_view::npos) continue;
    const std::string error = LoadModuleFile(std::string(path));
    if (!error.empty()) {
      Say(error);
      ++failed;
    } else {
      ++loaded;
    }
  }
  Say(Concat("loaded ", loaded, " module(s)", failed ? Concat(", ", failed, " failed") : ""));
}

struct ExtractedLog {
  std::string text;
  std::string panic_reason;
  std::string release;
};

ExtractedLog ExtractLog() {
  ExtractedLog out;
  StatusOr<std::unique_ptr<FileByteSource>> src = FileByteSource::Open("/proc/vmcore");
  if (!src.ok()) {
    out.text = Concat("saveoops-capture: cannot open /proc/vmcore: ", src.status().message(),
                      " (not booted as a capture kernel, or elfcorehdr= rejected)\n");
    return out;
  }
  StatusOr<Vmcore> core = Vmcore::Open(src->get());
  if (!core.ok()) {
    out.text = Concat("saveoops-capture: /proc/vmcore: ", core.status().message(), "\n");
    return out;
  }
  std::optional<std::string> info_text = core->VmcoreInfo();
  if (!info_text) {
    out.text = "saveoops-capture: /proc/vmcore has no VMCOREINFO note\n";
    return out;
  }
  StatusOr<VmcoreInfo> info = ParseVmcoreInfo(*info_text);
  if (!info.ok()) {
    out.text = Concat("saveoops-capture: VMCOREINFO: ", info.status().message(), "\n");
    return out;
  }
  out.release = info->OsRelease();
  StatusOr<PrintkLog> log = ReadPrintkLog(*core, *info);
  if (!log.ok()) {
    out.text = Concat("saveoops-capture: printk ring: ", log.status().message(), "\n");
    return out;
  }
  out.text = FormatPrintkLog(*log);
  out.panic_reason = FindPanicReason(*log);
  Say(Concat("extracted ", log->records.size(), " log records (", out.text.size(), " bytes), ",
             log->skipped_damaged, " damaged skipped"));
  return out;
}

// The store: the one named on the command line, else the first block device
// (or partition of one) holding a store superblock. Disks may appear a moment
// after their driver loads, so keep looking for `wait_seconds`.
// With a map, a store is taken only if its superblock carries the map's
// UUID; each store refused for another UUID is said once.
// A store that another tool has reformatted (ReadStoreInfo's
// kReformattedByAnotherTool) is refused whether armed or not, and said once.
StatusOr<StoreLocation> Accept(StatusOr<StoreLocation> loc, const std::optional<StoreMap>& map,
                               std::vector<std::string>* refused) {
  if (!loc.ok() && loc.status().message().find(kReformattedByAnotherTool) != std::string::npos) {
    const std::string why = Concat("refusing: ", loc.status().message());
    bool said = false;
    for (const std::string& r : *refused) said = said || r == why;
    if (!said) {
      Say(why);
      refused->push_back(why);
    }
    return loc;
  }
  if (!loc.ok() || !map) return loc;
  StatusOr<StoreInfo> info = ReadStoreInfo(*loc);
  if (!info.ok()) return info.status();
  const std::string want = FormatStoreUuid(map->store_uuid);
  const std::string have = FormatStoreUuid(info->uuid);
  if (have == want) {
    Say(Concat("store UUID ", want, " on ", loc->path, " matches the armed store"));
    return loc;
  }
  const std::string why = Concat("refusing store ", have, " on ", loc->path, " at offset ",
                                 loc->offset, ": armed for store ", want);
  bool said = false;
  for (const std::string& r : *refused) said = said || r == why;
  if (!said) {
    Say(why);
    refused->push_back(why);
  }
  return NotFoundError(why);
}

StatusOr<StoreLocation> FindStore(const Options& o, const std::optional<StoreMap>& map) {
  Status last = NotFoundError(
      map ? Concat("no block device holds the armed store ", FormatStoreUuid(map->store_uuid))
          : std::string("no block device holds a Saveoops store"));
  std::vector<std::string> refused;
  for (int tries = 0; tries <= o.wait_seconds * 4; ++tries) {
    if (!o.store.empty()) {
      StatusOr<StoreLocation> loc = Accept(FindStoreInImage(o.store), map, &refused);
      if (loc.ok()) return loc;
      last = loc.status();
    } else if (DIR* d = opendir("/sys/block")) {
      std::vector<std::string> names;
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') names.push_back(e->d_name);
      }
      closedir(d);
      for (const std::string& n : names) {
        if (absl::StartsWith(n, "loop") || absl::StartsWith(n, "ram")) continue;
        StatusOr<StoreLocation> loc = Accept(FindStoreInImage("/dev/" + n), map, &refused);
        if (loc.ok()) return loc;
      }
    }
    struct timespec ts = {0, 250 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  if (!refused.empty()) {
    return NotFoundError(Concat(
        map ? Concat("no block device holds the armed store ", FormatStoreUuid(map->store_uuid))
            : std::string("no block device holds a usable Saveoops store"),
        " (", refused.size(), " other store(s) refused)"));
  }
  return last;
}

// Says `why` once (the disk scan repeats while disks appear).
void SayOnce(const std::string& why, std::vector<std::string>* said) {
  for (const std::string& r : *said) {
    if (r == why) return;
  }
  Say(why);
  said->push_back(why);
}

// A file store (the map has its disk and extents): the whole disk whose
// partition table and serial match the map and whose superblock, read
// through the extents, carries the map's UUID. Never found by name: every
// disk is asked. saveoops.store=/dev/XXX narrows the search to that disk.
StatusOr<std::unique_ptr<ExtentStoreIo>> FindFileStore(const Options& o, const StoreMap& map) {
  std::vector<std::string> refused;
  for (int tries = 0; tries <= o.wait_seconds * 4; ++tries) {
    std::vector<std::string> names;
    if (!o.store.empty()) {
      names.push_back(o.store.substr(o.store.rfind('/') + 1));
    } else if (DIR* d = opendir("/sys/block")) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') names.push_back(e->d_name);
      }
      closedir(d);
    }
    for (const std::string& n : names) {
      if (absl::StartsWith(n, "loop") || absl::StartsWith(n, "ram") ||
          absl::StartsWith(n, "zram")) {
        continue;
      }
      StatusOr<std::unique_ptr<ExtentStoreIo>> io =
          OpenMappedStore(map, "/dev/" + n, ReadDiskSerial("/sys/block/" + n));
      if (io.ok()) {
        Say(Concat("file store ", FormatStoreUuid(map.store_uuid), ": /dev/", n,
                   " matches the armed disk and the superblock through its ", map.extents.size(),
                   " extent(s) carries the armed UUID"));
        return io;
      }
      SayOnce(Concat("refusing ", io.status().message()), &refused);
    }
    struct timespec ts = {0, 250 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  return NotFoundError(Concat("no disk holds the armed file store ",
                              FormatStoreUuid(map.store_uuid), " (", refused.size(),
                              " refusal(s) above)"));
}

// The store map, if this initramfs has one. A map that is there but does
// not parse fails: nothing may be written then.
StatusOr<std::optional<StoreMap>> ReadStoreMap() {
  const std::string bytes = ReadFileOrEmpty(kStoreMapPath);
  if (bytes.empty() && access(kStoreMapPath, F_OK) != 0) return std::optional<StoreMap>();
  if (bytes.size() > kStoreMapMaxSize) {
    return InvalidArgumentError(
        Concat(kStoreMapPath, ": ", bytes.size(), " bytes, more than ", kStoreMapMaxSize));
  }
  StatusOr<StoreMap> map =
      ParseStoreMap(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!map.ok()) return InvalidArgumentError(Concat(kStoreMapPath, ": ", map.status().message()));
  return std::optional<StoreMap>(*map);
}

[[noreturn]] void Finish(const Options& o) {
  sync();
  Say(Concat("done; ", o.action));
  SyncAndReboot(o.action == "poweroff" ? RB_POWER_OFF
                : o.action == "halt"   ? RB_HALT_SYSTEM
                                       : RB_AUTOBOOT);
}

}  // namespace
}  // namespace saveoops

int main() {
  using namespace saveoops;
  PseudoMounts mounts;
  MountPseudoFilesystems(mounts);
  const Options options = ParseOptions(ReadFileOrEmpty("/proc/cmdline"));
  Say("capture kernel up; saving the dead kernel's log");
  LoadModules();
  ExtractedLog log = ExtractLog();
  StatusOr<std::optional<StoreMap>> map = ReadStoreMap();
  if (!map.ok()) {
    Say(Concat("bad store map: ", map.status().message(), "; nothing written, the log is lost"));
    Finish(options);
  }
  if (!*map) Say("no store map (armed without --store): the store is unverified");
  NewRecord record;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  record.capture_time_unix = now.tv_sec;
  record.boot_id = options.boot_id;
  record.kernel_release = log.release;
  record.panic_reason = log.panic_reason;
  record.log_text = std::move(log.text);
  if (*map && (*map)->disk) {
    StatusOr<std::unique_ptr<ExtentStoreIo>> io = FindFileStore(options, **map);
    if (!io.ok()) {
      Say(Concat("no store: ", io.status().message(), "; nothing written, the log is lost"));
      Finish(options);
    }
    StatusOr<CaptureRecord> written = AppendRecord(**io, record);
    if (!written.ok()) {
      Say(Concat("writing the record failed: ", written.status().message()));
    } else {
      Say(Concat("record ", written->sequence, " written to the ", (*io)->name(), " at store byte ",
                 written->offset_in_store));
    }
    Finish(options);
  }
  StatusOr<StoreLocation> store = FindStore(options, *map);
  if (!store.ok()) {
    Say(Concat("no store: ", store.status().message(), "; the log is lost"));
    Finish(options);
  }
  StatusOr<CaptureRecord> written = AppendRecord(*store, record);
  if (!written.ok()) {
    Say(Concat("writing the record to ", store->path, " failed: ", written.status().message()));
  } else {
    Say(Concat("record ", written->sequence, " written to ", store->path, " at offset ",
               store->offset + written->offset_in_store));
  }
  Finish(options);
}
