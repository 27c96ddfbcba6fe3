// Where everything goes on the Syslinux backend's disk image, and whether it
// fits — on the image and in the memory of the machine that boots it.
//
//   byte 0          MBR: Syslinux's mbr.bin + partition table
//   1 MiB           partition 1: FAT, bootable (Syslinux, kernel, initrds,
//                   bundle, syslinux.cfg)
//   1 MiB + fat     partition 2: the record store (type 0xda)
//
// Partitions start on 1 MiB boundaries, the alignment fdisk and parted use,
// so they stay aligned to any erase block or 4 KiB physical sector.
#ifndef SAVEOOPS_BACKENDS_SYSLINUX_LAYOUT_H_
#define SAVEOOPS_BACKENDS_SYSLINUX_LAYOUT_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace saveoops {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kPartitionAlignment = kMiB;
// mformat picks FAT16 below ~2 GiB and FAT12 for tiny volumes; 16 MiB keeps
// us clear of FAT12 (which needs < 4085 clusters) with any cluster size.
inline constexpr uint64_t kMinFatSize = 16 * kMiB;
// Largest cluster mformat chooses for the sizes this backend writes
// (FAT16 up to 2 GiB: 32 KiB); every file is rounded up to it when
// estimating.
inline constexpr uint64_t kMaxFatCluster = 32 * 1024;
inline constexpr uint64_t kDefaultStoreSize = 16 * kMiB;
// An MBR's partition fields are 32-bit LBAs of 512 bytes: no image (and no
// --fat-size, --store-size or --image-size) beyond 2 TiB.
inline constexpr uint64_t kMaxSyslinuxImageBytes = uint64_t{1} << 41;
// --min-memory's ceiling: 64 TiB, what x86-64's 4-level paging maps.
inline constexpr uint64_t kMaxMinMemory = uint64_t{1} << 46;

// A file destined for the FAT partition.
struct FatFile {
  std::string name;  // on the FAT partition
  uint64_t size = 0;
};

struct ImageLayoutRequest {
  std::vector<FatFile> fat_files;
  uint64_t fat_size = 0;  // 0: just big enough (FatBytesNeeded + margin)
  uint64_t store_size = kDefaultStoreSize;
  uint64_t image_size = 0;  // 0: exactly what the partitions need; else the
                            // store partition grows to fill it
};

// Byte offsets and sizes; every value is a multiple of kPartitionAlignment.
struct ImageLayout {
  uint64_t fat_offset = 0;
  uint64_t fat_size = 0;
  uint64_t fat_needed = 0;  // the estimate fat_size was checked against
  uint64_t store_offset = 0;
  uint64_t store_size = 0;
  uint64_t image_size = 0;
};

// An upper bound for the FAT bytes `files` occupy: each file rounded up to
// kMaxFatCluster, plus both FAT copies (at most 4 bytes per 512-byte
// cluster each, i.e. 1/64 of the data), the root directory and 1 MiB for
// the boot sector, ldlinux.sys and the directory entries.
uint64_t FatBytesNeeded(const std::vector<FatFile>& files);

// Lays the image out. Errors ("no room on the image") say how much is
// needed and which flag to raise: --fat-size below FatBytesNeeded,
// --store-size below the store's minimum, --image-size below the sum.
absl::StatusOr<ImageLayout> PlanImageLayout(const ImageLayoutRequest& request);

// What the machine that boots the image must hold at once. Syslinux loads
// the kernel, the initrds and the bundle into memory below 4 GiB (COM32 is
// a 32-bit environment), the kernel keeps the bundle's setup_data node
// reserved for good, and crashkernel= takes its reservation on top.
struct MemoryBudget {
  uint64_t kernel_init_size = 0;  // first kernel's init_size (boot.rst)
  uint64_t initrd_bytes = 0;      // early.cpio + the distro initrd
  uint64_t bundle_bytes = 0;
  uint64_t crashkernel_bytes = 0;
  uint64_t min_memory = 0;  // --min-memory: the smallest target machine
};

// What a first kernel and its early userspace need besides the above before
// they can get anywhere (the Debian 6.1 kernel boots its initramfs in
// 128 MiB under QEMU; less panics with "out of memory" in the initramfs).
inline constexpr uint64_t kFirstKernelRuntime = 128 * kMiB;

// Setup_data's len field is 32 bits (arch/x86/include/uapi/asm/setup_data.h)
// and Syslinux addresses memory with 32-bit pointers: ~3 GiB is all that is
// ever free below the PCI hole.
inline constexpr uint64_t kSyslinuxLoadLimit = uint64_t{3} << 30;

// Fails with "bundle too large for memory", itemising the sum, if the
// budget exceeds min_memory or Syslinux's 32-bit load limit.
absl::Status CheckMemoryBudget(const MemoryBudget& budget);

// "12.3 MiB" style sizes for messages.
std::string FormatMiB(uint64_t bytes);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_SYSLINUX_LAYOUT_H_
