// What every part of saveoops.efi needs from the firmware: the image handle
// and the system table's services, passed explicitly (no globals), plus the
// GUIDs it uses. Only gnu-efi's headers are used, never its libraries
// (those are ELF objects for gnu-efi's own ELF-to-PE flow), so the GUIDs
// that libefi would define are defined here from the headers' macros.
#ifndef SAVEOOPS_BACKENDS_UEFI_EFI_ENV_H_
#define SAVEOOPS_BACKENDS_UEFI_EFI_ENV_H_

#include <stddef.h>
#include <stdint.h>

// gnu-efi's efibind.h declares its own int8_t (as plain `char` under
// clang's MS extensions) unless it sees a C99 compiler, which clashes with
// <stdint.h> in C++. Claiming C99 for the include makes it use <stdint.h>.
#ifndef __STDC_VERSION__
#define __STDC_VERSION__ 199901L
#define SAVEOOPS_DEFINED_STDC_VERSION
#endif
#include <efi.h>
#ifdef SAVEOOPS_DEFINED_STDC_VERSION
#undef __STDC_VERSION__
#undef SAVEOOPS_DEFINED_STDC_VERSION
#endif

namespace saveoops {

struct EfiEnv {
  EFI_HANDLE image;
  EFI_SYSTEM_TABLE* st;
  EFI_BOOT_SERVICES* bs;
  EFI_RUNTIME_SERVICES* rt;
};

inline constexpr EFI_GUID kLoadedImageProtocolGuid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
inline constexpr EFI_GUID kDevicePathProtocolGuid = EFI_DEVICE_PATH_PROTOCOL_GUID;
inline constexpr EFI_GUID kSimpleFileSystemProtocolGuid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
inline constexpr EFI_GUID kFileInfoGuid = EFI_FILE_INFO_ID;
inline constexpr EFI_GUID kSerialIoProtocolGuid = EFI_SERIAL_IO_PROTOCOL_GUID;
inline constexpr EFI_GUID kGlobalVariableGuid = EFI_GLOBAL_VARIABLE;
// EFI_LOAD_FILE2_PROTOCOL_GUID (UEFI 2.10 section 13.2); the interface is
// the same as EFI_LOAD_FILE_PROTOCOL's.
inline constexpr EFI_GUID kLoadFile2ProtocolGuid = {
    0x4006c0c1, 0xfcb3, 0x403e, {0x99, 0x6d, 0x4a, 0x6c, 0x87, 0x24, 0xe0, 0x6d}};
// LINUX_EFI_INITRD_MEDIA_GUID (include/linux/efi.h): the vendor media
// device path on which the EFI stub of Linux >= 5.8 looks for a LoadFile2
// protocol that produces the initrd
// (drivers/firmware/efi/libstub/efi-stub-helper.c, efi_load_initrd_dev_path).
inline constexpr EFI_GUID kLinuxInitrdMediaGuid = {
    0x5568e427, 0x68fc, 0x4f3d, {0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68}};

// The firmware takes non-const GUID pointers throughout.
inline EFI_GUID* Guid(const EFI_GUID& g) { return const_cast<EFI_GUID*>(&g); }

// Copies ASCII `s` into UCS-2 `out` (cap units, NUL included); returns
// false if it does not fit.
bool AsciiToUcs2(const char* s, CHAR16* out, size_t cap);

size_t AsciiLength(const char* s);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_EFI_ENV_H_
