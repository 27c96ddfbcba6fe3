// saveoops.efi: the UEFI stage of Saveoops, installed as the ESP's boot
// entry (\EFI\BOOT\BOOTX64.EFI). It
//   1. reads saveoops.cfg from its own volume (boot_config.h);
//   2. reads the capture bundle and the arming program and verifies every
//      SHA-256 before anything else is loaded;
//   3. records the verdict and the bundle digest in a volatile EFI variable
//      (firmware_record.h) for the arming program to check;
//   4. boots the first kernel through its EFI stub, serving its initrd via
//      LoadFile2: the distro initrd plus, if the bundle verified, an archive
//      with the bundle and the arming program, started as rdinit= so the
//      capture kernel is staged before the distro's /init runs.
// A bad bundle never stops the boot: it is reported and the kernel boots
// unarmed. Only an unusable config or kernel makes saveoops.efi return to
// the firmware (which then tries its next boot option).
#include "backends/uefi/arming_initrd.h"
#include "backends/uefi/boot_config.h"
#include "backends/uefi/efi_console.h"
#include "backends/uefi/efi_env.h"
#include "backends/uefi/efi_files.h"
#include "backends/uefi/efi_linux.h"
#include "backends/uefi/firmware_record.h"
#include "common/bundle_format.h"
#include "common/cmdline_view.h"
#include "common/sha256.h"

namespace saveoops {
namespace {

// Refuse files that cannot be what they claim before allocating for them.
constexpr uint64_t kMaxKernelSize = 256ull << 20;
constexpr uint64_t kMaxInitrdSize = 2ull << 30;
constexpr uint64_t kMaxBundleSize = 1ull << 30;
constexpr uint64_t kMaxArmProgramSize = 64ull << 20;
constexpr uint64_t kMaxModuleSize = 16ull << 20;

// What step 2 found.
struct VerifiedPayload {
  FileBuffer bundle;
  FileBuffer arm;
  FileBuffer efivarfs;  // empty unless the config names the module
  FirmwareVerdict verdict = FirmwareVerdict::kUnreadable;
  uint32_t detail = 0;
  uint8_t digest[kSha256DigestSize] = {};

