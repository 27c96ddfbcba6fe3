// saveoops.cfg: what saveoops.efi boots, read from the ESP it was loaded
// from (\EFI\saveoops\saveoops.cfg). Written by `pack --backend=uefi`, read
// by saveoops.efi before anything else, so this reader is freestanding (no
// libc, no allocation) and strict: every line is "key=value", known keys
// only, each at most once, so a typo is reported instead of silently
// booting something else.
//
//   # saveoops.efi configuration, written by pack --backend=uefi
//   kernel=\EFI\saveoops\vmlinuz
//   initrd=\EFI\saveoops\initrd.img
//   cmdline=root=/dev/sda2 ro crashkernel=120M
//   bundle=\EFI\saveoops\saveoops.bundle
//   arm=\EFI\saveoops\saveoops-arm
//   arm_sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//   efivarfs=\EFI\saveoops\efivarfs.ko
//   efivarfs_sha256=2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
//
// Keys:
//   kernel      the first kernel (EFI-stub bzImage); required.
//   initrd      its initrd, served through LINUX_EFI_INITRD_MEDIA_GUID;
//               optional, but without it nothing is armed (the arming
//               program runs as rdinit= and must exec the initrd's /init).
//   cmdline     the first kernel's command line; optional. Must not hold
//               rdinit= (saveoops.efi sets it to the arming program).
//   bundle      the capture bundle; required.
//   arm         the arming program (static Linux binary); required.
//   arm_sha256  its SHA-256, checked like the bundle's parts; required.
//   efivarfs    the first kernel's efivarfs module, for kernels that build
//               it as a module (Debian: CONFIG_EFIVAR_FS=m): the arming
//               program loads it to read the firmware record. Optional.
//   efivarfs_sha256  its SHA-256; required with efivarfs.
// Paths are absolute on the ESP; '/' and '\' both separate directories
// (stored as '\', the UEFI file protocol's separator). Lines end in LF or
// CRLF; '#' starts a comment line; blank lines are ignored.
#ifndef SAVEOOPS_BACKENDS_UEFI_BOOT_CONFIG_H_
#define SAVEOOPS_BACKENDS_UEFI_BOOT_CONFIG_H_

#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

namespace saveoops {

// Where saveoops.efi looks for its configuration on its own volume.
inline constexpr char kBootConfigPath[] = "\\EFI\\saveoops\\saveoops.cfg";

// Largest configuration file accepted.
inline constexpr size_t kBootConfigMaxSize = 16 * 1024;
// Longest path value (FAT's limit for a whole path is 260 UTF-16 units).
inline constexpr size_t kBootConfigMaxPath = 255;
// Longest cmdline value. Linux x86 COMMAND_LINE_SIZE is 2048 including the
// NUL (arch/x86/include/asm/setup.h); this leaves room for the
// " rdinit=/saveoops/arm" saveoops.efi appends.
inline constexpr size_t kBootConfigMaxCmdline = 2000;

// The rdinit= program saveoops.efi adds to the first kernel's command line
// when it arms; the arming initramfs puts the program there.
inline constexpr char kArmingRdinitPath[] = "/saveoops/arm";
// Where the arming initramfs puts the verified bundle.
inline constexpr char kArmingBundlePath[] = "/saveoops/saveoops.bundle";
// Where it puts the efivarfs module, if the config names one.
inline constexpr char kArmingEfivarfsModulePath[] = "/saveoops/efivarfs.ko";

struct BootConfig {
  // NUL-terminated; empty if absent.
  char kernel[kBootConfigMaxPath + 1];
  char initrd[kBootConfigMaxPath + 1];
  char bundle[kBootConfigMaxPath + 1];
  char arm[kBootConfigMaxPath + 1];
  char efivarfs[kBootConfigMaxPath + 1];
  char cmdline[kBootConfigMaxCmdline + 1];
  Sha256Digest arm_sha256;
  Sha256Digest efivarfs_sha256;
};

enum class BootConfigError : uint8_t {
  kOk = 0,
  kTooLarge,         // more than kBootConfigMaxSize bytes
  kNotText,          // a byte outside printable ASCII, tab, CR before LF
  kMissingEquals,    // a non-comment line without '='
  kUnknownKey,       // key is none of the above
  kDuplicateKey,     // key appears twice
  kBadPath,          // not absolute, empty, or a character FAT forbids
  kValueTooLong,     // path > kBootConfigMaxPath or cmdline too long
  kBadDigest,        // arm_sha256 is not 64 hex digits
  kRdinitInCmdline,  // cmdline already sets rdinit=
  kMissingKey,       // kernel, bundle, arm or arm_sha256 absent, or only one
                     // of efivarfs / efivarfs_sha256 given
};

// Parses data[0, size). On success fills *out and returns kOk. On failure
// returns the first problem and sets *error_line to its 1-based line number
// (0 for kTooLarge and kMissingKey) and *error_key to the key involved (a
// pointer to a static string, "" if none). Reads only inside data[0, size).
BootConfigError ParseBootConfig(const uint8_t* data, size_t size, BootConfig* out, int* error_line,
                                const char** error_key);

// A short description of `error`; never null.
const char* BootConfigErrorName(BootConfigError error);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_BOOT_CONFIG_H_
