#include "store/locate.h"

#include <string>
#include <vector>

#include "common/byte_source.h"
#include "common/format.h"
#include "common/partition_table.h"

namespace saveoops {
namespace {

// How errors name a candidate partition.
std::string PartitionName(const Partition& p) {
  return Format("%s partition %d (image byte %u, %u bytes)",
                p.scheme == PartitionScheme::kGpt ? "GPT" : "MBR", p.number, p.offset, p.size);
}

}  // namespace

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
