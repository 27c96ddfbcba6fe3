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
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "initramfs/init_util.h"

namespace {

using saveoops::KernelCmdlineValue;
using saveoops::ReadFileOrEmpty;

constexpr char kModuleListPath[] = "/etc/saveoops/modules";
constexpr char kDumpPath[] = "/tmp/dmesg.txt";
constexpr char kMakedumpfile[] = "/usr/bin/makedumpfile";
// Same polling as saveoops-capture's FindStore(): 10 s in 250 ms steps.
constexpr int kDiskWaitTries = 40;
constexpr long kDiskWaitStepNs = 250L * 1000 * 1000;
// finit_module flag (include/uapi/linux/module.h).
constexpr int kModuleInitCompressedFile = 4;

void Say(const std::string& s) {
  const std::string line = "kdump-bench: " + s + "\n";
  if (write(STDERR_FILENO, line.data(), line.size()) < 0) {
  }
}

[[noreturn]] void Reboot() {
  sync();
  Say("done; reboot");
  reboot(RB_AUTOBOOT);
  for (;;) pause();
}

void MountPseudoFilesystems() {
  mkdir("/proc", 0755);
  mkdir("/sys", 0755);
  mkdir("/dev", 0755);
  mkdir("/tmp", 01777);
  if (mount("proc", "/proc", "proc", 0, nullptr) != 0) Say("mount /proc failed");
  if (mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0) Say("mount /sys failed");
  if (mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr) != 0 && errno != EBUSY) {
    Say("mount /dev failed");
  }
  const int console = open("/dev/console", O_RDWR | O_CLOEXEC);
  if (console >= 0) {
    dup2(console, STDIN_FILENO);
    dup2(console, STDOUT_FILENO);
    dup2(console, STDERR_FILENO);
    if (console > STDERR_FILENO) close(console);
  }
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
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      Say("module " + path + ": " + strerror(errno));
      ++failed;
      continue;
    }
    const bool compressed = path.size() > 3 && (path.compare(path.size() - 3, 3, ".xz") == 0 ||
                                                path.compare(path.size() - 3, 3, ".gz") == 0 ||
                                                path.compare(path.size() - 4, 4, ".zst") == 0);
    if (syscall(SYS_finit_module, fd, "", compressed ? kModuleInitCompressedFile : 0) != 0 &&
        errno != EEXIST) {
      Say("module " + path + ": " + strerror(errno));
      ++failed;
    } else {
      ++loaded;
    }
    close(fd);
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
  MountPseudoFilesystems();
  const std::string cmdline = ReadFileOrEmpty("/proc/cmdline");
  const std::string disk = KernelCmdlineValue(cmdline, "kdump_bench.disk").value_or("/dev/vda");
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
