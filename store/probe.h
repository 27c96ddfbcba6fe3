// Asking libblkid whether a region already holds something other than a
// Saveoops store: a file system, swap, LVM or RAID member, or a partition
// table. `saveoops store format` and `saveoops arm` refuse such a region
// unless --force: a partition that was a store and was then given to
// mkswap or mkfs may still carry our superblock copies (libblkid does not
// know our magic, so wipefs leaves them), and must not be formatted over
// or written by a capture by mistake.
//
// Host only (the saveoops CLI): the static capture program does not link
// libblkid.
//
// Example:
//   StatusOr<std::string> other = ForeignSignature({"/dev/sdb2", 0, 0});
//   // "swap (TYPE=swap, version 1)" or "" if libblkid finds nothing
#ifndef SAVEOOPS_STORE_PROBE_H_
#define SAVEOOPS_STORE_PROBE_H_

#include <string>

#include "common/status.h"
#include "store/ring.h"

namespace saveoops {

// What libblkid recognises inside [offset, offset + size) of the file or
// device (size 0: to its end), described for a message; empty if nothing.
// Fails if the region cannot be opened or probed.
StatusOr<std::string> ForeignSignature(const StoreLocation& region);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_PROBE_H_
