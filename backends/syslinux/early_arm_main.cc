// saveoops-early-arm: the first userspace program of a kernel booted from a
// Syslinux image packed by `pack --backend=syslinux` (rdinit=/saveoops-early-arm).
//
// As PID 1 it
//   1. mounts /proc, /sys and /dev (if they are not mounted yet),
//   2. in a child process, with a time limit: finds the bundle Syslinux
//      staged as setup_data, verifies every digest, and arms the crash
//      kernel through the same code as `saveoops arm` (early_arm.h),
//   3. unmounts what it mounted and executes the initrd's /init (or
//      saveoops.init=), passing on its arguments and environment.
// It never stops the boot: a damaged or missing bundle, a failed arm, a
// crash or a hang of step 2 is reported on the console and in the kernel log
// (/dev/kmsg), and the boot goes on unprotected. Step 2 runs in a child so
// that not even a crash in it can take PID 1 (and so the machine) down.
//
// Run as any other process it is a diagnostic tool: it does steps 2 on the
// live system (or a --root tree) and prints what it finds; see --help.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/syslinux/early_arm.h"
#include "backends/syslinux/staging.h"
#include "common/cmdline.h"
#include "host/flags.h"
#include "initramfs/init_util.h"

extern char** environ;

namespace saveoops {
namespace {

constexpr char kTag[] = "saveoops-early-arm: ";

// Reports on the console and in the kernel log. Outcomes go to both: the
// console copy is written directly, because a /dev/kmsg record reaches the
// console only when the kernel next flushes it (it was seen arriving after
// the next program's output), and only if its level is below
// console_loglevel. Details (the layout) go to the console only, and not at
// all with `quiet`: /dev/kmsg rate-limits user writes
// (printk_devkmsg=ratelimit: 10 per 5 s).
class Reporter {
 public:
  // quiet: the kernel was booted with `quiet`; details are left out.
  explicit Reporter(bool quiet) : quiet_(quiet) { kmsg_.Open(); }

  void Error(const std::string& s) { Log(kLogErr, s); }
  void Notice(const std::string& s) { Log(kLogNotice, s); }
  void Detail(const std::string& s) {
    if (!quiet_) ConsoleSay(STDERR_FILENO, kTag, s);
  }

 private:
  void Log(int level, const std::string& s) {
    ConsoleSay(STDERR_FILENO, kTag, s);
    kmsg_.Write(level, s);  // the console copy is out already
  }

