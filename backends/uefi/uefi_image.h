// The UEFI backend's disk image: a GPT disk holding an EFI System Partition
// (FAT32, written with mtools: no loop mounts, nothing needs root) and the
// Saveoops record store.
//
//   0        protective MBR, GPT header and entries (gpt.h)
//   1 MiB    partition 1: ESP, FAT32
//              \EFI\BOOT\BOOTX64.EFI          saveoops.efi
//              \EFI\saveoops\saveoops.cfg     what it boots (boot_config.h)
//              \EFI\saveoops\vmlinuz          first kernel (EFI stub)
//              \EFI\saveoops\initrd.img       its initrd, untouched
//              \EFI\saveoops\saveoops.bundle  the capture bundle
//              \EFI\saveoops\arm              the arming rdinit= program
//              \EFI\saveoops\efivarfs.ko      its efivarfs module, if needed
//   ...      partition 2: the record store (kSaveoopsStoreTypeGuid)
//   end      backup GPT entries and header
//
// Partitions start and end on 1 MiB boundaries (the alignment fdisk and
// parted use), so they stay aligned to any erase block or 4 KiB sector.
#ifndef SAVEOOPS_BACKENDS_UEFI_UEFI_IMAGE_H_
#define SAVEOOPS_BACKENDS_UEFI_UEFI_IMAGE_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/uefi/gpt.h"
#include "store/ring.h"

namespace saveoops {

inline constexpr uint64_t kUefiMiB = uint64_t{1} << 20;
inline constexpr uint64_t kUefiPartitionAlignment = kUefiMiB;
// The ESP always starts here (LBA 2048), so scripts can reach it with
// mtools as IMAGE@@1M.
inline constexpr uint64_t kUefiEspOffset = kUefiMiB;
// FAT32 needs at least 65525 clusters (Microsoft FAT specification, "FAT
// type determination"); with the 512-byte clusters mformat picks for small
// volumes that is 32 MiB. 64 MiB leaves room to spare, and UEFI firmware is
// only required to read FAT32 on fixed disks (UEFI 2.10 section 13.3).
inline constexpr uint64_t kMinEspSize = 64 * kUefiMiB;
// The largest image (and --esp-size, --store-size, --image-size) pack
// writes: 16 TiB, ext4's largest file with 4 KiB blocks; a sparse image
// beyond it is a typo.
inline constexpr uint64_t kMaxUefiImageBytes = uint64_t{1} << 44;
inline constexpr uint64_t kDefaultUefiStoreSize = 16 * kUefiMiB;
// Largest cluster mformat may choose for an ESP of the sizes written here;
// every file is rounded up to it when estimating.
inline constexpr uint64_t kMaxEspCluster = 32 * 1024;

// ESP paths (FAT, '/'-separated for mtools).
inline constexpr char kEspBootLoaderPath[] = "/EFI/BOOT/BOOTX64.EFI";
inline constexpr char kEspConfigPath[] = "/EFI/saveoops/saveoops.cfg";
inline constexpr char kEspKernelPath[] = "/EFI/saveoops/vmlinuz";
inline constexpr char kEspInitrdPath[] = "/EFI/saveoops/initrd.img";
inline constexpr char kEspBundlePath[] = "/EFI/saveoops/saveoops.bundle";
inline constexpr char kEspArmPath[] = "/EFI/saveoops/arm";
inline constexpr char kEspEfivarfsPath[] = "/EFI/saveoops/efivarfs.ko";

// A host file to put on the ESP.
struct EspFile {
  std::string esp_path;  // e.g. kEspKernelPath
  std::string host_path;
};

// Byte offsets and sizes; every value is a multiple of 1 MiB.
struct UefiImageLayout {
  uint64_t esp_offset = 0;
  uint64_t esp_size = 0;
  uint64_t esp_needed = 0;  // the estimate esp_size was checked against
  uint64_t store_offset = 0;
  uint64_t store_size = 0;
  uint64_t image_size = 0;
};

// An upper bound for the FAT bytes `file_sizes` occupy: each file rounded
// up to kMaxEspCluster, plus both FATs (at most 4 bytes per 512-byte
// cluster each: 1/64 of the data), plus 1 MiB for the reserved sectors,
// FSInfo and the directories.
uint64_t EspBytesNeeded(const std::vector<uint64_t>& file_sizes);

// Lays the image out. esp_size 0: max(kMinEspSize, needed + 1/16),
// rounded up to 1 MiB; image_size 0: exactly what the partitions and the
// backup GPT need; a larger image_size grows the store. Errors say how
// much is needed and which flag to raise (--esp-size, --store-size,
// --image-size).
absl::StatusOr<UefiImageLayout> PlanUefiImage(const std::vector<uint64_t>& file_sizes,
                                              uint64_t esp_size, uint64_t store_size,
                                              uint64_t image_size);

struct UefiImageIdentity {
  GptGuid disk_guid{};
  GptGuid esp_guid{};
  GptGuid store_guid{};
  uint32_t volume_serial = 0;  // FAT volume serial number
  // The store's UUID; all zero: a random one. Pack sets it to the (random)
  // UUID the bundle's store map names, which no seed could derive.
  Uuid store_uuid{};
};

// Deterministic identifiers derived from `seed` (e.g. the bundle's digest),
// so packing the same inputs twice gives the same image. GUIDs carry the
// RFC 4122 version-4 and variant bits.
UefiImageIdentity DeriveUefiImageIdentity(const std::string& seed);

// Writes the image to `out` (via out.tmp, renamed when complete): GPT,
// FAT32 ESP with `files`, an empty store (identity.store_uuid, else a random
// UUID as `saveoops store format`). Re-reads the GPT strictly and finds the store with
// FindStoreInImage before renaming. `progress` gets one line per step.
absl::Status WriteUefiImage(const UefiImageLayout& layout, const UefiImageIdentity& identity,
                            const std::vector<EspFile>& files, const std::string& out,
                            const std::function<void(const std::string&)>& progress);

// Where mtools' `name` (mformat, mmd, mcopy) is: $PATH, then /usr/bin.
// NotFound names the Debian package.
absl::StatusOr<std::string> FindMtool(const std::string& name);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_UEFI_IMAGE_H_
