#include "arming/kexec_syscalls.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

TEST(KexecErrnoAdvice, SaysWhatToDo) {
  EXPECT_TRUE(absl::StartsWith(KexecErrnoAdvice(EPERM), "EPERM: "));
  EXPECT_TRUE(absl::StrContains(KexecErrnoAdvice(EACCES), "kexec_file_load is needed"));
  EXPECT_TRUE(absl::StrContains(KexecErrnoAdvice(ENOSYS), "CONFIG_KEXEC"));
  EXPECT_TRUE(absl::StrContains(KexecErrnoAdvice(ENOMEM), "crash reservation is too small"));
  EXPECT_TRUE(absl::StartsWith(KexecErrnoAdvice(EADDRNOTAVAIL), "EADDRNOTAVAIL: "));
  EXPECT_TRUE(absl::StartsWith(KexecErrnoAdvice(EINVAL), "EINVAL: "));
  EXPECT_TRUE(absl::StartsWith(KexecErrnoAdvice(EIO), "EIO: "));
}

TEST(CrashKernelLoaded, ReadsSysfsUnderTheRoot) {
  const std::string root = absl::StrCat(getenv("TEST_TMPDIR"), "/loaded");
  mkdir(root.c_str(), 0755);
  EXPECT_TRUE(absl::IsNotFound(CrashKernelLoaded(root).status()));
  mkdir((root + "/sys").c_str(), 0755);
  mkdir((root + "/sys/kernel").c_str(), 0755);
  for (const char* value : {"1\n", "0\n"}) {
    std::ofstream(root + "/sys/kernel/kexec_crash_loaded") << value;
    absl::StatusOr<bool> loaded = CrashKernelLoaded(root);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(*loaded, value[0] == '1');
  }
}

}  // namespace
}  // namespace saveoops