  bool quiet_ = false;
  KmsgLog kmsg_{kTag};
};

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Steps 2: find, verify, arm. Returns the process exit code: 0 armed,
// 1 not armed (reported).
int FindVerifyArm(const EarlyArmOptions& options, Reporter& r) {
  absl::StatusOr<StagedBundle> staged = ReadStagedBundle("/");
  if (!staged.ok()) {
    if (options.staging_failed) {
      r.Error(absl::StrCat("Syslinux could not stage ", kFatBundleName,
                           " (unreadable on the boot disk, or no memory for it) and booted its "
                           "fallback entry without it; boot continues WITHOUT crash capture"));
    } else {
      r.Error(absl::StrCat(staged.status().message(), "; boot continues WITHOUT crash capture"));
    }
    return 1;
  }
  absl::StatusOr<BundleContents> bundle = VerifyStagedBundle(*staged);
  if (!bundle.ok()) {
    r.Error(absl::StrCat("REFUSING the staged bundle: ", bundle.status().message(),
                         "; boot continues WITHOUT crash capture"));
    return 1;
  }
  r.Detail(
      absl::StrFormat("bundle in setup_data node %d verified (%.1f MiB, every SHA-256 matches)",
                      staged->node, staged->bytes.size() / 1048576.0));
  absl::StatusOr<ArmOutcome> armed =
      ArmStagedBundle(*bundle, "/", /*dry_run=*/false, [&](const std::string& s) { r.Detail(s); });
  if (!armed.ok()) {
    r.Error(absl::StrCat("arming failed: ", armed.status().message(),
                         "; boot continues WITHOUT crash capture"));
    return 1;
  }
  const std::string& version = armed->plan.capture_kernel_version;
  r.Notice(
      absl::StrFormat("armed: capture kernel %s staged in [%#x, %#x) from setup_data node %d%s",
                      version.substr(0, version.find(' ')), armed->plan.plan.reservation.start,
                      armed->plan.plan.reservation.end(), staged->node,
                      armed->used_file_load ? " (kexec_file_load fallback)" : ""));
  return 0;
}

void ArmWithTimeLimit(const EarlyArmOptions& options, Reporter& r) {
  const double start = Now();
  const pid_t child = fork();
  if (child < 0) {
    r.Error(
        absl::StrCat("cannot fork: ", strerror(errno), "; boot continues WITHOUT crash capture"));
    return;
  }
  if (child == 0) _exit(FindVerifyArm(options, r));
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) {
      r.Error(absl::StrCat("lost the arming process: ", strerror(errno)));
      return;
    }
    if (Now() - start > options.timeout_seconds) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      r.Error(absl::StrCat(
          "arming took longer than ", options.timeout_seconds,
          " s (saveoops.arm_timeout=); stopped it; boot continues WITHOUT crash capture"));
      return;
    }
    timespec ts{0, 20 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  if (WIFSIGNALED(status)) {
    r.Error(absl::StrCat("the arming process died of signal ", WTERMSIG(status), " (",
                         strsignal(WTERMSIG(status)), "); boot continues WITHOUT crash capture"));
  } else if (WEXITSTATUS(status) == 0) {
    r.Detail(absl::StrFormat("arming took %.1f s", Now() - start));
  }
}

// Executes the next init; only returns if nothing could be executed.
void HandOver(const std::string& next_init, int argc, char** argv, Reporter& r) {
  ExecInitHooks hooks;
  hooks.missing = [&](const std::string& path, int) {
    if (path == next_init) {
      r.Error(absl::StrCat(path, " is missing or not executable; trying the kernel's fallbacks"));
    }
  };
  hooks.executing = [&](const std::string& path) {
    r.Detail(absl::StrCat("handing over to ", path));
  };
  hooks.failed = [&](const std::string& path, int error) {
    r.Error(absl::StrCat("cannot execute ", path, ": ", strerror(error)));
  };
  ExecNextInit(next_init, argc, argv, environ, hooks);
  r.Error("no init to hand over to (tried /init, /sbin/init, /etc/init, /bin/init, /bin/sh)");
}

int EarlyBoot(int argc, char** argv) {
  // The pseudo filesystems the arming code reads; undone before the
  // initrd's /init runs, so it finds the root as the kernel left it.
  PseudoMounts mounts;
  for (const PseudoFs& fs : {kProcFs, kSysFs, kDevTmpFs}) mounts.Mount(fs, MS_NOSUID | MS_NOEXEC);
  // The kernel found no /dev/console in the initramfs; devtmpfs has one.
  if (fcntl(STDERR_FILENO, F_GETFD) < 0) UseConsole();
  {
    const std::string cmdline = ReadFileOrEmpty("/proc/cmdline");
    Reporter r(CmdlineHas(cmdline, "quiet"));
    const EarlyArmOptions options = ParseEarlyArmOptions(cmdline);
    for (const std::string& w : options.ignored) r.Error(absl::StrCat("ignoring ", w));
    if (options.enabled) {
      ArmWithTimeLimit(options, r);
    } else {
      r.Notice("saveoops.early_arm=0: not arming");
    }
    mounts.UndoAll(/*detach=*/true);
    HandOver(options.next_init, argc, argv, r);
  }
  // PID 1 exiting panics the kernel ("Attempted to kill init!"), which is
  // what the kernel itself does when it finds no init.
  return 1;
}

int ToolMain(int argc, char** argv) {
  CommandLine cl(
      "saveoops-early-arm [--root=DIR] [--bundle=FILE] [--dry-run]",
      absl::StrCat("Arms the Saveoops capture kernel from the bundle Syslinux staged as a\n"
                   "setup_data node (type ",
                   absl::StrFormat("0x%x", kBundleSetupDataType),
                   "),\nafter verifying every digest. The Syslinux backend runs it as the first\n"
                   "userspace program (rdinit=",
                   kEarlyArmPath,
                   "); it then\n"
                   "executes the initrd's /init (saveoops.init=PATH on the kernel command line\n"
                   "names another). Run by hand it checks and (unless --dry-run) arms on the\n"
                   "running system."));
  cl.Flag("root", "/", "read /proc and /sys under this directory");
  cl.Flag("bundle", "", "verify and arm this bundle file instead of the staged one");
  cl.Switch("dry-run", "verify and plan, load nothing");
  absl::StatusOr<bool> parsed = cl.Parse(argc, argv, 1);
  if (!parsed.ok()) {
    std::fprintf(stderr, "saveoops-early-arm: %s\n",
                 std::string(parsed.status().message()).c_str());
    return 2;
  }
  if (!*parsed) {
    std::fputs(cl.Help().c_str(), stdout);
    return 0;
  }
  auto say = [](const std::string& s) { std::printf("%s\n", s.c_str()); };
  absl::StatusOr<BundleContents> bundle;
  if (!cl.Get("bundle").empty()) {
    bundle = ReadBundleFile(cl.Get("bundle"));
  } else {
    absl::StatusOr<StagedBundle> staged = ReadStagedBundle(cl.Get("root"));
    if (!staged.ok()) {
      std::fprintf(stderr, "saveoops-early-arm: %s\n",
                   std::string(staged.status().message()).c_str());
      return 1;
    }
    bundle = VerifyStagedBundle(*staged);
  }
  if (!bundle.ok()) {
    std::fprintf(stderr, "saveoops-early-arm: %s%s\n",
                 bundle.status().code() == absl::StatusCode::kNotFound ? "" : "REFUSING: ",
                 std::string(bundle.status().message()).c_str());
    return 1;
  }
  say(absl::StrFormat(
      "bundle verified: capture kernel %.1f MiB, initramfs %.1f MiB, command line \"%s\"",
      bundle->capture_kernel.size() / 1048576.0, bundle->capture_initramfs.size() / 1048576.0,
      bundle->capture_cmdline));
  absl::StatusOr<ArmOutcome> armed =
      ArmStagedBundle(*bundle, cl.Get("root"), cl.Enabled("dry-run"), say);
  if (!armed.ok()) {
    std::fprintf(stderr, "saveoops-early-arm: %s\n", std::string(armed.status().message()).c_str());
    return 1;
  }
  say(cl.Enabled("dry-run") ? "dry run: nothing loaded" : "armed");
  return 0;
}

}  // namespace
}  // namespace saveoops

int main(int argc, char** argv) {
  if (getpid() == 1) return saveoops::EarlyBoot(argc, argv);
  return saveoops::ToolMain(argc, argv);
}
