// /init of the kdump baseline's capture initramfs (benchmark only).
//
// The standard kdump stack captures a panic log with kexec-tools (`kexec -p`)
// and a capture initramfs that runs `makedumpfile --dump-dmesg` on
// /proc/vmcore. This program is that initramfs' /init reduced to the steps
// Saveoops' own capture program takes, in the same order, so that the
// benchmark compares the tools and not the plumbing around them:
//   1. mount /proc, /sys, /dev; use /dev/console
//   2. load the store disk's modules (the list the initramfs builder writes,
//      initramfs/builder.h kCaptureModuleListPath, in load order)
//   3. run /usr/bin/makedumpfile --dump-dmesg /proc/vmcore /tmp/dmesg.txt
//   4. wait for the disk as saveoops-capture does (a try every 250 ms)
//   5. write a one-line header and the dmesg text at offset 0 of the disk,
//      fdatasync(), and say so on the console (the benchmark's end marker)
//   6. reboot
// A real kdump initramfs (Debian's kdump-tools) also mounts a file system
// and runs udev and a shell; skipping those favours the baseline.
//
// Kernel command line options:
//   kdump_bench.disk=/dev/XXX   the disk to write (default /dev/vda)
//
// Disk layout written (read back by bench/vs_kdump on the host):
//   "saveoops-bench-kdump-dmesg <N>\n" followed by N bytes of dmesg text.
#include <errno.h>
#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/cmdline.h"
#include "initramfs/init_util.h"

namespace {

using saveoops::CmdlineValue;
using saveoops::ReadFileOrEmpty;

constexpr char kModuleListPath[] = "/etc/saveoops/modules";
constexpr char kDumpPath[] = "/tmp/dmesg.txt";
constexpr char kMakedumpfile[] = "/usr/bin/makedumpfile";
// Same polling as saveoops-capture's FindStore(): 10 s in 250 ms steps.
constexpr int kDiskWaitTries = 40;
constexpr long kDiskWaitStepNs = 250L * 1000 * 1000;

void Say(const std::string& s) { saveoops::ConsoleSay(STDERR_FILENO, "kdump-bench: ", s); }

[[noreturn]] void Reboot() {
  sync();
  Say("done; reboot");
  saveoops::SyncAndReboot(RB_AUTOBOOT);
}

void MountPseudoFilesystems(saveoops::PseudoMounts& mounts) {
  for (const saveoops::PseudoFs& fs : {saveoops::kProcFs, saveoops::kSysFs, saveoops::kDevTmpFs}) {
    if (mounts.Mount(fs) != 0) Say(std::string("mount ") + fs.target + " failed");
  }
  mkdir("/tmp", 01777);
  saveoops::UseConsole();
}

void LoadModules() {
  const std::string list = ReadFileOrEmpty(kModuleListPath);
  int loaded = 0, failed = 0;
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find('\n', start);
    if (end == std::string::npos) end = list.size();
    const std::string path = list.substr(start, end - start);
    start = end + 1;
    if (path.empty()) continue;
    const std::string error = saveoops::LoadModuleFile(path);
    if (!error.empty()) {
      Say(error);
      ++failed;
    } else {
      ++loaded;
    }
  }
  Say("loaded " + std::to_string(loaded) + " module(s), " + std::to_string(failed) + " failed");
}

// Runs makedumpfile; returns its exit status (or -1 if it could not run).
int RunMakedumpfile() {
  const pid_t pid = fork();
  if (pid == 0) {
    const char* argv[] = {kMakedumpfile, "--dump-dmesg", "/proc/vmcore", kDumpPath, nullptr};
    execv(argv[0], const_cast<char* const*>(argv));
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int OpenDisk(const std::string& disk) {
  for (int i = 0; i <= kDiskWaitTries; ++i) {
    const int fd = open(disk.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) return fd;
    struct timespec ts = {0, kDiskWaitStepNs};
    nanosleep(&ts, nullptr);
  }
  return -1;
}

bool WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main() {
  saveoops::PseudoMounts mounts;
  MountPseudoFilesystems(mounts);
  const std::string cmdline = ReadFileOrEmpty("/proc/cmdline");
  const std::string disk = CmdlineValue(cmdline, "kdump_bench.disk").value_or("/dev/vda");
  Say("capture kernel up; makedumpfile --dump-dmesg");
  LoadModules();
  const int rc = RunMakedumpfile();
  const std::string dmesg = ReadFileOrEmpty(kDumpPath);
  if (rc != 0 || dmesg.empty()) {
    Say("makedumpfile failed (exit " + std::to_string(rc) + ", " + std::to_string(dmesg.size()) +
        " bytes); the log is lost");
    Reboot();
  }
  const int fd = OpenDisk(disk);
  if (fd < 0) {
    Say("cannot open " + disk + ": " + strerror(errno) + "; the log is lost");
    Reboot();
  }
  const std::string blob =
      "saveoops-bench-kdump-dmesg " + std::to_string(dmesg.size()) + "\n" + dmesg;
  if (!WriteAll(fd, blob) || fdatasync(fd) != 0) {
    Say("writing " + disk + " failed: " + strerror(errno));
    close(fd);
    Reboot();
  }
  close(fd);
  Say("dmesg synced: " + std::to_string(dmesg.size()) + " bytes to " + disk);
  Reboot();
}
