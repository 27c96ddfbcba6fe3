#include "store/store_map.h"

#include <string.h>

#include "common/format.h"

namespace saveoops {
namespace {

uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
void Put16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v));
  out->push_back(static_cast<uint8_t>(v >> 8));
}
void Put32(std::vector<uint8_t>* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

std::vector<uint8_t> SerializeStoreMap(const StoreMap& map) {
  std::vector<uint8_t> out(kStoreMapMagic, kStoreMapMagic + sizeof(kStoreMapMagic));
  Put16(&out, kStoreMapVersion);
  Put16(&out, 0);
  const size_t total = kStoreMapHeaderSize + kStoreMapEntryHeaderSize + kUuidSize;
  Put32(&out, static_cast<uint32_t>(total));
  Put16(&out, kStoreMapEntryStoreUuid);
  Put16(&out, static_cast<uint16_t>(kUuidSize));
  out.insert(out.end(), map.store_uuid.begin(), map.store_uuid.end());
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
  size_t at = kStoreMapHeaderSize;
  while (at < size) {
    if (size - at < kStoreMapEntryHeaderSize) {
      return InvalidArgumentError(Concat("store map: entry at byte ", at, " is cut after ",
                                         size - at, " bytes of its header"));
    }
    const uint16_t type = Le16(data + at);
    const uint16_t length = Le16(data + at + 2);
    const size_t value_at = at + kStoreMapEntryHeaderSize;
    if (length > size - value_at) {
      return InvalidArgumentError(Concat("store map: entry at byte ", at, " (type ", type,
                                         ") claims ", length, " bytes; ", size - value_at,
                                         " are left"));
    }
    switch (type) {
      case kStoreMapEntryStoreUuid:
        if (length != kUuidSize) {
          return InvalidArgumentError(Concat("store map: entry at byte ", at, " (type ", type,
                                             ") is ", length, " bytes; a store UUID is ",
                                             kUuidSize));
        }
        if (have_uuid) {
          return InvalidArgumentError(Concat("store map: second store UUID entry at byte ", at));
        }
        memcpy(map.store_uuid.data(), data + value_at, kUuidSize);
        have_uuid = true;
        break;
      default:
        return InvalidArgumentError(Concat("store map: entry at byte ", at, " has unknown type ",
                                           type, " (version ", version, " knows 1)"));
    }
    at = value_at + length;
  }
  if (!have_uuid) return InvalidArgumentError("store map: no store UUID entry");
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
