#include "store/store_map.h"

#include <string.h>

#include <algorithm>

#include "common/format.h"

namespace saveoops {
namespace {

uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
uint64_t Le64(const uint8_t* p) { return uint64_t{Le32(p)} | (uint64_t{Le32(p + 4)} << 32); }
void Put16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v));
  out->push_back(static_cast<uint8_t>(v >> 8));
}
void Put32(std::vector<uint8_t>* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void Put64(std::vector<uint8_t>* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutEntryHeader(std::vector<uint8_t>* out, uint16_t type, size_t length) {
  Put16(out, type);
  Put16(out, static_cast<uint16_t>(length));
}

bool AllZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

Status CheckDisk(const StoreDisk& d) {
  if (d.scheme != StoreDiskScheme::kWholeDisk && d.scheme != StoreDiskScheme::kMbr &&
      d.scheme != StoreDiskScheme::kGpt) {
    return InvalidArgumentError(
        Concat("store map: disk scheme ", static_cast<int>(d.scheme), " (0, 1 or 2 known)"));
  }
  if (d.scheme == StoreDiskScheme::kWholeDisk) {
    if (d.partition != 0 || d.partition_offset != 0 || !AllZero(d.disk_id.data(), 16) ||
        !AllZero(d.partition_guid.data(), 16)) {
      return InvalidArgumentError(
          "store map: a whole-disk entry has a partition number, offset, disk id or partition "
          "GUID");
    }
  } else if (d.partition == 0) {
    return InvalidArgumentError(
        Concat("store map: ", StoreDiskSchemeName(d.scheme), " partition 0"));
  }
  if (d.scheme == StoreDiskScheme::kMbr &&
      (!AllZero(d.disk_id.data() + 4, 12) || !AllZero(d.partition_guid.data(), 16))) {
    return InvalidArgumentError(
        "store map: an MBR disk id has bytes past its 4-byte signature or a partition GUID");
  }
  uint64_t end = 0;
  if (d.partition_size == 0 || __builtin_add_overflow(d.partition_offset, d.partition_size, &end)) {
    return InvalidArgumentError(Concat("store map: partition at byte ", d.partition_offset, " of ",
                                       d.partition_size, " bytes"));
  }
  return OkStatus();
}

}  // namespace

const char* StoreDiskSchemeName(StoreDiskScheme scheme) {
  switch (scheme) {
    case StoreDiskScheme::kWholeDisk:
      return "whole disk";
    case StoreDiskScheme::kMbr:
      return "MBR";
    case StoreDiskScheme::kGpt:
      return "GPT";
  }
  return "?";
}

uint64_t MappedStoreSize(const StoreMap& map) {
  uint64_t total = 0;
  for (const StoreExtent& e : map.extents) total += e.length;  // bounded by CheckStoreMapPlacement
  return total;
}

Status CheckStoreMapPlacement(const StoreMap& map) {
  if (!map.disk) {
    if (!map.extents.empty()) return InvalidArgumentError("store map: extents without a disk");
    if (!map.disk_serial.empty()) {
      return InvalidArgumentError("store map: a disk serial without a disk");
    }
    return OkStatus();
  }
  if (Status s = CheckDisk(*map.disk); !s.ok()) return s;
  if (map.disk_serial.size() > kStoreMapMaxSerial) {
    return InvalidArgumentError(Concat("store map: disk serial of ", map.disk_serial.size(),
                                       " bytes, more than ", kStoreMapMaxSerial));
  }
  for (char c : map.disk_serial) {
    if (c < 0x20 || c > 0x7e) {
      return InvalidArgumentError(Concat("store map: disk serial '", HexEscape(map.disk_serial),
                                         "' is not printable ASCII"));
    }
  }
  if (map.extents.empty() || map.extents.size() > kStoreMapMaxExtents) {
    return InvalidArgumentError(
        Concat("store map: ", map.extents.size(), " extents (1 to ", kStoreMapMaxExtents, ")"));
  }
  const uint64_t part_start = map.disk->partition_offset;
  const uint64_t part_end = part_start + map.disk->partition_size;  // CheckDisk: no overflow
  uint64_t logical = 0;
  for (size_t i = 0; i < map.extents.size(); ++i) {
    const StoreExtent& e = map.extents[i];
    const std::string which = Concat("store map: extent ", i, " (logical ", e.logical, ")");
    if (e.logical != logical) {
      return InvalidArgumentError(Concat(which, " does not start where ",
                                         i == 0 ? "the store does (0)" : "the previous ended (",
                                         i == 0 ? "" : Concat(logical, ")")));
    }
    if (e.length == 0 || e.length % kStoreMapSectorSize != 0 ||
        e.disk_offset % kStoreMapSectorSize != 0) {
      return InvalidArgumentError(Concat(which, ": disk byte ", e.disk_offset, ", ", e.length,
                                         " bytes: not whole ", kStoreMapSectorSize,
                                         "-byte sectors"));
    }
    uint64_t disk_end = 0;
    if (__builtin_add_overflow(e.disk_offset, e.length, &disk_end) || e.disk_offset < part_start ||
        disk_end > part_end) {
      return InvalidArgumentError(Concat(which, ": disk bytes [", e.disk_offset, ", +", e.length,
                                         ") leave the partition [", part_start, ", ", part_end,
                                         ")"));
    }
    if (__builtin_add_overflow(logical, e.length, &logical)) {
      return InvalidArgumentError(Concat(which, ": the store size overflows"));
    }
  }
  if (logical < kMinStoreSize) {
    return InvalidArgumentError(Concat("store map: the extents map ", logical,
                                       " bytes, less than a store's ", kMinStoreSize));
  }
  std::vector<StoreExtent> by_disk = map.extents;
  std::sort(by_disk.begin(), by_disk.end(), [](const StoreExtent& a, const StoreExtent& b) {
    return a.disk_offset < b.disk_offset;
  });
  for (size_t i = 1; i < by_disk.size(); ++i) {
    if (by_disk[i - 1].disk_offset + by_disk[i - 1].length > by_disk[i].disk_offset) {
      return InvalidArgumentError(Concat("store map: the extents at logical ",
                                         by_disk[i - 1].logical, " and ", by_disk[i].logical,
                                         " overlap on the disk"));
    }
  }
  return OkStatus();
}

std::vector<uint8_t> SerializeStoreMap(const StoreMap& map) {
  std::vector<uint8_t> out(kStoreMapMagic, kStoreMapMagic + sizeof(kStoreMapMagic));
  Put16(&out, kStoreMapVersion);
  Put16(&out, 0);
  Put32(&out, 0);  // total_size, filled in below
  PutEntryHeader(&out, kStoreMapEntryStoreUuid, kUuidSize);
  out.insert(out.end(), map.store_uuid.begin(), map.store_uuid.end());
  if (map.disk) {
    const StoreDisk& d = *map.disk;
    PutEntryHeader(&out, kStoreMapEntryDisk, kStoreMapDiskEntrySize);
    out.push_back(static_cast<uint8_t>(d.scheme));
    out.insert(out.end(), 3, 0);
    Put32(&out, d.partition);
    out.insert(out.end(), d.disk_id.begin(), d.disk_id.end());
    out.insert(out.end(), d.partition_guid.begin(), d.partition_guid.end());
    Put64(&out, d.partition_offset);
    Put64(&out, d.partition_size);
    if (!map.disk_serial.empty()) {
      PutEntryHeader(&out, kStoreMapEntryDiskSerial, map.disk_serial.size());
      out.insert(out.end(), map.disk_serial.begin(), map.disk_serial.end());
    }
    PutEntryHeader(&out, kStoreMapEntryExtents, map.extents.size() * kStoreMapExtentSize);
    for (const StoreExtent& e : map.extents) {
      Put64(&out, e.logical);
      Put64(&out, e.disk_offset);
      Put64(&out, e.length);
    }
  }
  const uint32_t total = static_cast<uint32_t>(out.size());
  for (int i = 0; i < 4; ++i) out[12 + i] = static_cast<uint8_t>(total >> (8 * i));
  return out;
}

StatusOr<StoreMap> ParseStoreMap(const uint8_t* data, size_t size) {
  if (size < kStoreMapHeaderSize) {
    return InvalidArgumentError(Concat("store map: ", size, " bytes, shorter than its ",
                                       kStoreMapHeaderSize, "-byte header"));
  }
  if (memcmp(data, kStoreMapMagic, sizeof(kStoreMapMagic)) != 0) {
    return InvalidArgumentError(
        Concat("store map: bad magic '",
               HexEscape(absl::string_view(reinterpret_cast<const char*>(data), 8)), "'"));
  }
  const uint16_t version = Le16(data + 8);
  if (version != kStoreMapVersion) {
    return InvalidArgumentError(
        Concat("store map: version ", version, "; this capture reads ", kStoreMapVersion));
  }
  if (Le16(data + 10) != 0) {
    return InvalidArgumentError(Concat("store map: reserved field is ", Le16(data + 10)));
  }
  const uint32_t total = Le32(data + 12);
  if (total != size) {
    return InvalidArgumentError(Concat("store map: header says ", total, " bytes but there are ",
                                       size, total < size ? " (trailing bytes)" : " (truncated)"));
  }
  StoreMap map;
  bool have_uuid = false;
  uint16_t last_type = 0;
  size_t at = kStoreMapHeaderSize;
  while (at < size) {
    if (size - at < kStoreMapEntryHeaderSize) {
      return InvalidArgumentError(Concat("store map: entry at byte ", at, " is cut after ",
                                         size - at, " bytes of its header"));
    }
    const uint16_t type = Le16(data + at);
    const uint16_t length = Le16(data + at + 2);
    const size_t value_at = at + kStoreMapEntryHeaderSize;
    const uint8_t* v = data + value_at;
    if (length > size - value_at) {
      return InvalidArgumentError(Concat("store map: entry at byte ", at, " (type ", type,
                                         ") claims ", length, " bytes; ", size - value_at,
                                         " are left"));
    }
    if (type < kStoreMapEntryStoreUuid || type > kStoreMapEntryExtents) {
      return InvalidArgumentError(Concat("store map: entry at byte ", at, " has unknown type ",
                                         type, " (version ", version, " knows 1-4)"));
    }
    if (type <= last_type) {
      return InvalidArgumentError(Concat("store map: entry at byte ", at, " (type ", type,
                                         ") comes after type ", last_type,
                                         ": entries are in increasing type order, once each"));
    }
    last_type = type;
    const std::string where =
        Concat("store map: entry at byte ", at, " (type ", type, ") is ", length, " bytes; ");
    switch (type) {
      case kStoreMapEntryStoreUuid:
        if (length != kUuidSize) {
          return InvalidArgumentError(Concat(where, "a store UUID is ", kUuidSize));
        }
        memcpy(map.store_uuid.data(), v, kUuidSize);
        have_uuid = true;
        break;
      case kStoreMapEntryDisk: {
        if (length != kStoreMapDiskEntrySize) {
          return InvalidArgumentError(Concat(where, "a disk entry is ", kStoreMapDiskEntrySize));
        }
        if (!AllZero(v + 1, 3)) {
          return InvalidArgumentError(
              Concat("store map: disk entry at byte ", at, " has nonzero reserved bytes"));
        }
        StoreDisk d;
        d.scheme = static_cast<StoreDiskScheme>(v[0]);
        d.partition = Le32(v + 4);
        memcpy(d.disk_id.data(), v + 8, 16);
        memcpy(d.partition_guid.data(), v + 24, 16);
        d.partition_offset = Le64(v + 40);
        d.partition_size = Le64(v + 48);
        map.disk = d;
        break;
      }
      case kStoreMapEntryDiskSerial:
        if (length == 0 || length > kStoreMapMaxSerial) {
          return InvalidArgumentError(Concat(where, "a disk serial is 1 to ", kStoreMapMaxSerial));
        }
        map.disk_serial.assign(reinterpret_cast<const char*>(v), length);
        break;
      case kStoreMapEntryExtents:
        if (length == 0 || length % kStoreMapExtentSize != 0 ||
            length / kStoreMapExtentSize > kStoreMapMaxExtents) {
          return InvalidArgumentError(Concat(where, "extents are 1 to ", kStoreMapMaxExtents,
                                             " of ", kStoreMapExtentSize, " bytes"));
        }
        for (size_t i = 0; i < length / kStoreMapExtentSize; ++i) {
          const uint8_t* e = v + i * kStoreMapExtentSize;
          map.extents.push_back({Le64(e), Le64(e + 8), Le64(e + 16)});
        }
        break;
    }
    at = value_at + length;
  }
  if (!have_uuid) return InvalidArgumentError("store map: no store UUID entry");
  if (map.disk && map.extents.empty()) {
    return InvalidArgumentError("store map: a disk entry without extents");
  }
  if (Status s = CheckStoreMapPlacement(map); !s.ok()) return s;
  return map;
}

std::string FormatStoreUuid(const std::array<uint8_t, kUuidSize>& uuid) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kDigits[uuid[i] >> 4]);
    s.push_back(kDigits[uuid[i] & 15]);
  }
  return s;
}

}  // namespace saveoops
