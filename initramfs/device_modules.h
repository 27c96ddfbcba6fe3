// Which kernel modules a block device needs, read from sysfs on the machine
// that has the device: the modules the capture initramfs must carry so the
// capture kernel can reach that store disk (and nothing else).
//
// sysfs (Documentation/ABI/testing/sysfs-class-block, sysfs-bus-*): the
// link /sys/class/block/<name> resolves to the device's node in the device
// tree, e.g.
//   /sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda2
// and every ancestor node bound to a driver has a "driver" link to
// /sys/bus/<bus>/drivers/<driver>, which has a "module" link to
// /sys/module/<module> when the driver is a module (or a built-in module
// that sysfs knows by name). Walking the ancestors finds the whole chain:
//   vda2 -> vda -> virtio1 (virtio_blk) -> 0000:00:04.0 (virtio-pci)
//   sda1 -> sda -> 0:0:0:0 (sd -> sd_mod) -> ... -> 0000:00:1f.2 (ahci)
//   nvme0n1p1 -> nvme0n1 -> nvme0 -> 0000:00:03.0 (nvme)
// Their dependencies (virtio_ring, libahci, nvme_core, ...) come from
// modules.dep when the list is resolved (modules.h ResolveModules()).
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<DeviceDriver> chain,
//                    DriversOfBlockDevice("/sys", "vda2"));
//   // chain: {virtio1, virtio_blk, virtio_blk}, {0000:00:04.0, virtio-pci, ""}
//   std::vector<std::string> wanted = ModulesForDrivers(index, chain);
//   // wanted: virtio_blk, virtio_pci
#ifndef SAVEOOPS_INITRAMFS_DEVICE_MODULES_H_
#define SAVEOOPS_INITRAMFS_DEVICE_MODULES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "initramfs/modules.h"

namespace saveoops {

// One device on the path from a block device to the root of the device
// tree that is bound to a driver.
struct DeviceDriver {
  // The device's sysfs directory name, e.g. "virtio1" or "0000:00:04.0".
  std::string device;
  // The driver's name (basename of the "driver" link), e.g. "virtio-pci".
  std::string driver;
  // The normalized module name (basename of the driver's "module" link),
  // e.g. "virtio_pci"; empty if sysfs names no module (the driver is built
  // into the running kernel without a sysfs module entry).
  std::string module;
};

// The drivers of block device `name` (a kernel name such as "vda2",
// "nvme0n1" or "sda") and of every ancestor device, nearest first, read
// under `sys_root` (normally "/sys"; a fake tree in tests). Fails, naming
// the device, if it has no /sys/class/block entry, or if no ancestor is
// bound to a driver (a virtual device such as a device-mapper or md volume,
// whose disks must be named instead).
absl::StatusOr<std::vector<DeviceDriver>> DriversOfBlockDevice(const std::string& sys_root,
                                                               const std::string& name);

// The module names to request (modules.h ResolveModules()) for `drivers`,
// in order, each once: the module of every driver that names one, and the
// driver name of every driver that names none if `index` has a loadable
// module of that name (built into the running kernel, but a module in the
// capture kernel's release); otherwise such a driver needs nothing.
std::vector<std::string> ModulesForDrivers(const ModuleIndex& index,
                                           const std::vector<DeviceDriver>& drivers);

// The kernel name of the block device at `path`: "/dev/vda2" or
// "/dev/disk/by-label/store" (symlinks followed) -> "vda2"; a bare name
// such as "vda2" is returned as it is. Fails if `path` names a file that
// does not exist.
absl::StatusOr<std::string> BlockDeviceName(const std::string& path);

}  // namespace saveoops

#endif  // SAVEOOPS_INITRAMFS_DEVICE_MODULES_H_
