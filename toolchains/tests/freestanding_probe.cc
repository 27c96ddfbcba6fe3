// Built by the declared x86_64-freestanding toolchain; toolchain_test reads the
// resulting ELF to prove which compiler and target produced it.
#if __STDC_HOSTED__ != 0
#error "the freestanding toolchain must compile with -ffreestanding"
#endif
#if !defined(__x86_64__) || defined(__linux__) || defined(_WIN32)
#error "the freestanding toolchain must target x86_64 bare metal"
#endif
#if !defined(SAVEOOPS_FREESTANDING)
#error "SAVEOOPS_FREESTANDING must be defined by the toolchain"
#endif

extern "C" {
__attribute__((used)) const char saveoops_toolchain_probe[] =
    "saveoops-toolchain-probe:freestanding:clang " __clang_version__;

[[noreturn]] void _start() {
  for (;;) __asm__ volatile("hlt");
}
}
