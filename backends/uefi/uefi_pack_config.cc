#include "backends/uefi/uefi_pack_config.h"

#include <string.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/uefi/boot_config.h"
#include "backends/uefi/firmware_record.h"
#include "backends/uefi/uefi_image.h"
#include "common/cmdline.h"

namespace saveoops {
namespace {

// Arguments pack (crashkernel=, from the planner) and saveoops.efi
// (rdinit=, the arming program) set themselves.
constexpr const char* kOwnedArguments[] = {"crashkernel", "rdinit"};

// ESP path as saveoops.cfg spells it.
std::string Backslashes(const char* path) {
  std::string s = path;
  for (char& c : s) {
    if (c == '/') c = '\\';
  }
  return s;
}

}  // namespace

absl::StatusOr<std::string> FirstKernelCommandLine(const UefiFirstKernel& boot,
                                                   uint32_t kernel_cmdline_size) {
  for (char c : boot.append) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
      return absl::InvalidArgumentError(
          "--append holds a control or non-ASCII character; saveoops.cfg's cmdline is one line of "
          "printable ASCII");
    }
  }
  for (const KernelParam& p : KernelParams(boot.append)) {
    for (const char* owned : kOwnedArguments) {
      if (p.value && p.name == owned) {
        return absl::InvalidArgumentError(
            absl::StrCat("--append sets '", std::string(p.text),
                         "', which pack or saveoops.efi write themselves (", owned,
                         "= the planner's size / the arming program); remove it"));
      }
    }
  }
  if (boot.crashkernel_bytes == 0 || boot.crashkernel_bytes % (1 << 20) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("crashkernel size ", boot.crashkernel_bytes,
                                                   " is not a positive multiple of 1 MiB"));
  }
  // saveoops.cfg's cmdline= holds at most kBootConfigMaxCmdline bytes.
  Cmdline line(kBootConfigMaxCmdline);
  absl::Status s = line.Insert("crashkernel", absl::StrCat(boot.crashkernel_bytes >> 20, "M"));
  for (const std::string& c : boot.consoles) {
    if (s.ok()) s = line.Insert("console", c);
  }
  if (s.ok() && !boot.root.empty()) s = line.Insert("root", boot.root);
  if (s.ok()) s = line.InsertWords(boot.append);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "saveoops.cfg's first kernel command line: ", s.message(), " (saveoops.cfg takes at most ",
        kBootConfigMaxCmdline, "): shorten --append"));
  }
  // What the kernel receives: that and saveoops.efi's rdinit= (efi_main.cc).
  Cmdline booted(kernel_cmdline_size);
  s = booted.InsertWords(line.text());
  if (s.ok()) s = booted.Insert("rdinit", kArmingRdinitPath);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the first kernel's command line with saveoops.efi's rdinit=: ", s.message(),
                     " (the kernel's cmdline_size): shorten --append"));
  }
  return line.text();
}

absl::StatusOr<std::string> BootConfigText(const std::string& cmdline,
                                           const Sha256Digest& arm_sha256,
                                           const std::optional<Sha256Digest>& efivarfs_sha256) {
  auto hex = [](const Sha256Digest& d) {
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(d.bytes), kSha256DigestSize));
  };
  std::string text = absl::StrCat(
      "# saveoops.efi configuration, written by `pack --backend=uefi` (Saveoops).\n"
      "# saveoops.efi verifies the bundle and the arming program, records the\n"
      "# verdict in the EFI variable ",
      kFirmwareRecordName, "-", kSaveoopsVendorGuidText,
      ",\n"
      "# and boots the kernel with the initrd (+ the arming archive) via LoadFile2.\n",
      "kernel=", Backslashes(kEspKernelPath), "\n", "initrd=", Backslashes(kEspInitrdPath), "\n",
      "cmdline=", cmdline, "\n", "bundle=", Backslashes(kEspBundlePath), "\n",
      "arm=", Backslashes(kEspArmPath), "\n", "arm_sha256=", hex(arm_sha256), "\n");
  if (efivarfs_sha256.has_value()) {
    absl::StrAppend(&text, "efivarfs=", Backslashes(kEspEfivarfsPath), "\n",
                    "efivarfs_sha256=", hex(*efivarfs_sha256), "\n");
  }
  BootConfig parsed;
  int line = 0;
  const char* key = "";
  const BootConfigError e = ParseBootConfig(reinterpret_cast<const uint8_t*>(text.data()),
                                            text.size(), &parsed, &line, &key);
  if (e != BootConfigError::kOk) {
    return absl::InvalidArgumentError(absl::StrCat("saveoops.cfg would not parse: line ", line,
                                                   " key '", key, "': ", BootConfigErrorName(e)));
  }
  return text;
}

absl::Status CheckEfiStub(absl::Span<const uint8_t> kernel) {
  if (kernel.size() < 0x40 || kernel[0] != 'M' || kernel[1] != 'Z') {
    return absl::InvalidArgumentError("no \"MZ\" header: not built with CONFIG_EFI_STUB");
  }
  uint32_t pe = 0;
  memcpy(&pe, kernel.data() + 0x3c, sizeof(pe));
  if (pe > kernel.size() || kernel.size() - pe < 6 ||
      memcmp(kernel.data() + pe, "PE\0\0", 4) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the PE header offset %#x at 0x3c does not point at \"PE\\0\\0\": not built with "
        "CONFIG_EFI_STUB",
        pe));
  }
  const uint16_t machine = static_cast<uint16_t>(kernel[pe + 4] | kernel[pe + 5] << 8);
  if (machine != 0x8664) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PE machine %#06x is not x86-64 (0x8664)", machine));
  }
  return absl::OkStatus();
}

}  // namespace saveoops
