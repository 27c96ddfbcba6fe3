#include "store/file_store.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/partition_table.h"
#include "gtest/gtest.h"
#include "store/ring.h"
#include "store/store_map.h"
#include "store/test_util.h"

namespace saveoops {
namespace {

using store_test::MakeTempDir;

std::string Message(const Status& s) { return std::string(s.message()); }

TEST(FileStoreTest, AcceptsExtAndXfsOnlyAndNamesTheRest) {
  EXPECT_TRUE(CheckStoreFileSystem(0xEF53, "f").ok());
  EXPECT_TRUE(CheckStoreFileSystem(0x58465342, "f").ok());
  const struct {
    uint64_t magic;
    const char* name;
  } refused[] = {{0x9123683E, "btrfs"}, {0x01021994, "tmpfs"}, {0x794c7630, "overlay"},
                 {0x6969, "nfs"},       {0xFF534D42, "cifs"},  {0x65735546, "fuse"}};
  for (const auto& r : refused) {
    Status s = CheckStoreFileSystem(r.magic, "/var/lib/saveoops/store");
    EXPECT_FALSE(s.ok()) << r.name;
    EXPECT_TRUE(absl::StrContains(Message(s), std::string("is on ") + r.name)) << Message(s);
  }
  EXPECT_TRUE(absl::StrContains(Message(CheckStoreFileSystem(0x12345678, "f")), "0x12345678"));
}

TEST(FileStoreTest, FindsDataJournalInMountinfo) {
  const std::string info =
      "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
      "23 1 8:3 / /data rw,relatime - ext4 /dev/sda3 rw,data=journal\n";
  EXPECT_FALSE(MountedWithDataJournal(info, 254, 1));
  EXPECT_TRUE(MountedWithDataJournal(info, 8, 3));
  EXPECT_FALSE(MountedWithDataJournal(info, 8, 4));
  EXPECT_FALSE(MountedWithDataJournal("garbage - -\n\n1 2 8:3", 8, 3));
}

// A fake /sys: /sys/dev/block/MAJ:MIN links to the device's directory.
struct FakeSys {
  std::string root = MakeTempDir();
  void Write(const std::string& rel, const std::string& text) {
    store_test::WriteFile(root + "/" + rel, std::vector<uint8_t>(text.begin(), text.end()));
  }
  void Dir(const std::string& rel) {
    std::string path = root;
    size_t start = 0;
    while (start <= rel.size()) {
      size_t slash = rel.find('/', start);
      path = root + "/" + rel.substr(0, slash);
      mkdir(path.c_str(), 0755);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  void Link(const std::string& devno, const std::string& target_rel) {
    Dir("dev/block");
    ASSERT_EQ(0,
              symlink((root + "/" + target_rel).c_str(), (root + "/dev/block/" + devno).c_str()));
  }
};

TEST(FileStoreTest, ResolvesPartitionsAndWholeDisks) {
  FakeSys sys;
  sys.Dir("devices/pci0/virtio1/block/vda/vda2");
  sys.Write("devices/pci0/virtio1/block/vda/vda2/partition", "2\n");
  sys.Write("devices/pci0/virtio1/block/vda/vda2/start", "34816\n");
  sys.Write("devices/pci0/virtio1/block/vda/vda2/size", "32768\n");
  sys.Write("devices/pci0/virtio1/block/vda/size", "131072\n");
  sys.Dir("block/vda/queue");
  sys.Write("block/vda/queue/logical_block_size", "4096\n");
  sys.Link("254:2", "devices/pci0/virtio1/block/vda/vda2");
  sys.Link("254:0", "devices/pci0/virtio1/block/vda");
  StatusOr<BackingDevice> p = ResolveBackingDevice(254, 2, sys.root);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->disk, "vda");
  EXPECT_EQ(p->partition, "vda2");
  EXPECT_EQ(p->partition_number, 2);
  EXPECT_EQ(p->partition_start, 34816u * 512);
  EXPECT_EQ(p->partition_size, 32768u * 512);
  EXPECT_EQ(p->logical_block_size, 4096u);
  StatusOr<BackingDevice> d = ResolveBackingDevice(254, 0, sys.root);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->disk, "vda");
  EXPECT_EQ(d->partition, "");
  EXPECT_EQ(d->partition_size, 131072u * 512);
  EXPECT_FALSE(ResolveBackingDevice(9, 9, sys.root).ok());
}

TEST(FileStoreTest, RefusesDeviceMapperRaidAndVirtualDevices) {
  FakeSys sys;
  const struct {
    const char* name;
    const char* uuid;
    const char* want;
  } dm[] = {{"dm-0", "CRYPT-LUKS2-abc-root", "dm-crypt (LUKS)"},
            {"dm-1", "LVM-xyz", "LVM logical volume"},
            {"dm-2", "", "device-mapper device"}};
  int minor = 0;
  for (const auto& c : dm) {
    const std::string dir = std::string("devices/virtual/block/") + c.name;
    sys.Dir(dir + "/dm");
    sys.Write(dir + "/dm/uuid", c.uuid);
    sys.Write(dir + "/dm/name", "vg-root");
    sys.Link("253:" + std::to_string(minor), dir);
    StatusOr<BackingDevice> r = ResolveBackingDevice(253, minor++, sys.root);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_TRUE(absl::StrContains(r.status().message(), c.want)) << r.status().message();
    EXPECT_TRUE(absl::StrContains(r.status().message(), "dm-linear included"));
    EXPECT_TRUE(absl::StrContains(r.status().message(), c.name));
  }
  sys.Dir("devices/virtual/block/md0");
  sys.Link("9:0", "devices/virtual/block/md0");
  StatusOr<BackingDevice> md = ResolveBackingDevice(9, 0, sys.root);
  ASSERT_FALSE(md.ok());
  EXPECT_TRUE(absl::StrContains(md.status().message(), "md0, an md RAID device"));
  sys.Dir("devices/virtual/block/loop3");
  sys.Link("7:3", "devices/virtual/block/loop3");
  StatusOr<BackingDevice> loop = ResolveBackingDevice(7, 3, sys.root);
  ASSERT_FALSE(loop.ok());
  EXPECT_TRUE(absl::StrContains(loop.status().message(), "loop3, a loop device"));
  sys.Dir("devices/virtual/block/bcache0/slaves/sdb1");
  sys.Link("252:0", "devices/virtual/block/bcache0");
  StatusOr<BackingDevice> stacked = ResolveBackingDevice(252, 0, sys.root);
  ASSERT_FALSE(stacked.ok());
  EXPECT_TRUE(absl::StrContains(stacked.status().message(), "stacked on other devices"));
}

BackingDevice Partition2() {
  BackingDevice d;
  d.disk = "vda";
  d.partition = "vda2";
  d.partition_number = 2;
  d.partition_start = 1 << 20;
  d.partition_size = 64 << 20;
  d.logical_block_size = 512;
  return d;
}

std::string PlaceError(const std::vector<FileExtent>& e, uint64_t size,
                       const BackingDevice& d = Partition2()) {
  StatusOr<std::vector<StoreExtent>> r = PlaceFileExtents(e, size, d, "store");
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(FileStoreTest, PlacesExtentsOnTheWholeDiskAndMergesNeighbours) {
  // Out of order as given; the middle two are adjacent on the disk.
  const std::vector<FileExtent> e = {
      {1 << 20, 12 << 20, 1 << 20, FIEMAP_EXTENT_MERGED},
      {0, 8 << 20, 1 << 20, 0},
      {2 << 20, 13 << 20, 2 << 20, FIEMAP_EXTENT_LAST},
  };
  StatusOr<std::vector<StoreExtent>> r = PlaceFileExtents(e, 4 << 20, Partition2(), "store");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE((*r)[0] == (StoreExtent{0, (1 << 20) + (8 << 20), 1 << 20}));
  EXPECT_TRUE((*r)[1] == (StoreExtent{1 << 20, (1 << 20) + (12 << 20), 3 << 20}));
}

// Found by a file_store_fuzz campaign (fuzz/seeds/file_store/
// misaligned_partition.bin): a partition at disk byte 4608 on a 4096-byte
// block disk made aligned extents misaligned on the disk.
TEST(FileStoreTest, RefusesAPartitionNotOnALogicalBlock) {
  BackingDevice d = Partition2();
  d.partition_start = 4608;
  d.logical_block_size = 4096;
  const std::vector<FileExtent> e = {{0, 4 << 20, 8 << 20, FIEMAP_EXTENT_LAST}};
  const std::string error = PlaceError(e, 8 << 20, d);
  EXPECT_TRUE(absl::StrContains(error, "vda2 starts at disk byte 4608")) << error;
  EXPECT_TRUE(absl::StrContains(error, "4096-byte logical blocks")) << error;
  d.partition_start = 8192;
  EXPECT_TRUE(PlaceFileExtents(e, 8 << 20, d, "store").ok());
}

TEST(FileStoreTest, RefusesExtentsItCannotTrust) {
  const struct {
    uint32_t flag;
    const char* want;
  } flags[] = {{FIEMAP_EXTENT_UNKNOWN, "no known location"},
               {FIEMAP_EXTENT_DELALLOC, "delayed allocation"},
               {FIEMAP_EXTENT_ENCODED, "encoded"},
               {FIEMAP_EXTENT_DATA_ENCRYPTED, "encrypted"},
               {FIEMAP_EXTENT_NOT_ALIGNED, "not block-aligned"},
               {FIEMAP_EXTENT_DATA_INLINE, "inline"},
               {FIEMAP_EXTENT_DATA_TAIL, "tail packing"},
               {FIEMAP_EXTENT_UNWRITTEN, "unwritten"},
               {FIEMAP_EXTENT_SHARED, "reflink"}};
  for (const auto& f : flags) {
    const std::string why =
        PlaceError({{0, 8 << 20, 1 << 20, 0}, {1 << 20, 9 << 20, 1 << 20, f.flag}}, 2 << 20);
    EXPECT_TRUE(absl::StrContains(why, "extent 1 (file byte 1048576)")) << why;
    EXPECT_TRUE(absl::StrContains(why, f.want)) << why;
  }
  BackingDevice four_k = Partition2();
  four_k.logical_block_size = 4096;
  EXPECT_TRUE(absl::StrContains(PlaceError({{0, (8 << 20) + 512, 1 << 20, 0}}, 1 << 20, four_k),
                                "not aligned to the disk's 4096-byte logical blocks"));
  EXPECT_TRUE(absl::StrContains(PlaceError({{0, 8 << 20, 1000, 0}}, 1000), "not aligned"));
  EXPECT_TRUE(absl::StrContains(
      PlaceError({{0, 8 << 20, 1 << 20, 0}, {2 << 20, 9 << 20, 1 << 20, 0}}, 3 << 20),
      "a hole before it"));
  EXPECT_TRUE(absl::StrContains(
      PlaceError({{0, 8 << 20, 2 << 20, 0}, {1 << 20, 20 << 20, 1 << 20, 0}}, 3 << 20),
      "overlaps the previous extent"));
  EXPECT_TRUE(absl::StrContains(PlaceError({{0, 8 << 20, 1 << 20, 0}}, 2 << 20),
                                "cover file bytes [0, 1048576) of 2097152"));
  EXPECT_TRUE(absl::StrContains(PlaceError({{0, 8 << 20, 2 << 20, 0}}, 1 << 20),
                                "past the end of the 1048576-byte file"));
  EXPECT_TRUE(absl::StrContains(PlaceError({{0, 63 << 20, 2 << 20, 0}}, 2 << 20),
                                "outside the 67108864-byte vda2"));
  EXPECT_TRUE(absl::StrContains(PlaceError({}, 1 << 20), "cover file bytes [0, 0)"));
  EXPECT_TRUE(absl::StrContains(
      PlaceError({{0, 8 << 20, 2 << 20, 0}, {2 << 20, 9 << 20, 1 << 20, 0}}, 3 << 20),
      "are on the same disk blocks"));
  std::vector<FileExtent> many;
  for (uint64_t i = 0; i <= kStoreMapMaxExtents; ++i) many.push_back({i * 4096, i * 8192, 4096, 0});
  EXPECT_TRUE(absl::StrContains(PlaceError(many, many.size() * 4096), "more than 1024 extents"));
}

uint32_t InodeFlags(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  int flags = 0;
  EXPECT_EQ(0, ioctl(fd, FS_IOC_GETFLAGS, &flags));
  close(fd);
  return static_cast<uint32_t>(flags);
}

void ClearImmutable(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
    flags &= ~FS_IMMUTABLE_FL;
    ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  close(fd);
}

// The real thing, on the file system TEST_TMPDIR is on: a file store where
// that is ext4 or xfs, a refusal naming it otherwise.
TEST(FileStoreTest, FormatsARealFileStoreOrRefusesTheFileSystem) {
  const std::string dir = MakeTempDir();
  struct statfs fs;
  ASSERT_EQ(0, statfs(dir.c_str(), &fs));
  FileStoreRequest req;
  req.path = dir + "/store";
  req.size = 1 << 20;
  StatusOr<StoreInfo> info = FormatFileStore(req);
  if (!CheckStoreFileSystem(static_cast<uint64_t>(fs.f_type), dir).ok()) {
    ASSERT_FALSE(info.ok());
    EXPECT_TRUE(absl::StrContains(info.status().message(), "is on")) << info.status().message();
    EXPECT_FALSE(store_test::Exists(req.path));
    return;
  }
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      ClearImmutable(path);
      unlink(path.c_str());
    }
  } cleanup{req.path};
  ASSERT_TRUE(info.ok()) << info.status().message();
  struct stat st;
  ASSERT_EQ(0, stat(req.path.c_str(), &st));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 1u << 20);
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, 1u << 20);  // no holes
  EXPECT_NE(InodeFlags(req.path) & FS_IMMUTABLE_FL, 0u);
  EXPECT_TRUE(LooksLikeFileStore(req.path));
  EXPECT_EQ(info->store_size, 1u << 20);
  // The kernel refuses to write an immutable file.
  EXPECT_LT(open(req.path.c_str(), O_WRONLY), 0);

  // Its real extents cover the file, every one trusted.
  int fd = open(req.path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  StatusOr<std::vector<FileExtent>> raw = ReadFileExtents(fd, req.path);
  close(fd);
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  ASSERT_FALSE(raw->empty());
  uint64_t covered = 0;
  for (const FileExtent& e : *raw) covered += e.length;
  EXPECT_EQ(covered, 1u << 20);
  StatusOr<BackingDevice> device = ResolveBackingDevice(major(st.st_dev), minor(st.st_dev), "/sys");
  ASSERT_TRUE(device.ok()) << device.status().message();
  StatusOr<std::vector<StoreExtent>> placed = PlaceFileExtents(*raw, 1 << 20, *device, req.path);
  ASSERT_TRUE(placed.ok()) << placed.status().message();
  EXPECT_EQ((*placed)[0].disk_offset, device->partition_start + (*raw)[0].physical);

  // The map arming builds: the disk read through the extents shows the
  // store's superblock (MapFileStore checks that itself). The test may not
  // open the host's disk (the device cgroup says no), so a sparse image of
  // the disk's size stands in for it, holding the file's bytes where its
  // extents say they are and nothing else.
  const std::string dev = MakeTempDir();
  const std::string stand_in = dev + "/" + device->disk;
  {
    const uint64_t disk_size = device->partition_start + device->partition_size;
    const std::vector<uint8_t> bytes = store_test::ReadFile(req.path);
    int img = open(stand_in.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(img, 0);
    ASSERT_EQ(0, ftruncate(img, static_cast<off_t>(disk_size)));
    if (!device->partition.empty()) {
      // On a partitioned host: an MBR describing the partition as the kernel
      // sees it (primaries 1-4 only).
      ASSERT_GE(device->partition_number, 1);
      ASSERT_LE(device->partition_number, 4);
      LegacyMbr mbr;
      memset(&mbr, 0, sizeof(mbr));
      MbrPartitionRecord& r = mbr.partition[device->partition_number - 1];
      r.os_type = 0x83;
      r.starting_lba = static_cast<uint32_t>(device->partition_start / 512);
      r.size_in_lba = static_cast<uint32_t>(device->partition_size / 512);
      mbr.signature = kMbrSignature;
      ASSERT_EQ(static_cast<ssize_t>(sizeof(mbr)), pwrite(img, &mbr, sizeof(mbr), 0));
    }
    for (const StoreExtent& e : *placed) {
      ASSERT_EQ(static_cast<ssize_t>(e.length),
                pwrite(img, bytes.data() + e.logical, e.length, static_cast<off_t>(e.disk_offset)));
    }
    close(img);
  }
  StatusOr<StoreMap> map = MapFileStore(req.path, "/sys", dev);
  ASSERT_TRUE(map.ok()) << map.status().message();
  EXPECT_EQ(map->store_uuid, info->uuid);
  ASSERT_TRUE(map->disk.has_value());
  EXPECT_EQ(map->disk->partition, static_cast<uint32_t>(device->partition_number));
  EXPECT_EQ(MappedStoreSize(*map), 1u << 20);
  EXPECT_TRUE(map->extents == *placed);

  // Again: refused without --force; with it, a new UUID, still immutable.
  StatusOr<StoreInfo> again = FormatFileStore(req);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(absl::StrContains(again.status().message(), "already Saveoops store"));
  req.force = true;
  again = FormatFileStore(req);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_NE(again->uuid, info->uuid);
  EXPECT_NE(InodeFlags(req.path) & FS_IMMUTABLE_FL, 0u);
  req.size = 2 << 20;
  EXPECT_TRUE(absl::StrContains(FormatFileStore(req).status().message(), "not the 2097152"));

  // A file that is not a store is never overwritten, forced or not.
  const std::string other = dir + "/other";
  store_test::WriteFile(other, std::vector<uint8_t>(1 << 20, 'x'));
  req.path = other;
  req.size = 1 << 20;
  StatusOr<StoreInfo> refused = FormatFileStore(req);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "not a Saveoops store"));
  EXPECT_EQ(store_test::ReadFile(other), std::vector<uint8_t>(1 << 20, 'x'));
  EXPECT_FALSE(LooksLikeFileStore(other));  // not immutable
  StatusOr<StoreMap> not_immutable = MapFileStore(other);
  ASSERT_FALSE(not_immutable.ok());
  EXPECT_TRUE(absl::StrContains(not_immutable.status().message(), "is not immutable"));

  // A size that is not whole store blocks.
  req.path = dir + "/odd";
  req.size = (1 << 20) + 100;
  EXPECT_FALSE(FormatFileStore(req).ok());
  EXPECT_FALSE(store_test::Exists(req.path));
}

}  // namespace
}  // namespace saveoops
