#include "backends/syslinux/boot_config.h"

#include <stdint.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/syslinux/staging.h"
#include "common/cmdline.h"

namespace saveoops {
namespace {

// Arguments pack writes itself; a second copy from --append would either
// undercut the planner's reservation or bypass the arming program (the
// kernel takes the last rdinit=, and the first crashkernel=).
constexpr const char* kOwnedArguments[] = {"crashkernel", "rdinit"};

// One command line word: printable, no blank (a blank would split it, a
// control character would end or corrupt syslinux.cfg's APPEND line).
absl::Status CheckWord(const std::string& value, const std::string& flag) {
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " value '", absl::CEscape(value),
                                                     "' holds a blank or control character"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> FirstKernelArguments(const FirstKernelBoot& boot) {
  for (const std::string& c : boot.consoles) {
    if (c.empty()) return absl::InvalidArgumentError("--console has an empty entry");
    if (absl::Status s = CheckWord(c, "--console"); !s.ok()) return s;
  }
  if (absl::Status s = CheckWord(boot.root, "--root"); !s.ok()) return s;
  for (char c : boot.append) {
    if (c == '\n' || c == '\r' || c == '\0') {
      return absl::InvalidArgumentError(
          "--append holds a line break or NUL; syslinux.cfg's "
          "APPEND is a single line");
    }
  }
  for (const KernelParam& p : KernelParams(boot.append)) {
    for (const char* owned : kOwnedArguments) {
      if (p.value && p.name == owned) {
        return absl::InvalidArgumentError(
            absl::StrCat("--append sets '", std::string(p.text), "', which pack writes itself (",
                         owned, "= the planner's size / the early arming program); remove it"));
      }
    }
  }
  if (boot.crashkernel_bytes == 0 || boot.crashkernel_bytes % (1 << 20) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("crashkernel size ", boot.crashkernel_bytes,
                                                   " is not a positive multiple of 1 MiB"));
  }
  // No capacity here: CheckCommandLineFits() holds the kernel's cmdline_size
  // against the line linux.c32 makes of these arguments.
  Cmdline line(SIZE_MAX);
  absl::Status s = line.Insert("crashkernel", absl::StrCat(boot.crashkernel_bytes >> 20, "M"));
  if (s.ok()) s = line.Insert("rdinit", kEarlyArmPath);
  for (const std::string& c : boot.consoles) {
    if (s.ok()) s = line.Insert("console", c);
  }
  if (s.ok() && !boot.root.empty()) s = line.Insert("root", boot.root);
  if (s.ok()) s = line.InsertWords(boot.append);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("first kernel command line: ", s.message()));
  }
  return line.text();
}

std::string SerialDirective(const std::vector<std::string>& consoles) {
  for (const std::string& c : consoles) {
    absl::string_view v = c;
    if (!absl::ConsumePrefix(&v, "ttyS")) continue;
    const std::vector<absl::string_view> parts = absl::StrSplit(v, absl::MaxSplits(',', 1));
    int port = 0;
    if (!absl::SimpleAtoi(parts[0], &port) || port < 0 || port > 3) continue;
    // "115200n8": the baud rate is the leading digits; Linux's default
    // is 9600 (Documentation/admin-guide/serial-console.rst).
    int baud = 9600;
    if (parts.size() == 2) {
      absl::string_view digits = parts[1];
      size_t n = 0;
      while (n < digits.size() && absl::ascii_isdigit(digits[n])) ++n;
      int b = 0;
      if (n > 0 && absl::SimpleAtoi(digits.substr(0, n), &b) && b > 0) baud = b;
    }
    return absl::StrFormat("SERIAL %d %d", port, baud);
  }
  return "";
}

std::string LinuxC32Arguments(const std::string& arguments) {
  return absl::StrCat(kFatKernelName, " initrd=", kFatEarlyCpioName, ",", kFatInitrdName, " blob.",
                      kBundleSetupDataType, "=", kFatBundleName, " ", arguments);
}

std::string BootedCommandLine(const std::string& arguments) {
  return absl::StrCat("BOOT_IMAGE=", LinuxC32Arguments(arguments));
}

absl::Status CheckCommandLineFits(const std::string& arguments, uint32_t cmdline_size) {
  Cmdline booted(cmdline_size);
  if (absl::Status s = booted.InsertWords(BootedCommandLine(arguments)); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the first kernel's command line: ", s.message(),
                                                   " (the kernel's cmdline_size)",
                                                   ": shorten --append"));
  }
  return absl::OkStatus();
}

std::string UnstagedArguments(const std::string& arguments) {
  return absl::StrCat(kFatKernelName, " initrd=", kFatEarlyCpioName, ",", kFatInitrdName, " ",
                      arguments, " ", kStagingFailedArgument);
}

std::string SyslinuxConfig(const std::string& arguments, const std::vector<std::string>& consoles) {
  std::string cfg =
      "# Generated by `pack --backend=syslinux` (Saveoops). The capture bundle is\n"
      "# handed to the kernel as a setup_data node of type " +
      absl::StrFormat("0x%x", kBundleSetupDataType) +
      " by linux.c32's\n"
      "# blob.<type>= argument; the early arming program (rdinit=) verifies and\n"
      "# arms it, then runs the initrd's /init.\n"
      "# If the entry fails (the bundle cannot be read or does not fit in memory),\n"
      "# Syslinux shows its boot: prompt; after 3 seconds there it boots the same\n"
      "# kernel without the bundle, so the machine still comes up (unprotected).\n";
  const std::string serial = SerialDirective(consoles);
  if (!serial.empty()) absl::StrAppend(&cfg, serial, "\n");
  absl::StrAppend(&cfg,
                  "DEFAULT saveoops\n"
                  // PROMPT 0 boots DEFAULT at once; TIMEOUT (tenths of a
                  // second) only runs once the prompt is shown, i.e. after
                  // DEFAULT failed.
                  "PROMPT 0\n"
                  "TIMEOUT 30\n"
                  "ONTIMEOUT saveoops-unstaged\n"
                  "SAY saveoops: booting with the capture bundle staged as setup_data\n"
                  "LABEL saveoops\n"
                  "  COM32 linux.c32\n"
                  "  APPEND ",
                  LinuxC32Arguments(arguments),
                  "\n"
                  "LABEL saveoops-unstaged\n"
                  "  COM32 linux.c32\n"
                  "  APPEND ",
                  UnstagedArguments(arguments), "\n");
  return cfg;
}

}  // namespace saveoops
