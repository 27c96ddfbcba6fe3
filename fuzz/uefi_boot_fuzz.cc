// libFuzzer target for what the UEFI backend reads from outside at boot:
// saveoops.cfg (backends/uefi/boot_config.h, parsed by saveoops.efi from the
// ESP), the SaveoopsBundle efivarfs file (firmware_record.h, read by the
// arming program), the first kernel's PE header check (uefi_pack_config.h),
// and the arming initrd builder, whose output must always parse back, file
// for file, with the strict cpio reader (the kernel's view of it).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "backends/uefi/arming_initrd.h"
#include "backends/uefi/boot_config.h"
#include "backends/uefi/firmware_record.h"
#include "backends/uefi/uefi_pack_config.h"
#include "initramfs/cpio.h"

namespace saveoops {
namespace {

void CheckPath(const char* p) {
  if (p[0] == '\0') return;
  if (p[0] != '\\') __builtin_trap();
  for (size_t i = 0; p[i] != '\0'; ++i) {
    if (p[i] == '/' || static_cast<unsigned char>(p[i]) < 0x20) __builtin_trap();
    if (i > kBootConfigMaxPath) __builtin_trap();
  }
}

void FuzzConfig(const uint8_t* data, size_t size) {
  BootConfig config;
  int line = -1;
  const char* key = nullptr;
  const BootConfigError e = ParseBootConfig(data, size, &config, &line, &key);
  if (key == nullptr || BootConfigErrorName(e) == nullptr) __builtin_trap();
  if (e != BootConfigError::kOk) return;
  if (line != 0 || config.kernel[0] == '\0' || config.bundle[0] == '\0' || config.arm[0] == '\0') {
    __builtin_trap();
  }
  for (const char* p : {config.kernel, config.initrd, config.bundle, config.arm, config.efivarfs})
    CheckPath(p);
  if (strlen(config.cmdline) > kBootConfigMaxCmdline) __builtin_trap();
  if (strncmp(config.cmdline, "rdinit=", 7) == 0 || strstr(config.cmdline, " rdinit=") != nullptr) {
    __builtin_trap();
  }
}

void FuzzInitrd(const uint8_t* data, size_t size) {
  // Split the input into a distro part and up to three files.
  if (size < 4) return;
  const size_t count = data[0] % (kMaxArmingFiles + 1);
  size_t cuts[5] = {1, 0, 0, 0, size};
  for (size_t i = 1; i <= 3; ++i) cuts[i] = 1 + (size_t{data[i]} * (size - 1)) / 255;
  for (size_t i = 1; i <= 3; ++i) {
    if (cuts[i] < cuts[i - 1]) cuts[i] = cuts[i - 1];
  }
  static const char* kNames[] = {"saveoops/arm", "saveoops/saveoops.bundle",
                                 "saveoops/efivarfs.ko"};
  ArmingFile files[kMaxArmingFiles];
  for (size_t i = 0; i < count; ++i) {
    files[i] = {kNames[i], data + cuts[i + 1], cuts[i + 2] - cuts[i + 1], 0600};
  }
  ArmingInitrd initrd;
  // The distro part is not a cpio here: only check our archive.
  if (!BuildArmingInitrd(nullptr, 0, files, count, &initrd)) __builtin_trap();
  std::vector<uint8_t> served(initrd.total_size);
  CopyArmingInitrd(
      initrd, served.data(), [](void* d, const void* s, uint64_t n) { memcpy(d, s, n); },
      [](void* d, uint64_t n) { memset(d, 0, n); });
  absl::StatusOr<std::vector<CpioEntry>> entries = ParseCpio(served);
  if (!entries.ok()) __builtin_trap();
  if (entries->size() != (count == 0 ? 0 : count + 1)) __builtin_trap();
  for (size_t i = 0; i < count; ++i) {
    const CpioEntry& e = (*entries)[i + 1];
    if (e.name != kNames[i] || e.data.size() != files[i].size ||
        (files[i].size != 0 && memcmp(e.data.data(), files[i].data, files[i].size) != 0)) {
      __builtin_trap();
    }
  }
}

}  // namespace
}  // namespace saveoops

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  FuzzConfig(data, size);
  FirmwareRecord record;
  const FirmwareRecordError e = DecodeFirmwareRecordFile(data, size, &record);
  if (FirmwareRecordErrorName(e) == nullptr) __builtin_trap();
  if (e == FirmwareRecordError::kOk && FirmwareVerdictName(record.verdict) == nullptr)
    __builtin_trap();
  (void)CheckEfiStub(absl::MakeConstSpan(data, size));
  FuzzInitrd(data, size);
  return 0;
}
