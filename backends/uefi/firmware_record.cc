#include "backends/uefi/firmware_record.h"

namespace saveoops {

void MakeFirmwareRecord(FirmwareVerdict verdict, uint32_t detail, uint64_t bundle_size,
                        const uint8_t* digest, FirmwareRecord* out) {
  for (size_t i = 0; i < sizeof(out->magic); ++i) out->magic[i] = kFirmwareRecordMagic[i];
  out->version = kFirmwareRecordVersion;
  out->verdict = static_cast<uint32_t>(verdict);
  out->detail = detail;
  out->reserved = 0;
  out->bundle_size = bundle_size;
  for (size_t i = 0; i < sizeof(out->bundle_digest); ++i) {
    out->bundle_digest[i] = digest != nullptr ? digest[i] : 0;
  }
}

FirmwareRecordError DecodeFirmwareRecordFile(const uint8_t* data, size_t size,
                                             FirmwareRecord* out) {
  if (size != 4 + sizeof(FirmwareRecord)) return FirmwareRecordError::kWrongSize;
  const uint32_t attributes = static_cast<uint32_t>(data[0]) | static_cast<uint32_t>(data[1]) << 8 |
                              static_cast<uint32_t>(data[2]) << 16 |
                              static_cast<uint32_t>(data[3]) << 24;
  if (attributes != kFirmwareRecordAttributes) return FirmwareRecordError::kWrongAttributes;
  uint8_t* dst = reinterpret_cast<uint8_t*>(out);
  for (size_t i = 0; i < sizeof(FirmwareRecord); ++i) dst[i] = data[4 + i];
  for (size_t i = 0; i < sizeof(out->magic); ++i) {
    if (out->magic[i] != kFirmwareRecordMagic[i]) return FirmwareRecordError::kBadMagic;
  }
  if (out->version != kFirmwareRecordVersion) return FirmwareRecordError::kUnsupportedVersion;
  if (out->reserved != 0) return FirmwareRecordError::kNonZeroReserved;
  if (out->verdict > static_cast<uint32_t>(FirmwareVerdict::kModuleCorrupt)) {
    return FirmwareRecordError::kUnknownVerdict;
  }
  return FirmwareRecordError::kOk;
}

const char* FirmwareRecordErrorName(FirmwareRecordError error) {
  switch (error) {
    case FirmwareRecordError::kOk:
      return "ok";
    case FirmwareRecordError::kWrongSize:
      return "wrong size (expected 4 attribute bytes + 64)";
    case FirmwareRecordError::kWrongAttributes:
      return "attributes are not BOOTSERVICE|RUNTIME (a non-volatile or OS-written variable)";
    case FirmwareRecordError::kBadMagic:
      return "bad magic";
    case FirmwareRecordError::kUnsupportedVersion:
      return "unsupported version";
    case FirmwareRecordError::kNonZeroReserved:
      return "reserved field not zero";
    case FirmwareRecordError::kUnknownVerdict:
      return "unknown verdict";
  }
  return "unknown error";
}

const char* FirmwareVerdictName(uint32_t verdict) {
  switch (static_cast<FirmwareVerdict>(verdict)) {
    case FirmwareVerdict::kVerified:
      return "verified";
    case FirmwareVerdict::kUnreadable:
      return "bundle, arming program or efivarfs module unreadable";
    case FirmwareVerdict::kBundleCorrupt:
      return "bundle corrupt";
    case FirmwareVerdict::kArmProgramCorrupt:
      return "arming program corrupt";
    case FirmwareVerdict::kNotArmable:
      return "not armable (no initrd configured)";
    case FirmwareVerdict::kModuleCorrupt:
      return "efivarfs module corrupt";
  }
  return "unknown verdict";
}

}  // namespace saveoops
