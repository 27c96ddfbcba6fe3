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
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/uefi/boot_config.h"
#include "backends/uefi/firmware_arming.h"

namespace saveoops {
namespace {

// statfs f_type values (include/uapi/linux/magic.h).
constexpr long kProcSuperMagic = 0x9fa0;
constexpr long kSysfsMagic = 0x62656572;
constexpr long kEfivarfsMagic = 0xde5e81e4;

// Log lines go to the kernel log, so they show on the console (per
// loglevel), in dmesg, and in the very record a later panic captures.
class Log {
 public:
  void Open() { kmsg_ = open("/dev/kmsg", O_WRONLY | O_CLOEXEC); }
  void Close() {
    if (kmsg_ >= 0) close(kmsg_);
    kmsg_ = -1;
  }
  // Priority: 3 = err, 5 = notice (include/linux/kern_levels.h).
  void Say(int priority, const std::string& text) {
    const std::string line = absl::StrFormat("<%d>saveoops-uefi-arm: %s\n", priority, text);
    if (kmsg_ >= 0 && write(kmsg_, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
      return;
    }
    // No /dev/kmsg: the console the kernel gave PID 1.
    const std::string plain = line.substr(3);
    if (write(STDERR_FILENO, plain.data(), plain.size()) < 0) {
    }
  }

 private:
  int kmsg_ = -1;
};

bool IsMountedAs(const char* path, long magic) {
  struct statfs st;
  return statfs(path, &st) == 0 && static_cast<long>(st.f_type) == magic;
}

// Mounts `type` on `path` unless something of that type is there already;
// remembers what it mounted so it can be undone before exec.
class Mounts {
 public:
  bool Ensure(Log& log, const char* type, const char* path, long magic) {
    if (IsMountedAs(path, magic)) return true;
    return Mount(log, type, path);
  }
  bool Mount(Log& log, const char* type, const char* path) {
    mkdir(path, 0755);
    if (mount(type, path, type, MS_NOSUID | MS_NOEXEC, nullptr) != 0) {
      log.Say(3, absl::StrFormat("cannot mount %s on %s: %s", type, path, strerror(errno)));
      return false;
    }
    mounted_.push_back(path);
    return true;
  }
  // The distro's init expects to find the tree as the kernel left it.
  void UndoAll(Log& log) {
    for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it) {
      if (umount(it->c_str()) != 0) {
        log.Say(3, absl::StrFormat("cannot unmount %s: %s", *it, strerror(errno)));
      }
    }
    mounted_.clear();
  }

 private:
  std::vector<std::string> mounted_;
};

// finit_module(2) flag: the file is compressed and the kernel decompresses
// it (include/uapi/linux/module.h, Linux >= 5.17).
constexpr int kModuleInitCompressedFile = 4;

bool KernelHasFilesystem(const std::string& name) {
  std::ifstream in("/proc/filesystems");
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.rfind('\t');
    if (line.substr(tab == std::string::npos ? 0 : tab + 1) == name) return true;
  }
  return false;
}

// Loads efivarfs from the module saveoops.efi put next to us, if the
// kernel does not know the file system yet (Debian builds it as a module,
// CONFIG_EFIVAR_FS=m, and a distro initrd need not carry it).
void EnsureEfivarfs(Log& log) {
  if (KernelHasFilesystem("efivarfs")) return;
  const int fd = open(kArmingEfivarfsModulePath, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    log.Say(3, absl::StrFormat("the kernel has no efivarfs and %s is missing: %s",
                               kArmingEfivarfsModulePath, strerror(errno)));
    return;
  }
  // xz, zstd and gzip magics: such a module needs the kernel to decompress it.
  uint8_t magic[4] = {};
  const bool compressed =
      pread(fd, magic, sizeof(magic), 0) == sizeof(magic) &&
      ((magic[0] == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X') ||
       (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) ||
       (magic[0] == 0x1f && magic[1] == 0x8b));
  if (syscall(SYS_finit_module, fd, "", compressed ? kModuleInitCompressedFile : 0) != 0 &&
      errno != EEXIST) {
    log.Say(3, absl::StrFormat("cannot load %s: %s", kArmingEfivarfsModulePath, strerror(errno)));
  } else {
    log.Say(5, absl::StrCat("loaded the efivarfs module ", kArmingEfivarfsModulePath));
  }
  close(fd);
}

void Arm(Log& log, Mounts& mounts) {
  if (!mounts.Ensure(log, "proc", "/proc", kProcSuperMagic) ||
      !mounts.Ensure(log, "sysfs", "/sys", kSysfsMagic)) {
    log.Say(3, "NOT ARMED: /proc and /sys are needed to arm");
    return;
  }
  struct stat st;
  if (stat("/sys/firmware/efi", &st) != 0) {
    log.Say(3,
            "NOT ARMED: /sys/firmware/efi is missing: the kernel did not boot through EFI "
            "(or has no EFI runtime services, e.g. noefi)");
    return;
  }
  EnsureEfivarfs(log);
  mounts.Ensure(log, "efivarfs", kEfivarsDir, kEfivarfsMagic);

  FirmwareArmingOptions options;
  options.bundle_path = kArmingBundlePath;
  options.progress = [&log](const std::string& s) { log.Say(5, s); };
  absl::StatusOr<ArmOutcome> result = ArmFromFirmwareStage(options);
  if (!result.ok()) {
    log.Say(3, absl::StrCat("NOT ARMED: ", result.status().message()));
    return;
  }
  // ArmBundle recorded the layout for `saveoops status` (kArmedStateFile).
  const Range& r = result->plan.plan.reservation;
  log.Say(5, absl::StrFormat("armed: capture kernel %s staged in [%#x, %#x)%s",
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
  Log log;
  Mounts mounts;
  // /dev/kmsg needs devtmpfs; the rootfs itself may be a tmpfs, so look
  // for the node rather than the file system type.
  if (access("/dev/kmsg", W_OK) == 0 || mounts.Mount(log, "devtmpfs", "/dev")) log.Open();
  log.Say(5, "arming the capture kernel verified by saveoops.efi");
  Arm(log, mounts);
  // The bundle's pages go back to the first kernel either way.
  for (const char* path : {kArmingBundlePath, kArmingEfivarfsModulePath}) {
    if (unlink(path) != 0 && errno != ENOENT) {
      log.Say(3, absl::StrFormat("cannot delete %s: %s", path, strerror(errno)));
    }
  }
  log.Close();
  mounts.UndoAll(log);

  // Hand over PID 1. The kernel would have tried these itself
  // (init/main.c, kernel_init(): ramdisk_execute_command, then /sbin/init,
  // /etc/init, /bin/init, /bin/sh).
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  for (const char* init : {"/init", "/sbin/init", "/etc/init", "/bin/init", "/bin/sh"}) {
    args[0] = const_cast<char*>(init);
    execve(init, args.data(), envp);
  }
  log.Open();
  log.Say(3, absl::StrFormat("cannot exec /init or any fallback: %s", strerror(errno)));
  // PID 1 exiting panics the kernel, which is the kernel's own behaviour
  // when no init can be found.
  return 1;
}
