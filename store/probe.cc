#include "store/probe.h"

#include <blkid/blkid.h>

#include <string>

#include "common/format.h"

namespace saveoops {
namespace {

std::string Value(blkid_probe probe, const char* name) {
  const char* data = nullptr;
  size_t len = 0;
  if (blkid_probe_lookup_value(probe, name, &data, &len) != 0 || data == nullptr) return "";
  std::string s(data, len);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

}  // namespace

StatusOr<std::string> ForeignSignature(const StoreLocation& region) {
  StatusOr<OpenedStoreRegion> opened = OpenStoreRegionForReading(region);
  if (!opened.ok()) return opened.status();
  blkid_probe probe = blkid_new_probe();
  if (probe == nullptr) return InternalError(Concat(opened->name, ": blkid_new_probe failed"));
  std::string found;
  Status status;
  if (blkid_probe_set_device(probe, opened->fd.get(), static_cast<blkid_loff_t>(opened->offset),
                             static_cast<blkid_loff_t>(opened->size)) != 0) {
    status = InternalError(Concat(opened->name, ": libblkid cannot probe it"));
  } else {
    blkid_probe_enable_superblocks(probe, 1);
    blkid_probe_set_superblocks_flags(
        probe, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE | BLKID_SUBLKS_VERSION | BLKID_SUBLKS_LABEL);
    blkid_probe_enable_partitions(probe, 1);
    const int rc = blkid_do_safeprobe(probe);
    if (rc == 0) {
      const std::string type = Value(probe, "TYPE");
      const std::string pttype = Value(probe, "PTTYPE");
      if (!type.empty()) {
        const std::string usage = Value(probe, "USAGE");
        const std::string version = Value(probe, "VERSION");
        const std::string label = Value(probe, "LABEL");
        found = Concat(usage.empty() ? std::string("signature") : usage, " (TYPE=", type,
                       version.empty() ? std::string() : Concat(", version ", version),
                       label.empty() ? std::string() : Concat(", LABEL=", label), ")");
      } else if (!pttype.empty()) {
        found = Concat("a partition table (PTTYPE=", pttype, ")");
      } else {
        found = "an unnamed signature";
      }
    } else if (rc == -2) {
      found = "several conflicting signatures";
    } else if (rc < 0) {
      status = InternalError(Concat(opened->name, ": libblkid probing failed"));
    }
  }
  blkid_free_probe(probe);
  if (!status.ok()) return status;
  return found;
}

}  // namespace saveoops
