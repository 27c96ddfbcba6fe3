// The contract between the Syslinux backend's pack step (host, build time)
// and its early arming program (first kernel, PID 1, before any user code):
// how the capture bundle travels from the boot disk into the running kernel.
//
//   syslinux.cfg:  COM32 linux.c32
//                  APPEND vmlinuz initrd=early.cpio,initrd.img
//                         blob.1398161998=saveoops.bundle rdinit=/saveoops-early-arm ...
//
// Stock Syslinux 6.04 linux.c32 reads every `blob.<TYPE>=<file>` argument
// (TYPE in decimal, strtoul base 10, non-zero) and hands the file to the
// kernel as one node of the boot_params setup_data list with that type
// (com32/modules/linux.c, setup_data_load()). The x86 kernel keeps every
// setup_data node reserved for its whole life (arch/x86/kernel/setup.c,
// memblock_x86_reserve_range_setup_data(); e820__reserve_setup_data()) and
// shows each one, whatever its type, as
// /sys/kernel/boot_params/setup_data/N/{type,data} (arch/x86/kernel/ksysfs.c:
// `type` is printed "0x%x\n", `data` reads exactly the node's len bytes).
// So no Syslinux module of our own is needed: the bundle arrives intact, and
// the early arming program verifies every digest before trusting a byte.
#ifndef SAVEOOPS_BACKENDS_SYSLINUX_STAGING_H_
#define SAVEOOPS_BACKENDS_SYSLINUX_STAGING_H_

#include <stdint.h>

namespace saveoops {

// The setup_data type of a Saveoops bundle: "SVBN" (Saveoops BuNdle) read as
// a big-endian number. The kernel's own SETUP_* types are a small enum
// (0..10 in 6.x, arch/x86/include/uapi/asm/setup_data.h) and bit 31 is
// SETUP_INDIRECT; this value is far from the first and has bit 31 clear, so
// every kernel treats the node as opaque payload and never interprets it.
inline constexpr uint32_t kBundleSetupDataType = 0x5356424eu;  // 1398161998
static_assert(kBundleSetupDataType < (1u << 31), "must not look like SETUP_INDIRECT");

// Where pack puts the early arming program in early.cpio, and so the
// rdinit= it writes on the first kernel's command line.
inline constexpr char kEarlyArmPath[] = "/saveoops-early-arm";

// The program the early arming program hands over to (the distro's initrd
// init), unless saveoops.init= on the command line names another.
inline constexpr char kDefaultNextInit[] = "/init";

// Added to the command line of the fallback boot entry that Syslinux runs
// when the staged entry fails (boot_config.h), so saveoops-early-arm can say
// that the boot loader, not the kernel, lost the bundle. Dotted, so the
// kernel neither interprets it nor passes it to init.
inline constexpr char kStagingFailedArgument[] = "saveoops.staging=failed";

// File names on the FAT partition (Syslinux reads VFAT long names).
inline constexpr char kFatKernelName[] = "vmlinuz";
inline constexpr char kFatInitrdName[] = "initrd.img";
inline constexpr char kFatEarlyCpioName[] = "early.cpio";
inline constexpr char kFatBundleName[] = "saveoops.bundle";
inline constexpr char kFatConfigName[] = "syslinux.cfg";

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_SYSLINUX_STAGING_H_
