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
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/cmdline.h"
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

// Runs `saveoops arm` on the packed bundle (plus saveoops_e2e.arm_args),
// then `saveoops status`; powers off if arming fails.
void ArmOrPowerOff(const std::string& cmdline) {
  std::vector<std::string> arm = {"/bin/saveoops", "arm", "--bundle=/saveoops.bundle"};
  std::string extra = CmdlineValue(cmdline, "saveoops_e2e.arm_args").value_or("");
  for (size_t start = 0; !extra.empty() && start <= extra.size();) {
    size_t comma = extra.find(',', start);
    std::string arg =
        extra.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!arg.empty()) arm.push_back(arg);
    if (comma == std::string::npos) break;
    start = comma + 1;
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

  if (CmdlineValue(cmdline, "saveoops_e2e.skip_arm").value_or("") == "1") {
    // `saveoops status` exits 0 only when a capture kernel is loaded; an
    // unarmed kernel is not panicked (nothing would catch it).
    if (Run({"/bin/saveoops", "status"}) != 0) PowerOff("not armed (skip_arm): not panicking");
  } else {
    ArmOrPowerOff(cmdline);
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
