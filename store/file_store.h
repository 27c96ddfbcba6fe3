// A store that is a file on the machine's own file system (issue 12): for
// a machine whose one disk is already partitioned. `saveoops store format
// --file-store` creates it; `saveoops arm --store=FILE` maps it
// (MapFileStore) into the store map (store/store_map.h) that reaches the
// capture program through the verified initramfs; the capture program
// writes raw disk blocks inside the mapped extents (store/extent_store.h)
// and never runs file-system code. After the reboot list/show/collect read
// the file like any store region, through the file system.
//
// Why the file must be what FormatFileStore() makes of it:
//  - fully written (zeros, then the superblocks): no holes and no
//    unwritten extents, so the file system returns what the capture wrote
//    (an unwritten extent reads as zeros whatever the disk holds);
//  - immutable (FS_IOC_SETFLAGS FS_IMMUTABLE_FL): nothing may rewrite,
//    truncate, move or defragment its blocks (ext4's online defrag and
//    xfs_fsr refuse immutable files), so the extents arming read stay the
//    file's until someone clears the flag;
//  - on ext4 or xfs with its data in place: btrfs (copy-on-write: a write
//    through the file system moves blocks, and data can be compressed or
//    spread across devices), tmpfs/ramfs (no disk), overlay, network and
//    FUSE file systems are refused, and so is ext4 with data=journal (a
//    journal replay could write older data over a record), a file with
//    the journal-data flag, and any extent FIEMAP flags as unknown,
//    delayed, encoded, encrypted, inline, tail-packed, unaligned,
//    unwritten or shared (reflinked: a raw write would change the other
//    file too);
//  - on a plain partition or a whole disk: device-mapper devices (dm-crypt
//    and LUKS, LVM, dm-linear and every other target: Saveoops does not
//    translate through a device-mapper table) and md RAID are refused by
//    name, as are loop, nbd, zram and ram devices, which no capture kernel
//    reaches as a disk.
// Every refusal names the path, the file system or device, and the reason.
#ifndef SAVEOOPS_STORE_FILE_STORE_H_
#define SAVEOOPS_STORE_FILE_STORE_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "store/ring.h"
#include "store/store_map.h"

namespace saveoops {

// statfs(2) f_type values (linux/magic.h).
inline constexpr uint64_t kExtSuperMagic = 0xEF53;  // ext2, ext3, ext4
inline constexpr uint64_t kXfsSuperMagic = 0x58465342;

// OK for ext2/3/4 and xfs; otherwise an error naming the file system
// type (btrfs, tmpfs, overlay, nfs, ... or its hex magic) and why it
// cannot hold a file store.
Status CheckStoreFileSystem(uint64_t f_type, const std::string& path);

// Whether /proc/self/mountinfo text says the file system on device
// `major`:`minor` is mounted with data=journal.
bool MountedWithDataJournal(const std::string& mountinfo, unsigned major, unsigned minor);

// The disk under a file system, as sysfs describes it.
struct BackingDevice {
  std::string disk;                   // the whole disk's name in /sys/block ("vda")
  std::string partition;              // the partition's name ("vda1"); empty: the whole disk
  int partition_number = 0;           // sysfs `partition`; 0 for the whole disk
  uint64_t partition_start = 0;       // bytes (sysfs `start` x 512); 0 for the whole disk
  uint64_t partition_size = 0;        // bytes (sysfs `size` x 512)
  uint64_t logical_block_size = 512;  // the disk's queue/logical_block_size
};

// Resolves block device `major`:`minor` (a file system's st_dev) through
// `sys_root` (/sys; a fake tree in tests): /sys/dev/block/MAJ:MIN names
// the partition or disk. Refuses, naming the device: dm-* (with what
// device-mapper says it is: dm-crypt/LUKS, LVM, or another target), md*
// (RAID), loop*, nbd*, zram*, ram*, and any device stacked on others
// (`slaves` not empty).
StatusOr<BackingDevice> ResolveBackingDevice(unsigned major, unsigned minor,
                                             const std::string& sys_root);

// One extent as FS_IOC_FIEMAP reports it (bytes; physical is relative to
// the file system's device, i.e. the partition).
struct FileExtent {
  uint64_t logical = 0;
  uint64_t physical = 0;
  uint64_t length = 0;
  uint32_t flags = 0;  // FIEMAP_EXTENT_*
};

// The extents of the open file `fd` (FIEMAP_FLAG_SYNC: its data written
// first), at most kStoreMapMaxExtents + 1 of them (more is refused by
// PlaceFileExtents anyway). `name` names the file in errors.
StatusOr<std::vector<FileExtent>> ReadFileExtents(int fd, const std::string& name);

// The store map extents of a file of `file_size` bytes on `device`, from
// its FIEMAP extents: each checked (flags above, every offset and length a
// multiple of the disk's logical block size, inside the partition, which
// must itself start on a logical block), sorted
// and required to cover [0, file_size) exactly, physically adjacent ones
// merged, and translated to WHOLE-disk bytes (+ partition_start). At most
// kStoreMapMaxExtents. Errors name the extent and the rule, e.g.
//   '/var/lib/saveoops/store': extent 3 (file byte 8388608) is unwritten
//   (allocated but never written): the file system would read zeros
StatusOr<std::vector<StoreExtent>> PlaceFileExtents(const std::vector<FileExtent>& extents,
                                                    uint64_t file_size, const BackingDevice& device,
                                                    const std::string& name);

struct FileStoreRequest {
  std::string path;
  uint64_t size = 16 << 20;  // a multiple of 4096, at least kMinStoreSize
  // Format an existing file store again (new UUID): its immutable flag is
  // cleared, the file rewritten in place, and the flag set again.
  bool force = false;
  std::string sys_root = "/sys";
  std::string proc_root = "/proc";
};

// Creates the file store `request.path`: checks the directory's file
// system and device first, then writes a new file (0600, O_EXCL beside
// the path, every byte written, fsync()ed, renamed into place, the
// directory fsync()ed), formats it (random UUID), sets FS_IMMUTABLE_FL and
// fsync()s it, and checks its extents as arming will (a file whose extents
// would be refused is removed again). An existing path is refused unless
// it is a file store and `force` is set. Returns the store's geometry.
StatusOr<StoreInfo> FormatFileStore(const FileStoreRequest& request);

// Clears FS_IMMUTABLE_FL of the file store `path` so that it can be wiped
// (`saveoops store wipe`: its superblocks zeroed through the file, in
// place, after which no armed capture writes to its blocks) and deleted.
Status ReleaseFileStore(const std::string& path);

// Whether `path` is a regular file on ext2/3/4 or xfs with FS_IMMUTABLE_FL:
// what `saveoops arm --store` takes for a file store (anything else is a
// device, a partition or a disk image, as before).
bool LooksLikeFileStore(const std::string& path);

// The store map of the file store at `path` (arm): the file must be a
// regular file (not a symlink) on ext2/3/4 or xfs, immutable, hold a valid
// store; its extents (ReadFileExtents + PlaceFileExtents), the disk's
// identity from its partition table (read from `dev_root`/DISK: GPT disk
// GUID and partition GUID, or MBR signature; partition number, start and
// size, which must agree with sysfs) and serial (ReadDiskSerial). Before
// returning, the store's superblock is read from the disk through the
// extents (what the capture will do) and must carry the file's UUID.
StatusOr<StoreMap> MapFileStore(const std::string& path, const std::string& sys_root = "/sys",
                                const std::string& dev_root = "/dev",
                                const std::string& proc_root = "/proc");

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_FILE_STORE_H_
