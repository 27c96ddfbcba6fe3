// The Linux side of the UEFI backend: the first kernel's rdinit= program
// (arm_init_main.cc) arms the capture kernel from the bundle saveoops.efi
// verified, through the same code as `saveoops arm` (arming/arm.h),
// and only if the bundle is the one the firmware stage recorded in the
// SaveoopsBundle EFI variable (firmware_record.h).
#ifndef SAVEOOPS_BACKENDS_UEFI_FIRMWARE_ARMING_H_
#define SAVEOOPS_BACKENDS_UEFI_FIRMWARE_ARMING_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "arming/arm.h"
#include "backends/uefi/firmware_record.h"
#include "common/bundle.h"

namespace saveoops {

// Where efivarfs lives (Documentation/filesystems/efivarfs.rst).
inline constexpr char kEfivarsDir[] = "/sys/firmware/efi/efivars";

// "SaveoopsBundle-c6066b3f-623d-4766-8ce3-1cc050533eb3".
std::string FirmwareRecordFileName();

// Reads and decodes the record under `efivars_dir`. NotFound if there is
// none (the kernel was not booted by saveoops.efi, or efivarfs is not
// mounted); InvalidArgument naming the file and the problem otherwise.
absl::StatusOr<FirmwareRecord> ReadFirmwareRecord(const std::string& efivars_dir);

// OK iff the record says kVerified and `bundle_file` (the whole bundle, as
// read) has the recorded size and header digest. Call it on a bundle that
// ParseBundle() accepted: then the header digest stands for every byte
// that matters. Errors say what differs, with both digests.
absl::Status CheckBundleAgainstRecord(absl::Span<const uint8_t> bundle_file,
                                      const FirmwareRecord& record);

struct FirmwareArmingOptions {
  std::string bundle_path;  // the bundle saveoops.efi put in the initramfs
  std::string efivars_dir = kEfivarsDir;
  std::string root = "/";  // for ReadCrashSystemInfo / FirstKernelConsoleArgs
  ArmOptions arm;          // as for `saveoops arm`
  bool dry_run = false;    // plan, load nothing
  // Receives one line per step (the program sends them to /dev/kmsg).
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

// Reads and verifies the bundle, checks it against the firmware record,
// then arms exactly as `saveoops arm` does: ReadCrashSystemInfo,
// BuildArmPlan (console= copied from the first kernel), kexec_load, and
// kexec_file_load if the kernel refuses kexec_load (lockdown); ArmBundle's
// result as is (it also records the layout for `saveoops status`).
absl::StatusOr<ArmOutcome> ArmFromFirmwareStage(const FirmwareArmingOptions& options);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_FIRMWARE_ARMING_H_
