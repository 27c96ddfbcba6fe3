#include "backends/syslinux/layout.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "store/store_format.h"

namespace saveoops {
namespace {

uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

}  // namespace

std::string FormatMiB(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / kMiB);
}

uint64_t FatBytesNeeded(const std::vector<FatFile>& files) {
  uint64_t data = 0;
  for (const FatFile& f : files) data += RoundUp(std::max<uint64_t>(f.size, 1), kMaxFatCluster);
  return data + data / 64 + kMiB;
}

absl::StatusOr<ImageLayout> PlanImageLayout(const ImageLayoutRequest& request) {
  ImageLayout layout;
  layout.fat_needed = FatBytesNeeded(request.fat_files);
  if (request.fat_size == 0) {
    // A sixteenth more than the estimate: room to replace the kernel with a
    // slightly larger one later without re-packing.
    layout.fat_size = std::max(
        kMinFatSize, RoundUp(layout.fat_needed + layout.fat_needed / 16, kPartitionAlignment));
  } else {
    if (request.fat_size % kPartitionAlignment != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--fat-size=", request.fat_size, " bytes is not a multiple of 1 MiB"));
    }
    if (request.fat_size < std::max(kMinFatSize, layout.fat_needed)) {
      uint64_t biggest = 0;
      std::string biggest_name;
      for (const FatFile& f : request.fat_files) {
        if (f.size > biggest) biggest = f.size, biggest_name = f.name;
      }
      return absl::ResourceExhaustedError(
          absl::StrCat("no room on the image: the FAT partition needs at least ",
                       FormatMiB(std::max(kMinFatSize, RoundUp(layout.fat_needed, kMiB))), " for ",
                       request.fat_files.size(), " files (largest: ", biggest_name, ", ",
                       FormatMiB(biggest), "), --fat-size gives ", FormatMiB(request.fat_size),
                       "; raise --fat-size or leave it out to size it automatically"));
    }
    layout.fat_size = request.fat_size;
  }
  layout.fat_offset = kPartitionAlignment;
  layout.store_offset = layout.fat_offset + layout.fat_size;
  const uint64_t min_store =
      RoundUp(std::max(kMinStoreSize, kPartitionAlignment), kPartitionAlignment);
  if (request.image_size == 0) {
    if (request.store_size % kPartitionAlignment != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--store-size=", request.store_size, " bytes is not a multiple of 1 MiB"));
    }
    if (request.store_size < min_store) {
      return absl::InvalidArgumentError(absl::StrCat("--store-size=", FormatMiB(request.store_size),
                                                     " is below the record store's minimum of ",
                                                     FormatMiB(min_store)));
    }
    layout.store_size = request.store_size;
    layout.image_size = layout.store_offset + layout.store_size;
  } else {
    if (request.image_size % kPartitionAlignment != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--image-size=", request.image_size, " bytes is not a multiple of 1 MiB"));
    }
    if (request.image_size < layout.store_offset + min_store) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "no room on the image: it needs at least ", FormatMiB(layout.store_offset + min_store),
          " (1 MiB for the MBR, ", FormatMiB(layout.fat_size), " FAT partition, ",
          FormatMiB(min_store), " store), --image-size gives ", FormatMiB(request.image_size)));
    }
    layout.image_size = request.image_size;
    layout.store_size = layout.image_size - layout.store_offset;
  }
  if (layout.image_size > kMaxSyslinuxImageBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the image would be ", FormatMiB(layout.image_size), "; an MBR addresses at most 2 TiB"));
  }
  return layout;
}

absl::Status CheckMemoryBudget(const MemoryBudget& b) {
  if (b.bundle_bytes > UINT32_MAX) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the bundle (", FormatMiB(b.bundle_bytes),
                     ") is too large for memory: a setup_data node holds at most 4 GiB"));
  }
  const uint64_t loaded = b.kernel_init_size + b.initrd_bytes + b.bundle_bytes;
  if (loaded > kSyslinuxLoadLimit) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the bundle (", FormatMiB(b.bundle_bytes), ") is too large for memory: with the kernel (",
        FormatMiB(b.kernel_init_size), ") and initrds (", FormatMiB(b.initrd_bytes),
        ") Syslinux would have to load ", FormatMiB(loaded), " below 4 GiB; it can use about ",
        FormatMiB(kSyslinuxLoadLimit)));
  }
  const uint64_t total = loaded + b.crashkernel_bytes + kFirstKernelRuntime;
  if (total > b.min_memory) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the bundle (", FormatMiB(b.bundle_bytes), ") is too large for memory: a machine with ",
        FormatMiB(b.min_memory), " (--min-memory) must hold the first kernel (",
        FormatMiB(b.kernel_init_size), "), its initrds (", FormatMiB(b.initrd_bytes),
        "), the bundle, the crashkernel= reservation (", FormatMiB(b.crashkernel_bytes), ") and ",
        FormatMiB(kFirstKernelRuntime), " to run: ", FormatMiB(total),
        " in all; use a smaller capture initramfs (--modules) or raise --min-memory"));
  }
  return absl::OkStatus();
}

}  // namespace saveoops
