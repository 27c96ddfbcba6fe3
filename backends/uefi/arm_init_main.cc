// saveoops-uefi-arm: the first kernel's rdinit= program under the UEFI
// backend. saveoops.efi appends an archive holding this program
// (/saveoops/arm) and the bundle it verified (/saveoops/saveoops.bundle) to
// the distro initrd and boots the kernel with rdinit=/saveoops/arm. As PID 1
// this program
//   1. mounts what it needs that is not mounted yet (proc, sysfs, efivarfs,
//      devtmpfs for /dev/kmsg), loading the efivarfs module saveoops.efi
//      verified and passed along if the kernel has no efivarfs built in;
//   2. arms: the bundle must verify and match the SaveoopsBundle EFI
//      variable saveoops.efi wrote (firmware_arming.h), then the same code as
//      `saveoops arm` stages the capture kernel;
//   3. deletes the bundle from the initramfs (its pages go back to the
//      kernel; the staged copy lives in the crash reservation), unmounts
//      what it mounted, and execs the distro's /init with the same
//      arguments and environment, as PID 1.
// It never stops the boot: a failure is logged (kernel log, priority err)
// and /init runs anyway, unprotected.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "backends/uefi/boot_config.h"
#include "backends/uefi/firmware_arming.h"
#include "common/files.h"
#include "initramfs/init_util.h"

namespace saveoops {
namespace {

// Log lines go to the kernel log, so they show on the console (per
// loglevel), in dmesg, and in the very record a later panic captures.
using Log = KmsgLog;

// Mounts `fs` unless it is there already; says why it could not.
bool Ensure(Log& log, PseudoMounts& mounts, const PseudoFs& fs) {
  if (const int err = mounts.Mount(fs, MS_NOSUID | MS_NOEXEC); err != 0) {
    log.Say(kLogErr,
            absl::StrFormat("cannot mount %s on %s: %s", fs.type, fs.target, strerror(err)));
    return false;
  }
  return true;
}

bool KernelHasFilesystem(const std::string& name) {
  const StatusOr<std::string> list =
      ReadTextFileBounded("/proc/filesystems", 1 << 20, "/proc/filesystems");
  if (!list.ok()) return false;
  for (absl::string_view line : absl::StrSplit(*list, '\n')) {
    const size_t tab = line.rfind('\t');
    if (line.substr(tab == absl::string_view::npos ? 0 : tab + 1) == name) return true;
  }
  return false;
}

// Loads efivarfs from the module saveoops.efi put next to us, if the
// kernel does not know the file system yet (Debian builds it as a module,
// CONFIG_EFIVAR_FS=m, and a distro initrd need not carry it).
void EnsureEfivarfs(Log& log) {
  if (KernelHasFilesystem("efivarfs")) return;
  if (access(kArmingEfivarfsModulePath, F_OK) != 0) {
    log.Say(kLogErr, absl::StrFormat("the kernel has no efivarfs and %s is missing: %s",
                                     kArmingEfivarfsModulePath, strerror(errno)));
    return;
  }
  const std::string error = LoadModuleFile(kArmingEfivarfsModulePath);
  if (!error.empty()) {
    log.Say(kLogErr, absl::StrCat("cannot load ", error));
  } else {
    log.Say(kLogNotice, absl::StrCat("loaded the efivarfs module ", kArmingEfivarfsModulePath));
  }
}

void Arm(Log& log, PseudoMounts& mounts) {
  if (!Ensure(log, mounts, kProcFs) || !Ensure(log, mounts, kSysFs)) {
    log.Say(kLogErr, "NOT ARMED: /proc and /sys are needed to arm");
    return;
  }
  struct stat st;
  if (stat("/sys/firmware/efi", &st) != 0) {
    log.Say(kLogErr,
            "NOT ARMED: /sys/firmware/efi is missing: the kernel did not boot through EFI "
            "(or has no EFI runtime services, e.g. noefi)");
    return;
  }
  EnsureEfivarfs(log);
  Ensure(log, mounts, {kEfivarFs.source, kEfivarsDir, kEfivarFs.type, kEfivarFs.magic});

  FirmwareArmingOptions options;
  options.bundle_path = kArmingBundlePath;
  options.progress = [&log](const std::string& s) { log.Say(kLogNotice, s); };
  absl::StatusOr<ArmOutcome> result = ArmFromFirmwareStage(options);
  if (!result.ok()) {
    log.Say(kLogErr, absl::StrCat("NOT ARMED: ", result.status().message()));
    return;
  }
  // ArmBundle recorded the layout for `saveoops status` (kArmedStateFile).
  const Range& r = result->plan.plan.reservation;
  log.Say(kLogNotice, absl::StrFormat("armed: capture kernel %s staged in [%#x, %#x)%s",
                                      result->plan.capture_kernel_version, r.start, r.end(),
                                      result->used_file_load ? " with kexec_file_load" : ""));
}

}  // namespace
}  // namespace saveoops

int main(int argc, char** argv, char** envp) {
  using namespace saveoops;
  if (getpid() != 1) {
    std::printf(
        "usage: saveoops-uefi-arm (as the kernel's rdinit=, never by hand)\n"
        "\n"
        "The UEFI backend's early-boot arming program. saveoops.efi puts it at %s in\n"
        "the first kernel's initramfs, next to the bundle it verified (%s), and\n"
        "boots the kernel with rdinit=%s. Running as PID 1 it checks the bundle\n"
        "against the EFI variable %s-%s, stages the capture kernel\n"
        "as `saveoops arm` does, and execs /init. It refuses to run as any other PID.\n",
        kArmingRdinitPath, kArmingBundlePath, kArmingRdinitPath, kFirmwareRecordName,
        kSaveoopsVendorGuidText);
    return argc > 1 && std::string(argv[1]) == "--help" ? 0 : 2;
  }
  Log log("saveoops-uefi-arm: ");
  PseudoMounts mounts;
  // /dev/kmsg needs devtmpfs; the rootfs itself may be a tmpfs, so look
  // for the node rather than the file system type.
  if (access("/dev/kmsg", W_OK) == 0 || Ensure(log, mounts, kDevTmpFs)) log.Open();
  log.Say(kLogNotice, "arming the capture kernel verified by saveoops.efi");
  Arm(log, mounts);
  // The bundle's pages go back to the first kernel either way.
  for (const char* path : {kArmingBundlePath, kArmingEfivarfsModulePath}) {
    if (unlink(path) != 0 && errno != ENOENT) {
      log.Say(kLogErr, absl::StrFormat("cannot delete %s: %s", path, strerror(errno)));
    }
  }
  log.Close();
  mounts.UndoAll(/*detach=*/false, [&log](const char* target, int error) {
    log.Say(kLogErr, absl::StrFormat("cannot unmount %s: %s", target, strerror(error)));
  });

  // Hand over PID 1: /init (the kernel's ramdisk_execute_command), then the
  // kernel's own fallbacks.
  const int error = ExecNextInit("/init", argc, argv, envp);
  log.Open();
  log.Say(kLogErr, absl::StrFormat("cannot exec /init or any fallback: %s", strerror(error)));
  // PID 1 exiting panics the kernel, which is the kernel's own behaviour
  // when no init can be found.
  return 1;
}
