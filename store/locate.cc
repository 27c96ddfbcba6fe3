#include "store/locate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/byte_source.h"
#include "common/files.h"
#include "common/format.h"
#include "common/partition_table.h"

namespace saveoops {
namespace {

// How errors name a candidate partition.
std::string PartitionName(const Partition& p) {
  return Format("%s partition %d (image byte %u, %u bytes)",
                p.scheme == PartitionScheme::kGpt ? "GPT" : "MBR", p.number, p.offset, p.size);
}

// [offset, offset + size) as text.
std::string RangeText(uint64_t offset, uint64_t size) {
  return Format("[%u, %u)", offset, offset + size);
}

bool Overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

bool Contains(const Partition& p, uint64_t offset, uint64_t size) {
  return offset >= p.offset && offset + size <= p.offset + p.size;
}

// The size of the regular file or block device open as `fd`.
StatusOr<uint64_t> SizeOfFileOrDevice(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return InternalError(Format("store format: cannot stat '%s': %s", path, strerror(errno)));
  }
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) {
      return InternalError(
          Format("store format: ioctl(BLKGETSIZE64) on '%s' failed: %s", path, strerror(errno)));
    }
    return size;
  }
  return InvalidArgumentError(
      Format("store format: '%s' is neither a regular file nor a block device", path));
}

}  // namespace

StatusOr<StoreLocation> ResolveFormatRegion(const FormatRequest& request) {
  const std::string& path = request.path;
  if (path.empty()) return InvalidArgumentError("store format: no --store given");
  if (request.partition < 0) {
    return InvalidArgumentError(
        Format("store format: --partition=%d is not a partition number", request.partition));
  }
  if (request.partition != 0 && (request.offset != 0 || request.size != 0)) {
    return InvalidArgumentError(
        "store format: --partition takes offset and size from the partition table; "
        "give it without --offset and --size");
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    if (request.partition != 0) {
      return NotFoundError(
          Format("store format: '%s' does not exist; --partition=%d needs an image or disk with a "
                 "partition table",
                 path, request.partition));
    }
    if (request.size == 0) {
      return InvalidArgumentError(
          Format("store format: '%s' does not exist; give --size to create it", path));
    }
    return StoreLocation{path, request.offset, request.size};
  }
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return NotFoundError(Format("store format: cannot open '%s': %s", path, strerror(errno)));
  }
  StatusOr<uint64_t> total = SizeOfFileOrDevice(fd.get(), path);
  if (!total.ok()) return total.status();
  const FileByteSource disk(fd.get(), *total);
  StatusOr<std::vector<Partition>> parts = WalkPartitionTable(disk, Format("image '%s'", path));
  if (!parts.ok()) return parts.status();

  StoreLocation region{path, request.offset, request.size};
  std::string what = "store region";
  const Partition* chosen = nullptr;
  if (request.partition != 0) {
    std::vector<std::string> numbers;
    for (const Partition& p : *parts) {
      if (p.number == request.partition) chosen = &p;
      numbers.push_back(Format("%d", p.number));
    }
    if (chosen == nullptr) {
      return NotFoundError(
          Format("store format: '%s' has no partition %d (partitions: %s)", path, request.partition,
                 numbers.empty() ? std::string("none, no MBR or GPT table") : Join(numbers, ", ")));
    }
    region.offset = chosen->offset;
    region.size = chosen->size;
    what = PartitionName(*chosen);
  } else if (region.size == 0 && region.offset < *total) {
    region.size = *total - region.offset;
  }
  uint64_t end = 0;
  if (region.offset >= *total || __builtin_add_overflow(region.offset, region.size, &end) ||
      end > *total) {
    return OutOfRangeError(Format("store format: %s %s of '%s' runs past the end of the %u-byte %s",
                                  what, RangeText(region.offset, region.size), path, *total,
                                  S_ISBLK(st.st_mode) ? "device" : "file"));
  }
  if (parts->empty()) return region;
  // The partition the region lies in (the chosen one, or the first that
  // contains it); every other partition it touches is a collision.
  const Partition* inside = chosen;
  std::vector<std::string> collisions;
  for (const Partition& p : *parts) {
    if (&p == chosen || p.size == 0) continue;
    if (Contains(p, region.offset, region.size) && inside == nullptr) {
      inside = &p;
      continue;
    }
    if (Overlap(region.offset, region.size, p.offset, p.size)) {
      collisions.push_back(Format("%s at %s", PartitionName(p), RangeText(p.offset, p.size)));
    }
  }
  if (!collisions.empty()) {
    return FailedPreconditionError(Format("store format: %s %s of '%s' overlaps %s", what,
                                          RangeText(region.offset, region.size), path,
                                          Join(collisions, " and ")));
  }
  if (inside == nullptr) {
    return FailedPreconditionError(
        Format("store format: %s %s of '%s' lies outside every partition of its %s table (it would "
               "overwrite the table or space no partition holds); use --partition=N",
               what, RangeText(region.offset, region.size), path,
               (*parts)[0].scheme == PartitionScheme::kGpt ? "GPT" : "MBR"));
  }
  return region;
}

StatusOr<StoreLocation> FindStoreInImage(const std::string& path) {
  const StoreLocation whole_location{path, 0, 0};
  StatusOr<OpenedStoreRegion> device = OpenStoreRegionForReading(whole_location);
  if (!device.ok()) return device.status();
  const FileByteSource whole(device->fd.get(), device->size);
  const std::string image_name = Format("image '%s'", path);
  std::vector<std::string> tried;
  StatusOr<StoreInfo> info = ReadStoreInfo(whole, image_name);
  if (info.ok()) return whole_location;
  tried.push_back(std::string(info.status().message()));

  StatusOr<std::vector<Partition>> parts = WalkPartitionTable(whole, image_name);
  if (!parts.ok()) {
    tried.push_back(std::string(parts.status().message()));
  } else if (parts->empty()) {
    tried.push_back("no MBR or GPT partition table");
  } else {
    for (const Partition& p : *parts) {
      const std::string name = PartitionName(p);
      if (p.offset >= whole.size()) {
        tried.push_back(Format("%s: starts past the end of the image", name));
        continue;
      }
      // Clipped to the image: a table may claim more than the disk holds,
      // and the superblock's store_size check then says so.
      const ByteSourceSlice slice(whole, p.offset, p.size);
      info = ReadStoreInfo(slice, name);
      if (info.ok()) return StoreLocation{path, p.offset, slice.size()};
      tried.push_back(std::string(info.status().message()));
    }
  }
  return NotFoundError(
      Format("no Saveoops store found in '%s'; tried: %s", path, Join(tried, "; ")));
}

}  // namespace saveoops
