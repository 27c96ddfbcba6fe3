// Booting Linux through its EFI stub: the kernel image is loaded with
// LoadImage() and started with StartImage(), its command line given as the
// image's load options (UCS-2), and its initrd served on demand through a
// LoadFile2 protocol on a device path holding LINUX_EFI_INITRD_MEDIA_GUID,
// the interface Linux >= 5.8 asks for before any initrd= option
// (drivers/firmware/efi/libstub/efi-stub-helper.c, efi_load_initrd() and
// efi_load_initrd_dev_path()).
#ifndef SAVEOOPS_BACKENDS_UEFI_EFI_LINUX_H_
#define SAVEOOPS_BACKENDS_UEFI_EFI_LINUX_H_

#include "backends/uefi/arming_initrd.h"
#include "backends/uefi/efi_console.h"
#include "backends/uefi/efi_env.h"
#include "backends/uefi/efi_files.h"

namespace saveoops {

// Loads `kernel` (a bzImage with an EFI stub, already in memory) as an EFI
// image, hands it `cmdline` and `initrd`, and starts it. Returns only if the
// kernel could not be loaded or returned (its EFI stub failed); the
// protocol is uninstalled again then and the error reported.
EFI_STATUS BootLinux(const EfiEnv& efi, Console& console, const BootVolume& volume,
                     const char* kernel_path, const FileBuffer& kernel, const char* cmdline,
                     const ArmingInitrd& initrd);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_EFI_LINUX_H_
