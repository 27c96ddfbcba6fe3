// The FAT partition, built with Debian's mtools and installed with Debian's
// Syslinux installer, working on a partition inside an image file at a byte
// offset (`-i image@@offset`, `syslinux --offset`): no loop devices, no root.
//
// Why mtools rather than a FAT writer of our own: Syslinux's own installer
// (the `syslinux` binary from the syslinux package) is built on mtools and
// patches the FAT boot sector and ldlinux.sys's sector list in place. Using
// the same tools for the filesystem means the partition is exactly what
// Syslinux is tested with; a second FAT implementation would only add a
// place for the two to disagree. Each tool runs through posix_spawn with an
// absolute path, a fixed environment and no shell; its output is kept for
// the error message.
#ifndef SAVEOOPS_BACKENDS_SYSLINUX_FAT_H_
#define SAVEOOPS_BACKENDS_SYSLINUX_FAT_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace saveoops {

// Where the tools live (Debian packages mtools and syslinux).
struct FatTools {
  std::string mformat = "/usr/bin/mformat";
  std::string mcopy = "/usr/bin/mcopy";
  std::string syslinux = "/usr/bin/syslinux";
};

// Runs argv[0] (an absolute path) with `argv`, stdin from /dev/null and
// stdout+stderr captured, in the environment mtools needs (PATH=/usr/bin:
// /bin so the Syslinux installer finds mtools, LC_ALL=C, MTOOLS_SKIP_CHECK=1
// because a partition inside an image has no floppy geometry to check).
// Returns the captured output; fails with it if the tool exits non-zero.
// `what` names the step in the error ("formatting the FAT partition").
absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv, const std::string& what);

// Fails, naming the package to install, if a tool is missing.
absl::Status CheckFatTools(const FatTools& tools);

// A FAT partition inside `image`: bytes [offset, offset + size).
struct FatPartition {
  std::string image;
  uint64_t offset = 0;
  uint64_t size = 0;
};

// mformat: FAT16 (FAT32 from 1 GiB, where FAT16 clusters get wasteful),
// volume label SAVEOOPS, geometry 255 heads x 63 sectors like the MBR's CHS
// fields, and "hidden sectors" = the partition's first LBA, which the
// Syslinux boot sector adds to every sector it reads.
absl::Status FormatFat(const FatTools& tools, const FatPartition& part);

// The FAT type mformat chose, from the boot sector's file system type
// string (Microsoft FAT specification, "BS_FilSysType", offset 54 for
// FAT12/16, 82 for FAT32): "FAT12", "FAT16" or "FAT32".
absl::StatusOr<std::string> ReadFatType(const FatPartition& part);

// syslinux --install --offset: writes the Syslinux boot sector and
// ldlinux.sys + ldlinux.c32 into the root directory.
absl::Status InstallSyslinux(const FatTools& tools, const FatPartition& part);

// Copies a host file into the partition's root directory as `fat_name`.
absl::Status CopyIntoFat(const FatTools& tools, const FatPartition& part,
                         const std::string& host_path, const std::string& fat_name);

// Reads `fat_name` back out of the partition.
absl::StatusOr<std::string> ReadFromFat(const FatTools& tools, const FatPartition& part,
                                        const std::string& fat_name);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_SYSLINUX_FAT_H_
