// What `pack --backend=uefi` writes into saveoops.cfg, and the checks on the
// first kernel it makes before writing anything.
#ifndef SAVEOOPS_BACKENDS_UEFI_UEFI_PACK_CONFIG_H_
#define SAVEOOPS_BACKENDS_UEFI_UEFI_PACK_CONFIG_H_

#include <stdint.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/sha256.h"

namespace saveoops {

struct UefiFirstKernel {
  uint64_t crashkernel_bytes = 0;     // planner figure, whole MiB
  std::vector<std::string> consoles;  // console= values
  std::string root;                   // root= value; empty: none
  std::string append;                 // --append, verbatim
};

// "crashkernel=NM console=... root=... APPEND". Fails if --append sets what
// pack and saveoops.efi own (crashkernel=, rdinit=), holds a control
// character, or the command line the kernel will see (with saveoops.efi's
// " rdinit=/saveoops/arm") exceeds `kernel_cmdline_size` (the bzImage's
// cmdline_size, Documentation/arch/x86/boot.rst) or saveoops.cfg's limit.
absl::StatusOr<std::string> FirstKernelCommandLine(const UefiFirstKernel& boot,
                                                   uint32_t kernel_cmdline_size);

// saveoops.cfg for the ESP layout of uefi_image.h, checked by parsing it
// back with the reader saveoops.efi uses (ParseBootConfig).
// `efivarfs_sha256` is set iff the ESP carries the efivarfs module.
absl::StatusOr<std::string> BootConfigText(const std::string& cmdline,
                                           const Sha256Digest& arm_sha256,
                                           const std::optional<Sha256Digest>& efivarfs_sha256);

// OK if `kernel` is a PE32+ x86-64 image, i.e. a bzImage built with
// CONFIG_EFI_STUB: "MZ" at 0, the PE offset at 0x3c pointing at "PE\0\0"
// and machine 0x8664 (PE/COFF specification, "MS-DOS Stub" and "COFF File
// Header"). Reads only inside `kernel`.
absl::Status CheckEfiStub(absl::Span<const uint8_t> kernel);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_UEFI_PACK_CONFIG_H_
