// Files on the volume saveoops.efi was loaded from (the ESP), read whole
// into page allocations.
#ifndef SAVEOOPS_BACKENDS_UEFI_EFI_FILES_H_
#define SAVEOOPS_BACKENDS_UEFI_EFI_FILES_H_

#include "backends/uefi/efi_console.h"
#include "backends/uefi/efi_env.h"

namespace saveoops {

// Bytes in an AllocatePages() allocation of EfiLoaderData: the kernel keeps
// treating it as usable RAM after ExitBootServices, so nothing leaks.
struct FileBuffer {
  uint8_t* data = nullptr;
  uint64_t size = 0;
  UINTN pages = 0;

  void Free(const EfiEnv& efi);
};

// The root directory of our own volume and its device path (for the
// kernel image's device path).
struct BootVolume {
  EFI_FILE_PROTOCOL* root = nullptr;
  EFI_HANDLE device = nullptr;
  EFI_DEVICE_PATH* device_path = nullptr;  // may be null
};

// Opens the volume `efi.image` was loaded from.
EFI_STATUS OpenBootVolume(const EfiEnv& efi, Console& console, BootVolume* out);

// Reads the file at ESP path `path` ("\EFI\..."), saying what it reads as
// `what`. Files larger than `max_size` are refused.
EFI_STATUS ReadWholeFile(const EfiEnv& efi, Console& console, const BootVolume& volume,
                         const char* path, const char* what, uint64_t max_size, FileBuffer* out);

// The device path of file `path` on the volume: the volume's own path,
// then a MEDIA_FILEPATH_DP node (UEFI 2.10 section 10.3.5.4). Pool memory;
// null if the volume has no device path or allocation fails.
EFI_DEVICE_PATH* FileDevicePath(const EfiEnv& efi, const BootVolume& volume, const char* path);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_EFI_FILES_H_
