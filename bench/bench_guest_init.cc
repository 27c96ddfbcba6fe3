// /init of the first kernel in the kdump comparison benchmark (bench/vs_kdump).
//
// One program for both stacks, so the guests differ only in the stack asked
// for. It mounts the pseudo file systems, optionally times both arming tools
// on the same capture kernel and initramfs (the arm-time figure), arms the
// stack under test, and panics the kernel with sysrq-c on the last CPU.
//
// Files the benchmark puts into this initramfs:
//   /bin/saveoops, /saveoops.bundle      Saveoops (bundle = /vmlinuz +
//                                        /capture.cpio + purgatory)
//   /saveoops-tiny.bundle                Saveoops with its own capture
//                                        kernel (saveoops-capture alone as
//                                        its initramfs)
//   /sbin/kexec + its shared libraries   kexec-tools
//   /vmlinuz, /capture.cpio              the capture kernel and Saveoops'
//                                        capture initramfs (arm-time samples)
//   /kdump.cpio                          the kdump baseline initramfs
//
// Kernel command line options:
//   bench.stack=saveoops|kdump|saveoops-tiny
//                                which stack to arm before the panic
//   bench.arm_reps=N             time N rounds of `kexec -p` and
//                                `saveoops arm` first (default 0)
//   bench.headroom=SIZE          --headroom for the final `saveoops arm`
//                                (the reservation bisection passes 0)
//   bench.kdump_append=A,B,...   the capture kernel's command line for
//                                `kexec -p --append` (',' separates the
//                                arguments); the benchmark derives it from
//                                the Saveoops bundle's command line so both
//                                capture kernels boot with the same one
//
// Console lines the benchmark reads (prefix "bench-guest: "):
//   arm-sample tool=kexec-p us=N          one timed `kexec -p`
//   arm-sample tool=saveoops-arm us=N     one timed `saveoops arm`
//   armed stack=S us=N                    the final arm succeeded
//   arm failed stack=S rc=N               it did not (the guest powers off)
//   triggering panic on CPU N of M
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/cmdline.h"
#include "initramfs/init_util.h"

namespace {

using saveoops::CmdlineValue;
using saveoops::ReadFileOrEmpty;

void Say(const std::string& s) { saveoops::ConsoleSay(STDOUT_FILENO, "bench-guest: ", s); }

[[noreturn]] void PowerOff(const std::string& why) {
  Say("powering off: " + why);
  saveoops::SyncAndPowerOff();
}

int64_t NowUs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Runs argv; its output goes to the console if `log` is empty, else to that
// file. Returns the exit status and sets *elapsed_us to the wall time from
// fork to reaping, which is what a user waits for.
int Run(const std::vector<std::string>& argv, const std::string& log, int64_t* elapsed_us) {
  const int64_t start = NowUs();
  const pid_t pid = fork();
  if (pid == 0) {
    if (!log.empty()) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  const bool reaped = pid > 0 && waitpid(pid, &status, 0) == pid;
  if (elapsed_us != nullptr) *elapsed_us = NowUs() - start;
  if (!reaped) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// bench.kdump_append with ',' read as ' '. kexec-tools adds elfcorehdr=
// itself.
std::string KdumpAppend() {
  std::string append =
      CmdlineValue(ReadFileOrEmpty("/proc/cmdline"), "bench.kdump_append").value_or("");
  for (char& c : append) {
    if (c == ',') c = ' ';
  }
  return append;
}

std::vector<std::string> KexecLoad(const std::string& initrd) {
  return {"/sbin/kexec", "-p", "/vmlinuz", "--initrd=" + initrd, "--append=" + KdumpAppend()};
}

std::vector<std::string> SaveoopsArm(const std::string& headroom,
                                     const std::string& bundle = "/saveoops.bundle") {
  std::vector<std::string> argv = {"/bin/saveoops", "arm", "--bundle=" + bundle};
  if (!headroom.empty()) argv.push_back("--headroom=" + headroom);
  return argv;
}

// One timed arm + untimed unload; prints the sample, powers off on failure.
void ArmSample(const std::string& tool) {
  const bool kexec = tool == "kexec-p";
  int64_t us = 0;
  const int rc = Run(kexec ? KexecLoad("/capture.cpio") : SaveoopsArm(""), "/tmp/arm.log", &us);
  if (rc != 0) {
    Say(ReadFileOrEmpty("/tmp/arm.log"));
    PowerOff("arm sample " + tool + " failed with exit code " + std::to_string(rc));
  }
  Say("arm-sample tool=" + tool + " us=" + std::to_string(us));
  const int unload = kexec ? Run({"/sbin/kexec", "-p", "-u"}, "/tmp/unload.log", nullptr)
                           : Run({"/bin/saveoops", "disarm"}, "/tmp/unload.log", nullptr);
  if (unload != 0) PowerOff("unloading after the " + tool + " sample failed");
}

}  // namespace

int main() {
  saveoops::PseudoMounts mounts;
  for (const saveoops::PseudoFs& fs : {saveoops::kProcFs, saveoops::kSysFs, saveoops::kDevTmpFs}) {
    mounts.Mount(fs);
  }
  mkdir("/tmp", 01777);
  saveoops::UseConsole();
  const std::string cmdline = ReadFileOrEmpty("/proc/cmdline");
  Say("first kernel up; cmdline: " + cmdline.substr(0, cmdline.find('\n')));
  const std::string stack = CmdlineValue(cmdline, "bench.stack").value_or("");
  if (stack != "saveoops" && stack != "kdump" && stack != "saveoops-tiny") {
    PowerOff("bench.stack must be saveoops, kdump or saveoops-tiny");
  }
  if (KdumpAppend().empty()) PowerOff("bench.kdump_append is missing");

  // Alternate which tool goes first so neither always finds a warm page
  // cache for the shared kernel file.
  const int reps = std::atoi(CmdlineValue(cmdline, "bench.arm_reps").value_or("").c_str());
  for (int i = 0; i < reps; ++i) {
    const bool kexec_first = (i % 2 == 0) == (stack == "kdump");
    ArmSample(kexec_first ? "kexec-p" : "saveoops-arm");
    ArmSample(kexec_first ? "saveoops-arm" : "kexec-p");
  }

  int64_t us = 0;
  const std::string headroom = CmdlineValue(cmdline, "bench.headroom").value_or("");
  const int rc = stack == "kdump" ? Run(KexecLoad("/kdump.cpio"), "", &us)
                 : stack == "saveoops-tiny"
                     ? Run(SaveoopsArm(headroom, "/saveoops-tiny.bundle"), "", &us)
                     : Run(SaveoopsArm(headroom), "", &us);
  if (rc != 0) {
    Say("arm failed stack=" + stack + " rc=" + std::to_string(rc));
    PowerOff("not armed");
  }
  Say("armed stack=" + stack + " us=" + std::to_string(us));

  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus - 1, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) PowerOff("cannot move to the last CPU");
  Say("triggering panic on CPU " + std::to_string(sched_getcpu()) + " of " + std::to_string(cpus));
  const int fd = open("/proc/sysrq-trigger", O_WRONLY);
  if (fd < 0 || write(fd, "c", 1) != 1) PowerOff("cannot write /proc/sysrq-trigger");
  PowerOff("sysrq-c returned");
}
