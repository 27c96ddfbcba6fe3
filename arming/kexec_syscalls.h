// The kexec system calls arming makes, and what their errors mean in terms a
// user can act on (not root, lockdown, no reservation, kernel support).
//
//   kexec_load(KEXEC_ON_CRASH)            Saveoops' own segments and purgatory
//   kexec_file_load(KEXEC_FILE_ON_CRASH)  the fallback under lockdown: the
//                                         kernel verifies the capture kernel's
//                                         signature and uses its own purgatory
//   /sys/kernel/kexec_crash_loaded        whether a crash kernel is loaded
//
// The calls are Linux's (kernel/kexec.c, kernel/kexec_file.c); each error
// message starts with the errno name so a log reader can grep for it.
#ifndef SAVEOOPS_ARMING_KEXEC_SYSCALLS_H_
#define SAVEOOPS_ARMING_KEXEC_SYSCALLS_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sha256.h"

namespace saveoops {

// One kexec segment (struct kexec_segment, include/uapi/linux/kexec.h):
// bytes copied to `mem`, the rest of `memsz` zero-filled by the kernel.
struct KexecSegment {
  std::string name;
  std::vector<uint8_t> bytes;
  uint64_t mem = 0;
  uint64_t memsz = 0;
  // SHA-256 of `bytes`, computed once by BuildArmPlan (hashing megabytes
  // again for every printout costs visible time at boot).
  Sha256Digest sha256{};
};

// Why a kexec call failed with `err`, e.g. "EPERM: arming needs root
// (CAP_SYS_BOOT)" or "ENOMEM: the crash reservation is too small for the
// segments".
std::string KexecErrnoAdvice(int err);

// kexec_load(entry, segments, KEXEC_ON_CRASH | KEXEC_ARCH_X86_64).
// PermissionDenied on EPERM (lockdown) or EACCES (IMA's Secure Boot policy,
// which refuses before lockdown is asked), where the caller may fall back to
// kexec_file_load; FailedPrecondition otherwise. The message says why
// (KexecErrnoAdvice).
absl::Status KexecLoadOnCrash(uint64_t entry, const std::vector<KexecSegment>& segments);

// kexec_file_load(KEXEC_FILE_ON_CRASH) of `kernel` and `initrd` (through
// memfds) with `cmdline`: the kernel builds boot_params and the ELF core
// header itself, and its own purgatory runs instead of Saveoops'.
absl::Status KexecFileLoadOnCrash(const std::vector<uint8_t>& kernel,
                                  const std::vector<uint8_t>& initrd, const std::string& cmdline);

// Unloads the crash kernel, whichever call loaded it.
absl::Status UnloadCrashKernel();

// /sys/kernel/kexec_crash_loaded under `root`.
absl::StatusOr<bool> CrashKernelLoaded(const std::string& root = "/");

}  // namespace saveoops

#endif  // SAVEOOPS_ARMING_KEXEC_SYSCALLS_H_