  bool armed() const { return verdict == FirmwareVerdict::kVerified; }
};

bool LoadBootConfig(const EfiEnv& efi, Console& console, const BootVolume& volume,
                    BootConfig* config) {
  FileBuffer file;
  if (ReadWholeFile(efi, console, volume, kBootConfigPath, "config", kBootConfigMaxSize, &file) !=
      EFI_SUCCESS) {
    return false;
  }
  int line = 0;
  const char* key = "";
  const BootConfigError e = ParseBootConfig(file.data, file.size, config, &line, &key);
  file.Free(efi);
  if (e != BootConfigError::kOk) {
    const char* quote = key[0] != '\0' ? "'" : "";
    if (line != 0) {
      console.Say("ERROR: ", kBootConfigPath, " line ", Dec{static_cast<uint64_t>(line)}, ": ",
                  quote, key, quote, key[0] != '\0' ? ": " : "", BootConfigErrorName(e));
    } else {
      console.Say("ERROR: ", kBootConfigPath, ": ", quote, key, quote, key[0] != '\0' ? ": " : "",
                  BootConfigErrorName(e));
    }
    return false;
  }
  return true;
}

// Parses the bundle header and hashes every part, naming the first failure.
void VerifyBundle(Console& console, VerifiedPayload* p) {
  BundleView view;
  BundleError e = ParseBundleHeader(p->bundle.data, p->bundle.size, &view);
  if (e != BundleError::kOk) {
    if (view.failed_part >= 0) {
      console.Say("BUNDLE REJECTED: header: part table entry ", Dec{uint64_t(view.failed_part)},
                  ": ", BundleErrorName(e));
    } else {
      console.Say("BUNDLE REJECTED: header: ", BundleErrorName(e));
    }
    p->verdict = FirmwareVerdict::kBundleCorrupt;
    p->detail = static_cast<uint32_t>(e);
    return;
  }
  for (uint32_t i = 0; i < view.part_count; ++i) {
    const BundlePartView& part = view.parts[i];
    console.Say("verifying ", BundlePartTypeName(part.type), " (", Bytes{part.size}, ")");
    e = VerifyBundlePart(view, static_cast<int>(i));
    if (e != BundleError::kOk) {
      console.Say("BUNDLE REJECTED: part ", BundlePartTypeName(part.type), ": ", BundleErrorName(e),
                  "; the bundle says SHA-256 ", Digest32{part.sha256.bytes});
      p->verdict = FirmwareVerdict::kBundleCorrupt;
      p->detail = static_cast<uint32_t>(e);
      return;
    }
  }
  // The header digest ends the header (bundle_format.h) and, now that every
  // part matched the table it covers, stands for the whole bundle.
  const uint8_t* header_digest = p->bundle.data + view.header_size - kSha256DigestSize;
  for (size_t i = 0; i < kSha256DigestSize; ++i) p->digest[i] = header_digest[i];
  p->verdict = FirmwareVerdict::kVerified;
  console.Say("bundle verified: ", Dec{view.part_count}, " parts, digest ", Digest32{p->digest});
}

// SHA-256 of a file against saveoops.cfg's digest, naming both on mismatch.
bool CheckDigest(Console& console, const char* path, const FileBuffer& file,
                 const Sha256Digest& expected) {
  const Sha256Digest d = Sha256Hash(file.data, file.size, Sha256BestEngine());
  if (d == expected) return true;
  console.Say("REJECTED: ", path, " hashes to ", Digest32{d.bytes}, ", saveoops.cfg says ",
              Digest32{expected.bytes});
  return false;
}

// Step 2. Never fails the boot: the verdict says whether to arm.
void VerifyPayload(const EfiEnv& efi, Console& console, const BootVolume& volume,
                   const BootConfig& config, VerifiedPayload* p) {
  if (config.initrd[0] == '\0') {
    console.Say("no initrd configured: the arming program has no /init to hand over to");
    p->verdict = FirmwareVerdict::kNotArmable;
    return;
  }
  if (ReadWholeFile(efi, console, volume, config.bundle, "bundle", kMaxBundleSize, &p->bundle) !=
      EFI_SUCCESS) {
    p->verdict = FirmwareVerdict::kUnreadable;
    return;
  }
  VerifyBundle(console, p);
  if (!p->armed()) return;
  if (ReadWholeFile(efi, console, volume, config.arm, "arming program", kMaxArmProgramSize,
                    &p->arm) != EFI_SUCCESS) {
    p->verdict = FirmwareVerdict::kUnreadable;
    return;
  }
  if (!CheckDigest(console, config.arm, p->arm, config.arm_sha256)) {
    p->verdict = FirmwareVerdict::kArmProgramCorrupt;
    return;
  }
  if (config.efivarfs[0] == '\0') return;
  if (ReadWholeFile(efi, console, volume, config.efivarfs, "efivarfs module", kMaxModuleSize,
                    &p->efivarfs) != EFI_SUCCESS) {
    p->verdict = FirmwareVerdict::kUnreadable;
    return;
  }
  if (!CheckDigest(console, config.efivarfs, p->efivarfs, config.efivarfs_sha256)) {
    p->verdict = FirmwareVerdict::kModuleCorrupt;
  }
}

// Step 3. A failure to record only costs the arming (the arming program
// refuses without a record), so it is reported and the boot goes on.
void RecordVerdict(const EfiEnv& efi, Console& console, VerifiedPayload* p) {
  FirmwareRecord record;
  MakeFirmwareRecord(p->verdict, p->detail, p->bundle.size, p->armed() ? p->digest : nullptr,
                     &record);
  CHAR16 name[sizeof(kFirmwareRecordName)];
  AsciiToUcs2(kFirmwareRecordName, name, sizeof(kFirmwareRecordName));
  EFI_GUID vendor = {
      kSaveoopsVendorGuidData1, kSaveoopsVendorGuidData2, kSaveoopsVendorGuidData3, {}};
  for (int i = 0; i < 8; ++i) vendor.Data4[i] = kSaveoopsVendorGuidData4[i];
  const EFI_STATUS s =
      efi.rt->SetVariable(name, &vendor, kFirmwareRecordAttributes, sizeof(record), &record);
  if (s != EFI_SUCCESS) {
    console.Say("WARNING: cannot record the verdict in EFI variable ", kFirmwareRecordName, "-",
                kSaveoopsVendorGuidText, ": ", Status{s}, "; the kernel will not be armed");
  }
}

// The first kernel's command line: the configured one, plus rdinit= when
// armed. False if it does not fit in buf[0, capacity].
bool BuildCmdline(const BootConfig& config, bool armed, char* buf, size_t capacity) {
  CmdlineBuffer line(buf, capacity);
  return line.Append(config.cmdline) && (!armed || line.AppendParam("rdinit", kArmingRdinitPath));
}

EFI_STATUS Run(const EfiEnv& efi) {
  Console console(efi);
  console.Say("Saveoops UEFI stage");
  // The boot manager arms a 5-minute watchdog before starting us (UEFI 2.10
  // section 3.1.2); hashing a large bundle on slow firmware must not trip
  // it. The kernel's ExitBootServices stops it anyway.
  efi.bs->SetWatchdogTimer(0, 0, 0, nullptr);

  BootVolume volume;
  EFI_STATUS s = OpenBootVolume(efi, console, &volume);
  if (s != EFI_SUCCESS) return s;
  BootConfig config;
  if (!LoadBootConfig(efi, console, volume, &config)) {
    console.Say("cannot boot without a valid config; returning to the firmware");
    return EFI_LOAD_ERROR;
  }

  VerifiedPayload payload;
  VerifyPayload(efi, console, volume, config, &payload);
  RecordVerdict(efi, console, &payload);
  if (!payload.armed()) {
    console.Say("booting the kernel UNARMED (no capture kernel will be staged): ",
                FirmwareVerdictName(static_cast<uint32_t>(payload.verdict)));
    payload.bundle.Free(efi);
    payload.arm.Free(efi);
    payload.efivarfs.Free(efi);
  }

  FileBuffer kernel, distro_initrd;
  s = ReadWholeFile(efi, console, volume, config.kernel, "kernel", kMaxKernelSize, &kernel);
  if (s != EFI_SUCCESS) return s;
  if (config.initrd[0] != '\0') {
    s = ReadWholeFile(efi, console, volume, config.initrd, "initrd", kMaxInitrdSize,
                      &distro_initrd);
    if (s != EFI_SUCCESS) return s;
  }
  const bool armed = payload.armed();
  const ArmingFile files[] = {
      {kArmingRdinitPath + 1, payload.arm.data, payload.arm.size, 0700},
      {kArmingBundlePath + 1, payload.bundle.data, payload.bundle.size, 0600},
      {kArmingEfivarfsModulePath + 1, payload.efivarfs.data, payload.efivarfs.size, 0600},
  };
  const size_t file_count = !armed ? 0 : payload.efivarfs.data != nullptr ? 3 : 2;
  ArmingInitrd initrd;
  if (!BuildArmingInitrd(distro_initrd.data, distro_initrd.size, files, file_count, &initrd)) {
    console.Say("ERROR: initrd, arming program or bundle too large for a newc archive");
    return EFI_BAD_BUFFER_SIZE;
  }
  char cmdline[kBootConfigMaxCmdline + 64];
  if (!BuildCmdline(config, armed, cmdline, sizeof(cmdline) - 1)) {
    console.Say("ERROR: command line too long");
    return EFI_BAD_BUFFER_SIZE;
  }
  if (armed) console.Say("arming: the kernel runs ", kArmingRdinitPath, " before /init");
  return BootLinux(efi, console, volume, config.kernel, kernel, cmdline, initrd);
}

}  // namespace
}  // namespace saveoops

extern "C" EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE* st) {
  return saveoops::Run({image, st, st->BootServices, st->RuntimeServices});
}
