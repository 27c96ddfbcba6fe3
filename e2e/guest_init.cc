// /init of the first kernel's test initramfs in the e2e suite.
//
// It does what a distro's early boot would do for Saveoops, and then what a
// bad day does: mount the pseudo filesystems, run `saveoops arm` on the
// packed bundle, and panic the kernel with sysrq-c on the CPU the test asked
// for. Options come from the kernel command line:
//   saveoops_e2e.arm_args="..."   extra arguments for `saveoops arm`
//                                  (',' separates arguments)
//   saveoops_e2e.panic_cpu=N      raise the panic on CPU N (default: last)
//   saveoops_e2e.no_panic=1       arm, print status, power off
//   saveoops_e2e.skip_arm=1       do not arm (something before us did, e.g.
//                                  the Syslinux backend's early arming
//                                  program); print `saveoops status` and
//                                  panic only if a capture kernel is armed
// A file store on the guest's own root file system (issue 12):
//   saveoops_e2e.modules=1        load /etc/saveoops/modules first (the disk
//                                  and ext4 drivers, packed by `saveoops
//                                  initramfs`)
//   saveoops_e2e.mount=DEV        mount DEV (ext4) on /mnt, waiting for it
//   saveoops_e2e.pre_arm="..."    a command run before arming (',' separates
//                                  arguments), e.g. `saveoops store format`
//   saveoops_e2e.replace=PATH     after arming, replace the file PATH with a
//                                  new store file of the same size: `saveoops
//                                  store wipe` it, delete it, run pre_arm again
//   saveoops_e2e.post_arm="..."   a command run after arming (',' separates
//                                  arguments)
//   saveoops_e2e.disk_digest=DISK before the panic, remount /mnt read-only
//                                  and print the SHA-256 of all of DISK as
//                                  the capture will find it
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/cmdline.h"
#include "common/sha256.h"
#include "initramfs/init_util.h"

