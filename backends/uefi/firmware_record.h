// What saveoops.efi verified, handed to the first kernel's arming program
// through a volatile EFI variable of Saveoops' own vendor GUID:
//
//   name    SaveoopsBundle
//   vendor  kSaveoopsVendorGuidText (below)
//   attrs   BOOTSERVICE_ACCESS | RUNTIME_ACCESS, never NON_VOLATILE
//   data    FirmwareRecord (64 bytes)
//
// Linux shows it as /sys/firmware/efi/efivars/SaveoopsBundle-<guid>: four
// bytes of attributes, then the data (Documentation/filesystems/efivarfs.rst).
//
// Why a volatile variable: it vanishes at every reset, so a record can only
// describe the current boot; and once saveoops.efi has written it, the
// running OS cannot change it: EDK2's variable driver treats an existing
// volatile variable as read-only at runtime (MdeModulePkg/Universal/
// Variable/RuntimeDxe/Variable.c, UpdateVariable(): "If AtRuntime and the
// variable is Volatile and Runtime Access, the volatile is ReadOnly" ->
// EFI_WRITE_PROTECTED). The arming program also refuses a NON_VOLATILE
// variable of this name, which only an OS-side writer could have left.
//
// The bundle digest is the bundle's header SHA-256 (bundle_format.h), which
// covers every part's SHA-256, offset and size. saveoops.efi records
// kVerdictVerified only after every part hashed to its table digest, so the
// arming program, having verified the bundle it was given itself, knows it
// is the one the firmware stage checked by comparing this one digest.
//
// Freestanding: built into saveoops.efi and into the arming program.
#ifndef SAVEOOPS_BACKENDS_UEFI_FIRMWARE_RECORD_H_
#define SAVEOOPS_BACKENDS_UEFI_FIRMWARE_RECORD_H_

#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

namespace saveoops {

// The variable name (UCS-2 in the firmware; ASCII here).
inline constexpr char kFirmwareRecordName[] = "SaveoopsBundle";

// Saveoops' vendor GUID, c6066b3f-623d-4766-8ce3-1cc050533eb3, as
// EFI_GUID fields (Data1..Data4, UEFI 2.10 Appendix A) and as efivarfs
// spells it in file names.
inline constexpr uint32_t kSaveoopsVendorGuidData1 = 0xc6066b3f;
inline constexpr uint16_t kSaveoopsVendorGuidData2 = 0x623d;
inline constexpr uint16_t kSaveoopsVendorGuidData3 = 0x4766;
inline constexpr uint8_t kSaveoopsVendorGuidData4[8] = {0x8c, 0xe3, 0x1c, 0xc0,
                                                        0x50, 0x53, 0x3e, 0xb3};
inline constexpr char kSaveoopsVendorGuidText[] = "c6066b3f-623d-4766-8ce3-1cc050533eb3";

// EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS (UEFI 2.10
// section 8.2, GetVariable()); NON_VOLATILE (0x1) deliberately absent.
inline constexpr uint32_t kFirmwareRecordAttributes = 0x2 | 0x4;

// "SVOOPSFW".
inline constexpr uint8_t kFirmwareRecordMagic[8] = {'S', 'V', 'O', 'O', 'P', 'S', 'F', 'W'};
inline constexpr uint32_t kFirmwareRecordVersion = 1;

// What saveoops.efi concluded about the bundle.
enum class FirmwareVerdict : uint32_t {
  kVerified = 0,           // every part verified; bundle_digest is valid
  kUnreadable = 1,         // the bundle, arming program or module unreadable
  kBundleCorrupt = 2,      // detail: the BundleError (bundle_format.h)
  kArmProgramCorrupt = 3,  // the arming program's SHA-256 did not match
  kNotArmable = 4,         // config has no initrd to chain to
  kModuleCorrupt = 5,      // the efivarfs module's SHA-256 did not match
};

struct __attribute__((packed)) FirmwareRecord {
  uint8_t magic[8];           // kFirmwareRecordMagic
  uint32_t version;           // kFirmwareRecordVersion
  uint32_t verdict;           // FirmwareVerdict
  uint32_t detail;            // BundleError for kBundleCorrupt, else 0
  uint32_t reserved;          // 0
  uint64_t bundle_size;       // bytes of the bundle file; 0 if unreadable
  uint8_t bundle_digest[32];  // header SHA-256; zero unless kVerified
};
static_assert(sizeof(FirmwareRecord) == 64, "FirmwareRecord is 64 bytes");
static_assert(offsetof(FirmwareRecord, magic) == 0, "magic at 0");
static_assert(offsetof(FirmwareRecord, version) == 8, "version at 8");
static_assert(offsetof(FirmwareRecord, verdict) == 12, "verdict at 12");
static_assert(offsetof(FirmwareRecord, detail) == 16, "detail at 16");
static_assert(offsetof(FirmwareRecord, reserved) == 20, "reserved at 20");
static_assert(offsetof(FirmwareRecord, bundle_size) == 24, "bundle_size at 24");
static_assert(offsetof(FirmwareRecord, bundle_digest) == 32, "bundle_digest at 32");

// Fills a record for `verdict`. `digest` may be null (all zero).
void MakeFirmwareRecord(FirmwareVerdict verdict, uint32_t detail, uint64_t bundle_size,
                        const uint8_t* digest, FirmwareRecord* out);

enum class FirmwareRecordError : uint8_t {
  kOk = 0,
  kWrongSize,        // efivarfs file is not 4 + 64 bytes
  kWrongAttributes,  // not exactly BOOTSERVICE|RUNTIME (e.g. NON_VOLATILE)
  kBadMagic,
  kUnsupportedVersion,
  kNonZeroReserved,
  kUnknownVerdict,
};

// Decodes an efivarfs file's bytes (4 attribute bytes, then the record).
// Reads only inside data[0, size).
FirmwareRecordError DecodeFirmwareRecordFile(const uint8_t* data, size_t size, FirmwareRecord* out);

const char* FirmwareRecordErrorName(FirmwareRecordError error);
const char* FirmwareVerdictName(uint32_t verdict);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_FIRMWARE_RECORD_H_
