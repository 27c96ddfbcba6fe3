#include "backends/uefi/efi_linux.h"

namespace saveoops {
namespace {

// The vendor media node + end node the EFI stub locates
// (LINUX_EFI_INITRD_MEDIA_GUID; UEFI 2.10 section 10.3.5.3 for the node).
struct __attribute__((packed)) InitrdDevicePath {
  VENDOR_DEVICE_PATH vendor;
  EFI_DEVICE_PATH end;
};
static_assert(sizeof(VENDOR_DEVICE_PATH) == 20, "vendor node is 4 + 16 bytes");
static_assert(sizeof(InitrdDevicePath) == 24, "vendor node + end node");

// Our LoadFile2 instance: the protocol first, so the firmware's `This`
// pointer is also a pointer to the whole object.
struct InitrdLoadFile2 {
  EFI_LOAD_FILE_PROTOCOL protocol;
  const EfiEnv* efi;
  const ArmingInitrd* initrd;
};
static_assert(offsetof(InitrdLoadFile2, protocol) == 0, "protocol must come first");

// EFI_LOAD_FILE2_PROTOCOL.LoadFile() (UEFI 2.10 section 13.2): with no or a
// too small buffer, report the size and EFI_BUFFER_TOO_SMALL; else fill it.
// BootPolicy must be FALSE for LoadFile2.
EFI_STATUS EFIAPI LoadInitrd(EFI_LOAD_FILE_PROTOCOL* self, EFI_DEVICE_PATH* file_path,
                             BOOLEAN boot_policy, UINTN* buffer_size, VOID* buffer) {
  (void)file_path;
  if (self == nullptr || buffer_size == nullptr) return EFI_INVALID_PARAMETER;
  if (boot_policy) return EFI_UNSUPPORTED;
  const auto* lf2 = reinterpret_cast<InitrdLoadFile2*>(self);
  const uint64_t total = lf2->initrd->total_size;
  if (buffer == nullptr || *buffer_size < total) {
    *buffer_size = total;
    return EFI_BUFFER_TOO_SMALL;
  }
  EFI_BOOT_SERVICES* bs = lf2->efi->bs;
  CopyArmingInitrd(
      *lf2->initrd, static_cast<uint8_t*>(buffer),
      [bs](void* dst, const void* src, uint64_t n) { bs->CopyMem(dst, const_cast<void*>(src), n); },
      [bs](void* dst, uint64_t n) { bs->SetMem(dst, n, 0); });
  *buffer_size = total;
  return EFI_SUCCESS;
}

// The command line as UCS-2 load options (the stub converts back,
// drivers/firmware/efi/libstub/efi-stub-helper.c, efi_convert_cmdline()).
CHAR16* MakeLoadOptions(const EfiEnv& efi, const char* cmdline, UINT32* size_bytes) {
  const size_t chars = AsciiLength(cmdline) + 1;
  void* mem = nullptr;
  if (efi.bs->AllocatePool(EfiLoaderData, chars * sizeof(CHAR16), &mem) != EFI_SUCCESS) {
    return nullptr;
  }
  auto* wide = static_cast<CHAR16*>(mem);
  AsciiToUcs2(cmdline, wide, chars);
  *size_bytes = static_cast<UINT32>(chars * sizeof(CHAR16));
  return wide;
}

}  // namespace

EFI_STATUS BootLinux(const EfiEnv& efi, Console& console, const BootVolume& volume,
                     const char* kernel_path, const FileBuffer& kernel, const char* cmdline,
                     const ArmingInitrd& initrd) {
  EFI_DEVICE_PATH* kernel_dp = FileDevicePath(efi, volume, kernel_path);
  EFI_HANDLE kernel_image = nullptr;
  EFI_STATUS s =
      efi.bs->LoadImage(FALSE, efi.image, kernel_dp, kernel.data, kernel.size, &kernel_image);
  if (s != EFI_SUCCESS) {
    // EFI_SECURITY_VIOLATION: Secure Boot rejected an unsigned kernel.
    console.Say("ERROR: the firmware will not load the kernel ", kernel_path, ": ", Status{s},
                s == EFI_SECURITY_VIOLATION ? " (Secure Boot: the kernel is not signed for "
                                              "this machine)"
                                            : "");
    return s;
  }
  void* iface = nullptr;
  s = efi.bs->HandleProtocol(kernel_image, Guid(kLoadedImageProtocolGuid), &iface);
  if (s != EFI_SUCCESS) {
    console.Say("ERROR: the loaded kernel has no LoadedImage protocol: ", Status{s});
    efi.bs->UnloadImage(kernel_image);
    return s;
  }
  auto* loaded = static_cast<EFI_LOADED_IMAGE_PROTOCOL*>(iface);
  UINT32 options_size = 0;
  CHAR16* options = MakeLoadOptions(efi, cmdline, &options_size);
  if (options == nullptr) {
    console.Say("ERROR: no memory for the kernel command line");
    efi.bs->UnloadImage(kernel_image);
    return EFI_OUT_OF_RESOURCES;
  }
  loaded->LoadOptions = options;
  loaded->LoadOptionsSize = options_size;

  // The initrd device: a fresh handle carrying the device path and
  // LoadFile2. Both live on this stack frame, which stays alive while the
  // kernel's stub runs (StartImage does not return before it has called
  // ExitBootServices, after which nobody looks at them).
  InitrdDevicePath dp = {};
  dp.vendor.Header.Type = MEDIA_DEVICE_PATH;
  dp.vendor.Header.SubType = MEDIA_VENDOR_DP;
  dp.vendor.Header.Length[0] = sizeof(VENDOR_DEVICE_PATH);
  dp.vendor.Header.Length[1] = 0;
  dp.vendor.Guid = kLinuxInitrdMediaGuid;
  dp.end.Type = END_DEVICE_PATH_TYPE;
  dp.end.SubType = END_ENTIRE_DEVICE_PATH_SUBTYPE;
  dp.end.Length[0] = sizeof(EFI_DEVICE_PATH);
  dp.end.Length[1] = 0;
  InitrdLoadFile2 lf2 = {{LoadInitrd}, &efi, &initrd};
  EFI_HANDLE initrd_handle = nullptr;
  // No initrd at all (no distro initrd, unarmed): install nothing, so the
  // stub falls back to its own initrd= handling instead of a 0-byte file.
  const bool serve_initrd = initrd.total_size != 0;
  s = EFI_SUCCESS;
  if (serve_initrd) {
    s = efi.bs->InstallProtocolInterface(&initrd_handle, Guid(kDevicePathProtocolGuid),
                                         EFI_NATIVE_INTERFACE, &dp);
    if (s == EFI_SUCCESS) {
      s = efi.bs->InstallProtocolInterface(&initrd_handle, Guid(kLoadFile2ProtocolGuid),
                                           EFI_NATIVE_INTERFACE, &lf2.protocol);
      if (s != EFI_SUCCESS) {
        efi.bs->UninstallProtocolInterface(initrd_handle, Guid(kDevicePathProtocolGuid), &dp);
      }
    }
  }
  if (s != EFI_SUCCESS) {
    // EFI_INVALID_PARAMETER here usually means another loader already
    // installed an initrd device path (only one may exist).
    console.Say("ERROR: cannot install the initrd LoadFile2 protocol: ", Status{s});
    efi.bs->UnloadImage(kernel_image);
    return s;
  }

  console.Say("starting the kernel; initrd ", Bytes{initrd.total_size},
              ", command line: ", cmdline);
  UINTN exit_size = 0;
  CHAR16* exit_data = nullptr;
  s = efi.bs->StartImage(kernel_image, &exit_size, &exit_data);
  // Only reached if the stub gave up before ExitBootServices.
  console.Say("ERROR: the kernel returned to saveoops.efi: ", Status{s});
  if (serve_initrd) {
    efi.bs->UninstallProtocolInterface(initrd_handle, Guid(kLoadFile2ProtocolGuid), &lf2.protocol);
    efi.bs->UninstallProtocolInterface(initrd_handle, Guid(kDevicePathProtocolGuid), &dp);
  }
  return s == EFI_SUCCESS ? EFI_LOAD_ERROR : s;
}

}  // namespace saveoops