namespace {

using saveoops::CmdlineValue;
using saveoops::ReadFileOrEmpty;

void Say(const std::string& s) {
  // /dev/console is the serial console (console=ttyS0). Drained: a kernel
  // line (sysrq's "Trigger a crash") can otherwise land inside ours and the
  // host-side checks miss it.
  saveoops::ConsoleSay(STDOUT_FILENO, "saveoops-e2e: ", s, /*drain=*/true);
}

[[noreturn]] void PowerOff(const std::string& why) {
  Say("powering off: " + why);
  saveoops::SyncAndPowerOff();
}

int Run(const std::vector<std::string>& argv) {
  std::string joined;
  for (const auto& a : argv) joined += a + " ";
  Say("running: " + joined);
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A ','-separated command line option as an argument vector.
std::vector<std::string> ArgsOf(const std::string& joined) {
  std::vector<std::string> out;
  for (size_t start = 0; !joined.empty() && start <= joined.size();) {
    size_t comma = joined.find(',', start);
    std::string arg =
        joined.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!arg.empty()) out.push_back(arg);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void LoadPackedModules() {
  const std::string list = ReadFileOrEmpty("/etc/saveoops/modules");
  int loaded = 0;
  for (size_t start = 0; start < list.size();) {
    size_t nl = list.find('\n', start);
    const std::string path = list.substr(start, nl == std::string::npos ? nl : nl - start);
    start = nl == std::string::npos ? list.size() : nl + 1;
    if (path.empty()) continue;
    const std::string error = saveoops::LoadModuleFile(path);
    if (error.empty()) {
      ++loaded;
    } else {
      Say(error);
    }
  }
  Say("loaded " + std::to_string(loaded) + " module(s)");
}

// Mounts the ext4 file system on `dev` at /mnt once the disk has appeared.
void MountOrPowerOff(const std::string& dev) {
  mkdir("/mnt", 0755);
  for (int tries = 0; tries < 100; ++tries) {
    if (mount(dev.c_str(), "/mnt", "ext4", 0, "") == 0) {
      Say("mounted " + dev + " on /mnt (ext4)");
      return;
    }
    if (errno != ENOENT && errno != ENXIO) break;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  PowerOff("cannot mount " + dev + ": " + strerror(errno));
}

// Replaces the store file `path` by a new one, as an administrator is told
// to: `saveoops store wipe` (which clears the immutable flag), delete, make
// a new one.
void ReplaceFile(const std::string& path, const std::vector<std::string>& make_new) {
  if (Run({"/bin/saveoops", "store", "wipe", "--store=" + path}) != 0) {
    PowerOff("saveoops store wipe failed");
  }
  if (unlink(path.c_str()) != 0) PowerOff("cannot delete " + path);
  Say("deleted " + path + " after arming");
  if (Run(make_new) != 0) PowerOff("making the new store file failed");
}

// Remounts /mnt read-only (the file system stays mounted, as a root file
// system is at a panic, with all it wrote on the disk) and prints the
// SHA-256 of every byte of `disk`, read past the page cache's old copies.
void PrintDiskDigest(const std::string& disk) {
  if (mount(nullptr, "/mnt", nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    PowerOff(std::string("cannot remount /mnt read-only: ") + strerror(errno));
  }
  sync();
  int fd = open(disk.c_str(), O_RDONLY);
  if (fd < 0) PowerOff("cannot open " + disk);
  ioctl(fd, BLKFLSBUF, 0);
  saveoops::Sha256 hash(saveoops::Sha256BestEngine());
  std::vector<uint8_t> buf(1 << 20);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) PowerOff("cannot read " + disk);
    if (n == 0) break;
    hash.Update(buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  close(fd);
  const saveoops::Sha256Digest d = hash.Finish();
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : d.bytes) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  Say("disk digest before the panic: " + disk + " " + std::to_string(total) + " bytes sha256 " +
      hex);
}

// Runs `saveoops arm` on the packed bundle (plus saveoops_e2e.arm_args),
// then `saveoops status`; powers off if arming fails.
void ArmOrPowerOff(const std::string& cmdline) {
  std::vector<std::string> arm = {"/bin/saveoops", "arm", "--bundle=/saveoops.bundle"};
  for (const std::string& arg :
       ArgsOf(CmdlineValue(cmdline, "saveoops_e2e.arm_args").value_or(""))) {
    arm.push_back(arg);
  }
  const int rc = Run(arm);
  if (rc != 0) PowerOff("saveoops arm failed with exit code " + std::to_string(rc));
  Run({"/bin/saveoops", "status"});
}

}  // namespace

int main() {
  saveoops::PseudoMounts mounts;
  for (const saveoops::PseudoFs& fs : {saveoops::kProcFs, saveoops::kSysFs, saveoops::kDevTmpFs}) {
    mounts.Mount(fs);
  }
  saveoops::UseConsole();
  const std::string cmdline = ReadFileOrEmpty("/proc/cmdline");
  Say("first kernel up; cmdline: " + cmdline.substr(0, cmdline.find('\n')));

  if (CmdlineValue(cmdline, "saveoops_e2e.modules").value_or("") == "1") LoadPackedModules();
  if (std::optional<std::string> dev = CmdlineValue(cmdline, "saveoops_e2e.mount")) {
    MountOrPowerOff(*dev);
  }
  const std::vector<std::string> pre_arm =
      ArgsOf(CmdlineValue(cmdline, "saveoops_e2e.pre_arm").value_or(""));
  if (!pre_arm.empty() && Run(pre_arm) != 0) PowerOff("the pre_arm command failed");

  if (CmdlineValue(cmdline, "saveoops_e2e.skip_arm").value_or("") == "1") {
    // `saveoops status` exits 0 only when a capture kernel is loaded; an
    // unarmed kernel is not panicked (nothing would catch it).
    if (Run({"/bin/saveoops", "status"}) != 0) PowerOff("not armed (skip_arm): not panicking");
  } else {
    ArmOrPowerOff(cmdline);
  }
  if (std::optional<std::string> path = CmdlineValue(cmdline, "saveoops_e2e.replace")) {
    ReplaceFile(*path, pre_arm);
  }
  const std::vector<std::string> post_arm =
      ArgsOf(CmdlineValue(cmdline, "saveoops_e2e.post_arm").value_or(""));
  if (!post_arm.empty() && Run(post_arm) != 0) PowerOff("the post_arm command failed");
  if (std::optional<std::string> disk = CmdlineValue(cmdline, "saveoops_e2e.disk_digest")) {
    PrintDiskDigest(*disk);
  }
  if (CmdlineValue(cmdline, "saveoops_e2e.no_panic").value_or("") == "1") {
    PowerOff("no_panic set");
  }

  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::string cpu_arg = CmdlineValue(cmdline, "saveoops_e2e.panic_cpu").value_or("");
  long cpu = cpu_arg.empty() ? cpus - 1 : std::strtol(cpu_arg.c_str(), nullptr, 10);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    PowerOff("cannot move to CPU " + std::to_string(cpu));
  }
  Say("triggering panic on CPU " + std::to_string(sched_getcpu()) + " of " + std::to_string(cpus));
  int fd = open("/proc/sysrq-trigger", O_WRONLY);
  if (fd < 0 || write(fd, "c", 1) != 1) PowerOff("cannot write /proc/sysrq-trigger");
  // Not reached: the kernel panics inside the write.
  PowerOff("sysrq-c returned");
}
