// Built by the declared x86_64-uefi toolchain; toolchain_test reads the PE32+
// image to prove which compiler, subsystem and machine produced it.
#include <efi.h>

#if __STDC_HOSTED__ != 0
#error "the UEFI toolchain must compile with -ffreestanding"
#endif
#if !defined(__x86_64__) || !defined(_WIN32) || !defined(SAVEOOPS_UEFI)
#error "the UEFI toolchain must target x86_64 PE32+ (EFI application)"
#endif

extern "C" {
__attribute__((used)) const char saveoops_toolchain_probe[] =
    "saveoops-toolchain-probe:uefi:clang " __clang_version__;

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE* system_table) {
  (void)image;
  (void)system_table;
  // A volatile read keeps the probe string in the image through /OPT:REF.
  const volatile char* probe = saveoops_toolchain_probe;
  return probe[0] == 's' ? EFI_SUCCESS : EFI_LOAD_ERROR;
}
}
