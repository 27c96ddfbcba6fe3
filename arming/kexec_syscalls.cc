#include "arming/kexec_syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kexec.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"

namespace saveoops {
namespace {

// An anonymous file holding `bytes`, for kexec_file_load's descriptors.
UniqueFd MemfdWith(const char* name, const std::vector<uint8_t>& bytes) {
  UniqueFd fd(static_cast<int>(syscall(SYS_memfd_create, name, MFD_CLOEXEC)));
  if (!fd.valid()) return fd;
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = write(fd.get(), bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return UniqueFd();
    off += static_cast<size_t>(n);
  }
  return fd;
}

}  // namespace

std::string KexecErrnoAdvice(int err) {
  switch (err) {
    case EPERM:
      return geteuid() != 0 ? "EPERM: arming needs root (CAP_SYS_BOOT)"
                            : "EPERM: refused although running as root; the kernel is locked "
                              "down (see /sys/kernel/security/lockdown) or kexec is disabled "
                              "(sysctl kernel.kexec_load_disabled)";
    case EACCES:
      // IMA (security/integrity/ima/ima_main.c, ima_load_data) refuses
      // kexec_load on a Secure Boot machine before lockdown is asked.
      return "EACCES: refused by the kernel's integrity policy (IMA under Secure Boot cannot "
             "appraise a kernel given without a file descriptor; kexec_file_load is needed)";
    case ENOSYS:
      return "ENOSYS: this kernel was built without kexec support (CONFIG_KEXEC)";
    case EBUSY:
      return "EBUSY: a crash kernel is in use or being loaded by someone else";
    case EADDRNOTAVAIL:
    case EINVAL:
      return absl::StrCat(strerrorname_np(err) ? strerrorname_np(err) : "EINVAL",
                          ": the kernel rejected the segment layout (outside the crash "
                          "reservation or overlapping)");
    case ENOMEM:
      return "ENOMEM: the crash reservation is too small for the segments";
    default:
      return absl::StrCat(strerrorname_np(err) ? strerrorname_np(err) : "errno ", ": ",
                          strerror(err));
  }
}

absl::Status KexecLoadOnCrash(uint64_t entry, const std::vector<KexecSegment>& segments) {
  std::vector<kexec_segment> segs;
  segs.reserve(segments.size());
  for (const KexecSegment& s : segments) {
    kexec_segment k{};
    k.buf = s.bytes.data();
    k.bufsz = s.bytes.size();
    k.mem = reinterpret_cast<const void*>(s.mem);
    k.memsz = s.memsz;
    segs.push_back(k);
  }
  const unsigned long flags = KEXEC_ON_CRASH | KEXEC_ARCH_X86_64;
  if (syscall(SYS_kexec_load, entry, segs.size(), segs.data(), flags) != 0) {
    const int err = errno;
    return absl::Status(err == EPERM || err == EACCES ? absl::StatusCode::kPermissionDenied
                                                      : absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("kexec_load(KEXEC_ON_CRASH) failed: ", KexecErrnoAdvice(err)));
  }
  return absl::OkStatus();
}

absl::Status KexecFileLoadOnCrash(const std::vector<uint8_t>& kernel,
                                  const std::vector<uint8_t>& initrd, const std::string& cmdline) {
  const UniqueFd kfd = MemfdWith("saveoops-capture-kernel", kernel);
  const UniqueFd ifd = kfd.valid() ? MemfdWith("saveoops-capture-initrd", initrd) : UniqueFd();
  if (!kfd.valid() || !ifd.valid()) {
    return absl::InternalError(absl::StrCat("memfd_create: ", strerror(errno)));
  }
  // The command line length counts its NUL (kernel/kexec_file.c,
  // kimage_file_prepare_segments()).
  const long rc = syscall(SYS_kexec_file_load, kfd.get(), ifd.get(), cmdline.size() + 1,
                          cmdline.c_str(), static_cast<unsigned long>(KEXEC_FILE_ON_CRASH));
  const int err = errno;
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("kexec_file_load(KEXEC_FILE_ON_CRASH) failed: ", KexecErrnoAdvice(err),
                     err == EKEYREJECTED || err == EPERM
                         ? " (a locked-down kernel only loads signed capture kernels)"
                         : ""));
  }
  return absl::OkStatus();
}

absl::Status UnloadCrashKernel() {
  if (syscall(SYS_kexec_load, 0, 0, nullptr, KEXEC_ON_CRASH | KEXEC_ARCH_X86_64) == 0) {
    return absl::OkStatus();
  }
  const int err = errno;
  if (syscall(SYS_kexec_file_load, -1, -1, 0, nullptr,
              static_cast<unsigned long>(KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH)) == 0) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("unloading the crash kernel failed: ", KexecErrnoAdvice(err)));
}

absl::StatusOr<bool> CrashKernelLoaded(const std::string& root) {
  const std::string path = (root == "/" ? std::string() : root) + "/sys/kernel/kexec_crash_loaded";
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return absl::NotFoundError(absl::StrFormat(
        "cannot open %s: %s (kernel without kexec, or /sys not mounted)", path, strerror(errno)));
  }
  char c = 0;
  if (read(fd.get(), &c, 1) != 1) return absl::InternalError(absl::StrCat("cannot read ", path));
  return c == '1';
}

}  // namespace saveoops
