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
//   saveoops.wait=SECONDS      how long to wait for the store disk (10)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "capture/printk.h"
#include "capture/vmcore.h"
#include "capture/vmcoreinfo.h"
#include "common/format.h"
#include "common/status.h"
#include "initramfs/init_util.h"
#include "store/locate.h"
#include "store/ring.h"

namespace saveoops {
namespace {

constexpr char kModuleListPath[] = "/etc/saveoops/modules";
// finit_module flag (include/uapi/linux/module.h): the file is compressed and
// the kernel decompresses it.
constexpr int kModuleInitCompressedFile = 4;

void Say(const std::string& s) {
  const std::string line = "saveoops-capture: " + s + "\n";
  if (write(STDERR_FILENO, line.data(), line.size()) < 0) {
  }
}

struct Options {
  std::string store;
  std::string action = "reboot";
  int wait_seconds = 10;
};

// If `text` starts with `prefix`, drops it and returns true.
bool ConsumePrefix(std::string_view* text, std::string_view prefix) {
  if (text->substr(0, prefix.size()) != prefix) return false;
  text->remove_prefix(prefix.size());
  return true;
}

Options ParseOptions(const std::string& cmdline) {
  Options o;
  std::string words = cmdline;
  std::replace(words.begin(), words.end(), '\n', ' ');
  for (std::string_view arg : Split(words, ' ')) {
    if (ConsumePrefix(&arg, "saveoops.store=")) o.store = std::string(arg);
    if (ConsumePrefix(&arg, "saveoops.action=")) o.action = std::string(arg);
    if (ConsumePrefix(&arg, "saveoops.wait=")) o.wait_seconds = atoi(std::string(arg).c_str());
  }
  return o;
}

void MountPseudoFilesystems() {
  mkdir("/proc", 0755);
  mkdir("/sys", 0755);
  mkdir("/dev", 0755);
  if (mount("proc", "/proc", "proc", 0, nullptr) != 0)
    Say(Concat("mount /proc: ", strerror(errno)));
  if (mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0)
    Say(Concat("mount /sys: ", strerror(errno)));
  if (mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr) != 0 && errno != EBUSY) {
    Say(Concat("mount /dev: ", strerror(errno)));
  }
  int console = open("/dev/console", O_RDWR | O_CLOEXEC);
  if (console >= 0) {
    dup2(console, STDIN_FILENO);
    dup2(console, STDOUT_FILENO);
    dup2(console, STDERR_FILENO);
    if (console > STDERR_FILENO) close(console);
  }
}

// Loads the modules listed (in modules.dep order) by the initramfs builder.
void LoadModules() {
  const std::string list = ReadFileOrEmpty(kModuleListPath);
  int loaded = 0, failed = 0;
  for (std::string_view path : Split(list, '\n')) {
    if (path.find_first_not_of(" \t\r\v\f") == std::string_view::npos) continue;
    const std::string p(path);
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      Say(Concat("module ", p, ": ", strerror(errno)));
      ++failed;
      continue;
    }
    const bool compressed = absl::EndsWith(p, ".xz") || absl::EndsWith(p, ".zst") ||
                            absl::EndsWith(p, ".gz");
    if (syscall(SYS_finit_module, fd, "", compressed ? kModuleInitCompressedFile : 0) != 0 &&
        errno != EEXIST) {
      Say(Concat("module ", p, ": ", strerror(errno)));
      ++failed;
    } else {
      ++loaded;
    }
    close(fd);
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
StatusOr<StoreLocation> FindStore(const Options& o) {
  Status last = NotFoundError("no block device holds a Saveoops store");
  for (int tries = 0; tries <= o.wait_seconds * 4; ++tries) {
    if (!o.store.empty()) {
      StatusOr<StoreLocation> loc = FindStoreInImage(o.store);
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
        StatusOr<StoreLocation> loc = FindStoreInImage("/dev/" + n);
        if (loc.ok()) return loc;
      }
    }
    struct timespec ts = {0, 250 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  return last;
}

[[noreturn]] void Finish(const Options& o) {
  sync();
  Say(Concat("done; ", o.action));
  const int how = o.action == "poweroff" ? RB_POWER_OFF
                  : o.action == "halt"   ? RB_HALT_SYSTEM
                                         : RB_AUTOBOOT;
  reboot(how);
  for (;;) pause();
}

}  // namespace
}  // namespace saveoops

int main() {
  using namespace saveoops;
  MountPseudoFilesystems();
  const Options options = ParseOptions(ReadFileOrEmpty("/proc/cmdline"));
  Say("capture kernel up; saving the dead kernel's log");
  LoadModules();
  ExtractedLog log = ExtractLog();
  StatusOr<StoreLocation> store = FindStore(options);
  if (!store.ok()) {
    Say(Concat("no store: ", store.status().message(), "; the log is lost"));
    Finish(options);
  }
  NewRecord record;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  record.capture_time_unix = now.tv_sec;
  record.kernel_release = log.release;
  record.panic_reason = log.panic_reason;
  record.log_text = std::move(log.text);
  StatusOr<CaptureRecord> written = AppendRecord(*store, record);
  if (!written.ok()) {
    Say(Concat("writing the record to ", store->path, " failed: ", written.status().message()));
  } else {
    Say(Concat("record ", written->sequence, " written to ", store->path, " at offset ",
               store->offset + written->offset_in_store));
  }
  Finish(options);
}
