// Finding a Saveoops store on a disk: the whole device or image, else a
// partition of it. The capture program runs this on every block device
// until one holds a store; the saveoops CLI runs it on a disk image given
// with --image (e.g. a QEMU disk, from the host).
//
// Partitions are listed by common/partition_table.h's lenient walker: each
// candidate is accepted only if a store superblock at its start verifies
// (its own SHA-256 and copy_index), so neither a damaged table nor another
// file system is ever taken for a store.
//
// Example:
//   StatusOr<StoreLocation> where = FindStoreInImage("disk.img");
//   // {"disk.img", 1048576, 8388608} (GPT entry 2)
//   StatusOr<StoreListing> listing = ListRecords(*where);
#ifndef SAVEOOPS_STORE_LOCATE_H_
#define SAVEOOPS_STORE_LOCATE_H_

#include <string>

#include "common/status.h"
#include "store/ring.h"

namespace saveoops {

// Finds a store in a disk image or device: the whole file if it starts
// with a valid superblock (copy 0 or 1), else the first partition (GPT
// entries in table order; MBR primaries 1-4, then logicals 5..) whose start
// holds a valid superblock. Fails with NotFound listing every candidate
// tried and why it was rejected, e.g.
//   no Saveoops store found in 'disk.img'; tried: image 'disk.img': no valid
//   superblock ...; MBR partition 1 (image byte 1048576, 51200 bytes): ...
StatusOr<StoreLocation> FindStoreInImage(const std::string& path);

// What `saveoops store format` is asked to format.
struct FormatRequest {
  std::string path;
  // A partition of the image or disk at `path`, numbered as Linux numbers
  // them (MBR primaries 1-4, logicals 5.., GPT entry index + 1); 0: use
  // offset and size.
  int partition = 0;
  uint64_t offset = 0;
  uint64_t size = 0;  // 0: to the end of an existing file or device
};

// The region a format of `request` may write, checked so that no write
// lands outside it:
//  - `path` does not exist: a new file store of `size` bytes at `offset`
//    (size required; no partition).
//  - --partition=N: offset and size from the partition table (read with
//    common/partition_table.h WalkPartitionTable); the partition must lie
//    inside the file or device and overlap no other partition.
//  - offset/size on an existing file or device: the region must lie inside
//    it; where there is a partition table, it must lie inside one
//    partition and overlap no other (the table itself, EBRs and unallocated
//    space are never formatted over).
// Each refusal names the region and what it collides with, e.g.
//   store region [17825792, 34603008) of 'disk.img' overlaps MBR partition
//   3 (image byte 34603008, 16777216 bytes) at [34603008, 51380224)
StatusOr<StoreLocation> ResolveFormatRegion(const FormatRequest& request);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_LOCATE_H_
