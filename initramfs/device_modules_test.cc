#include "initramfs/device_modules.h"

#include <sys/stat.h>
#include <unistd.h>

#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "initramfs/modules.h"
#include "initramfs/test_tempdir.h"

namespace saveoops {

// Found by argument-dependent lookup, so in DeviceDriver's namespace.
bool operator==(const DeviceDriver& a, const DeviceDriver& b) {
  return a.device == b.device && a.driver == b.driver && a.module == b.module;
}

void PrintTo(const DeviceDriver& d, std::ostream* os) {
  *os << "{" << d.device << ", " << d.driver << ", " << d.module << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A fake sysfs under a temporary directory, laid out like the kernel's:
// device nodes under devices/, /sys/class/block links to them, drivers under
// bus/<bus>/drivers/ with a "module" link when sysfs knows their module.
class FakeSysfs {
 public:
  const std::string& root() const { return root_; }

  // A directory under devices/, e.g. "pci0000:00/0000:00:04.0".
  void Device(const std::string& path) { tmp_.Write("sys/devices/" + path + "/uevent", ""); }
  // /sys/class/block/<name> -> devices/<path>.
  void BlockDevice(const std::string& name, const std::string& path) {
    Device(path);
    tmp_.Write("sys/class/block/.keep", "");
    Link(root_ + "/devices/" + path, root_ + "/class/block/" + name);
  }
  // Binds devices/<path> to bus/<bus>/drivers/<driver>, whose module (if
  // not empty) is module/<module>.
  void Bind(const std::string& path, const std::string& bus, const std::string& driver,
            const std::string& module) {
    const std::string drv = "bus/" + bus + "/drivers/" + driver;
    tmp_.Write("sys/" + drv + "/uevent", "");
    if (!module.empty()) {
      tmp_.Write("sys/module/" + module + "/uevent", "");
      Link(root_ + "/module/" + module, root_ + "/" + drv + "/module");
    }
    Link(root_ + "/" + drv, root_ + "/devices/" + path + "/driver");
  }

 private:
  static void Link(const std::string& target, const std::string& link) {
    EXPECT_EQ(symlink(target.c_str(), link.c_str()), 0) << link;
  }

  TempDir tmp_;
  std::string root_ = tmp_.path() + "/sys";
};

constexpr char kVirtioPci[] = "pci0000:00/0000:00:04.0";
constexpr char kVirtioDisk[] = "pci0000:00/0000:00:04.0/virtio1";

TEST(DriversOfBlockDeviceTest, VirtioPartitionWalksUpToThePciDevice) {
  FakeSysfs sys;
  sys.BlockDevice("vda", std::string(kVirtioDisk) + "/block/vda");
  sys.BlockDevice("vda2", std::string(kVirtioDisk) + "/block/vda/vda2");
  sys.Bind(kVirtioDisk, "virtio", "virtio_blk", "virtio_blk");
  sys.Bind(kVirtioPci, "pci", "virtio-pci", "");
  absl::StatusOr<std::vector<DeviceDriver>> chain = DriversOfBlockDevice(sys.root(), "vda2");
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_THAT(*chain, ElementsAre(DeviceDriver{"virtio1", "virtio_blk", "virtio_blk"},
                                  DeviceDriver{"0000:00:04.0", "virtio-pci", ""}));
}

TEST(DriversOfBlockDeviceTest, SataDiskHasTheDiskDriverAndTheController) {
  FakeSysfs sys;
  const std::string scsi = "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";
  sys.BlockDevice("sda", scsi + "/block/sda");
  sys.Bind(scsi, "scsi", "sd", "sd_mod");
  sys.Bind("pci0000:00/0000:00:1f.2", "pci", "ahci", "ahci");
  absl::StatusOr<std::vector<DeviceDriver>> chain = DriversOfBlockDevice(sys.root() + "/", "sda");
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_THAT(*chain, ElementsAre(DeviceDriver{"0:0:0:0", "sd", "sd_mod"},
                                  DeviceDriver{"0000:00:1f.2", "ahci", "ahci"}));
}

TEST(DriversOfBlockDeviceTest, NamesTheMissingDevice) {
  FakeSysfs sys;
  sys.BlockDevice("vda", std::string(kVirtioDisk) + "/block/vda");
  absl::StatusOr<std::vector<DeviceDriver>> chain = DriversOfBlockDevice(sys.root(), "sdz");
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(chain.status().message(), HasSubstr("'sdz'"));
}

TEST(DriversOfBlockDeviceTest, VirtualDeviceHasNoDriver) {
  FakeSysfs sys;
  sys.BlockDevice("dm-0", "virtual/block/dm-0");
  absl::StatusOr<std::vector<DeviceDriver>> chain = DriversOfBlockDevice(sys.root(), "dm-0");
  ASSERT_FALSE(chain.ok());
  EXPECT_THAT(chain.status().message(), HasSubstr("virtual device"));
  EXPECT_THAT(chain.status().message(), HasSubstr("'dm-0'"));
}

TEST(DriversOfBlockDeviceTest, RejectsPathsAsNames) {
  FakeSysfs sys;
  for (const char* name : {"", ".", "..", "../../etc", "block/vda"}) {
    absl::StatusOr<std::vector<DeviceDriver>> chain = DriversOfBlockDevice(sys.root(), name);
    EXPECT_EQ(chain.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

ModuleIndex IndexWith(const std::vector<std::string>& modules) {
  ModuleIndex index;
  for (const std::string& m : modules) {
    index.modules[m] = ModuleDep{"kernel/" + m + ".ko", {}, 1};
  }
  return index;
}

TEST(ModulesForDriversTest, TakesModulesAndDriversTheCaptureKernelLoads) {
  const std::vector<DeviceDriver> chain = {
      {"virtio1", "virtio_blk", "virtio_blk"},
      {"0000:00:04.0", "virtio-pci", ""},
  };
  // virtio-pci is built into the running kernel but a module here.
  EXPECT_THAT(ModulesForDrivers(IndexWith({"virtio_blk", "virtio_pci"}), chain),
              ElementsAre("virtio_blk", "virtio_pci"));
  // Built in here too: nothing to load for it.
  EXPECT_THAT(ModulesForDrivers(IndexWith({"virtio_blk"}), chain), ElementsAre("virtio_blk"));
  EXPECT_THAT(ModulesForDrivers(IndexWith({}), {}), IsEmpty());
}

TEST(ModulesForDriversTest, EachModuleOnce) {
  const std::vector<DeviceDriver> chain = {
      {"0:0:0:0", "sd", "sd_mod"},
      {"host0", "ahci", "ahci"},
      {"0000:00:1f.2", "ahci", "ahci"},
  };
  EXPECT_THAT(ModulesForDrivers(IndexWith({}), chain), ElementsAre("sd_mod", "ahci"));
}

TEST(BlockDeviceNameTest, FollowsLinksToTheKernelName) {
  TempDir tmp;
  const std::string node = tmp.Write("dev/vda2", "");
  tmp.Write("dev/disk/by-label/.keep", "");
  const std::string link = tmp.path() + "/dev/disk/by-label/store";
  ASSERT_EQ(symlink(node.c_str(), link.c_str()), 0);
  EXPECT_EQ(*BlockDeviceName(node), "vda2");
  EXPECT_EQ(*BlockDeviceName(link), "vda2");
  EXPECT_EQ(*BlockDeviceName("nvme0n1p3"), "nvme0n1p3");
  absl::StatusOr<std::string> missing = BlockDeviceName(tmp.path() + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nope"));
}

}  // namespace
}  // namespace saveoops
